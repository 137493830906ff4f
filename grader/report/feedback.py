"""The student's feedback as Markdown: the score, a table per function, and what to fix."""

from __future__ import annotations

from grader.model import Report
from grader.report.results_json import summary_text

OUTPUT_EXCERPT_CHARS = 4000


def _fmt(value: float) -> str:
    return f"{round(value, 2):g}"


def feedback_markdown(report: Report) -> str:
    lines = [f"# Feedback: {report.assignment}, {report.submission}", ""]
    if report.grader_fault:
        return "\n".join(lines + [summary_text(report), ""])
    lines += [f"**Score: {_fmt(report.score)} / {_fmt(report.max_score)}**", ""]
    if report.notes:
        lines += ["## Before grading", ""] + [f"- {note}" for note in report.notes] + [""]
    lines += ["## Per function", "", "| function | score | points | |", "|---|---:|---:|---|"]
    scores = report.function_scores()
    for name, (score, points) in scores.items():
        mark = "✓" if score >= points else ("partly" if score > 0 else "✗")
        lines.append(f"| `{name}` | {_fmt(score)} | {_fmt(points)} | {mark} |")
    lines.append("")
    failed = [r for r in report.results if not r.passed]
    if failed:
        lines += ["## What to fix", ""]
        for name in scores:
            these = [r for r in failed if r.function == name]
            if not these:
                continue
            lines += [f"### `{name}`", ""]
            if report.function_hints.get(name):
                lines += [f"Hint: {report.function_hints[name]}", ""]
            for result in these:
                hidden = " (hidden check)" if result.visibility != "visible" else ""
                lines.append(f"- **{result.name}**{hidden}, {_fmt(result.max_score)} points:")
                lines += [f"  {line}" for line in result.message.splitlines()]
            lines.append("")
    else:
        lines += ["Every check passed.", ""]
    if report.student_output.strip():
        excerpt = report.student_output[:OUTPUT_EXCERPT_CHARS]
        more = "\n…" if len(report.student_output) > OUTPUT_EXCERPT_CHARS else ""
        lines += ["## What your code printed", "", "```", excerpt.replace("```", "'''") + more, "```", ""]
    return "\n".join(lines)
