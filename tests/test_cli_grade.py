"""`grader grade` end to end: what each kind of submission gets, and the exit status.

The submissions are of the small assignment of `grader new tiny` (the `tiny` fixture: normalize,
6 points, and normalize_backward, 4): the subject here is the command, not hw1's checks.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from class_folders import tiny_mutants
from grading_helpers import Homework, function_scores, run_grader

from grader.authoring.mutants import apply

# tiny.py with a syntax error on line 4: Python reads none of it.
BROKEN = "import numpy as np\n\n\ndef normalize(x, axis=-1)\n    return x / x.sum()\n"


def grade(tmp_path, homework: Homework, submission, *extra):
    results = tmp_path / "results.json"
    completed = run_grader(*homework.option(), "grade", homework.name, submission, "--results-json", results,
                           "--feedback", tmp_path / "feedback.md", *extra)
    data = json.loads(results.read_text()) if results.exists() else None
    feedback = (tmp_path / "feedback.md").read_text() if (tmp_path / "feedback.md").exists() else ""
    return completed, data, feedback


def test_folder_with_both_files_is_graded_on_the_module(tiny, tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    shutil.copy(tiny.template / "tiny.ipynb", folder / "tiny.ipynb")
    (folder / "tiny.py").write_text(BROKEN)
    completed, data, feedback = grade(tmp_path, tiny, folder)
    assert completed.returncode == 0
    assert "tiny.ipynb was ignored: the folder also holds tiny.py, which was graded." in data["output"]
    assert "tiny.py, line 4: SyntaxError" in feedback
    assert "terminal" not in completed.stdout and "total" in completed.stdout


def test_folder_without_a_submission_scores_zero_with_the_reason(tiny, tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "notes.txt").write_text("I did not finish")
    completed, data, _ = grade(tmp_path, tiny, folder)
    assert completed.returncode == 0 and data["score"] == 0
    assert "the folder holds neither tiny.py nor tiny.ipynb" in data["output"]
    assert all("the folder holds neither" in t["output"] for t in data["tests"] if t["visibility"] == "visible")


@pytest.mark.parametrize("content, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "is not UTF-8 text"),
    (b"def normalize(x):\x00\n", "contains NUL bytes"),
])
def test_binary_junk_scores_zero_with_the_reason(tiny, tmp_path, content, reason):
    path = tmp_path / "tiny.py"
    path.write_bytes(content)
    completed, data, _ = grade(tmp_path, tiny, path)
    assert completed.returncode == 0 and data["score"] == 0 and reason in data["output"]


def test_empty_file_scores_zero_and_says_each_function_is_missing(tiny, tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text("")
    completed, data, feedback = grade(tmp_path, tiny, path)
    assert completed.returncode == 0 and data["score"] == 0
    assert "tiny.py is empty." in data["output"]
    for function in ("normalize", "normalize_backward"):
        assert f"not run: tiny.py does not define {function}" in feedback


@pytest.mark.parametrize("function, change, rest, reason", [
    ("normalize_backward", ("def normalize_backward(dp, x, axis=-1):", "def normalize_backward(dp):"), 6.0,
     "normalize_backward raised TypeError: normalize_backward() got an unexpected keyword argument 'axis'"),
    ("normalize", ("def normalize(", "def normalize_unused("), 4.0, "tiny.py does not define normalize"),
])
def test_missing_functions_and_wrong_signatures_earn_what_the_rest_earns(tiny, tmp_path, function, change, rest, reason):
    source = tiny.reference.read_text()
    assert source.count(change[0]) == 1
    path = tmp_path / "tiny.py"
    path.write_text(source.replace(*change))
    completed, data, feedback = grade(tmp_path, tiny, path)
    assert completed.returncode == 0
    assert data["score"] == pytest.approx(rest)  # neither function is called by the other
    assert sum(t["score"] for t in data["tests"] if t["tags"] == [function]) == 0
    assert reason in feedback


def test_a_notebook_with_the_reference_code_earns_full_marks(tiny, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# my homework"), nbformat.v4.new_code_cell("%matplotlib inline"),
                      nbformat.v4.new_code_cell(tiny.reference.read_text()),
                      nbformat.v4.new_code_cell("!pip list\nprint(normalize(np.ones(3)))")]
    path = tmp_path / "submission.ipynb"
    nbformat.write(notebook, path)
    completed, data, _ = grade(tmp_path, tiny, path)
    assert completed.returncode == 0 and data["score"] == 10.0


def test_corrupt_notebook_scores_zero_and_says_so(tiny, tmp_path):
    path = tmp_path / "tiny.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": "def f(')
    completed, data, _ = grade(tmp_path, tiny, path)
    assert completed.returncode == 0 and data["score"] == 0
    assert "tiny.ipynb is not a valid Jupyter notebook" in data["output"]


@pytest.mark.parametrize("args, message", [
    (("grade", "hw1", "/nonexistent/hw1.py"), "submission /nonexistent/hw1.py does not exist"),
    (("grade", "hw1", "README.md"), "README.md is not a .py or .ipynb file: pass the student's hw1.py or hw1.ipynb "
                                    "(whatever its name), or a folder holding it"),
    (("grade", "hw9", "examples/hw1/alice_full_marks.py"), "unknown assignment 'hw9'"),
    (("grade", "hw1"), "the following arguments are required: submission"),
    (("grade", "hw1", "examples/hw1/alice_full_marks.py", "--results"), "unrecognized arguments: --results"),
])
def test_usage_errors_exit_2_with_one_line(args, message):
    completed = run_grader(*args)
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], completed.stderr


def test_a_grader_fault_exits_1_and_still_writes_valid_results(tiny, tmp_path):
    shutil.copytree(tiny.assignments.parent, tmp_path / "course")
    assignments = tmp_path / "course" / "assignments"
    checks = assignments / "tiny" / "checks.py"
    source = checks.read_text()
    bug = 'rows_are_distributions("p", axis=lambda case: case.kwargs["axis"])'  # a check's predicate, replaced by one with a bug
    assert source.count(bug) == 1
    checks.write_text(source.replace(bug, '(lambda got, case: (_ for _ in ()).throw(RuntimeError("bug in a check")))'))
    results = tmp_path / "results.json"
    completed = run_grader("--assignments", assignments, "grade", "tiny", tiny.reference, "--results-json", results)
    assert completed.returncode == 1
    assert "internal error" in completed.stderr and "bug in a check" in completed.stderr
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["tests"] == []
    assert "The grader itself failed" in data["output"] and "not a problem with your code" in data["output"]


def grade_changed(tmp_path, homework: Homework, *changes: tuple[str, str]) -> tuple[dict, dict[str, str]]:
    """Grade the reference with each (old, new) of `changes` made: its results and each failed check's output."""
    source = homework.reference.read_text()
    for old, new in changes:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    path = tmp_path / "tiny.py"
    path.write_text(source)
    completed, data, _ = grade(tmp_path, homework, path)
    assert completed.returncode == 0, completed.stderr
    return data, {t["name"]: t["output"] for t in data["tests"] if t["status"] == "failed"}


