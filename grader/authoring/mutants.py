"""A mutant: a realistic student mistake, written as a textual patch to the reference solution.

An assignment lists its mutants in `assignments/<name>/mutants.py`, beside its checks:

    from grader.authoring import Mutant

    MUTANTS = [
        Mutant(id="scale-ignored", function="scale",
               description="Returns x without multiplying it by the factor.",
               old="    return factor * x", new="    return x",
               misconception="factor_ignored"),
    ]

`grader audit` grades the reference with each patch applied, and holds that the mutant loses
points on `function`, costs nothing on the functions that do not call it, and, when it names a
misconception, that the feedback names it as the likely cause.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """One mistake: `old` (an exact text of the reference, found there exactly once, inside the
    body of `function`) replaced by `new`. `misconception` is the label of one of the
    assignment's misconceptions when the mistake is that classic one, else None."""

    id: str  # a short unique slug, e.g. "rnn_step-no-nonlinearity": letters, digits, ".", "_" and "-"
    function: str  # the one graded function whose body the patch edits
    description: str  # one line: what the student got wrong
    old: str
    new: str
    misconception: str | None = None


def apply(reference_source: str, mutant: Mutant) -> str:
    """The reference with the mutant's patch applied.

    Raises:
        ValueError: `old` does not occur exactly once in the reference.
    """
    count = reference_source.count(mutant.old) if mutant.old else 0
    if count != 1:
        raise ValueError(f"mutant {mutant.id!r}: its `old` text occurs {count} times in the reference, not exactly once")
    return reference_source.replace(mutant.old, mutant.new, 1)
