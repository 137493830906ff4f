"""What the audit's gradings say about the assignment: pure functions from the reports to findings.

A check *caught* an answer when it failed on it for real: a supporting check that held but is
not counted (its function earned no evidence points) did not catch it. The stubs and the answer
that raises for every call fail every check by raising, so they show nothing about what a check
can tell; whether a check can fail is judged on the mutants and the other input-ignoring answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from grader.audit.candidates import IGNORING, MUTANT, REFERENCE, STUBS, Candidate
from grader.audit.ignoring import RAISES
from grader.authoring.checks import Check
from grader.authoring.mutants import Mutant
from grader.model import CheckResult, Misconception, Report
from grader.points import format_points
from grader.report.results_json import results_json

OK, FAILED, SKIPPED = "ok", "FAIL", "skip"
VARYING = ("execution_time",)  # top-level fields of results.json that differ between two honest gradings
# and of its extra_data: times, memory, the file's name, and the sandbox's layers (each worker gets a fresh uid)
VARYING_EXTRA = ("timings", "worker_peak_rss_kib", "submission", "worker_layers", "isolation")


@dataclass(frozen=True)
class Finding:
    """One property the assignment must have: whether it holds, and each way it does not."""

    status: str  # OK, FAILED, or SKIPPED (nothing to hold it on)
    title: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class MutantVerdict:
    """What grading one mutant showed: the points it cost per function, where it should not
    have, the checks that caught it, and whether the feedback named its misconception
    (None when it names none)."""

    mutant: Mutant
    lost: Mapping[str, float]
    leaks: tuple[str, ...]
    caught_by: tuple[str, ...]
    named: bool | None
    fault: str | None = None

    @property
    def caught(self) -> bool:
        return self.mutant.function in self.lost

    @property
    def holds(self) -> bool:
        return self.caught and not self.leaks and self.named is not False and self.fault is None


@dataclass(frozen=True)
class CheckRow:
    """One check of the table: which mutants of its own function it caught (in their order), how
    many mutants of the functions it calls, and which input-ignoring answers (those that return values)."""

    check: str
    function: str
    own: tuple[bool, ...]
    callees_caught: int
    callees_total: int
    ignoring: tuple[str, ...]

    @property
    def can_fail(self) -> bool:
        return any(self.own) or self.callees_caught > 0 or bool(self.ignoring)


@dataclass(frozen=True)
class AuditReport:
    """Everything `grader audit` found; it passes when every finding holds."""

    assignment: str
    findings: tuple[Finding, ...]
    rows: tuple[CheckRow, ...]
    mutants: tuple[MutantVerdict, ...]
    mutants_by_function: Mapping[str, tuple[Mutant, ...]] = field(default_factory=dict)
    gradings: int = 0
    seconds: float = 0.0
    jobs: int = 1

    @property
    def passed(self) -> bool:
        return all(finding.status != FAILED for finding in self.findings)

    @property
    def problems(self) -> list[str]:
        return [problem for finding in self.findings for problem in finding.problems]


def caught(result: CheckResult) -> bool:
    """The check failed on the answer for real (not a supporting check that held, uncounted)."""
    return not result.passed and not result.uncounted


def judge(assignment: str, function_points: Mapping[str, float], checks: Sequence[Check], candidates: Sequence[Candidate],
          reports: Sequence[Report], callers: Mapping[str, set[str]], misconceptions: Sequence[Misconception],
          has_mutants: bool) -> AuditReport:
    """The findings (a) to (f) of `grader audit` from the reports of `candidates` (in the same order)."""
    graded = list(zip(candidates, reports))
    first = [(c, r) for c, r in graded if not c.again]
    reference = next(r for c, r in first if c.kind == REFERENCE)
    stubs = next(r for c, r in first if c.kind == STUBS)
    ignoring = [(c, r) for c, r in first if c.kind == IGNORING]
    mutants = [(c, r) for c, r in first if c.kind == MUTANT]
    titles: dict[str, set[str]] = {}
    for misconception in misconceptions:
        titles.setdefault(misconception.label, set()).add(misconception.title)
    verdicts = tuple(_mutant_verdict(c.mutant, r, callers, titles) for c, r in mutants)
    by_function = {name: tuple(c.mutant for c, _ in mutants if c.mutant.function == name) for name in function_points}
    rows = _rows(checks, by_function, mutants, ignoring, callers)
    findings = (
        _full_marks(reference),
        _nothing("the stubs `grader release` writes earn 0", stubs, "the stubs", "earn"),
        _ignoring_earns_nothing(ignoring),
        _same_twice(graded),
        _every_check_can_fail(rows),
        _mutants_finding(verdicts, has_mutants, assignment),
    )
    return AuditReport(assignment, findings, rows, verdicts, by_function, gradings=len(candidates))


def _lost(report: Report) -> dict[str, float]:
    """The points lost per function, where any were."""
    return {name: points - score for name, (score, points) in report.function_scores().items() if score < points - 1e-9}


def _failed_names(report: Report, function: str | None = None) -> list[str]:
    return [r.name for r in report.results if caught(r) and (function is None or r.function == function)]


def _full_marks(report: Report) -> Finding:
    title = "the reference earns full marks"
    if report.grader_fault:
        return Finding(FAILED, title, (f"the grader failed on the reference: {report.grader_fault}",))
    if report.score >= report.max_score:
        return Finding(OK, f"{title}: {format_points(report.score)} / {format_points(report.max_score)}")
    return Finding(FAILED, title, tuple(f"the reference loses {format_points(points)} on {name}: "
                                        f"{'; '.join(_failed_names(report, name))}" for name, points in _lost(report).items()))


def _earned(report: Report) -> list[str]:
    """Where `report` earned points: one phrase per function, with the checks that paid."""
    return [f"{format_points(score)} on {name} ({'; '.join(r.name for r in report.results if r.function == name and r.score > 0)})"
            for name, (score, _) in report.function_scores().items() if score > 0]


def _nothing(title: str, report: Report, who: str, earns: str = "earns") -> Finding:
    """The finding that `report` (of `who`) earned nothing."""
    if report.grader_fault:
        return Finding(FAILED, title, (f"the grader failed on {who}: {report.grader_fault}",))
    earned = _earned(report)
    return Finding(FAILED, title, tuple(f"{who} {earns} {phrase}" for phrase in earned)) if earned else Finding(OK, title)


def _ignoring_earns_nothing(ignoring: list[tuple[Candidate, Report]]) -> Finding:
    title = f"{len(ignoring)} answers that ignore their inputs earn 0: {', '.join(c.flavour for c, _ in ignoring)}"
    problems = [problem for c, r in ignoring for problem in _nothing(title, r, f"the input-ignoring answer {c.flavour!r}").problems]
    return Finding(FAILED if problems else OK, title, tuple(problems))


def comparable(results: dict) -> dict:
    """results.json without what differs between two gradings of the same answer (VARYING, VARYING_EXTRA)."""
    kept = {key: value for key, value in results.items() if key not in VARYING}
    kept["extra_data"] = {key: value for key, value in results.get("extra_data", {}).items() if key not in VARYING_EXTRA}
    return kept


def first_difference(a: object, b: object, where: str = "") -> str | None:
    """Where two JSON values first differ (`tests[3].output`), or None when they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            found = first_difference(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where} (length {len(a)} and {len(b)})"
        for index, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{where}[{index}]")
            if found:
                return found
        return None
    return None if a == b else (where or "the whole file")


