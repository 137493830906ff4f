"""The one place hypothesis runs: each check against the student's module, into CheckResults.

Every check gets its own fixed seed and no example database, so the same submission meets
the same cases on every run and machine. Hypothesis shrinks a failure to its smallest case;
the message is built from that case by the grader, never taken from hypothesis.
"""

from __future__ import annotations

import heapq
import sys
import time
import zlib
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import HypothesisException

from grader.authoring.checks import Case, Check, CheckFailure
from grader.authoring.diagnosis import Observation, diagnose
from grader.authoring.strategies import CaseRecipe, replay_variants, variants
from grader.grading.scoring import check_points, count_supporting
from grader.model import Cause, CheckResult, Misconception
from grader.sandbox.calls import StudentAbort, StudentRaised
from grader.sandbox.handle import StudentModule


# Hypothesis reports a failure that does not replay (a random or stateful function) as one of these.
_INCONSISTENT = (HypothesisException,) + ((ExceptionGroup,) if sys.version_info >= (3, 11) else ())  # noqa: F821


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples, database=None, deadline=None, derandomize=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False, print_blob=False, verbosity=Verbosity.quiet,
    )


def draw_without_local_constants() -> None:
    """Make hypothesis draw from its own constants only, never from the source of the modules
    loaded here.

    Hypothesis (since 6.131) mixes into its draws the literals it finds in every "local" module
    loaded in the process: the grader's own modules, the assignment's checks and the reference.
    It also caches them in `./.hypothesis/` of whatever folder the grader runs in. The cases
    would then depend on which modules a process happens to have loaded (`grader grade`, a
    `grade-all` job and Gradescope load different ones), and on the reference's text. With
    this, a check's cases depend only on its seed, and the grader writes nothing where it is
    run. Hypothesis versions without the feature are left as they are.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a hypothesis without this module
        return
    if hasattr(providers, "_get_local_constants") and hasattr(providers, "Constants"):
        nothing = providers.Constants()
        providers._get_local_constants = lambda: nothing


def check_seed(check: Check) -> int:
    return zlib.crc32(check.name.encode("utf-8"))


@dataclass(frozen=True)
class Failure:
    """A check that did not pass, as running it found: what failed (`message`), the failing
    call shown (`shown`: the smallest failing case, what the function returned or the error it
    raised, and the reference's answer on it; None when no case ran), the student's exception
    when that is the failure (`raised`), the failing calls seen (`seen`, each with the
    reference's answer too, for the diagnosis), and, after a replay, the failure as shown on
    the next smallest failing cases (`others`: a case a known mistake explains may be shown instead)."""

    message: str
    shown: Observation | None = None
    raised: StudentRaised | None = None
    seen: tuple[Observation, ...] = ()
    others: tuple["Failure", ...] = ()  # the same failure shown on other failing cases, smaller first
    replayed: bool = False  # found by replaying the recorded cases, not by hypothesis


class _FailedOn(Exception):
    """Raised inside the hypothesis test: the check failed on `case`, and what the student's
    function returned (`got`) or, when raising was the failure, its exception (`raised`; as
    "Type: message" in `error` when the function raised where an answer was due). Hypothesis
    raises the one of its smallest failing case again at the end, so the case comes back with it."""

    def __init__(self, message: str, case: Case, got: Any = None, error: str | None = None,
                 raised: StudentRaised | None = None):
        super().__init__(message)
        self.message, self.case, self.got, self.error, self.raised = message, case, got, error, raised


CASES_PER_EXAMPLE = 6
FAILURES_KEPT = 8  # failing calls kept per check to tell apart the misconceptions that fit the smallest case
PROBES = 8  # more cases tried when several misconceptions fit every failing call seen
NOT_IMPLEMENTED = "NotImplementedError"


def _failed_on(check: Check, case: Case, student: Callable[..., Any], others: dict[str, Any]) -> _FailedOn | None:
    """Run `check.verify` on one case (with the other functions it uses); how it failed, or None if it passed."""
    # A failure kept holds the student's exception without the frames it was raised through:
    # they would keep every case of the replay (and the answers) alive until the garbage collector runs.
    try:
        _verify(check, student, case, others)
    except StudentRaised as error:
        return _FailedOn(f"{check.function} raised {error.type_name}: {error.message}{error.place}", case,
                         error=f"{error.type_name}: {error.message}", raised=error.with_traceback(None))
    except CheckFailure as failure:
        raised = failure.raised.with_traceback(None) if failure.raised is not None else None
        return _FailedOn(failure.message, case, failure.got, raised=raised)
    return None


def group_size(check: Check) -> int:
    """How many cases each hypothesis example of `check` draws: CASES_PER_EXAMPLE when its calls go together."""
    return CASES_PER_EXAMPLE if check.single_call else 1


def _hypothesis_test(check: Check, body: Callable[[tuple[Case, ...]], None]) -> Callable[[], None]:
    """`body` as the hypothesis test of `check`: its seed, its number of examples, its cases.
    Recording a check's cases and grading with it run this same test, so they meet the same cases."""
    size = group_size(check)
    examples = max(1, -(-check.max_examples // size))

    @seed(check_seed(check))
    @_settings(examples)
    @given(variants(check.cases, size))
    def property_test(group: tuple[Case, ...]) -> None:
        body(group)

    return property_test


def record_cases(check: Check) -> list[tuple[Case, ...]] | None:
    """The groups of cases hypothesis draws for `check` when every example passes, each case
    with what the check's `expect` gives on it (as `Case.expected`; not recorded where `expect`
    raises: verify then computes it, and raises the same): what `_run_hypothesis` replays instead
    of running hypothesis and the reference again.

    None when they might not be the cases a later hypothesis run draws: a recipe whose draws do
    not rebuild exactly the cases drawn (it uses randomness of its own), or a plain strategy
    (whose cases have no draws to check) that draws other cases when run again."""
    recipe = isinstance(check.cases, CaseRecipe)

    def drawn() -> list[tuple[Case, ...]] | None:
        groups: list[tuple[Case, ...]] = []
        faithful = [True]

        def body(group: tuple[Case, ...]) -> None:
            if recipe:
                draws = getattr(group, "draws", None)
                if draws is None or not same_cases(group, replay_variants(check.cases, len(group), draws)):
                    faithful[0] = False
            groups.append(tuple(group))

        draw_without_local_constants()
        _hypothesis_test(check, body)()
        return groups if faithful[0] else None

    groups = drawn()
    if groups is None:
        return None
    if not recipe:
        again = drawn()
        if again is None or len(again) != len(groups) or not all(same_cases(a, b) for a, b in zip(groups, again)):
            return None
    return [tuple(_with_expectation(check, case) for case in group) for group in groups]


def _with_expectation(check: Check, case: Case) -> Case:
    if check.expect is None or not isinstance(case, Case):
        return case
    try:
        value = check.expect(case)
    except Exception:  # the reference refuses this case: verify finds out again when it runs
        return case
    return replace(case, expected=value)


def _run_hypothesis(check: Check, module: StudentModule, reference: Any, groups: list | None = None,
                    upcoming: Callable[[], tuple | None] | None = None) -> Failure | None:
    """Run one check; None if it passed.

    With `groups` (the check's recorded cases, as grader.grading.case_cache.StoredCases.groups
    reads them), its cases are replayed, expecting their recorded values, without hypothesis or
    the reference: the same cases in the same order, every one of them, and a failure is shown
    on the smallest that failed (`_replayed_failure`). Without, hypothesis runs the check, and
    shrinks its first failure to the smallest case it can find.

    A check whose verify makes exactly one call draws CASES_PER_EXAMPLE cases per
    hypothesis example and sends their calls together: hypothesis's own cost is shared by
    several cases, and the worker computes the next answer while this process checks one.
    Replaying, the next group's calls are sent before this group's answers are checked, so
    that the worker is never idle: at the last group, the next check's first group
    (`upcoming()`: its function, calls and message, or None), unclaimed (StudentModule.send_unclaimed).
    """
    size = group_size(check)
    current: dict[str, Case] = {}
    seen: list[_FailedOn] = []

    def live_student(*args: Any, **kwargs: Any) -> Any:
        return module.call(check.function, *args, **kwargs)

    others = _used_functions(check, module)

    def prefetched_student(case: Case):
        """The answer already requested for `case`, served once; any other call goes live."""
        unused = [True]

        def student(*args: Any, **kwargs: Any) -> Any:
            if unused[0] and _same_call(args, kwargs, case):
                unused[0] = False
                return module.next_answer()
            return live_student(*args, **kwargs)

        return student

    def calls_of(group: tuple[Case, ...]) -> list[tuple[tuple, dict]]:
        return [(case.args, dict(case.kwargs)) for case in group]

    def run_group(group: tuple[Case, ...]) -> None:
        if size > 1:
            module.send_calls(check.function, calls_of(group))
        for case in group:
            current["case"] = case
            failed = _failed_on(check, case, prefetched_student(case) if size > 1 else live_student, others)
            if failed is not None:
                if len(seen) < FAILURES_KEPT:
                    seen.append(failed)
                raise failed

    if groups is not None:
        failures: list[tuple[int, int, _FailedOn]] = []  # the FAILURES_KEPT smallest: (-size, -order, failure), a heap
        order = 0
        sent = False
        for index, group in enumerate(groups):
            if size > 1 and not sent:
                module.send_calls(check.function, calls_of(group), group.request)
            following = groups[index + 1] if index + 1 < len(groups) else None
            sent = (size > 1 and following is not None
                    and module.send_ahead(check.function, calls_of(following), following.request))
            if following is None and size > 1 and not failures and upcoming is not None:  # a failure is called again, dropping them
                next_group = upcoming()
                if next_group is not None:
                    module.send_unclaimed(*next_group)
            for case in group:
                failed = _failed_on(check, case, prefetched_student(case) if size > 1 else live_student, others)
                if failed is not None:
                    heapq.heappush(failures, (-_size(case), -order, failed))
                    order += 1
                    if len(failures) > FAILURES_KEPT:
                        heapq.heappop(failures)  # the largest, or the last of the largest
        kept = [failed for _, _, failed in sorted(failures, key=lambda item: (-item[0], -item[1]))]
        return _replayed_failure(check, kept, reference, live_student, others)
    try:
        _hypothesis_test(check, run_group)()
    except _FailedOn as failed:
        return Failure(failed.message, _observation(check.function, reference, failed.case, failed.got, failed.error),
                       failed.raised, tuple(_observation(check.function, reference, call.case, call.got, call.error)
                                            for call in seen))
    except StudentAbort:
        raise
    except _INCONSISTENT:
        case = current.get("case")
        return _inconsistent(check, reference, case)
    return None


def _replayed_failure(check: Check, failures: list[_FailedOn], reference: Any, student: Callable[..., Any],
                      others: dict[str, Any]) -> Failure | None:
    """What a replay found: None if every case passed; else the failure on the smallest failing
    case (the fewest numbers in its arguments, the first of those), shown to the student, with
    the FAILURES_KEPT smallest failing calls for the diagnosis (and as `others`, to be shown
    instead when a known mistake explains one of them but not the smallest). That case is
    called again: an answer that passes the second time is a random or stateful function's.

    The cases were drawn by hypothesis, which starts from the simplest it can draw, so the
    smallest failing one is about as small as shrinking would make it; and they are all run,
    so a failure is shown on its smallest case at the cost of the calls alone.
    """
    if not failures:
        return None
    by_size = sorted(failures, key=lambda failed: _size(failed.case))[:FAILURES_KEPT]  # stable: the first of equals first
    if _failed_on(check, by_size[0].case, student, others) is None:
        return _inconsistent(check, reference, by_size[0].case)
    seen = tuple(_observation(check.function, reference, failed.case, failed.got, failed.error) for failed in by_size)
    shown = [Failure(failed.message, observation, failed.raised, seen) for failed, observation in zip(by_size, seen)]
    return replace(shown[0], others=tuple(shown[1:]), replayed=True)


def _size(case: Case) -> int:
    """How many numbers a case's arguments hold (an array its entries, anything else one)."""
    def count(value: Any) -> int:
        if isinstance(value, np.ndarray):
            return int(value.size)
        if isinstance(value, (tuple, list)):
            return sum(count(item) for item in value)
        if isinstance(value, dict):
            return sum(count(item) for item in value.values())
        return 1
    return count(case.args) + count(dict(case.kwargs))


def _inconsistent(check: Check, reference: Any, case: Case | None) -> Failure:
    return Failure(f"{check.function} gave different results for the same input; is it random or stateful?",
                   None if case is None else _observation(check.function, reference, case))


def same_cases(first: Sequence[Case], second: Sequence[Case]) -> bool:
    """Whether two sequences of cases are the same calls: equal arguments, arrays equal in dtype,
    shape and every bit (NaN included), and the same summaries."""
    return len(first) == len(second) and all(
        a.summary == b.summary and _same_value(tuple(a.args), tuple(b.args)) and _same_value(dict(a.kwargs), dict(b.kwargs))
        for a, b in zip(first, second))


def _same_value(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    try:
        return bool(a == b)
    except Exception:  # an object whose comparison does not give one answer
        return False


class _UsedFunctionAborted(StudentAbort):
    """A function that a check uses (not the one it grades) gave no answer: that function's
    later checks are not run, the graded function's are."""

    def __init__(self, function: str, reason: str):
        super().__init__(reason)
        self.function = function


def _used_functions(check: Check, module: StudentModule) -> dict[str, Any]:
    """The student's functions that `check` declares in `uses`, by name, and only those.

    An exception one of them raises fails the check as a CheckFailure that names it, so that
    it is not taken for the graded function's own (nor for a stub of it).
    """
    def calling(function: str):
        def student_function(*args: Any, **kwargs: Any) -> Any:
            try:
                return module.call(function, *args, **kwargs)
            except StudentRaised as error:
                raise CheckFailure(f"your {function}, which this check calls, raised {error.type_name}: "
                                   f"{error.message}{error.place}") from None
            except StudentAbort as abort:
                raise _UsedFunctionAborted(function, abort.reason) from None
        return student_function

    return {function: calling(function) for function in check.uses}


def _aborted_function(abort: StudentAbort, check: Check) -> str:
    """The function that gave no answer: one the check uses, or the one it grades."""
    return abort.function if isinstance(abort, _UsedFunctionAborted) else check.function


def _verify(check: Check, student: Any, case: Case, others: dict[str, Any]) -> None:
    """Run `check.verify` on one case, with the other functions it uses when it declares any."""
    if check.uses:
        check.verify(student, case, others)
    else:
        check.verify(student, case)


def _same_call(args: tuple, kwargs: dict, case: Case) -> bool:
    return (len(args) == len(case.args) and all(a is b for a, b in zip(args, case.args))
            and kwargs.keys() == case.kwargs.keys() and all(kwargs[k] is case.kwargs[k] for k in kwargs))


def run_checks(checks: Sequence[Check], module: StudentModule | None, function_points, misconceptions: Sequence[Misconception],
               missing: dict[str, str], reference: Any = None, replays: Sequence[Any] | None = None) -> list[CheckResult]:
    """Run every check against `module`, in order, then say and score what each found.

    `missing` maps a function to the reason it cannot be called at all (the submission did not
    load, the function is not defined); its checks fail with that reason and make no call. A
    function whose every check failed because it raised NotImplementedError is not implemented:
    its checks say so, without a case. In both, `function_problem` holds the reason, so that
    reports say it once per function (or once for all). A check that times out or kills the
    worker fails, and so do the later checks of its function, without calling it again. A
    function's supporting checks pay only if one of its evidence checks passed
    (grader.grading.scoring.count_supporting). `replays` holds each check's recorded cases
    (`record_cases`, kept by grader.grading.case_cache.StoredCases); without them every check runs hypothesis.
    """
    draw_without_local_constants()
    outcomes = _check_all(checks, module, misconceptions, missing, reference, replays or [None] * len(checks))
    results = [_result(check, outcome, max_score, missing.get(check.function))
               for check, outcome, max_score in zip(checks, outcomes, check_points(checks, function_points))]
    results = _not_implemented(checks, results, [outcome.failure for outcome in outcomes])
    return count_supporting(checks, results)


@dataclass(frozen=True)
class Outcome:
    """What running one check found: its failure (None if it passed), the misconceptions that
    explain it (the likely cause first), and the time it took."""

    failure: Failure | None
    hints: tuple[Misconception, ...] = ()
    seconds: float = 0.0


def _check_all(checks: Sequence[Check], module: StudentModule | None, misconceptions: Sequence[Misconception],
               missing: dict[str, str], reference: Any, replays: Sequence[Any]) -> list[Outcome]:
    """The outcome of each check, in order: the checking step, the only one that calls the student."""
    aborted = dict(missing)
    outcomes = []
    read: dict[int, list | None] = {}  # the groups of a replayed check, read once (the next check's, early)

    def groups_of(index: int) -> list | None:
        if index not in read:
            read[index] = replays[index].groups() if replays[index] is not None else None
        return read[index]

    def first_group_of(index: int) -> tuple | None:
        """The first calls check `index` will send, as StudentModule.send_unclaimed takes them, if
        it is a replayed check whose calls go together and it will run; else None."""
        if module is None or index >= len(checks):
            return None
        check = checks[index]
        if group_size(check) < 2 or check.function in aborted or any(f in aborted for f in check.uses):
            return None
        groups = groups_of(index)
        if not groups or getattr(groups[0], "request", None) is None:
            return None
        return check.function, [(case.args, dict(case.kwargs)) for case in groups[0]], groups[0].request

    for index, (check, _) in enumerate(zip(checks, replays, strict=True)):
        started = time.perf_counter()
        unusable = [function for function in check.uses if function in aborted]
        if check.function in aborted:
            failure = Failure(f"not run: {aborted[check.function]}")
        elif unusable:
            failure = Failure(f"not run: it calls your {unusable[0]}, which cannot be called ({aborted[unusable[0]]})")
        else:
            try:
                failure = _run_hypothesis(check, module, reference, groups_of(index),
                                          upcoming=lambda index=index: first_group_of(index + 1))
            except StudentAbort as abort:
                aborted[_aborted_function(abort, check)] = abort.reason
                failure = Failure(abort.reason)
        hints: list[Misconception] = []
        if failure is not None and failure.shown is not None:
            try:
                failure, hints = _explained(check, failure, misconceptions, reference, module)
            except StudentAbort as abort:  # a probing call got no answer: the function's later checks are not run
                aborted[_aborted_function(abort, check)] = abort.reason
                failure, hints = _explained(check, failure, misconceptions, reference, None)
        outcomes.append(Outcome(failure, tuple(hints), time.perf_counter() - started))
        read.pop(index, None)
    return _shrunk_where_unexplained(checks, outcomes, module, misconceptions, reference, aborted)


def _shrunk_where_unexplained(checks: Sequence[Check], outcomes: list[Outcome], module: StudentModule | None,
                              misconceptions: Sequence[Misconception], reference: Any,
                              aborted: dict[str, str]) -> list[Outcome]:
    """For each function that failed replayed checks, none of which a known mistake of that
    function explains: its first such check runs again under hypothesis, which shrinks the
    failure to a smallest case that may tell the mistake (a single row, a unit size), and shows it.
    Once per function: the likely cause is named once, and hypothesis's cost is paid once."""
    if module is None:
        return outcomes
    outcomes = list(outcomes)
    explained = {check.function for check, outcome in zip(checks, outcomes) if outcome.hints}
    tried: set[str] = set()
    for index, (check, outcome) in enumerate(zip(checks, outcomes)):
        function, failure = check.function, outcome.failure
        if (failure is None or not failure.replayed or function in explained or function in tried or function in aborted
                or (failure.raised is not None and failure.raised.type_name == NOT_IMPLEMENTED)  # a stub: nothing to tell
                or any(used in aborted for used in check.uses)
                or not any(m.function in (None, function) for m in misconceptions)):
            continue
        tried.add(function)
        started = time.perf_counter()
        try:
            shrunk = _run_hypothesis(check, module, reference)
        except StudentAbort as abort:
            aborted[_aborted_function(abort, check)] = abort.reason
            continue
        if shrunk is None or shrunk.shown is None:
            continue
        try:
            hints = _diagnosis(check, shrunk, misconceptions, reference, module)
        except StudentAbort as abort:
            aborted[_aborted_function(abort, check)] = abort.reason
            hints = _diagnosis(check, shrunk, misconceptions, reference, None)
        outcomes[index] = Outcome(shrunk, tuple(hints), outcome.seconds + time.perf_counter() - started)
    return outcomes


def _result(check: Check, outcome: Outcome, max_score: float, missing: str | None) -> CheckResult:
    """One check's result: all or nothing of its points, and what the student reads about it
    (`missing`: why its function could not be called at all, if so)."""
    failure = outcome.failure
    if failure is None:
        message, causes = "", ()
    elif missing is not None:
        message, causes = f"not run: {missing}", ()
    else:
        message, causes = _message(check, failure, outcome.hints)
    return CheckResult(
        function=check.function, name=check.name, score=max_score if failure is None else 0.0,
        max_score=max_score, passed=failure is None, message=message,
        visibility=check.visibility, seconds=outcome.seconds,
        misconceptions=tuple(hint.title for hint in outcome.hints[:1]),  # the diagnosis; a second guess is not counted
        function_problem=missing or "", causes=causes,
    )


def _not_implemented(checks: Sequence[Check], results: list[CheckResult], failures: list[Failure | None]) -> list[CheckResult]:
    """`results`, with those of each function whose every check failed by raising
    NotImplementedError (a stub left as it was) saying that once, without a case."""
    raised: dict[str, list[StudentRaised | None]] = {}
    for check, failure in zip(checks, failures):
        raised.setdefault(check.function, []).append(failure.raised if failure is not None else None)
    stubs = {function: errors[0] for function, errors in raised.items()
             if all(error is not None and error.type_name == NOT_IMPLEMENTED for error in errors)}
    marked = []
    for result in results:
        error = stubs.get(result.function)
        if error is not None:
            reason = f"{result.function} is not implemented: it raised {NOT_IMPLEMENTED}{error.place}"
            result = replace(result, message=reason, misconceptions=(), causes=(), function_problem=reason)
        marked.append(result)
    return marked


def _observation(function: str, reference: Any, case: Case, got: Any = None, error: str | None = None) -> Observation:
    """A failing call with the reference's answer on its case, for the diagnosis."""
    if reference is None:
        return Observation(case, got, error)
    try:
        expected = getattr(reference, function)(*case.args, **dict(case.kwargs))
    except Exception:  # a case on which the reference raises (the ValueError checks)
        return Observation(case, got, error, reference_raised=True)
    return Observation(case, got, error, expected)


def _explained(check: Check, failure: Failure, misconceptions: Sequence[Misconception], reference: Any,
               module: StudentModule | None) -> tuple[Failure, list[Misconception]]:
    """The failure to show and the misconceptions that explain it: on its smallest failing case
    if one does, else on the next smallest that a known mistake explains, else the smallest."""
    for candidate in (failure, *failure.others):
        hints = _diagnosis(check, candidate, misconceptions, reference, module)
        if hints:
            return candidate, hints
    return failure, []


def _diagnosis(check: Check, failure: Failure, misconceptions: Sequence[Misconception], reference: Any,
               module: StudentModule | None) -> list[Misconception]:
    """The misconceptions that explain the failure shown, the likely cause first (grader.authoring.diagnosis).

    When several fit every failing call seen equally well (the smallest case is often too small
    to tell them apart), the student's function is tried on PROBES more cases of the check, with
    a fixed seed, and its failures there decide. Raises StudentAbort if such a call gets no answer.
    """
    shown = failure.shown

    def hints(others: Sequence[Observation]) -> list[Misconception]:
        return diagnose(list(misconceptions), check.function, shown.case, shown.got, shown.error, shown.expected,
                        reference_raised=shown.reference_raised, also_failed=others)

    found = hints(failure.seen)
    if len(found) > 1 and module is not None:
        found = hints(failure.seen + tuple(_probe(check, module, reference)))
    return found


def _probe(check: Check, module: StudentModule, reference: Any) -> list[Observation]:
    """The student's failing calls on up to PROBES more cases of `check` (its own seed, plus one)."""
    failing: list[Observation] = []

    def student(*args: Any, **kwargs: Any) -> Any:
        return module.call(check.function, *args, **kwargs)

    others = _used_functions(check, module)

    @seed(check_seed(check) + 1)
    @settings(_settings(PROBES), phases=(Phase.generate,))
    @given(variants(check.cases, 1))
    def probe(group: tuple[Case, ...]) -> None:
        for case in group:
            failed = _failed_on(check, case, student, others)
            if failed is not None:
                failing.append(_observation(check.function, reference, case, failed.got, failed.error))

    try:
        probe()
    except _INCONSISTENT:  # a random or stateful function: what was seen so far still counts
        pass
    return failing


def _message(check: Check, failure: Failure, hints: Sequence[Misconception]) -> tuple[str, tuple[Cause, ...]]:
    """What the student reads about a failed check, and its causes: what failed, then the
    likely cause and any other misconception that explains the failure exactly as well, one
    line each."""
    if check.hidden:
        detail = "Failed. This check is hidden: its inputs and results are not shown."
    elif failure.shown is not None:
        detail = f"Failed on {failure.shown.case.summary}: {failure.message}"
    else:
        detail = f"Failed: {failure.message}"
    causes = tuple(Cause("Likely cause" if index == 0 else "Or perhaps", f"{hint.title}. {hint.explanation}")
                   for index, hint in enumerate(hints))
    return "\n".join([detail, *(f"{cause.label}: {cause.text}" for cause in causes)]), causes
