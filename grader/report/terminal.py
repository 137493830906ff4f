"""A plain-text table of a report for the terminal, and under it why each failed check failed.

Student text (the submission's name, notes quoting what its code raised, check messages that
quote it) reaches the terminal only through `plain_text`/`plain_line`
(grader/report/escaping.py): no escape sequence, carriage return or bidi override survives, and
a note's later lines are indented under it, so they cannot pass for rows of the table.
"""

from __future__ import annotations

from grader.model import Report
from grader.points import format_points
from grader.report.escaping import plain_line, plain_text
from grader.report.stopped import plural, stopped_functions

NOTE = "note: "
REASON_WIDTH = 160  # characters of a failed check's line, its name included


def terminal_table(report: Report) -> str:
    if report.grader_fault:
        return f"{plain_line(report.submission)}: grader fault: {plain_text(report.grader_fault)}"
    scores = report.function_scores()
    width = max(len(name) for name in scores) if scores else 8
    lines = [f"{report.assignment} — {plain_line(report.submission)}",
             f"{'function':<{width}}  {'score':>6}  {'points':>6}  failed checks"]
    for name, (score, points) in scores.items():
        failed = sum(1 for r in report.results if r.function == name and not r.passed)
        lines.append(f"{name:<{width}}  {format_points(score):>6}  {format_points(points):>6}  {failed if failed else ''}")
    lines.append(f"{'total':<{width}}  {format_points(report.score):>6}  {format_points(report.max_score):>6}")
    lines += [terminal_note(note) for note in report.notes]
    lines += failure_lines(report)
    return "\n".join(lines)


def failure_lines(report: Report) -> list[str]:
    """One line per failed check (its name and the first line of its message), or one per
    function, or one for all, where a single reason stopped them (grader/report/stopped.py).
    The checks of a function that failed with the same first line share one."""
    failed = [result for result in report.results if not result.passed]
    if not failed:
        return []
    lines = ["", "Why checks failed (--feedback FILE writes the details):"]
    stopped = stopped_functions(report)
    every = list(report.function_points)
    for group in stopped:
        names = "every function" if list(group.functions) == every and len(every) > 1 else ", ".join(group.functions)
        lines.append(_one_line(f"{names} ({plural(group.checks, 'check')})", group.message))
    done = {name for group in stopped for name in group.functions}
    same: dict[tuple[str, str], list] = {}  # (function, first line) -> its checks, in order
    for result in failed:
        if result.function not in done:
            same.setdefault((result.function, _first_line(result.message)), []).append(result)
    for (function, first), results in same.items():
        label = results[0].name if len(results) == 1 else f"{function} ({plural(len(results), 'check')})"
        lines.append(_one_line(label, first))
    return lines


def _first_line(message: str) -> str:
    return (message.splitlines() or [""])[0]


def _one_line(label: str, message: str) -> str:
    """`  label: first line of message`, on one line of at most REASON_WIDTH characters."""
    line = plain_line(f"  {label}: {_first_line(message)}")
    return line if len(line) <= REASON_WIDTH else line[: REASON_WIDTH - 1] + "…"


def terminal_note(note: str, prefix: str = NOTE) -> str:
    """`prefix` and the note, its later lines indented under the first; plain text."""
    return prefix + plain_text(note).replace("\n", "\n" + " " * len(prefix))
