#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu).
# It installs bubblewrap (the strongest sandbox layer) and the grader, in a virtual
# environment of its own so that the system's Python is left alone.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv python3-pip bubblewrap \
        || echo "setup.sh: warning: apt-get could not install everything; the grader will use the layers it finds" >&2
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: the grader needs Python 3.10 or newer and this image has $(python3 --version 2>&1):" \
         "in Configure Autograder, pick the Ubuntu 22.04 base image or a newer one, and upload the zip again" >&2
    exit 1
fi
python3 -m venv "$ROOT/grader-venv"
"$ROOT/grader-venv/bin/python" -m pip install --quiet --upgrade pip
"$ROOT/grader-venv/bin/python" -m pip install --quiet "$SOURCE/grader-package"
"$ROOT/grader-venv/bin/python" -m grader isolation
