"""The Gradescope `results.json` of a report (contract §3)."""

from __future__ import annotations

from grader import __version__
from grader.model import Report


OUTPUT_EXCERPT_CHARS = 1000


def _points(value: float) -> float:
    return round(float(value), 4)


def summary_text(report: Report) -> str:
    """The top-level `output`: the score, what went wrong before grading, and where points were lost."""
    if report.grader_fault:
        return (f"The grader itself failed, so this submission was not graded ({report.grader_fault}). "
                "This is not a problem with your code: please tell your instructor.")
    lines = [f"Score: {_points(report.score):g} / {_points(report.max_score):g}"]
    lines += report.notes
    lost = [f"{name} {_points(score):g}/{points:g}" for name, (score, points) in report.function_scores().items() if score < points]
    if lost:
        lines.append("Points were lost on: " + ", ".join(lost) + ". Each failed test below says why.")
    else:
        lines.append("Every check passed.")
    if report.student_output.strip():
        excerpt = report.student_output[:OUTPUT_EXCERPT_CHARS]
        more = " …" if len(report.student_output) > OUTPUT_EXCERPT_CHARS else ""
        lines += ["", "What your code printed (the start):", excerpt.rstrip() + more]
    return "\n".join(lines)


def results_json(report: Report) -> dict:
    """The Gradescope autograder results: score, max_score, execution_time, output, tests, extra_data."""
    hinted: set[str] = set()
    tests = []
    for result in report.results:
        output = result.message
        hint = report.function_hints.get(result.function)
        if hint and not result.passed and result.function not in hinted:  # once per function: its first failed test
            hinted.add(result.function)
            output = f"{output}\nHint: {hint}"
        tests.append({
            "name": result.name,
            "score": _points(result.score),
            "max_score": _points(result.max_score),
            "status": "passed" if result.passed else "failed",
            "output": output,
            "tags": [result.function],
            "visibility": result.visibility,
        })
    return {
        "score": _points(report.score),
        "max_score": _points(report.max_score),
        "execution_time": round(report.execution_time, 3),
        "output": summary_text(report),
        "tests": tests,
        "extra_data": {
            "grader_version": __version__,
            "assignment": report.assignment,
            "submission": report.submission,
            "grader_fault": report.grader_fault,
            **dict(report.extra),
        },
    }