def _same_twice(graded: list[tuple[Candidate, Report]]) -> Finding:
    again = [(c, r) for c, r in graded if c.again]
    labels = [c.label.replace(" (graded again)", "") for c, _ in again]
    title = f"two gradings give the same results.json, timings aside: {' and '.join(labels)}"
    problems = []
    for candidate, report in again:
        first = next(r for c, r in graded if not c.again and c.kind == candidate.kind and c.mutant == candidate.mutant)
        where = first_difference(comparable(results_json(first)), comparable(results_json(report)))
        if where:
            problems.append(f"{candidate.label.replace(' (graded again)', '')} graded twice differs at {where}: "
                            "is a check or the grader random?")
    return Finding(FAILED if problems else OK, title, tuple(problems))


def _rows(checks: Sequence[Check], by_function: Mapping[str, tuple[Mutant, ...]], mutants: list[tuple[Candidate, Report]],
          ignoring: list[tuple[Candidate, Report]], callers: Mapping[str, set[str]]) -> tuple[CheckRow, ...]:
    failed_by = {c.mutant.id: {r.name for r in report.results if caught(r)} for c, report in mutants}
    shown = [(c, {r.name for r in report.results if caught(r)}) for c, report in ignoring if c.flavour != RAISES]
    rows = []
    for check in checks:
        name, function = check.name, check.function
        callees = [m for c, _ in mutants if function in callers.get((m := c.mutant).function, set())]
        rows.append(CheckRow(
            check=name, function=function,
            own=tuple(name in failed_by[m.id] for m in by_function.get(function, ())),
            callees_caught=sum(name in failed_by[m.id] for m in callees), callees_total=len(callees),
            ignoring=tuple(c.flavour for c, failed in shown if name in failed)))
    return tuple(rows)


