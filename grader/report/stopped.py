"""Functions that no check could grade, grouped by why, so that every report a person reads says
it once.

When the submission did not load, or a function is not defined or not implemented, every check
of the function fails for the same reason (`CheckResult.function_problem`). results.json keeps
one test per check, each with that reason (contract §3); feedback.md, feedback.html and the
terminal say it once per function, and once for all the functions one reason stopped (a file
that did not load stops them all).
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.model import CheckResult, Report


@dataclass(frozen=True)
class Stopped:
    """One reason that stopped whole functions: what the student reads (the message of each of
    their checks), the functions in the assignment's order, and how many checks they hold."""

    message: str
    functions: tuple[str, ...]
    checks: int


def stopped_functions(report: Report) -> list[Stopped]:
    """Each reason that failed every check of one or more functions, in the order of the first
    function it stopped."""
    by_function: dict[str, list[CheckResult]] = {}
    for result in report.results:
        by_function.setdefault(result.function, []).append(result)
    groups: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    for function, results in by_function.items():
        reasons = {result.function_problem for result in results if not result.passed}
        if len(reasons) == 1 and all(not r.passed for r in results) and (reason := reasons.pop()):
            groups.setdefault(reason, []).append(function)
            messages.setdefault(reason, results[0].message)
    return [Stopped(messages[reason], tuple(functions), sum(len(by_function[f]) for f in functions))
            for reason, functions in groups.items()]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`count` and the noun that agrees with it: "1 check", "4 checks"."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
