"""Frozen records that flow between the grader's steps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping


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
