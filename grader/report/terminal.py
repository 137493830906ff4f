"""A plain-text table of a report for the terminal."""

from __future__ import annotations

from grader.model import Report


def terminal_table(report: Report) -> str:
    if report.grader_fault:
        return f"{report.submission}: grader fault: {report.grader_fault}"
    scores = report.function_scores()
    width = max(len(name) for name in scores) if scores else 8
    lines = [f"{report.assignment} — {report.submission}", f"{'function':<{width}}  {'score':>6}  {'points':>6}  failed checks"]
    for name, (score, points) in scores.items():
        failed = sum(1 for r in report.results if r.function == name and not r.passed)
        lines.append(f"{name:<{width}}  {score:>6.2f}  {points:>6.2f}  {failed if failed else ''}")
    lines.append(f"{'total':<{width}}  {report.score:>6.2f}  {report.max_score:>6.2f}")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)
