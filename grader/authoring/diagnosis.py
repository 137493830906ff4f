"""Name the misconception behind a failure, when the student's answer matches a known mistake.

An assignment lists its misconceptions. Each is recognised in one of three ways:
- `implementation`: the function as a student holding the misconception writes it. It
  matches when every output of the student's answer equals either the misconception's or
  the reference's, and at least one equals the misconception's where it differs from the
  reference (so a mistake in one gradient of four is still recognised);
- `detect(got, expected, case)`: a predicate over the student's answer, the reference's
  answer and the (smallest) failing case, for mistakes that take many forms;
- `error_pattern`: a regex searched in "ExceptionType: message" when the student's code raised.
The failing case is run through them in the trusted process only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from grader.authoring.compare import outputs_match
from grader.model import Misconception

MAX_NAMED = 2


@dataclass(frozen=True)
class Observation:
    """One failing call of the student's function: the case, what the function returned (`got`)
    or raised (`error`, "ExceptionType: message"), and the reference's answer (`expected`), or
    `reference_raised` when the reference itself raises on the case (the inputs of a check that
    wants a ValueError)."""

    case: Any
    got: Any = None
    error: str | None = None
    expected: Any = None
    reference_raised: bool = False


def diagnose(misconceptions: list[Misconception], function: str, case: Any, got: Any = None,
             error: str | None = None, expected: Any = None, *, reference_raised: bool = False,
             also_failed: Sequence[Observation] = ()) -> list[Misconception]:
    """The misconceptions that explain the student's failure on `case`: the likely cause first,
    then at most MAX_NAMED - 1 others (distinct titles) that explain it exactly as well.

    A candidate must explain the failure shown. The smallest failing case often fits several
    (a one-unit state with a positive pre-activation is the same under "no nonlinearity" and
    "ReLU for tanh"), so the other failing calls seen while the check ran (`also_failed`)
    decide: candidates are ranked by how many of them they do not explain, then by how exactly
    they explain the one shown (an exact reproduction before a partial one or a detected
    pattern), then in the assignment's order. Another candidate is named only when it ties
    with the first on both counts. When the reference raises on the case (the check wants an
    error) and the student's function returned a value, no mistake in the values explains it.
    """
    shown = Observation(case, got, error, expected, reference_raised)
    ranked: list[tuple[int, int, int, Misconception]] = []
    for order, candidate in enumerate(misconceptions):
        if candidate.function not in (None, function):
            continue
        rank = _explains(candidate, shown)
        if rank is not None:
            misses = sum(1 for seen in also_failed if _explains(candidate, seen) is None)
            ranked.append((misses, rank, order, candidate))
    ranked.sort(key=lambda item: item[:3])
    found: list[Misconception] = []
    for misses, rank, _, candidate in ranked:
        if found and (misses, rank) != ranked[0][:2]:
            break
        if all(f.title != candidate.title for f in found):
            found.append(candidate)
    return found[:MAX_NAMED]


def _explains(candidate: Misconception, seen: Observation) -> int | None:
    """None if the candidate does not explain the failing call; else a rank: 0 for an exact
    reproduction of the whole answer, 1 for a partial one or a detected pattern."""
    if seen.error is not None:
        return 0 if candidate.error_pattern and re.search(candidate.error_pattern, seen.error) else None
    if seen.got is None or seen.reference_raised:
        return None  # no answer, or an answer where an error was due: a mistake in the values does not explain it
    case, got, expected = seen.case, seen.got, seen.expected
    try:
        with np.errstate(all="ignore"):
            if candidate.detect is not None:
                return 1 if candidate.detect(got, expected, case) else None
            if candidate.implementation is not None:
                mistaken = candidate.implementation(*_fresh(case.args), **dict(case.kwargs))
                if expected is not None and outputs_match(mistaken, expected):
                    return None  # the mistake makes no difference on this case
                if outputs_match(got, mistaken):
                    return 0
                return 1 if _partial_match(got, mistaken, expected) else None
    except Exception:  # a misconception that cannot run on this case does not explain it
        return None
    return None


def _partial_match(got: Any, mistaken: Any, expected: Any) -> bool:
    if not isinstance(mistaken, tuple) or expected is None:
        return outputs_match(got, mistaken) and (expected is None or not outputs_match(mistaken, expected))
    if not isinstance(got, tuple) or len(got) != len(mistaken):
        return False
    explained = False
    for got_item, mistaken_item, expected_item in zip(got, mistaken, expected):
        if outputs_match(got_item, mistaken_item) and not outputs_match(mistaken_item, expected_item):
            explained = True
        elif not outputs_match(got_item, expected_item):
            return False
    return explained


def _fresh(args: tuple) -> tuple:
    return tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)
