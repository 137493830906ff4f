#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades $ROOT/submission and always leaves
# $ROOT/results/results.json, even when the grader itself cannot start.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_PYTHON:-$ROOT/grader-venv/bin/python}"
if [ ! -x "$PYTHON" ]; then
    PYTHON=python3
fi
mkdir -p "$ROOT/results"
cd "$ROOT/source" || exit 1
PYTHONPATH="$ROOT/source/grader-package${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m grader.distribute.gradescope @ASSIGNMENT@ "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<'JSON'
{"score": 0.0, "tests": [], "output": "The autograder itself failed to start, so this submission was not graded. This is not a problem with your code: please tell your instructor."}
JSON
fi
exit "$status"
