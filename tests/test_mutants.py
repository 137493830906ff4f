"""Realistic student mistakes (tests/mutants.py) lose points exactly where they should.

Each mutant breaks one function of the reference. It must lose points on that function and
on no function that does not call it (directly or through others), and when the mistake is
a known misconception the feedback of that function must name it as the likely cause.
"""

from __future__ import annotations

import ast
import json

import pytest

from conftest import REFERENCE_PATH, REPO
from grader.grading.assignment import load_assignment, load_checks, load_reference
from grading_helpers import function_scores, run_grader
from mutants import MISCONCEPTIONS, MUTANTS, apply


def callers_of(source: str) -> dict[str, set[str]]:
    """For each top-level function, every function that calls it, directly or through others."""
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    calls = {name: {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id in functions} for name, node in functions.items()}
    callers = {name: set() for name in functions}
    changed = True
    while changed:
        changed = False
        for caller, callees in calls.items():
            for callee in callees:
                new = {caller} | callers[caller]
                if not new <= callers[callee]:
                    callers[callee] |= new
                    changed = True
    return callers


REFERENCE_SOURCE = REFERENCE_PATH.read_text()
CALLERS = callers_of(REFERENCE_SOURCE)


def test_the_corpus_is_wide():
    assert len(MUTANTS) >= 30
    assert {m.function for m in MUTANTS} == set(CALLERS)  # all 15 functions
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    assert {m.misconception for m in MUTANTS if m.misconception} <= set(MISCONCEPTIONS)


def test_callers_are_found():
    assert CALLERS["rnn_step"] == {"rnn_forward", "rnn_backward", "rnn_lm_loss"}
    assert CALLERS["softmax"] >= {"attention_weights", "self_attention", "self_attention_backward", "nll_loss_backward"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mutants")
    paths = []
    for mutant in MUTANTS:
        path = folder / f"{mutant.id}.py"
        path.write_text(apply(REFERENCE_SOURCE, mutant))
        paths.append(path)
    out = tmp_path_factory.mktemp("out")
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "2", "--quiet")  # the class at once
    return {mutant.id: {"returncode": completed.returncode, "stderr": completed.stderr,
                        "results": json.loads((out / mutant.id / "results.json").read_text())} for mutant in MUTANTS}


@pytest.fixture(scope="module")
def titles_by_label():
    assignment = load_assignment("hw1", REPO / "assignments")
    _, misconceptions = load_checks(assignment, load_reference(assignment))
    titles: dict[str, set[str]] = {}
    for misconception in misconceptions:
        titles.setdefault(misconception.label, set()).add(misconception.title)
    return titles


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_loses_points_only_where_it_should(graded, titles_by_label, mutant):
    run = graded[mutant.id]
    assert run["returncode"] == 0, run["stderr"]
    scores = function_scores(run["results"])
    lost = {name for name, (score, points) in scores.items() if score < points - 1e-9}
    assert mutant.function in lost, f"{mutant.description}: {mutant.function} kept all its points"
    assert lost <= {mutant.function} | CALLERS[mutant.function], (
        f"{mutant.description}: points lost on {sorted(lost - {mutant.function} - CALLERS[mutant.function])}, "
        "which do not call the broken function"
    )
    if mutant.misconception:
        messages = "\n".join(t["output"] for t in run["results"]["tests"]
                             if t["tags"] == [mutant.function] and t["status"] == "failed")
        named = [t for t in titles_by_label[mutant.misconception] if f"Likely cause: {t}." in messages]
        assert named, f"{mutant.id}: feedback does not name {mutant.misconception} as the likely cause:\n{messages}"
