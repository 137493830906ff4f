"""The command line, run for real as a subprocess: exit codes and one-line usage errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


def grader(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, fragment",
    [
        ((), "the following arguments are required: COMMAND"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("release",), "the following arguments are required: assignment"),
        (("release", "hw1", "--bogus"), "unrecognized arguments: --bogus"),
        (("release", "hw9"), "unknown assignment 'hw9'"),
        (("--assignments", "/nonexistent", "release", "hw1"), "unknown assignment 'hw1'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, fragment):
    completed = grader(*args)
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("grader: error: ") and fragment in lines[0]


def test_unknown_assignment_lists_the_known_ones():
    assert "assignments found under assignments: hw1" in grader("release", "hw9").stderr


def test_version_and_help_exit_0():
    assert grader("--version").stdout.startswith("grader ")
    help_run = grader("--help")
    assert help_run.returncode == 0 and "release" in help_run.stdout


def test_console_script_is_installed():
    import shutil

    script = shutil.which("grader")
    assert script is not None, "the `grader` console script is not on PATH: install with pip install -e '.[test]'"
    completed = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
