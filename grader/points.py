"""Points are counted in hundredths: every share, function score and total is a whole number of
hundredths, added as integers, and printed the same way by every report.

Shares of a function's points are rounded to hundredths (grader/grading/scoring.py), so a score never
needs more than two decimals; adding them as integers leaves no float drift (1.14 × 7 is not
7.98 plus 1e-15), and `format_points` prints a total that earns whole functions as a whole
number. feedback.md and .html, the terminal, results.json, gradebook.csv, summary.html, JUnit
XML and the GitHub Classroom notice all print the same digits.
"""

from __future__ import annotations

from typing import Iterable

UNITS_PER_POINT = 100  # hundredths of a point


def to_units(points: float) -> int:
    """`points` as a whole number of hundredths (rounded to the nearest)."""
    return round(float(points) * UNITS_PER_POINT)


def from_units(units: int) -> float:
    """A whole number of hundredths as points: the float nearest to the two-decimal number."""
    return units / UNITS_PER_POINT


def exact(points: float) -> float:
    """`points` rounded to hundredths."""
    return from_units(to_units(points))


def total(values: Iterable[float]) -> float:
    """The sum of `values`, each rounded to hundredths, added as integers."""
    return from_units(sum(to_units(value) for value in values))


def format_points(points: float) -> str:
    """The one way a score is printed: two decimals at most, no trailing zeros (14, 2.5, 1.14)."""
    text = f"{exact(points):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def points_phrase(points: float) -> str:
    """`points` printed with the noun that agrees with it: "1 point", "0.5 points", "8 points"."""
    text = format_points(points)
    return f"{text} point" if text == "1" else f"{text} points"
