"""`grader audit hw1`, run once for the suite: hw1 passes it, and each of its realistic mistakes
(assignments/hw1/mutants.py) loses points exactly where it should.

Each mutant breaks one function of the reference. It must lose points on that function and
on no function that does not call it (directly or through others), and when the mistake is
a known misconception the feedback of that function must name it as the likely cause. The
audit grades the 94 mutants with the reference, its stubs and the input-ignoring answers as
one class (the heaviest fixture of the suite: keep it the only grading of all the mutants).
"""

from __future__ import annotations

import pytest

from conftest import REFERENCE_PATH, REPO, hw1_mutants
from mutant_verdicts import assert_loses_points_only_where_it_should
from grader.audit.callers import callers_of
from grader.audit.run import plan_audit, run_audit
from grader.audit.text import audit_text
from grader.audit.verdicts import OK
from grader.grading.assignment import load_assignment, load_checks, load_reference

MUTANTS = hw1_mutants()
CALLERS = callers_of(REFERENCE_PATH.read_text())


@pytest.fixture(scope="module")
def audit():
    return run_audit(plan_audit(load_assignment("hw1", REPO / "assignments")), jobs=2)


def test_the_corpus_is_wide():
    assert len(MUTANTS) >= 30
    assert {m.function for m in MUTANTS} == set(CALLERS)  # all 15 functions
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    assignment = load_assignment("hw1", REPO / "assignments")
    _, misconceptions = load_checks(assignment, load_reference(assignment))
    assert {m.misconception for m in MUTANTS if m.misconception} <= {m.label for m in misconceptions}


def test_callers_are_found():
    assert CALLERS["rnn_step"] == {"rnn_forward", "rnn_backward", "rnn_lm_loss"}
    assert CALLERS["softmax"] >= {"attention_weights", "self_attention", "self_attention_backward", "nll_loss_backward"}


def test_hw1_passes_its_audit(audit):
    assert [finding.status for finding in audit.findings] == [OK] * 6, audit.problems
    assert audit.passed and audit.gradings == 2 + 1 + 8 + len(MUTANTS) + 1
    assert len(audit.rows) == 59 and all(row.can_fail for row in audit.rows)
    text = audit_text(audit)
    assert text.rstrip().endswith("audit of hw1 passed")
    assert "rnn_step: 6 mutants" in text and "never fails" not in text


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_loses_points_only_where_it_should(audit, mutant):
    assert_loses_points_only_where_it_should(audit, mutant, CALLERS)
