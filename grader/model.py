"""The records that flow between the grader's steps (frozen, but for the load report that the
sandbox fills in as the worker reports): what crosses from one layer to another lives here, so
that no layer imports another only for a type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from grader import points as pts


@dataclass(frozen=True)
class Assignment:
    """An assignment as the instructor configured it in `assignments/<name>/assignment.json`.

    `points` maps each graded function, in handout order, to the points it is worth.
    Paths are absolute.
    """

    name: str
    title: str
    module: str
    directory: Path
    reference: Path
    public_tests: Path
    handout: Path
    template: Path
    points: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", MappingProxyType(dict(self.points)))

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: all or nothing of its points, and what the student should read."""

    function: str
    name: str
    score: float
    max_score: float
    passed: bool
    message: str
    visibility: str
    seconds: float = 0.0
    misconceptions: tuple[str, ...] = ()  # the known mistake diagnosed as the failure's likely cause (none or one title)
    # Why no check of this function could grade it (the submission did not load, the function is
    # not defined, or not implemented): the same for all its checks, so reports say it once.
    function_problem: str = ""


@dataclass(frozen=True)
class Report:
    """Everything known about one graded submission, ready for the writers."""

    assignment: str
    submission: str
    results: tuple[CheckResult, ...]
    notes: tuple[str, ...]
    student_output: str
    execution_time: float
    function_points: Mapping[str, float]
    grader_fault: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    function_hints: Mapping[str, str] = field(default_factory=dict)  # the template's TODO hint per function

    @property
    def score(self) -> float:
        """The sum of the checks' scores, in whole hundredths (grader/points.py)."""
        return pts.total(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return pts.total(self.function_points.values())

    def function_scores(self) -> dict[str, tuple[float, float]]:
        """(score, points) per function, in the assignment's order, in whole hundredths."""
        units = {name: 0 for name in self.function_points}
        for result in self.results:
            units[result.function] = units.get(result.function, 0) + pts.to_units(result.score)
        return {name: (pts.from_units(score), pts.exact(self.function_points.get(name, 0.0)))
                for name, score in units.items()}


@dataclass(frozen=True)
class Cell:
    """Source code to run in the worker; `filename` is what tracebacks and feedback name."""

    source: str
    filename: str


@dataclass
class LoadReport:
    """What happened when the submission's cells ran: errors per cell, functions defined.

    Each error is {"type": str, "message": str, "cell": index into the cells, "where": None or
    {"file": a cell's file name, "line": int or None}}.
    """

    errors: list[dict] = field(default_factory=list)
    defined: list[str] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)  # unavailable modules the submission imported
    not_functions: dict[str, str] = field(default_factory=dict)  # expected name -> type of the non-function bound to it
    failure: str | None = None  # the load itself did not finish (timeout, crash, an invalid report)
