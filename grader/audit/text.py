"""The audit's report for the terminal: a table of checks × mutants caught, one block per
function, then the summary: each finding, every problem, and the verdict."""

from __future__ import annotations

import textwrap

from grader.audit.ignoring import FLAVOURS, RAISES
from grader.audit.verdicts import FAILED, AuditReport, CheckRow

WIDTH = 100
SHOWN_IGNORING = len([flavour for flavour in FLAVOURS if flavour != RAISES])  # raising for every call shows nothing


def audit_text(report: AuditReport) -> str:
    """The whole report, as printed by `grader audit`."""
    return "\n".join(_table(report) + [""] + _summary(report)) + "\n"


def _table(report: AuditReport) -> list[str]:
    lines = _wrapped("Checks × mutants caught, by function. x: the check caught that mutant of its function "
                     "(its points went down); callees: mutants of the functions it calls that it caught; "
                     f"ignoring: input-ignoring answers it caught, of the {SHOWN_IGNORING} that return values.")
    for function, mutants in report.mutants_by_function.items():
        rows = [row for row in report.rows if row.function == function]
        lines += ["", f"{function}: {len(mutants)} mutant{'' if len(mutants) == 1 else 's'}"]
        lines += _packed([f"{number} {_short(mutant.id, function)}" for number, mutant in enumerate(mutants, start=1)])
        marks = " ".join(str(number) for number in range(1, len(mutants) + 1))
        lines.append(f"  {'caught':>6}  {marks}{'  ' if mutants else ''}{'callees':>7}  {'ignoring':>8}  check")
        lines += [_row(row, function) for row in rows]
    return lines


def _row(row: CheckRow, function: str) -> str:
    caught = f"{sum(row.own)}/{len(row.own)}" if row.own else "-"
    marks = " ".join(("x" if hit else ".").rjust(len(str(number))) for number, hit in enumerate(row.own, start=1))
    callees = f"{row.callees_caught}/{row.callees_total}" if row.callees_total else "-"
    ignoring = f"{len(row.ignoring)}/{SHOWN_IGNORING}"
    description = row.check.removeprefix(f"{function}: ")
    flag = "   <- never fails" if not row.can_fail else ""
    return f"  {caught:>6}  {marks}{'  ' if row.own else ''}{callees:>7}  {ignoring:>8}  {description}{flag}"


def _wrapped(text: str, first: str = "", rest: str = "") -> list[str]:
    """`text` on lines of WIDTH, a mutant's id never split at its hyphens."""
    return textwrap.wrap(text, WIDTH, break_on_hyphens=False, initial_indent=first, subsequent_indent=rest)


def _packed(items: list[str], indent: str = "  ", gap: str = "  ") -> list[str]:
    """`items` on as few lines of WIDTH as fit them, none split."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(gap) + len(item) <= WIDTH:
            lines[-1] += gap + item
        else:
            lines.append(indent + item)
    return lines


def _short(mutant_id: str, function: str) -> str:
    """A mutant's id without its function's name in front (`no-nonlinearity` for `rnn_step-no-nonlinearity`)."""
    short = mutant_id.removeprefix(f"{function}-")
    return short or mutant_id


def _summary(report: AuditReport) -> list[str]:
    lines = [f"grader audit {report.assignment}: {report.gradings} gradings in {report.seconds:.0f} s "
             f"with {report.jobs} job{'' if report.jobs == 1 else 's'}"]
    for finding in report.findings:
        lines += _wrapped(finding.title, f"  {finding.status:<4}  ", " " * 8)
    problems = report.problems
    if problems:
        lines += ["", f"Problems ({len(problems)}):"]
        for problem in problems:
            lines += _wrapped(problem, "  - ", "    ")
    failed = [finding for finding in report.findings if finding.status == FAILED]
    if failed:
        lines += ["", f"audit of {report.assignment} FAILED: {len(problems)} problem{'' if len(problems) == 1 else 's'} "
                      f"in {len(failed)} of {len(report.findings)} findings"]
    else:
        lines += ["", f"audit of {report.assignment} passed"]
    return lines
