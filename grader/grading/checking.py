"""The one place hypothesis runs: each check against the student's module, into CheckResults.

Every check gets its own fixed seed and no example database, so the same submission meets
the same cases on every run and machine. Hypothesis shrinks a failure to its smallest case;
the message is built from that case by the grader, never taken from hypothesis.
"""

from __future__ import annotations

import sys
import time
import zlib
from dataclasses import replace
from typing import Any, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import HypothesisException

from grader.authoring.checks import Case, Check, CheckFailure
from grader.authoring.diagnosis import Observation, diagnose
from grader.authoring.strategies import variants
from grader.grading.scoring import check_points, count_supporting
from grader.model import CheckResult, Misconception
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


class _Failure:
    """The outcome of running one check that did not pass: the failure shown (hypothesis's
    smallest case), and the first failing calls seen on the way there (`seen`, for the diagnosis)."""

    def __init__(self, message: str, case: Case | None, got: Any = None, error: str | None = None,
                 seen: Sequence[tuple[Case, Any, str | None]] = (), raised: StudentRaised | None = None):
        self.message, self.case, self.got, self.error, self.seen = message, case, got, error, tuple(seen)
        self.raised = raised  # the student's exception, when the failure is that the function raised


CASES_PER_EXAMPLE = 6
FAILURES_KEPT = 8  # failing calls kept per check to tell apart the misconceptions that fit the smallest case
PROBES = 8  # more cases tried when several misconceptions fit every failing call seen
NOT_IMPLEMENTED = "NotImplementedError"


