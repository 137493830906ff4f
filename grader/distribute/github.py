"""Report a grade to GitHub Classroom from a workflow:
`python -m grader.distribute.github results.json [feedback.md]`.

GitHub Classroom reads the points from two workflow notices, as its own reporter
(classroom-resources/autograding-grading-reporter) writes them:

    ::notice title=Autograding complete::Points 73.1/100
    ::notice title=Autograding report::{"totalPoints":73.1,"maxPoints":100}

The feedback, when given, is appended to the run's summary page ($GITHUB_STEP_SUMMARY).
A missing or unreadable results.json reports 0 points, with a notice that says why.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from grader.points import exact, format_points


def notices(results: dict) -> list[str]:
    """The two workflow commands GitHub Classroom reads the grade from."""
    total, maximum = _points(results.get("score")), _points(results.get("max_score"))
    report = json.dumps({"totalPoints": total, "maxPoints": maximum}, separators=(",", ":"))
    return [f"::notice title=Autograding complete::Points {format_points(total)}/{format_points(maximum)}",
            f"::notice title=Autograding report::{report}"]


def _points(value: object) -> float | int:
    """`value` in whole hundredths, as results.json and the feedback print it; an int when whole."""
    try:
        number = exact(float(value))
    except (TypeError, ValueError, OverflowError):
        return 0
    return int(number) if number == int(number) else number


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m grader.distribute.github RESULTS_JSON [FEEDBACK_MD]", file=sys.stderr)
        return 2
    try:
        results = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        if not isinstance(results, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as error:
        print(f"::error title=Autograding failed::{argv[0]} could not be read ({error}); no grade was computed")
        results = {"score": 0, "max_score": 0}
    for line in notices(results):
        print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and len(argv) > 1 and Path(argv[1]).is_file():
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(Path(argv[1]).read_text(encoding="utf-8") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
