"""HTML reports from Jinja2 templates (grader/templates/): the student's feedback, the class summary.

Autoescaping is on: whatever a student's code printed or raised is shown as text, never markup,
and, as in feedback.md, in code elements (<pre>, <code>). A link to a student's folder goes
through `url_path` (grader/report/escaping.py), so a folder named `javascript:alert(1)` or
`"><script>` is a relative path like any other.
The pages are self-contained (inline CSS and SVG, no scripts, fonts or links off the page),
and fit a phone: wide tables scroll inside their own box, the charts scale to the width, and
long unbroken student text (file names, error messages) wraps instead of widening the page.

A failed check's message ends with the misconceptions it names, one line each ("Likely cause:
TITLE. EXPLANATION", then any "Or perhaps: ..."). The feedback page shows those lines apart from
the failure detail, highlighted (`split_causes`); the wording is the message's own.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Sequence

import jinja2
import markupsafe

from grader.model import CheckResult, Report
from grader.points import format_points, points_phrase
from grader.report.class_summary import ClassSummary
from grader.report.escaping import plain_text, url_path
from grader.report.results_json import summary_text
from grader.report.stopped import plural, stopped_functions

OUTPUT_EXCERPT_CHARS = 4000


@functools.lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("grader", "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined,
                                     trim_blocks=True, lstrip_blocks=True, finalize=_no_control_characters)
    environment.filters["points"] = format_points
    environment.filters["points_phrase"] = points_phrase
    environment.filters["plural"] = plural
    environment.filters["percent"] = lambda value: f"{100 * float(value):.0f}%"
    environment.filters["seconds"] = lambda value: f"{float(value):.2f} s"
    environment.filters["url_path"] = url_path
    return environment


def _no_control_characters(value):
    """Every text a template prints, without control or bidi characters (`plain_text`): a page
    read with `cat` or `less` cannot drive the terminal. Markup of our own is left as it is."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return plain_text(value)
    return value


@dataclass(frozen=True)
class Cause:
    """One line of a failed check's message that names a misconception: `label` ("Likely cause")
    and the rest of the line (the misconception's title and explanation)."""

    label: str
    text: str


@dataclass(frozen=True)
class Failure:
    """A failed check as the feedback page shows it: the detail, and the causes apart from it."""

    result: CheckResult
    detail: str
    causes: tuple[Cause, ...]


_CAUSE_LINE = re.compile(r"([A-Z][A-Za-z ]{0,30}): (.+)")


def split_causes(message: str, titles: Sequence[str]) -> tuple[str, tuple[Cause, ...]]:
    """`message` as (detail, causes): the causes are its last lines, from the first that names
    one of `titles` (the misconceptions the grader diagnosed) on, each shaped "Label: text".

    Anchoring on the diagnosed titles, from the end, keeps a student's own text (which comes
    before them, in the detail) from being shown as a cause, whatever it says; a message
    without such lines is all detail."""
    lines = message.split("\n")
    start = len(lines)
    while start > 0 and _CAUSE_LINE.fullmatch(lines[start - 1]):
        start -= 1
    for index in range(start, len(lines)):
        text = _CAUSE_LINE.fullmatch(lines[index]).group(2)
        if any(title and text.startswith(title) for title in titles):
            causes = tuple(Cause(*_CAUSE_LINE.fullmatch(line).groups()) for line in lines[index:])
            return "\n".join(lines[:index]), causes
    return message, ()


def _failure(result: CheckResult) -> Failure:
    detail, causes = split_causes(result.message, result.misconceptions)
    return Failure(result=result, detail=detail, causes=causes)


def feedback_html(report: Report) -> str:
    """The student's feedback page: the same content as feedback.md."""
    scores = report.function_scores()
    stopped = stopped_functions(report)
    shared = [group for group in stopped if len(group.functions) > 1]
    done = {name for group in shared for name in group.functions}
    failed = {name: [_failure(r) for r in report.results if r.function == name and not r.passed]
              for name in scores if name not in done}
    output = report.student_output
    return _environment().get_template("feedback.html.j2").render(
        report=report, scores=scores, failed={k: v for k, v in failed.items() if v}, shared=shared,
        alone={group.functions[0]: group for group in stopped if len(group.functions) == 1},
        fault=summary_text(report) if report.grader_fault else None,
        output=output[:OUTPUT_EXCERPT_CHARS], output_cut=len(output) > OUTPUT_EXCERPT_CHARS,
    )


def summary_html(summary: ClassSummary) -> str:
    """The instructor's page for a class."""
    return _environment().get_template("summary.html.j2").render(s=summary)