def _run_hypothesis(check: Check, module: StudentModule) -> _Failure | None:
    """Run one check under hypothesis; None if it passed.

    A check whose verify makes exactly one call draws CASES_PER_EXAMPLE cases per
    hypothesis example and sends their calls together: hypothesis's own cost is shared by
    several cases, and the worker computes the next answer while this process checks one.
    """
    group_size = CASES_PER_EXAMPLE if check.single_call else 1
    examples = max(1, -(-check.max_examples // group_size))
    current: dict[str, Case] = {}
    seen: list[tuple[Case, Any, str | None]] = []

    def remember(case: Case, got: Any, error: str | None) -> None:
        if len(seen) < FAILURES_KEPT:
            seen.append((case, got, error))

    def live_student(*args: Any, **kwargs: Any) -> Any:
        return module.call(check.function, *args, **kwargs)

    def prefetched_student(case: Case):
        """The answer already requested for `case`, served once; any other call goes live."""
        unused = [True]

        def student(*args: Any, **kwargs: Any) -> Any:
            if unused[0] and _same_call(args, kwargs, case):
                unused[0] = False
                return module.next_answer()
            return live_student(*args, **kwargs)

        return student

    @seed(check_seed(check))
    @_settings(examples)
    @given(variants(check.cases, group_size))
    def property_test(group: tuple[Case, ...]) -> None:
        if group_size > 1:
            module.send_calls(check.function, [(case.args, dict(case.kwargs)) for case in group])
        for case in group:
            current["case"] = case
            student = prefetched_student(case) if group_size > 1 else live_student
            try:
                check.verify(student, case)
            except StudentRaised as error:
                failure = CheckFailure(f"{check.function} raised {error.type_name}: {error.message}{error.place}", raised=error)
                failure.error = f"{error.type_name}: {error.message}"
                failure.case = case
                remember(case, None, failure.error)
                raise failure from None
            except CheckFailure as failure:
                failure.case = case
                remember(case, failure.got, None)
                raise

    try:
        property_test()
    except CheckFailure as failure:
        return _Failure(failure.message, failure.case, failure.got, getattr(failure, "error", None), seen,
                        failure.raised)
    except StudentAbort:
        raise
    except _INCONSISTENT:
        return _Failure(f"{check.function} gave different results for the same input; is it random or stateful?",
                        current.get("case"))
    return None


def _same_call(args: tuple, kwargs: dict, case: Case) -> bool:
    return (len(args) == len(case.args) and all(a is b for a, b in zip(args, case.args))
            and kwargs.keys() == case.kwargs.keys() and all(kwargs[k] is case.kwargs[k] for k in kwargs))


def run_checks(checks: Sequence[Check], module: StudentModule | None, function_points, misconceptions: Sequence[Misconception],
               missing: dict[str, str], reference: Any = None) -> list[CheckResult]:
    """Run every check against `module`, in order.

    `missing` maps a function to the reason it cannot be called at all (the submission did not
    load, the function is not defined); its checks fail with that reason and make no call. A
    function whose every check failed because it raised NotImplementedError is not implemented:
    its checks say so, without a case. In both, `function_problem` holds the reason, so that
    reports say it once per function (or once for all). A check that times out or kills the
    worker fails, and so do the later checks of its function, without calling it again. A
    function's supporting checks pay only if one of its evidence checks passed
    (grader.grading.scoring.count_supporting).
    """
    draw_without_local_constants()
    points = check_points(checks, function_points)
    aborted = dict(missing)
    results = []
    failures: list[_Failure | None] = []
    for check, max_score in zip(checks, points):
        started = time.perf_counter()
        if check.function in aborted:
            failure = _Failure(f"not run: {aborted[check.function]}", None)
        else:
            try:
                failure = _run_hypothesis(check, module)
            except StudentAbort as abort:
                aborted[check.function] = abort.reason
                failure = _Failure(abort.reason, None)
        hints: list[Misconception] = []
        if failure is not None and failure.case is not None:
            try:
                hints = _diagnosis(check, failure, misconceptions, reference, module)
            except StudentAbort as abort:  # a probing call got no answer: the function's later checks are not run
                aborted[check.function] = abort.reason
                hints = _diagnosis(check, failure, misconceptions, reference, None)
        failures.append(failure)
        if failure is None:
            message = ""
        elif check.function in missing:
            message = f"not run: {missing[check.function]}"
        else:
            message = _message(check, failure, hints)
        results.append(CheckResult(
            function=check.function, name=check.name, score=max_score if failure is None else 0.0,
            max_score=max_score, passed=failure is None, message=message,
            visibility=check.visibility, seconds=time.perf_counter() - started,
            misconceptions=tuple(hint.title for hint in hints[:1]),  # the diagnosis; a second guess is not counted
            function_problem=missing.get(check.function, ""),
        ))
    results = _not_implemented(checks, results, failures)
    return count_supporting(checks, results)


def _not_implemented(checks: Sequence[Check], results: list[CheckResult], failures: list[_Failure | None]) -> list[CheckResult]:
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
            result = replace(result, message=reason, misconceptions=(), function_problem=reason)
        marked.append(result)
    return marked


def _observation(function: str, reference: Any, case: Case, got: Any, error: str | None) -> Observation:
    """A failing call with the reference's answer on its case, for the diagnosis."""
    if reference is None:
        return Observation(case, got, error)
    try:
        expected = getattr(reference, function)(*case.args, **dict(case.kwargs))
    except Exception:  # a case on which the reference raises (the ValueError checks)
        return Observation(case, got, error, reference_raised=True)
    return Observation(case, got, error, expected)


def _diagnosis(check: Check, failure: _Failure, misconceptions: Sequence[Misconception], reference: Any,
               module: StudentModule | None) -> list[Misconception]:
    """The misconceptions that explain the failure shown, the likely cause first (grader.authoring.diagnosis).

    When several fit every failing call seen equally well (the smallest case is often too small
    to tell them apart), the student's function is tried on PROBES more cases of the check, with
    a fixed seed, and its failures there decide. Raises StudentAbort if such a call gets no answer.
    """
    def hints(seen) -> list[Misconception]:
        shown = _observation(check.function, reference, failure.case, failure.got, failure.error)
        others = [_observation(check.function, reference, *call) for call in seen]
        return diagnose(list(misconceptions), check.function, shown.case, shown.got, shown.error, shown.expected,
                        reference_raised=shown.reference_raised, also_failed=others)

    found = hints(failure.seen)
    if len(found) > 1 and module is not None:
        found = hints(failure.seen + tuple(_probe(check, module)))
    return found


def _probe(check: Check, module: StudentModule) -> list[tuple[Case, Any, str | None]]:
    """The student's failing calls on up to PROBES more cases of `check` (its own seed, plus one)."""
    failing: list[tuple[Case, Any, str | None]] = []

    def student(*args: Any, **kwargs: Any) -> Any:
        return module.call(check.function, *args, **kwargs)

    @seed(check_seed(check) + 1)
    @settings(_settings(PROBES), phases=(Phase.generate,))
    @given(variants(check.cases, 1))
    def probe(group: tuple[Case, ...]) -> None:
        for case in group:
            try:
                check.verify(student, case)
            except StudentRaised as error:
                failing.append((case, None, f"{error.type_name}: {error.message}"))
            except CheckFailure as failure:
                failing.append((case, failure.got, None))

    try:
        probe()
    except _INCONSISTENT:  # a random or stateful function: what was seen so far still counts
        pass
    return failing


def _message(check: Check, failure: _Failure, hints: Sequence[Misconception]) -> str:
    """What the student reads about a failed check: what failed, then the likely cause and any
    other misconception that explains the failure exactly as well."""
    if check.hidden:
        lines = ["Failed. This check is hidden: its inputs and results are not shown."]
    elif failure.case is not None:
        lines = [f"Failed on {failure.case.summary}: {failure.message}"]
    else:
        lines = [f"Failed: {failure.message}"]
    if hints:
        first, others = hints[0], hints[1:]
        lines.append(f"Likely cause: {first.title}. {first.explanation}")
        lines += [f"Or perhaps: {other.title}. {other.explanation}" for other in others]
    return "\n".join(lines)
