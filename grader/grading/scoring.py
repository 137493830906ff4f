"""Pure functions from checks and outcomes to points."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

from grader.authoring.checks import Check
from grader.model import CheckResult
from grader.points import from_units, to_units


def check_points(checks: Sequence[Check], function_points: Mapping[str, float]) -> list[float]:
    """Each check's share of its function's points, in proportion to the checks' weights.

    Shares are whole hundredths of a point (grader/points.py), rounded by the largest-remainder
    method, so that a function's checks add up to exactly its points (8 points over 7 equal
    checks: 1.15 ×2 + 1.14 ×5), and any sum of shares has two decimals at most.
    """
    shares = [0.0] * len(checks)
    for function, points in function_points.items():
        members = [i for i, check in enumerate(checks) if check.function == function]
        if not members:
            continue
        total_weight = sum(checks[i].weight for i in members)
        exact = [to_units(points) * checks[i].weight / total_weight for i in members]
        units = [int(value) for value in exact]
        remaining = to_units(points) - sum(units)
        by_remainder = sorted(range(len(members)), key=lambda k: (-(exact[k] - units[k]), k))
        for k in by_remainder[:remaining]:
            units[k] += 1
        for k, i in enumerate(members):
            shares[i] = from_units(units[k])
    return shares


def not_counted_message(function: str) -> str:
    """Why a supporting check that passed pays nothing (one line, for the student)."""
    return (f"Passed, but not counted: {function} has not yet earned points for agreeing with the reference, "
            "and this check's points come only with those.")


def count_supporting(checks: Sequence[Check], results: Sequence[CheckResult]) -> list[CheckResult]:
    """`results` (one per check, in order) with the rule for supporting checks applied.

    A function's supporting checks (shapes, properties, raised errors, invariances) pay only
    when at least one of its evidence checks (agreement with the reference, gradients against
    finite differences) passed: an answer that ignores its inputs passes the former, never the
    latter (contract §1, edge cases). A supporting check that passed without such evidence is
    reported as failed with 0 points and the reason, so that its status and its score agree.
    """
    evidenced = {check.function for check, result in zip(checks, results) if check.evidence and result.passed}
    counted = []
    for check, result in zip(checks, results):
        if result.passed and not check.evidence and check.function not in evidenced:
            result = replace(result, score=0.0, passed=False, message=not_counted_message(check.function), uncounted=True)
        counted.append(result)
    return counted
