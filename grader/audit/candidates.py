"""The answers the audit grades, each with the grade it should get: the reference (full marks,
graded twice), the stubs `grader release` writes (0), the input-ignoring answers (0) and the
author's mutants (points lost on their function and its callers only; the first graded twice)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from grader.audit.ignoring import FLAVOURS, ignoring_source
from grader.authoring.mutants import Mutant, apply
from grader.grading.solution_blocks import strip_solutions

REFERENCE, STUBS, IGNORING, MUTANT = "reference", "stubs", "ignoring", "mutant"


@dataclass(frozen=True)
class Candidate:
    """One answer to grade: its kind, its source, and what it is (the flavour or the mutant).
    `again` marks the second grading of a source, whose results.json must equal the first's."""

    kind: str
    source: str
    flavour: str | None = None
    mutant: Mutant | None = None
    again: bool = False

    @property
    def label(self) -> str:
        """How the audit's report names it: `the reference`, `mutant rnn_step-no-nonlinearity`."""
        what = {REFERENCE: "the reference", STUBS: "the stubs", IGNORING: f"the input-ignoring answer {self.flavour!r}",
                MUTANT: f"mutant {self.mutant.id if self.mutant else ''}"}[self.kind]
        return f"{what} (graded again)" if self.again else what


def build_candidates(reference_source: str, functions: Iterable[str], mutants: Sequence[Mutant],
                     filename: str = "<reference>") -> list[Candidate]:
    """Every answer the audit grades, in order; `functions` are the graded functions."""
    functions = list(functions)
    candidates = [Candidate(REFERENCE, reference_source), Candidate(REFERENCE, reference_source, again=True),
                  Candidate(STUBS, strip_solutions(reference_source, filename))]
    candidates += [Candidate(IGNORING, ignoring_source(flavour, reference_source, functions), flavour=flavour)
                   for flavour in FLAVOURS]
    candidates += [Candidate(MUTANT, apply(reference_source, mutant), mutant=mutant) for mutant in mutants]
    if mutants:
        candidates.append(Candidate(MUTANT, apply(reference_source, mutants[0]), mutant=mutants[0], again=True))
    return candidates
