"""The Gradescope `results.json` of a report (contract §3).

What a student sees, and when. Gradescope shows each test per its own `visibility`; the
top-level `output` is shown to the student at once, always. So the summary in `output` is
computed from the `visible` checks only: it says how much the checks shown now earned and where
they lost points, and how many points are in checks shown later (after the due date, when
grades are published, or to the instructor only), never how those went, and, while there are
such checks, not what the student's code printed either (it prints during their calls too: a
warning, or a shape, would tell their inputs). The top-level `score`
is the true total, for the gradebook: Gradescope itself does not show the total to a student
while some tests are hidden from them. Every `output` and name is plain text
(`output_format`, `test_output_format` and `test_name_format` are `"text"`), with control
characters shown as escapes (grader/report/escaping.py), so nothing a student's code printed or
raised is rendered as Markdown, HTML or ANSI colours; the grader's own stdout is for the
instructor only (`stdout_visibility: "hidden"`).
"""

from __future__ import annotations

from grader import __version__
from grader.model import CheckResult, Report
from grader.points import exact, format_points, from_units, points_phrase, to_units, total
from grader.report.escaping import plain_text
from grader.report.stopped import plural

OUTPUT_EXCERPT_CHARS = 1000
SHOWN_NOW = "visible"
# When a student sees a check of each other visibility, for the summary's wording.
SHOWN_LATER = {"after_due_date": "after the due date", "after_published": "when grades are published",
               "hidden": "to your instructor only"}



def shown_now(results: tuple[CheckResult, ...] | list[CheckResult]) -> list[CheckResult]:
    """The results a student may see before the due date: those of `visible` checks."""
    return [result for result in results if result.visibility == SHOWN_NOW]


def summary_text(report: Report) -> str:
    """The top-level `output`: the score of the checks shown now, what went wrong before grading,
    and where those checks lost points; nothing about the outcome of any other check."""
    if report.grader_fault:
        return plain_text(f"The grader itself failed, so this submission was not graded ({report.grader_fault}). "
                          "This is not a problem with your code: please tell your instructor.")
    visible = shown_now(report.results)
    later = [result for result in report.results if result.visibility != SHOWN_NOW]
    if later:
        lines = [f"Score on the checks shown now: {format_points(total(r.score for r in visible))} / "
                 f"{format_points(total(r.max_score for r in visible))}",
                 _later_sentence(later)]
    else:
        lines = [f"Score: {format_points(report.score)} / {format_points(report.max_score)}"]
    lines += report.notes
    lost = [f"{name} {format_points(score)}/{format_points(points)}" for name, (score, points) in _function_scores(visible).items()
            if score < points]
    if lost:
        lines.append("Points were lost on: " + ", ".join(lost) + ". Each failed test below says why.")
    else:
        lines.append("Every check shown now passed." if later else "Every check passed.")
    if report.student_output.strip() and later:
        lines += ["", "What your code printed is not shown here while some checks are not: the calls of those "
                      "checks print too."]
    elif report.student_output.strip():
        excerpt = report.student_output[:OUTPUT_EXCERPT_CHARS]
        more = " …" if len(report.student_output) > OUTPUT_EXCERPT_CHARS else ""
        lines += ["", "What your code printed (the start):", excerpt.rstrip() + more]
    return plain_text("\n".join(lines))


def _later_sentence(later: list[CheckResult]) -> str:
    """How many points are in checks shown later, and when they are shown; not how they went."""
    when = [phrase for visibility, phrase in SHOWN_LATER.items() if any(r.visibility == visibility for r in later)]
    return (f"{plural(len(later), 'more check')}, worth {points_phrase(total(r.max_score for r in later))}, "
            f"{'is' if len(later) == 1 else 'are'} shown "
            f"{' or '.join(when)}: {'its result' if len(later) == 1 else 'their results'}, and your total score, "
            "are not shown here.")


def _function_scores(results: list[CheckResult]) -> dict[str, tuple[float, float]]:
    """(score, points) per function over `results`, in their order, in whole hundredths."""
    units: dict[str, list[int]] = {}
    for result in results:
        entry = units.setdefault(result.function, [0, 0])
        entry[0] += to_units(result.score)
        entry[1] += to_units(result.max_score)
    return {name: (from_units(score), from_units(points)) for name, (score, points) in units.items()}


def _hinted_results(report: Report) -> set[int]:
    """The indices of the results that carry their function's hint: per function that lost points,
    its first failed visible check, else its first failed check."""
    chosen: dict[str, int] = {}
    for index, result in enumerate(report.results):
        if result.passed or not report.function_hints.get(result.function):
            continue
        current = chosen.get(result.function)
        if current is None or (report.results[current].visibility != SHOWN_NOW and result.visibility == SHOWN_NOW):
            chosen[result.function] = index
    return set(chosen.values())


def results_json(report: Report) -> dict:
    """The Gradescope autograder results: score, max_score, execution_time, output, tests, extra_data."""
    hinted = _hinted_results(report)
    tests = []
    for index, result in enumerate(report.results):
        output = result.message
        if index in hinted:
            output = f"{output}\nHint: {report.function_hints[result.function]}"
        tests.append({
            "name": plain_text(result.name),
            "score": exact(result.score),
            "max_score": exact(result.max_score),
            "status": "passed" if result.passed else "failed",
            "output": plain_text(output),
            "tags": [result.function],
            "visibility": result.visibility,
        })
    return {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": round(report.execution_time, 3),
        "output": summary_text(report),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": SHOWN_NOW,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "grader_version": __version__,
            "assignment": report.assignment,
            "submission": report.submission,
            "grader_fault": report.grader_fault,
            **dict(report.extra),
        },
    }
