"""The terminal text of `grader check`: a table per function, then what to fix, with hints."""

from __future__ import annotations

from grader.authoring.diagnosis import diagnose
from grader.model import SelfCheckReport
from grader.report.escaping import plain_text
from grader.report.stopped import plural

OTHER = "(other tests)"
PRINTED_LINES = 12


def self_check_text(report: SelfCheckReport) -> str:
    """The text for the student's terminal; plain text (grader/report/escaping.py), since it quotes
    what their code printed and raised."""
    plan = report.plan
    lines = [f"{plan.assignment} self-check of {plan.submission.name}: the public tests in {plan.tests_file.name}", ""]
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"problem: {problem}" for problem in report.problems]
    if report.notes or report.problems:
        lines.append("")

    by_function: dict[str, list] = {name: [] for name in plan.points}
    for result in report.results:
        by_function.setdefault(result.function or OTHER, []).append(result)
    shown = {name: results for name, results in by_function.items() if results or name in plan.points}
    width = max([len(name) for name in shown] + [len("function")])
    has_points = any(plan.points.values())
    header = f"{'function':<{width}}  {'points':>6}  public tests" if has_points else f"{'function':<{width}}  public tests"
    lines.append(header)
    for name, results in shown.items():
        passed = sum(result.passed for result in results)
        if not results:
            status = "no public test"
        else:
            status = f"{passed}/{len(results)} {'✓' if passed == len(results) else '✗'}"
        points = f"  {plan.points.get(name, 0):>6g}" if has_points else ""
        lines.append(f"{name:<{width}}{points}  {status}")

    failing = {name: [r for r in results if not r.passed] for name, results in shown.items()}
    failing = {name: results for name, results in failing.items() if results}
    if failing:
        lines += ["", "What to fix:"]
        for name, results in failing.items():
            lines += ["", f"  {name}"]
            for failure, group in _same_failure(results):
                reason = failure.splitlines()
                lines.append(f"    ✗ {reason[0]}")
                lines += [f"      {line}" for line in reason[1:]]
                lines.append(f"      in {', '.join(result.name for result in group)}")
                if group[0].student_error and name in plan.points:
                    for cause in diagnose(list(plan.error_hints), name, None, error=group[0].student_error):
                        lines.append(f"      Likely cause: {cause.title}. {cause.explanation}")
            if plan.hints.get(name):
                lines.append(f"    Hint: {plan.hints[name]}")

    printed = [line for line in report.printed.splitlines() if line.strip()]
    if printed:
        lines += ["", f"What your code printed ({'the first ' + str(PRINTED_LINES) + ' of ' if len(printed) > PRINTED_LINES else ''}"
                      f"{plural(len(printed), 'line')}):"]
        lines += [f"  | {line[:200]}" for line in printed[:PRINTED_LINES]]
    passed = sum(result.passed for result in report.results)
    lines += ["", f"{passed} of {plural(len(report.results), 'public test')} {'passes' if len(report.results) == 1 else 'pass'}."]
    if report.all_passed:
        lines.append("That is a good sign, not a guarantee: grading runs many more checks on generated inputs "
                     "(other shapes and batch dimensions, large magnitudes, gradients against finite differences).")
    return plain_text("\n".join(lines))


def _same_failure(results: list) -> list[tuple[str, list]]:
    """The failed tests grouped by their reason, in order of first appearance."""
    groups: dict[str, list] = {}
    for result in results:
        groups.setdefault(result.failure, []).append(result)
    return list(groups.items())
