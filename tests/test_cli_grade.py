"""`grader grade` end to end: what each kind of submission gets, and the exit status."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from conftest import REFERENCE_PATH, REPO
from grading_helpers import run_grader


def grade(tmp_path, submission, *extra):
    results = tmp_path / "results.json"
    completed = run_grader("grade", "hw1", submission, "--results-json", results, "--feedback", tmp_path / "feedback.md", *extra)
    data = json.loads(results.read_text()) if results.exists() else None
    feedback = (tmp_path / "feedback.md").read_text() if (tmp_path / "feedback.md").exists() else ""
    return completed, data, feedback


def test_folder_with_both_files_is_graded_on_the_module(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    shutil.copy(REPO / "student_template" / "hw1" / "hw1.ipynb", folder / "hw1.ipynb")
    shutil.copy(REPO / "examples" / "hw1" / "carol_broken.py", folder / "hw1.py")
    completed, data, feedback = grade(tmp_path, folder)
    assert completed.returncode == 0
    assert "hw1.ipynb was ignored: the folder also holds hw1.py, which was graded." in data["output"]
    assert "hw1.py, line 192: SyntaxError" in feedback
    assert "terminal" not in completed.stdout and "total" in completed.stdout


def test_folder_without_a_submission_scores_zero_with_the_reason(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "notes.txt").write_text("I did not finish")
    completed, data, _ = grade(tmp_path, folder)
    assert completed.returncode == 0 and data["score"] == 0
    assert "the folder holds neither hw1.py nor hw1.ipynb" in data["output"]
    assert all("the folder holds neither" in t["output"] for t in data["tests"] if t["visibility"] == "visible")


@pytest.mark.parametrize("content, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "is not UTF-8 text"),
    (b"def softmax(x):\x00\n", "contains NUL bytes"),
])
def test_binary_junk_scores_zero_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "hw1.py"
    path.write_bytes(content)
    completed, data, _ = grade(tmp_path, path)
    assert completed.returncode == 0 and data["score"] == 0 and reason in data["output"]


def test_empty_file_scores_zero_and_says_each_function_is_missing(tmp_path):
    path = tmp_path / "hw1.py"
    path.write_text("")
    completed, data, feedback = grade(tmp_path, path)
    assert completed.returncode == 0 and data["score"] == 0
    assert "hw1.py is empty." in data["output"]
    assert "not run: hw1.py does not define rnn_lm_loss" in feedback


def test_missing_functions_and_wrong_signatures_earn_what_the_rest_earns(tmp_path):
    source = REFERENCE_PATH.read_text()
    source = source.replace("def nll_loss_backward(logits, targets, mask=None):", "def nll_loss_backward(logits):")  # wrong signature
    source = source.replace("def rnn_lm_loss(", "def rnn_lm_loss_unused(")  # missing
    path = tmp_path / "hw1.py"
    path.write_text(source)
    completed, data, feedback = grade(tmp_path, path)
    assert completed.returncode == 0
    assert data["score"] == pytest.approx(100 - 6 - 5)  # neither function is called by another
    assert "nll_loss_backward raised TypeError: nll_loss_backward() takes 1 positional argument but 3 were given" in feedback
    assert "hw1.py does not define rnn_lm_loss" in feedback


def test_a_notebook_with_the_reference_code_earns_full_marks(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# my homework"), nbformat.v4.new_code_cell("%matplotlib inline"),
                      nbformat.v4.new_code_cell(REFERENCE_PATH.read_text()), nbformat.v4.new_code_cell("!pip list\nprint(softmax(np.ones(3)))")]
    path = tmp_path / "submission.ipynb"
    nbformat.write(notebook, path)
    completed, data, _ = grade(tmp_path, path)
    assert completed.returncode == 0 and data["score"] == 100.0


def test_corrupt_notebook_scores_zero_and_says_so(tmp_path):
    path = tmp_path / "hw1.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": "def f(')
    completed, data, _ = grade(tmp_path, path)
    assert completed.returncode == 0 and data["score"] == 0
    assert "hw1.ipynb is not a valid Jupyter notebook" in data["output"]


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


def test_a_grader_fault_exits_1_and_still_writes_valid_results(tmp_path):
    assignments = tmp_path / "assignments"
    shutil.copytree(REPO / "assignments", assignments)
    shutil.copytree(REPO / "solutions", tmp_path / "solutions")
    checks = assignments / "hw1" / "checks.py"
    source = checks.read_text()
    bug = 'causal_zeros("A")'  # a predicate of two checks, replaced by one with a bug
    assert source.count(bug) == 2
    checks.write_text(source.replace(bug, '(lambda got, case: (_ for _ in ()).throw(RuntimeError("bug in a check")))'))
    results = tmp_path / "results.json"
    completed = run_grader("--assignments", assignments, "grade", "hw1", REFERENCE_PATH, "--results-json", results)
    assert completed.returncode == 1
    assert "internal error" in completed.stderr and "bug in a check" in completed.stderr
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["tests"] == []
    assert "The grader itself failed" in data["output"] and "not a problem with your code" in data["output"]


def test_wrong_shapes_dtypes_and_nan_each_earn_what_they_earn_with_a_reason(tmp_path):
    source = REFERENCE_PATH.read_text()
    source = source.replace("    return Q, K, V\n", "    return Q.astype(np.float32), K, V\n")  # wrong dtype
    source = source.replace("    return np.maximum(a_t, 0.0)  # (..., d_h)\n",
                            "    return np.maximum(a_t, 0.0).T  # (..., d_h)\n")  # wrong shape for relu
    source = source.replace("    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))\n",
                            "    return np.full(x.shape, np.nan)\n")  # NaN
    path = tmp_path / "hw1.py"
    path.write_text(source)
    completed, data, feedback = grade(tmp_path, path)
    assert completed.returncode == 0
    failed = {t["name"]: t["output"] for t in data["tests"] if t["status"] == "failed"}
    assert "Q: expected dtype float64, got float32" in failed["qkv: output shapes and dtypes"]
    assert any("expected shape" in message for name, message in failed.items() if name.startswith("rnn_step:"))
    log_softmax = failed["log_softmax: matches the reference along the given axis"]
    assert "NaN at [" in log_softmax and "where a finite value was expected" in log_softmax
    scores = {}
    for test in data["tests"]:
        scores[test["tags"][0]] = scores.get(test["tags"][0], 0) + test["score"]
    assert scores["softmax_backward"] == 6 and scores["qkv"] < 4
    assert scores["log_softmax"] < 1  # only its shape-and-dtype check: the NaNs have the right shape


def test_the_terminal_says_why_each_check_failed_in_one_line(tmp_path):
    """Under the table: per failed check its name and the first line of its message (a reason
    shared by several checks of a function once), without --feedback."""
    completed = run_grader("grade", "hw1", REPO / "examples" / "hw1" / "bob_partly_wrong.py")
    assert completed.returncode == 0, completed.stderr
    below = completed.stdout.split("Why checks failed")[1].splitlines()[1:]
    reasons = [line for line in below if line.startswith("  ")]
    assert ("  nll_loss: matches the reference without a mask: Failed on batch dims (), T=2, V=2, mask=None: "
            "loss: max |Δ| = 0.917 at []; 1 of 1 entries differ; shape ()") in reasons
    assert all(len(line) <= 160 for line in reasons)
    assert not any("Likely cause" in line for line in below)  # the first line only
    # nll_loss's three supporting checks say the same thing: one line
    assert sum(1 for line in reasons if line.startswith("  nll_loss (3 checks): Passed, but not counted")) == 1
    assert not any(line.startswith("  nll_loss: output shapes and dtypes") for line in reasons)


def test_a_py_file_whose_name_says_cell_is_still_a_file_not_a_notebook_cell(tmp_path):
    # Which notes a load error gets was decided by " cell " in the place's text: a .py file named
    # "week cell 3.py" was told that "the other cells still ran". It is a Cell field now.
    path = tmp_path / "week cell 3.py"
    path.write_text("import numpy as np\n\ndef softmax(x, axis=-1)\n    return x\n")
    completed, data, feedback = grade(tmp_path, path)
    assert completed.returncode == 0 and data["score"] == 0
    assert "week cell 3.py, line 3: SyntaxError" in data["output"]
    assert "Python stopped reading the file there, so nothing in it could be graded." in data["output"]
    assert "other cells" not in data["output"] and "other cells" not in feedback
    softmax = [t for t in data["tests"] if t["tags"] == ["softmax"] and t["visibility"] == "visible"]
    assert softmax and all("not run: the file did not load (line 3: SyntaxError" in t["output"] for t in softmax)
