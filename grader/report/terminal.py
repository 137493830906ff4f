"""A plain-text table of a report for the terminal.

Student text (the submission's name, notes quoting what its code raised) reaches the terminal
only through `plain_text` (grader/report/escaping.py): no escape sequence, carriage return or
bidi override survives, and a note's later lines are indented under it, so they cannot pass
for rows of the table.
"""

from __future__ import annotations

from grader.model import Report
from grader.report.escaping import plain_line, plain_text

NOTE = "note: "


def terminal_table(report: Report) -> str:
    if report.grader_fault:
        return f"{plain_line(report.submission)}: grader fault: {plain_text(report.grader_fault)}"
    scores = report.function_scores()
    width = max(len(name) for name in scores) if scores else 8
    lines = [f"{report.assignment} — {plain_line(report.submission)}",
             f"{'function':<{width}}  {'score':>6}  {'points':>6}  failed checks"]
    for name, (score, points) in scores.items():
        failed = sum(1 for r in report.results if r.function == name and not r.passed)
        lines.append(f"{name:<{width}}  {score:>6.2f}  {points:>6.2f}  {failed if failed else ''}")
    lines.append(f"{'total':<{width}}  {report.score:>6.2f}  {report.max_score:>6.2f}")
    lines += [terminal_note(note) for note in report.notes]
    return "\n".join(lines)


def terminal_note(note: str, prefix: str = NOTE) -> str:
    """`prefix` and the note, its later lines indented under the first; plain text."""
    return prefix + plain_text(note).replace("\n", "\n" + " " * len(prefix))
