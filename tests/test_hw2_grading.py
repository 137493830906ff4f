"""Homework 2 graded end to end through the CLI: other right answers earn full marks, the demo
students earn what their code is worth, and the template notebook round-trips (filled in with
the reference's blocks: 100; as released: 0). The reference, the stubs, the mutants and the
input-ignoring answers are graded by its audit (tests/test_hw2_audit.py)."""

from __future__ import annotations

import pytest

from conftest import REPO
from grading_helpers import Homework, function_scores, grade_many
from notebooks import filled_template, write

HW2 = Homework("hw2", REPO / "assignments")
CORRECT = sorted((REPO / "tests" / "submissions" / "hw2" / "correct").glob("*.py"))
EXAMPLES = REPO / "examples" / "hw2"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder, out = tmp_path_factory.mktemp("hw2-notebooks"), tmp_path_factory.mktemp("hw2-out")
    filled = write(filled_template(homework=HW2), folder / "filled.ipynb")
    unfilled = folder / "unfilled.ipynb"
    unfilled.write_bytes((HW2.template / "hw2.ipynb").read_bytes())
    paths = [*CORRECT, *sorted(EXAMPLES.iterdir()), filled, unfilled]
    return {path.name: run for path, run in grade_many(paths, out, homework=HW2).items()}


def results(graded, name: str) -> dict:
    run = graded[name]
    assert run["returncode"] == 0, run["stderr"]
    assert run["results"]["max_score"] == 100.0
    return run["results"]


@pytest.mark.parametrize("name", [path.name for path in CORRECT])
def test_other_right_answers_earn_full_marks(graded, name):
    graded_results = results(graded, name)
    failed = [t["name"] + ": " + t["output"] for t in graded_results["tests"] if t["status"] != "passed"]
    assert graded_results["score"] == 100.0, failed


def test_the_template_notebook_filled_in_earns_full_marks_and_as_released_nothing(graded):
    assert results(graded, "filled.ipynb")["score"] == 100.0
    assert results(graded, "unfilled.ipynb")["score"] == 0.0
    stub = "prefix_scan is not implemented: it raised NotImplementedError (unfilled.ipynb cell"
    assert graded["unfilled.ipynb"]["feedback"].count(stub) == 1


def test_the_demo_students_earn_what_their_code_is_worth(graded):
    assert results(graded, "alice_full_marks.py")["score"] == 100.0

    bob = function_scores(results(graded, "bob_partly_wrong.py"))
    wrong = {"linear_rnn_scan", "linear_rnn_kernel", "sinusoidal_positions", "rotary", "transformer_lm_loss"}
    assert {name for name, (score, points) in bob.items() if score < points} == wrong
    assert all(bob[name][0] == 0 for name in wrong)  # no supporting check pays without a right answer

    carol = graded["carol_broken.py"]
    assert results(graded, "carol_broken.py")["score"] == 0.0
    assert "line 90" in carol["feedback"] and "SyntaxError" in carol["feedback"]

    dana = function_scores(results(graded, "dana_notebook.ipynb"))
    stubs = {"prefix_scan", "linear_rnn_scan", "multi_head_attention_backward", "rotary", "transformer_lm_loss"}
    assert {name for name, (score, _) in dana.items() if score == 0} == stubs
    attention, points = dana["multi_head_attention"]
    assert 0 < attention < points  # right, but not at attention scores of 1e3
    assert all(score == points for name, (score, points) in dana.items() if name not in stubs | {"multi_head_attention"})
    feedback = graded["dana_notebook.ipynb"]["feedback"]
    assert feedback.count("rotary is not implemented: it raised NotImplementedError") == 1
