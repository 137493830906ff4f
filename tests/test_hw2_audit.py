"""`grader audit hw2`, run once for this file: hw2 passes it, and each of its realistic mistakes
(assignments/hw2/mutants.py) loses points exactly where it should.

Each mutant breaks one function of the reference. It must lose points on that function and on
no function that does not call it (directly or through others), and when the mistake is a known
misconception the feedback of that function must name it as the likely cause. The audit also
grades the reference (full marks, twice alike), the stubs `grader release` writes (0) and the
answers that ignore their inputs (0), so those need no test of their own here.

hw2 is the proof that an assignment can be written with the public authoring API alone: its
files import nothing from the grader but `grader.authoring`.
"""

from __future__ import annotations

import ast

import pytest

from conftest import REPO
from mutant_verdicts import assert_loses_points_only_where_it_should
from grader.audit.callers import callers_of
from grader.audit.run import plan_audit, run_audit
from grader.audit.text import audit_text
from grader.audit.verdicts import OK
from grader.grading.assignment import import_assignment_module, load_assignment, load_checks, load_reference

ASSIGNMENT = load_assignment("hw2", REPO / "assignments")
MUTANTS = tuple(import_assignment_module(ASSIGNMENT, "mutants").MUTANTS)
CALLERS = callers_of(ASSIGNMENT.reference.read_text())
HW2_FILES = sorted((REPO / "assignments" / "hw2").glob("*.py"))


@pytest.fixture(scope="module")
def audit():
    return run_audit(plan_audit(ASSIGNMENT), jobs=2)


def test_the_corpus_is_wide():
    assert len(MUTANTS) >= 40
    assert {m.function for m in MUTANTS} == set(ASSIGNMENT.points) == set(CALLERS)  # all 12 functions
    per_function = {name: sum(m.function == name for m in MUTANTS) for name in ASSIGNMENT.points}
    assert min(per_function.values()) >= 2, per_function
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    _, misconceptions = load_checks(ASSIGNMENT, load_reference(ASSIGNMENT))
    assert {m.misconception for m in MUTANTS if m.misconception} <= {m.label for m in misconceptions}


def test_callers_are_found():
    assert CALLERS["compose_affine"] == {"prefix_scan", "linear_rnn_scan"}
    assert CALLERS["split_heads"] == {"multi_head_attention", "multi_head_attention_backward", "transformer_lm_loss"}
    assert CALLERS["sinusoidal_positions"] == {"transformer_lm_loss"}
    assert CALLERS["linear_rnn_forward"] == CALLERS["rotary"] == set()


@pytest.mark.parametrize("path", HW2_FILES, ids=lambda path: path.name)
def test_hw2_imports_nothing_from_the_grader_but_the_authoring_api(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    from_grader = [name for name in imported if name == "grader" or name.startswith("grader.")]
    assert set(from_grader) <= {"grader.authoring"}, from_grader


def test_hw2_passes_its_audit(audit):
    assert [finding.status for finding in audit.findings] == [OK] * 6, audit.problems
    assert audit.findings[0].title == "the reference earns full marks: 100 / 100"
    assert audit.findings[1].title == "the stubs `grader release` writes earn 0"
    assert audit.passed and audit.gradings == 2 + 1 + 8 + len(MUTANTS) + 1
    checks, _ = load_checks(ASSIGNMENT, load_reference(ASSIGNMENT))
    assert len(audit.rows) == len(checks) and all(row.can_fail for row in audit.rows)
    text = audit_text(audit)
    assert text.rstrip().endswith("audit of hw2 passed")
    assert "never fails" not in text


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_loses_points_only_where_it_should(audit, mutant):
    assert_loses_points_only_where_it_should(audit, mutant, CALLERS)
