"""What the class summary counts, and what a failed check names, is the diagnosis of that failure.

A small class graded for real (`grader grade-all`): three students whose only mistake is that
`rnn_step` returns its pre-activation (no nonlinearity, and no ValueError for an unknown one),
and one who swapped tanh and ReLU. On the smallest failing case (one unit, a positive
pre-activation) the two mistakes give the same answer; the other failing calls tell them apart.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from conftest import REFERENCE_PATH
from grading_helpers import run_grader

NO_NONLINEARITY = "    return h_prev @ W_h.T + c_t @ W_c.T\n"
SWAPPED = ("    a_t = h_prev @ W_h.T + c_t @ W_c.T\n"
           "    return np.maximum(a_t, 0.0) if nonlinearity == \"tanh\" else np.tanh(a_t)\n")


def with_rnn_step_body(body: str) -> str:
    """The reference, with the solution block of rnn_step replaced by `body`."""
    source = REFERENCE_PATH.read_text()
    start = source.index("    # BEGIN SOLUTION  TODO: compute a_t = W_h h_{t-1} + W_c c_t, then apply f.")
    end = source.index("    # END SOLUTION", start)
    return source[:start] + body + source[end:]


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    folder, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("out")
    for student in ("ann", "ben", "cat"):
        (folder / f"{student}.py").write_text(with_rnn_step_body(NO_NONLINEARITY))
    (folder / "dan.py").write_text(with_rnn_step_body(SWAPPED))
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr
    return out


def misconception_rows(summary_page: str) -> dict[tuple[str, str], int]:
    """(title, function) -> students, from summary.html's table of misconceptions."""
    table = summary_page.split("Most common misconceptions")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td><code>(.*?)</code></td><td class=\"num\">(\d+) ", table)
    return {(html.unescape(title), function): int(count) for title, function, count in rows}


def rnn_step_tests(out, student: str) -> dict[str, dict]:
    results = json.loads((out / student / "results.json").read_text())
    return {test["name"]: test for test in results["tests"] if test["tags"] == ["rnn_step"]}


def test_the_summary_counts_each_students_diagnosis_once_and_no_guesses(graded_class):
    rows = misconception_rows((graded_class / "summary.html").read_text())
    assert rows[("missing nonlinearity", "rnn_step")] == 3
    assert rows[("tanh and ReLU swapped", "rnn_step")] == 1  # dan's, not the other three's
    assert ("transposed weight matrix", "rnn_step") not in rows
    for student in ("ann", "ben", "cat"):
        record = json.loads((graded_class / student / "record.json").read_text())
        assert ["rnn_step", "missing nonlinearity"] in record["misconceptions"]
        assert ["rnn_step", "tanh and ReLU swapped"] not in record["misconceptions"]


def test_a_failure_names_the_mistake_that_explains_it_and_no_second_guess(graded_class):
    ann = rnn_step_tests(graded_class, "ann")["rnn_step: matches the reference on random inputs (tanh and ReLU)"]
    assert ann["status"] == "failed"
    assert "Likely cause: missing nonlinearity." in ann["output"]
    assert "Or perhaps" not in ann["output"]
    dan = rnn_step_tests(graded_class, "dan")["rnn_step: matches the reference on random inputs (tanh and ReLU)"]
    assert "Likely cause: tanh and ReLU swapped." in dan["output"]
    assert "missing nonlinearity" not in dan["output"]
    feedback = (graded_class / "ann" / "feedback.md").read_text()
    assert "Likely cause: missing nonlinearity." in feedback and "Or perhaps" not in feedback


def test_a_check_that_wants_an_error_names_no_mistake_in_the_values(graded_class):
    """rnn_step returned a value for nonlinearity='sigmoid': no misconception about its values explains that."""
    test = rnn_step_tests(graded_class, "ann")["rnn_step: raises ValueError for an unknown nonlinearity"]
    assert test["status"] == "failed" and "expected ValueError, but it returned" in test["output"]
    assert "Likely cause" not in test["output"] and "Or perhaps" not in test["output"]