def test_wrong_dtypes_and_nan_each_earn_what_they_earn_with_a_reason(tiny, tmp_path):
    data, failed = grade_changed(tmp_path, tiny,
                                 ("    return x / total  # the shape of x\n",
                                  "    return (x / total).astype(np.float32)  # the shape of x\n"),  # wrong dtype
                                 ("    return (dp - np.sum(dp * p, axis=axis, keepdims=True)) / total\n",
                                  "    return np.full(x.shape, np.nan)\n"))  # NaN
    assert "p: expected dtype float64, got float32" in failed["normalize: output shapes and dtypes"]
    backward = failed["normalize_backward: matches the reference gradient"]
    assert "NaN at [" in backward and "where a finite value was expected" in backward
    scores = function_scores(data)
    assert 0 < scores["normalize"][0] < 6  # float32 agrees within the tolerance: only its dtype check is lost
    assert scores["normalize_backward"][0] == 0  # the NaNs have the right shape, but shapes pay only with agreement


def test_a_wrong_shape_earns_what_it_earns_with_a_reason(tiny, tmp_path):
    data, failed = grade_changed(tmp_path, tiny, ("    return x / total  # the shape of x\n",
                                                  "    return (x / total).T  # the shape of x\n"))
    assert "p: expected shape (1, 2), got (2, 1)" in failed["normalize: output shapes and dtypes"]
    assert function_scores(data) == {"normalize": (0.0, 6.0), "normalize_backward": (4.0, 4.0)}


def test_the_terminal_says_why_each_check_failed_in_one_line(tiny, tmp_path):
    """Under the table: per failed check its name and the first line of its message (a reason
    shared by several checks of a function once), without --feedback."""
    (mutant,) = [m for m in tiny_mutants(tiny) if m.id == "normalize-last-axis"]  # a known misconception
    path = tmp_path / "last_axis.py"
    path.write_text(apply(tiny.reference.read_text(), mutant))
    completed = run_grader(*tiny.option(), "grade", "tiny", path, "--results-json", tmp_path / "results.json")
    assert completed.returncode == 0, completed.stderr
    tests = {t["name"]: t["output"] for t in json.loads((tmp_path / "results.json").read_text())["tests"]}
    assert any("Likely cause: normalised along the last axis." in message for message in tests.values())
    below = completed.stdout.split("Why checks failed")[1].splitlines()[1:]
    reasons = [line for line in below if line.startswith("  ")]
    agreement = "normalize: matches the reference along the given axis"
    first_line = tests[agreement].splitlines()[0]
    assert first_line.startswith("Failed on x of shape (") and ", axis=0: p: max |Δ| = " in first_line
    line = f"  {agreement}: {first_line}"
    assert (line if len(line) <= 160 else line[:159] + "…") in reasons
    assert all(len(line) <= 160 for line in reasons)
    assert not any("Likely cause" in line for line in below)  # the first line only
    # normalize's two supporting checks that ask for agreement first say the same thing: one line
    assert sum(1 for line in reasons if line.startswith("  normalize (2 checks): Passed, but not counted")) == 1
    assert not any(line.startswith("  normalize: output shapes and dtypes") for line in reasons)


def test_a_py_file_whose_name_says_cell_is_still_a_file_not_a_notebook_cell(tiny, tmp_path):
    # Which notes a load error gets was decided by " cell " in the place's text: a .py file named
    # "week cell 3.py" was told that "the other cells still ran". It is a Cell field now.
    path = tmp_path / "week cell 3.py"
    path.write_text("import numpy as np\n\ndef normalize(x, axis=-1)\n    return x\n")
    completed, data, feedback = grade(tmp_path, tiny, path)
    assert completed.returncode == 0 and data["score"] == 0
    assert "week cell 3.py, line 3: SyntaxError" in data["output"]
    assert "Python stopped reading the file there, so nothing in it could be graded." in data["output"]
    assert "other cells" not in data["output"] and "other cells" not in feedback
    normalize = [t for t in data["tests"] if t["tags"] == ["normalize"] and t["visibility"] == "visible"]
    assert normalize and all("not run: the file did not load (line 3: SyntaxError" in t["output"] for t in normalize)
