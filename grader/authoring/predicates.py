"""Properties that outputs of many assignments share, as predicates for `Function.holds`.

Each factory takes the name the feedback calls the output by and returns
`predicate(value, case) -> str | None`: None when the property holds, else one line saying
what is wrong. `value` is what the student returned for that output (not yet converted: the
predicate converts it with as_float_array, so a non-numeric answer is a failure, not a crash).
Tolerances are those of the agreement checks (grader.authoring.compare), so that an answer
that agrees with the reference never fails a property the reference has.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader.authoring.checks import Case
from grader.authoring.compare import ATOL, RTOL, as_float_array

Predicate = Callable[[Any, Case], "str | None"]


def rows_are_distributions(name: str, *, axis: int | Callable[[Case], int] = -1) -> Predicate:
    """Entries are finite, lie in [0, 1] and sum to 1 along `axis`: a softmax's output, attention weights.

    `value` is an array of any shape `(..., n, ...)` with the distributions along `axis`, an
    int or `axis(case)` (e.g. `lambda case: case.kwargs["axis"]` when the call names it). Each
    entry may be off by the agreement checks' tolerance (ATOL + RTOL * entry), so a sum of n
    entries by n * ATOL + RTOL.
    """
    def predicate(value: Any, case: Case) -> str | None:
        A, problem = as_float_array(name, value)
        if problem:
            return problem
        along = axis(case) if callable(axis) else axis
        if not -A.ndim <= along < A.ndim:  # a single number, or too few dimensions for the axis
            return f"{name}: expected distributions along axis {along}, got an array of shape {A.shape}"
        if not np.all(np.isfinite(A)):
            return f"{name} has entries that are not finite"
        if A.size and (A.min() < -ATOL or A.max() > 1 + ATOL + RTOL):
            return f"{name} has entries outside [0, 1] (min {A.min():.3g}, max {A.max():.3g})"
        sums = A.sum(axis=along)
        worst = float(np.max(np.abs(sums - 1.0))) if sums.size else 0.0
        if worst > A.shape[along] * ATOL + RTOL:
            return f"{name}: entries along axis {along} sum to {1.0 + worst:.6g} or so, not 1 (off by up to {worst:.3g})"
        return None

    return predicate


def causal_zeros(name: str) -> Predicate:
    """A causal attention matrix: `value` of shape `(..., T, T)` is exactly 0 above the diagonal
    (position i gives no weight to a later position j > i)."""
    def predicate(value: Any, case: Case) -> str | None:
        A, problem = as_float_array(name, value)
        if problem:
            return problem
        if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
            return f"{name}: expected a square (..., T, T) array, got shape {A.shape}"
        T = A.shape[-1]
        future = np.triu(np.ones((T, T), dtype=bool), k=1)
        leaked = np.abs(A[..., future]) if T > 1 else np.zeros(0)
        if leaked.size and leaked.max() > 0:
            return f"{name}: position i gives weight up to {leaked.max():.3g} to later positions j > i (should be 0)"
        return None

    return predicate