def _every_check_can_fail(rows: tuple[CheckRow, ...]) -> Finding:
    title = "every check fails on at least one mutant or input-ignoring answer"
    problems = tuple(f"{row.check!r} never fails: it cannot tell a wrong answer" for row in rows if not row.can_fail)
    return Finding(FAILED if problems else OK, title, problems)


def _mutant_verdict(mutant: Mutant, report: Report, callers: Mapping[str, set[str]],
                    titles: Mapping[str, set[str]]) -> MutantVerdict:
    lost = _lost(report)
    allowed = {mutant.function} | callers.get(mutant.function, set())
    named = None
    if mutant.misconception:
        named = any(title in titles.get(mutant.misconception, set()) for r in report.results
                    if r.function == mutant.function and caught(r) for title in r.misconceptions)
    return MutantVerdict(mutant, lost, tuple(name for name in lost if name not in allowed),
                         tuple(_failed_names(report)), named, report.grader_fault)


def _mutants_finding(verdicts: tuple[MutantVerdict, ...], has_mutants: bool, assignment: str) -> Finding:
    if not has_mutants:
        return Finding(SKIPPED, f"no mutants: write assignments/{assignment}/mutants.py to check that realistic "
                                "mistakes lose points where they should")
    naming = [v for v in verdicts if v.mutant.misconception]
    title = (f"each of {len(verdicts)} mutants loses points on its function and on no function that does not call it; "
             + (f"the {len(naming)} that name a misconception are diagnosed as such" if len(naming) != 1
                else "the one that names a misconception is diagnosed as such"))
    problems = []
    for verdict in verdicts:
        mutant = verdict.mutant
        if verdict.fault:
            problems.append(f"mutant {mutant.id}: the grader failed on it: {verdict.fault}")
            continue
        if not verdict.caught:
            problems.append(f"mutant {mutant.id} survives: {mutant.function} keeps all its points ({mutant.description})")
        if verdict.leaks:
            costs = ", ".join(f"{name} {format_points(verdict.lost[name])}" for name in verdict.leaks)
            verb = "does" if len(verdict.leaks) == 1 else "do"
            problems.append(f"mutant {mutant.id} costs points where it should not: {costs}, which {verb} not call {mutant.function}")
        if verdict.named is False:
            problems.append(f"mutant {mutant.id}: the feedback of {mutant.function} does not name its misconception "
                            f"{mutant.misconception!r} as the likely cause")
    return Finding(FAILED if problems else OK, title, tuple(problems))
