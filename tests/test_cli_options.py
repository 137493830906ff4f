"""Options go wherever a user puts them, and a fully reused grade-all shows no empty progress bar:
the real CLI, in a subprocess. What is graded is the small assignment of `grader new tiny` (the
`tiny` fixture); the commands that must not find hw1 are run where ./assignments holds it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from grading_helpers import run_grader

ALICE = REPO / "examples" / "hw1" / "alice_full_marks.py"
ELSEWHERE = "/nonexistent-assignments-folder"


def commands(out: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Each command that reads the assignments: (its name words, its arguments); writes go to `out`."""
    return {
        "release": (["release"], ["hw1", "--out", str(out / "template")]),
        "checks": (["checks"], ["hw1"]),
        "grade": (["grade"], ["hw1", str(ALICE), "--quiet"]),
        "grade-all": (["grade-all"], ["hw1", str(ALICE.parent), "--out", str(out / "class")]),
        "export gradescope": (["export", "gradescope"], ["hw1", "-o", str(out / "autograder.zip")]),
        "export github": (["export", "github"], ["hw1", "-o", str(out / "github")]),
    }


def placements(names: list[str], arguments: list[str], option: list[str]) -> dict[str, list[str]]:
    """`option` before the command's name, after each of its name words, between and after its arguments."""
    placed = {"before the command": option + names + arguments}
    for i in range(1, len(names) + 1):
        placed[f"after {' '.join(names[:i])}"] = names[:i] + option + names[i:] + arguments
    placed["between the arguments"] = names + arguments[:1] + option + arguments[1:]
    placed["after the arguments"] = names + arguments + option
    return placed


@pytest.mark.parametrize("command", list(commands(Path("/unused"))))
def test_assignments_is_used_wherever_it_is_placed(command, tmp_path):
    """Run from the repository, where ./assignments holds hw1: each placement must reach the
    command, so hw1 is looked for in the folder given (and not found), never in the default."""
    names, arguments = commands(tmp_path)[command]
    for where, argv in placements(names, arguments, ["--assignments", ELSEWHERE]).items():
        completed = run_grader(*argv, timeout=120)
        assert completed.returncode == 2, (where, completed.stdout, completed.stderr)
        lines = completed.stderr.splitlines()
        assert len(lines) == 1 and f"unknown assignment 'hw1': no {ELSEWHERE}/hw1/assignment.json" in lines[0], (where, lines)
    assert not any(tmp_path.iterdir())  # nothing was written


def test_assignments_after_the_command_overrides_the_one_before(tiny):
    completed = run_grader("--assignments", tiny.assignments, "checks", "tiny", "--assignments", ELSEWHERE)
    assert completed.returncode == 2 and ELSEWHERE in completed.stderr
    completed = run_grader("--assignments", ELSEWHERE, "checks", "tiny", "--assignments", tiny.assignments)
    assert completed.returncode == 0, completed.stderr


def test_the_issues_command_grades_with_options_before_and_after_the_positionals(tiny, tmp_path):
    """`grader grade hw1 hw1.py --assignments DIR` (here tiny), from a folder without ./assignments,
    with --quiet before the positionals and --results-json after them."""
    results = tmp_path / "results.json"
    completed = run_grader("grade", "--quiet", "tiny", tiny.reference, "--assignments", tiny.assignments,
                           "--results-json", results, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""  # --quiet, given before the positionals, took effect
    assert json.loads(results.read_text())["score"] == 10.0


def test_checks_runs_from_elsewhere_with_assignments_after_it(tiny, tmp_path):
    completed = run_grader("checks", "tiny", "--assignments", tiny.assignments, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "| normalize |" in completed.stdout


@pytest.mark.parametrize("argv", [["--isolation", "paranoid"], ["hw1.py", "--isolation", "paranoid"],
                                  ["--isolation", "paranoid", "hw1.py"]])
def test_check_takes_its_option_before_or_after_the_file(argv, tmp_path):
    shutil.copytree(REPO / "student_template" / "hw1", tmp_path / "hw1")
    completed = run_grader("check", *argv, cwd=tmp_path / "hw1")
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == ["grader: error: unknown isolation level 'paranoid' (choose from auto, "
                                             "strict, landlock, bwrap)"]


@pytest.mark.parametrize("names", [[], ["release"], ["checks"], ["grade"], ["grade-all"], ["export", "gradescope"],
                                   ["export", "github"], ["export", "gradebook"]])
def test_help_lists_assignments(names):
    completed = run_grader(*names, "--help")
    assert completed.returncode == 0 and "--assignments DIR" in completed.stdout


@pytest.mark.parametrize("argv, message", [
    (["grade", "hw1", "hw1.py", "--bogus"], "unrecognized arguments: --bogus (see 'grader grade --help')"),
    (["export", "gradescope", "hw1", "--bogus"], "unrecognized arguments: --bogus (see 'grader export gradescope --help')"),
    (["--quiet", "grade", "hw1", "hw1.py"],
     "--quiet is an option of 'grader grade': put it after 'grader grade' (see 'grader grade --help')"),
    (["check", "--assignments", "assignments"], "unrecognized arguments: --assignments"),
])
def test_a_wrong_option_is_one_line_and_exit_2(argv, message):
    completed = run_grader(*argv)
    assert completed.returncode == 2 and completed.stdout == ""
    lines = completed.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: error: ") and message in lines[0], lines


def test_grade_all_shows_a_bar_only_for_those_it_grades(tiny, tmp_path):
    """Options between the positionals; the second run reuses everyone (no bar, the summary line
    alone); a third, with one new student, has a bar for that one only."""
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    shutil.copy(tiny.reference, folder / "alice.py")

    def grade_all():
        return run_grader("grade-all", "tiny", "--out", out, folder, "--assignments", tiny.assignments, "--jobs", "1")

    first = grade_all()
    assert first.returncode == 0, first.stderr
    assert "grading 1 of 1" in first.stderr and "1/1" in first.stderr
    assert first.stdout.startswith("1 student: graded 1, reused 0")

    second = grade_all()
    assert second.returncode == 0, second.stderr
    assert "%|" not in second.stderr and "grading" not in second.stderr and "\r" not in second.stderr
    assert second.stdout.splitlines()[0] == "1 student: graded 0, reused 1 unchanged since the last run; mean score 10.00 / 10"

    shutil.copy(tiny.reference, folder / "bob.py")
    third = grade_all()
    assert third.returncode == 0, third.stderr
    assert "grading 1 of 2" in third.stderr and "1/1" in third.stderr and "/2" not in third.stderr
    assert third.stdout.startswith("2 students: graded 1, reused 1")
