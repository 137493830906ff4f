"""The student's feedback as Markdown: the score, a table per function, and what to fix.

Our own structure (the title, the score line, the headings, the table) is the only Markdown
structure in the file: every text that holds student text (a file name, a note quoting an
exception, a check's message, what the code printed) is shown as code, a code span or a fenced
block (grader/report/escaping.py), so it can never render as a heading, a score, a table row or
a comment of ours.

The feedback is the report after grading: it gives the outcome of every check, those hidden from
the student until the due date included (marked, and never with their inputs). It is handed out
by the instructor (`grader grade-all`); on Gradescope it stays in the results folder, which
students do not see, and the student reads results.json, whose always-shown summary tells only
the outcomes of visible checks (grader/report/results_json.py).
"""

from __future__ import annotations

from grader.model import Report
from grader.points import format_points, points_phrase
from grader.report.escaping import code_span, fenced_block
from grader.report.results_json import summary_text
from grader.report.stopped import plural, stopped_functions

OUTPUT_EXCERPT_CHARS = 4000
ITEM_INDENT = "  "  # the content column of a "- " list item


def feedback_markdown(report: Report) -> str:
    lines = [f"# Feedback: {report.assignment}, {code_span(report.submission)}", ""]
    if report.grader_fault:
        return "\n".join(lines + [*fenced_block(summary_text(report)), ""])
    lines += [f"**Score: {format_points(report.score)} / {format_points(report.max_score)}**", ""]
    if report.notes:
        lines += ["## Before grading", ""]
        for note in report.notes:
            lines += [*fenced_block(note), ""]
    lines += ["## Per function", "", "| function | score | points | |", "|---|---:|---:|---|"]
    scores = report.function_scores()
    for name, (score, points) in scores.items():
        mark = "✓" if score >= points else ("partly" if score > 0 else "✗")
        lines.append(f"| {code_span(name)} | {format_points(score)} | {format_points(points)} | {mark} |")
    lines.append("")
    failed = [r for r in report.results if not r.passed]
    if failed:
        lines += ["## What to fix", ""]
        stopped = stopped_functions(report)
        shared = [group for group in stopped if len(group.functions) > 1]
        alone = {group.functions[0]: group for group in stopped if len(group.functions) == 1}
        for group in shared:  # one reason for several functions (a file that did not load): said once
            names = ", ".join(code_span(name) for name in group.functions)
            lines += [f"- Every check of {names} ({plural(group.checks, 'check')}):", "",
                      *fenced_block(group.message, ITEM_INDENT), ""]
        done = {name for group in shared for name in group.functions}
        for name in scores:
            these = [r for r in failed if r.function == name]
            if not these or name in done:
                continue
            lines += [f"### {code_span(name)}", ""]
            if report.function_hints.get(name):
                lines += [f"Hint: {report.function_hints[name]}", ""]
            if name in alone:  # not defined, not implemented: one line for the function
                lines += [f"- {'Its only check' if alone[name].checks == 1 else f'All {alone[name].checks} checks'}, "
                          f"{points_phrase(scores[name][1])}:", "", *fenced_block(alone[name].message, ITEM_INDENT), ""]
                continue
            for result in these:
                hidden = " (hidden check)" if result.visibility != "visible" else ""
                lines += [f"- **{result.name}**{hidden}, {points_phrase(result.max_score)}:", "",
                          *fenced_block(result.message, ITEM_INDENT), ""]
    else:
        lines += ["Every check passed.", ""]
    if report.student_output.strip():
        excerpt = report.student_output[:OUTPUT_EXCERPT_CHARS]
        more = "\n…" if len(report.student_output) > OUTPUT_EXCERPT_CHARS else ""
        lines += ["## What your code printed", "", *fenced_block(excerpt + more), ""]
    return "\n".join(lines)
