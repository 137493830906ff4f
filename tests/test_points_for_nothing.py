"""Item 11: a submission whose functions ignore their inputs scores 0 (contract §1, edge cases).

Shapes, properties and raised ValueErrors are supporting checks: they pay only to a function
that also passed a check comparing it with the reference. Graded through the real CLI, as one
class with the reference (which must still score 100).
"""

from __future__ import annotations

import json

import pytest

from conftest import REFERENCE_PATH
from grading_helpers import assert_valid_results, run_grader
from input_ignoring import FLAVOURS, source


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for flavour in FLAVOURS:
        (folder / f"{flavour}.py").write_text(source(flavour))
    (folder / "reference.py").write_text(REFERENCE_PATH.read_text())
    out = tmp_path_factory.mktemp("out")
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr
    return {path.parent.name: json.loads(path.read_text()) for path in out.glob("*/results.json")}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_input_ignoring_submission_scores_nothing(graded, flavour):
    results = graded[flavour]
    assert_valid_results(results)
    assert results["extra_data"]["grader_fault"] is None
    assert results["score"] == 0.0, [(t["name"], t["score"]) for t in results["tests"] if t["score"]]


def test_the_reference_still_scores_everything(graded):
    assert graded["reference"]["score"] == 100.0


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_status_and_score_agree(graded, flavour):
    """A supporting check that passed but is not counted is 'failed' (0 points) and says why."""
    tests = graded[flavour]["tests"]
    for test in tests:
        assert (test["status"] == "passed") == (test["score"] == test["max_score"]), test
    not_counted = [t for t in tests if t["output"].startswith("Passed, but not counted")]
    assert any(t["name"] == "rnn_step: raises ValueError for an unknown nonlinearity" for t in not_counted)
    assert all(t["status"] == "failed" and t["score"] == 0 for t in not_counted)
    assert all("agreeing with the reference" in t["output"].splitlines()[0] for t in not_counted)  # one line says why


def test_the_check_listing_names_each_checks_kind():
    completed = run_grader("checks", "hw1")
    assert completed.returncode == 0, completed.stderr
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| rnn_step |")]
    kinds = {row.split(" | ")[1]: row.split(" | ")[2] for row in rows}
    assert kinds["output shapes and dtypes"] == "supporting"
    assert kinds["matches the reference on random inputs (tanh and ReLU)"] == "evidence"
    assert kinds["raises ValueError for an unknown nonlinearity"] == "supporting"
