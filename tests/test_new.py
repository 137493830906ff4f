"""`grader new NAME`: a working assignment out of the box, through the real CLI. It releases,
grades its reference at full marks and its stubs at 0, lists its checks (one of every kind),
its public tests pass on the reference only, and its example mutants are each caught on their
own function and named. Names and folders that exist or cannot work are refused, and nothing
is written then."""

from __future__ import annotations

import ast
import filecmp
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from grader.grading.solution_blocks import find_solution_blocks
from grading_helpers import run_grader

ASSIGNMENT_FILES = ["__init__.py", "assignment.json", "cases.py", "checks.py", "misconceptions.py", "mutants.py"]
SOLUTION_FILES = ["handout.md", "test_public.py", "tiny.py"]
TEMPLATE_FILES = ["README.md", "grader.json", "test_public.py", "tiny.ipynb", "tiny.py"]


def grader(*args, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m grader ARGS` in `cwd`, with this checkout's grader."""
    return run_grader(*args, cwd=cwd, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def grade(assignments: Path, submission: Path, out: Path) -> dict:
    results = out / f"{submission.stem}.json"
    completed = grader("--assignments", assignments, "grade", "tiny", submission, "--results-json", results,
                       "--feedback", out / f"{submission.stem}.md", "--quiet", cwd=out)
    assert completed.returncode == 0, completed.stderr
    return json.loads(results.read_text())


def function_scores(results: dict) -> dict[str, float]:
    scores: dict[str, float] = {}
    for test in results["tests"]:
        scores[test["tags"][0]] = scores.get(test["tags"][0], 0.0) + test["score"]
    return scores


# --- what it writes -----------------------------------------------------------------------

def test_new_prints_what_it_wrote_and_what_to_try(tmp_path):
    completed = grader("new", "demo", cwd=tmp_path)
    assert completed.returncode == 0 and completed.stderr == "", completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "created demo, a working example to make your own:"
    assert lines[1].split() == ["assignments/demo/", *"assignment.json, __init__.py, cases.py, checks.py, "
                                "misconceptions.py, mutants.py".split()]
    assert lines[2].split() == ["solutions/demo/", "demo.py,", "test_public.py,", "handout.md"]
    assert lines[3].split()[0] == "student_template/demo/"
    assert "grader grade demo solutions/demo/demo.py" in completed.stdout
    assert "grader grade demo student_template/demo/demo.py" in completed.stdout
    assert sorted(files_under(tmp_path / "assignments" / "demo")) == ASSIGNMENT_FILES


def test_the_assignment_is_laid_out_as_hw1s(tiny_assignment):
    root = tiny_assignment.parent
    assert sorted(files_under(tiny_assignment / "tiny")) == ASSIGNMENT_FILES
    assert sorted(files_under(root / "solutions" / "tiny")) == SOLUTION_FILES
    assert sorted(files_under(root / "student_template" / "tiny")) == TEMPLATE_FILES
    config = json.loads((tiny_assignment / "tiny" / "assignment.json").read_text())
    hw1 = json.loads((REPO / "assignments" / "hw1" / "assignment.json").read_text())
    assert set(config) == set(hw1)
    assert {key: value.replace("tiny", "hw1") for key, value in config.items() if key not in ("title", "points")} == \
           {key: value for key, value in hw1.items() if key not in ("title", "points")}
    assert config["points"] == {"normalize": 6, "normalize_backward": 4}


def test_checks_and_cases_use_the_public_api_only(tiny_assignment):
    """An author copies from these files: they import the grader only as grader.authoring (and the
    mutants their record, Mutant)."""
    allowed = {"checks.py": {"grader.authoring"}, "cases.py": {"grader.authoring"},
               "misconceptions.py": {"grader.authoring"}, "mutants.py": {"grader.authoring"}}
    for name, modules in allowed.items():
        tree = ast.parse((tiny_assignment / "tiny" / name).read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert {module for module in imported if module.split(".")[0] == "grader"} == modules, name


# --- it works out of the box ------------------------------------------------------------------

def test_the_reference_earns_full_marks_and_the_stubs_nothing(tiny_assignment, tmp_path):
    root = tiny_assignment.parent
    reference = grade(tiny_assignment, root / "solutions" / "tiny" / "tiny.py", tmp_path)
    assert (reference["score"], reference["max_score"]) == (10.0, 10.0)
    assert all(test["status"] == "passed" for test in reference["tests"])
    stubs = grade(tiny_assignment, root / "student_template" / "tiny" / "tiny.py", tmp_path)
    assert (stubs["score"], stubs["max_score"]) == (0.0, 10.0)
    assert "normalize is not implemented" in (tmp_path / "tiny.md").read_text()


def test_grader_checks_lists_a_check_of_every_kind(tiny_assignment, tmp_path):
    completed = grader("--assignments", tiny_assignment, "checks", "tiny", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    rows = [line.split(" | ")[1:4] for line in completed.stdout.splitlines() if line.startswith("| normalize")]
    assert rows == [
        ["output shapes and dtypes", "supporting", "1"],
        ["matches the reference along the given axis", "evidence", "3"],
        ["entries lie in [0, 1] and sum to 1 along the axis", "supporting", "1"],
        ["raises ValueError for a negative entry", "supporting", "1"],
        ["output shapes and dtypes", "supporting", "0.8"],
        ["matches the reference gradient", "evidence", "1.6"],
        ["agrees with finite differences of normalize", "evidence", "1.6"],
    ]
    assert completed.stdout.rstrip().endswith("7 checks, 10 points, 2 known misconceptions")


def test_release_writes_again_the_template_new_wrote_with_no_solution_line(tiny_assignment, tmp_path):
    root = tiny_assignment.parent
    completed = grader("--assignments", tiny_assignment, "release", "tiny", "--out", tmp_path / "again", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert files_under(tmp_path / "again") == files_under(root / "student_template" / "tiny")
    stub = (root / "student_template" / "tiny" / "tiny.py").read_text()
    blocks = find_solution_blocks((root / "solutions" / "tiny" / "tiny.py").read_text())
    assert [block.function for block in blocks] == ["normalize", "normalize_backward"]
    assert not [line for block in blocks for line in block.lines if line.strip() and line in stub]
    assert stub.count("raise NotImplementedError") == 2


def test_the_public_tests_pass_on_the_reference_and_fail_on_the_stubs(tiny_assignment, tmp_path):
    template = tmp_path / "tiny"
    shutil.copytree(tiny_assignment.parent / "student_template" / "tiny", template)
    stubs = grader("check", "tiny.py", cwd=template)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert "normalize" in stubs.stdout and "not implemented" in stubs.stdout.lower()
    shutil.copyfile(tiny_assignment.parent / "solutions" / "tiny" / "tiny.py", template / "tiny.py")
    solved = grader("check", "tiny.py", cwd=template)
    assert solved.returncode == 0, solved.stdout + solved.stderr


def test_each_example_mutant_loses_points_on_its_function_only_and_is_named(tiny_assignment, tmp_path):
    from grader.authoring.mutants import apply

    spec = importlib.util.spec_from_file_location("tiny_mutants", tiny_assignment / "tiny" / "mutants.py")
    mutants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mutants)
    reference = (tiny_assignment.parent / "solutions" / "tiny" / "tiny.py").read_text()
    titles = {"wrong_axis": "normalised along the last axis", "missing_term": "gradient missing the term of the sum"}
    assert [mutant.misconception for mutant in mutants.MUTANTS] == list(titles)
    for mutant in mutants.MUTANTS:
        submission = tmp_path / f"{mutant.id}.py"
        submission.write_text(apply(reference, mutant))
        scores = function_scores(grade(tiny_assignment, submission, tmp_path))
        full = {"normalize": 6.0, "normalize_backward": 4.0}
        assert scores[mutant.function] < full[mutant.function], mutant.id
        assert {name: score for name, score in scores.items() if name != mutant.function} == \
               {name: points for name, points in full.items() if name != mutant.function}, mutant.id
        feedback = (tmp_path / f"{mutant.id}.md").read_text()
        assert f"Likely cause: {titles[mutant.misconception]}." in feedback, mutant.id


# --- what it refuses ------------------------------------------------------------------------

@pytest.mark.parametrize("name, reason", [
    ("3hw", "'3hw' is not a Python module name"),
    ("hw-3", "'hw-3' is not a Python module name"),
    ("hw3.py", "'hw3.py' is not a Python module name"),
    ("", "'' is not a Python module name"),
    ("class", "'class' is a Python keyword"),
    ("json", "'json' is the name of a module that graded code or the grader imports"),
    ("numpy", "'numpy' is the name of a module"),
    ("test_hw3", "'test_hw3' looks like a test file's name"),
])
def test_a_name_that_is_no_module_name_is_refused_and_nothing_is_written(tmp_path, name, reason):
    completed = grader("new", name, cwd=tmp_path)
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1 and completed.stderr.startswith(f"grader: error: {reason}")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_assignment_is_refused_and_left_as_it_was(tmp_path):
    assert grader("new", "hw3", cwd=tmp_path).returncode == 0
    (tmp_path / "solutions" / "hw3" / "hw3.py").write_text("# my own reference\n")
    before = files_under(tmp_path)
    completed = grader("new", "hw3", cwd=tmp_path)
    assert completed.returncode == 2 and completed.stdout == "" and completed.stderr.count("\n") == 1
    assert completed.stderr == ("grader: error: assignment 'hw3' exists already (assignments/hw3/assignment.json); "
                                "grader new never overwrites: choose another name\n")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("folder", ["assignments/hw3", "solutions/hw3", "student_template/hw3"])
def test_a_target_folder_that_exists_is_refused_before_anything_is_written(tmp_path, folder):
    (tmp_path / folder).mkdir(parents=True)
    (tmp_path / folder / "notes.txt").write_text("mine\n")
    completed = grader("new", "hw3", cwd=tmp_path)
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1
    assert completed.stderr == (f"grader: error: {folder} exists already; grader new never overwrites: choose another "
                                "name, or move that folder away\n")
    assert files_under(tmp_path) == {f"{folder}/notes.txt": b"mine\n"}


@pytest.mark.parametrize("argv", [["--assignments", "course/assignments", "new", "hw3"],
                                  ["new", "hw3", "--assignments", "course/assignments"]])
def test_new_writes_under_the_assignments_folder_it_is_given(tmp_path, argv):
    completed = grader(*argv, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "grader --assignments course/assignments grade hw3 course/solutions/hw3/hw3.py" in completed.stdout
    assert sorted(path.name for path in (tmp_path / "course").iterdir()) == ["assignments", "solutions",
                                                                              "student_template"]
    assert filecmp.cmp(tmp_path / "course" / "student_template" / "hw3" / "test_public.py",
                       tmp_path / "course" / "solutions" / "hw3" / "test_public.py", shallow=False)


def test_grade_all_grades_a_class_of_the_new_assignment(tiny_assignment, tmp_path):
    """The grader's templates/ now holds a folder (the scaffold's): the assignment's version, which
    grade-all records, reads the files of templates/ only."""
    root = tiny_assignment.parent
    (tmp_path / "class").mkdir()
    shutil.copyfile(root / "solutions" / "tiny" / "tiny.py", tmp_path / "class" / "ada.py")
    shutil.copyfile(root / "student_template" / "tiny" / "tiny.py", tmp_path / "class" / "bo.py")
    completed = grader("--assignments", tiny_assignment, "grade-all", "tiny", "class", "--out", "out", "--jobs", "1",
                       "--quiet", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    rows = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert rows[0] == "student,score,max_score,normalize,normalize_backward,notes"
    assert [row.split(",")[:5] for row in rows[1:]] == [["ada", "10", "10", "6", "4"], ["bo", "0", "10", "0", "0"]]
