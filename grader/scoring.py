"""Pure functions from checks and outcomes to points."""

from __future__ import annotations

from typing import Mapping, Sequence

from grader.checks import Check


def check_points(checks: Sequence[Check], function_points: Mapping[str, float]) -> list[float]:
    """Each check's share of its function's points, in proportion to the checks' weights."""
    total_weight: dict[str, float] = {}
    for check in checks:
        total_weight[check.function] = total_weight.get(check.function, 0.0) + check.weight
    return [function_points[c.function] * c.weight / total_weight[c.function] for c in checks]
