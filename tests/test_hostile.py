"""The hostile suite (tests/hostile_suite.py), graded by this process's user (root on CI) under
every isolation level this machine offers; and why those gradings are also a machine without
bubblewrap's."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from grading_helpers import run_grader
from hostile_suite import *  # noqa: F401,F403  (the tests, collected here)
from hostile_suite import SETUPS, USERS, corpus_fixture

corpus = corpus_fixture([setup for setup in SETUPS if setup[0] != "unprivileged"])


@pytest.mark.parametrize("user", USERS)
def test_a_machine_without_bubblewrap_gets_exactly_the_layers_of_the_landlock_setup(user):
    """The corpus above is graded under `--isolation landlock` (no namespaces) by each user; a
    machine without bubblewrap gives `auto` exactly those layers (as root: uid 0, no
    capabilities, Landlock, seccomp), so that run is the no-bubblewrap run."""
    from test_privileges import Wrapper

    scratch = Path(tempfile.mkdtemp(prefix="no-bwrap-", dir="/tmp"))
    try:
        for directory in (scratch, scratch / "holds", scratch / "empty-bin"):
            directory.mkdir(exist_ok=True)
            directory.chmod(0o755)
        who = "unprivileged" if user == "unprivileged" else "root"
        without = run_grader("isolation", wrap=Wrapper(who, False, str(scratch)))
        landlock = run_grader("isolation", "--isolation", "landlock", wrap=Wrapper(who, True, str(scratch)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert without.returncode == landlock.returncode == 0, without.stderr + landlock.stderr
    layers = lambda completed: completed.stdout.splitlines()[0].split(": ", 1)[1]  # noqa: E731
    assert "bubblewrap is not installed" in without.stdout
    assert layers(without) == layers(landlock)
    assert "no capabilities" in layers(without) and "seccomp" in layers(without)
