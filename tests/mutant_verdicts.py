"""What every assignment's audit must show of each of its mutants (test_mutants.py for hw1,
test_hw2_audit.py for hw2): shared, so that both hold the same rule. (Not a test module: pytest
does not rewrite its asserts, so each says what failed.)"""

from __future__ import annotations


def assert_loses_points_only_where_it_should(audit, mutant, callers: dict[str, set[str]]) -> None:
    """`mutant` (grader.authoring.Mutant) is caught on its function, costs nothing on a function that
    does not call it (`callers`: grader.audit.callers.callers_of the reference), and is named as the
    likely cause when it has a misconception, in the `audit` (grader.audit.verdicts.AuditReport)."""
    (verdict,) = [v for v in audit.mutants if v.mutant.id == mutant.id]
    assert verdict.fault is None, verdict.fault
    assert verdict.caught, f"{mutant.description}: {mutant.function} kept all its points"
    assert not verdict.leaks, f"{mutant.description}: points lost on {list(verdict.leaks)}, which do not call the broken function"
    allowed = {mutant.function} | callers[mutant.function]
    assert set(verdict.lost) <= allowed, f"{mutant.id}: points lost on {sorted(set(verdict.lost) - allowed)}"
    if mutant.misconception:
        assert verdict.named, f"{mutant.id}: feedback does not name {mutant.misconception} as the likely cause"
    else:
        assert verdict.named is None, f"{mutant.id} names no misconception, yet a diagnosis was judged"
