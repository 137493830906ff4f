"""HTML reports from Jinja2 templates (grader/templates/): the student's feedback, the class summary.

Autoescaping is on: whatever a student's code printed or raised is shown as text, never markup,
and, as in feedback.md, in code elements (<pre>, <code>). A link to a student's folder goes
through `url_path` (grader/report/escaping.py), so a folder named `javascript:alert(1)` or
`"><script>` is a relative path like any other.
The pages are self-contained (inline CSS and SVG, no scripts, fonts or links off the page),
and fit a phone: wide tables scroll inside their own box, the charts scale to the width, and
long unbroken student text (file names, error messages) wraps instead of widening the page.

A failed check's message ends with the misconceptions it names, one line each ("Likely cause:
TITLE. EXPLANATION", then any "Or perhaps: ..."). The feedback page shows those causes apart from
the failure detail, highlighted, from the result's own fields (`CheckResult.causes` and
`.detail`): a student's text that imitates a cause is never taken for one.
"""

from __future__ import annotations

import functools

import jinja2
import markupsafe

from grader.model import Report
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


def feedback_html(report: Report) -> str:
    """The student's feedback page: the same content as feedback.md."""
    scores = report.function_scores()
    stopped = stopped_functions(report)
    shared = [group for group in stopped if len(group.functions) > 1]
    done = {name for group in shared for name in group.functions}
    failed = {name: [r for r in report.results if r.function == name and not r.passed]
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
    return render("summary.html.j2", s=summary)


def render(template: str, **context) -> str:
    """The page of `template` (a file of grader/templates/) filled with `context`, autoescaped."""
    return _environment().get_template(template).render(**context)
