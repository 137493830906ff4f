"""What a check is, and the kinds of check an assignment builds its own from.

A check grades one function on cases that hypothesis generates. Its `verify(student, case)`
calls the student's function (through the sandbox) and raises CheckFailure with a message
the student can act on; it never shows hypothesis's own text. A check that declares `uses`
(other functions of the assignment, e.g. "the scan equals your sequential RNN") is called as
`verify(student, case, others)`, `others` mapping each of those names to the student's
function: only those, so that a check still grades the one function it names.

A check is *evidence* of work when it compares the answer with the reference's (agreement,
gradients against finite differences of the reference), which an answer that ignores its
inputs cannot match; the other checks (shapes and dtypes, properties, raised errors,
invariances) are *supporting*: they pay only to a function that earned evidence points
(grader.grading.scoring.count_supporting), since zeros or a fixed distribution pass them too.

A check may also say what it compares with, as a function of the case alone: its `expect(case)`
(the reference's answer, finite differences of the reference's loss). The grader then records
it once per assignment version, with the cases (grader.grading.case_cache), and hands it to
`verify` as `case.expected`; `expected(case, expect)` gives it, computed when it was not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from hypothesis.strategies import SearchStrategy

from grader.authoring.compare import ATOL, RTOL, as_float_array, compare_outputs, describe_value
from grader.authoring.gradcheck import numerical_gradient, relative_error
from grader.authoring.strategies import CaseRecipe

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
GRADIENT_ERROR_FLOOR = 1.0  # as compare's scale: below 1, gradients compare by absolute difference
GRADIENT_TOLERANCE = RTOL  # the same "about 1e-6" as every comparison with the reference


class _NotRecorded:
    def __repr__(self) -> str:
        return "NOT_RECORDED"


NOT_RECORDED = _NotRecorded()  # Case.expected when no expectation was recorded for the case


@dataclass(frozen=True)
class Case:
    """One generated input: the call's arguments and a summary of its shapes for feedback.

    `expected` is what the check's `expect(case)` gave, when the grader recorded it with the
    case (grader.grading.case_cache); never sent to the student, and not part of the case's
    identity (equality and repr ignore it).
    """

    args: tuple
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    expected: Any = field(default=NOT_RECORDED, compare=False, repr=False)


def expected(case: Case, expect: Callable[[Case], Any]) -> Any:
    """What `case` expects: the value recorded with it, else `expect(case)` computed now (the same value)."""
    value = case.expected
    return expect(case) if value is NOT_RECORDED else value


class CheckFailure(AssertionError):
    """The student's function failed a check; `message` says how, `got` is what it returned, and
    `raised` the exception it raised instead, when that is the failure
    (grader.sandbox.calls.StudentRaised)."""

    def __init__(self, message: str, got: Any = None, raised: Any = None):
        super().__init__(message)
        self.message, self.got, self.raised = message, got, raised
        self.case: Case | None = None


@dataclass(frozen=True)
class Check:
    """One graded property of one function.

    `weight` shares out the function's points among its checks. `visibility` follows
    Gradescope: anything but "visible" hides the check's inputs and numbers from feedback.
    `evidence` says the check compares the answer with the reference (see the module's
    docstring); a raw Check that does so must say it, the default is supporting. `cases` is a
    recipe (grader.authoring.strategies.recipe) or a hypothesis strategy of Cases. `uses` names
    the other student functions `verify` calls (see the module's docstring). `expect`, when
    given, computes from a case alone what `verify` compares with, and `verify` reads it with
    `expected(case, expect)`: it must be deterministic and must not modify the case.
    """

    function: str
    description: str
    cases: CaseRecipe | SearchStrategy
    verify: Callable[..., None]
    weight: float = 1.0
    max_examples: int = 50
    visibility: str = "visible"
    single_call: bool = False  # verify calls the student exactly once, with case.args and case.kwargs
    evidence: bool = False  # compares with the reference: its passing lets the function's supporting checks pay
    uses: tuple[str, ...] = ()  # other student functions verify calls: verify(student, case, others)
    expect: Callable[[Case], Any] | None = None  # what verify compares with, from the case alone (recorded with it)

    @property
    def name(self) -> str:
        return f"{self.function}: {self.description}"

    @property
    def hidden(self) -> bool:
        return self.visibility != "visible"


def _expect(got: Any, expected: Any, names: Sequence[str], rtol: float, atol: float) -> None:
    problem = compare_outputs(got, expected, names, rtol, atol)
    if problem:
        raise CheckFailure(problem, got)


def agreement(function: str, description: str, cases, reference: Callable, outputs: Sequence[str],
              *, rtol: float = RTOL, atol: float = ATOL, **options: Any) -> Check:
    """The student's result equals the reference's, output by output."""

    def expect(case: Case) -> Any:
        return reference(*case.args, **case.kwargs)

    def verify(student: Callable, case: Case) -> None:
        got = student(*case.args, **case.kwargs)
        _expect(got, expected(case, expect), outputs, rtol, atol)

    return Check(function, description, cases, verify, single_call=True, evidence=True, expect=expect, **options)


def shape_and_dtype(function: str, cases, reference: Callable, outputs: Sequence[str], **options: Any) -> Check:
    """Each output has the reference's shape and a float64 dtype (or the reference's dtype kind)."""

    def expect(case: Case) -> Any:
        return reference(*case.args, **case.kwargs)

    def verify(student: Callable, case: Case) -> None:
        got = student(*case.args, **case.kwargs)
        answer = expected(case, expect)
        got_items = got if len(outputs) > 1 else (got,)
        expected_items = answer if len(outputs) > 1 else (answer,)
        if len(outputs) > 1 and (not isinstance(got, tuple) or len(got) != len(outputs)):
            raise CheckFailure(f"expected a tuple ({', '.join(outputs)}), got {describe_value(got)}", got)
        for name, item, reference_item in zip(outputs, got_items, expected_items):
            reference_item = np.asarray(reference_item)
            array, problem = as_float_array(name, item)
            if problem:
                raise CheckFailure(problem, got)
            if array.shape != reference_item.shape:
                raise CheckFailure(f"{name}: expected shape {reference_item.shape}, got {array.shape}", got)
            got_dtype = np.asarray(item).dtype
            wanted = np.dtype(np.float64) if reference_item.dtype.kind == "f" else reference_item.dtype
            if got_dtype != wanted and not (wanted.kind in "iu" and got_dtype.kind in "iu"):
                raise CheckFailure(f"{name}: expected dtype {wanted}, got {got_dtype}", got)

    return Check(function, "output shapes and dtypes", cases, verify, single_call=True, expect=expect, **options)


def property_holds(function: str, description: str, cases, predicate: Callable[[Any, Case], str | None], **options: Any) -> Check:
    """`predicate(result, case)` returns None when the property holds, else what is wrong."""

    def verify(student: Callable, case: Case) -> None:
        got = student(*case.args, **case.kwargs)
        problem = predicate(got, case)
        if problem:
            raise CheckFailure(problem, got)

    return Check(function, description, cases, verify, single_call=True, **options)


def raises(function: str, description: str, cases, exception: str = "ValueError", **options: Any) -> Check:
    """The student's function raises `exception` (by type name) on every case."""
    from grader.sandbox.calls import StudentRaised

    def verify(student: Callable, case: Case) -> None:
        try:
            got = student(*case.args, **case.kwargs)
        except StudentRaised as error:
            if error.type_name != exception:
                raise CheckFailure(f"expected {exception}, but it raised {error.type_name}: {error.message}",
                                   raised=error) from None
            return
        raise CheckFailure(f"expected {exception}, but it returned {describe_value(got)}", got)

    return Check(function, description, cases, verify, single_call=True, **options)


def gradient(function: str, description: str, cases, loss: Callable[[tuple, Mapping], float],
             wrt: Sequence[tuple[int, str]], *, inputs: Callable[[Case], tuple[tuple, Mapping]] | None = None,
             tolerance: float = GRADIENT_TOLERANCE, **options: Any) -> Check:
    """The student's gradients equal central finite differences of `loss(args, kwargs)`.

    `loss` is differentiated at the case's own arguments, or at `inputs(case) -> (args,
    kwargs)` when given (e.g. softmax_backward's case holds A, and softmax is differentiated
    at x = log A). `wrt` lists (index in those args, name) in the order the student's
    function returns the gradients; each must have its argument's shape. The error is CS231n's relative error, over each whole gradient, with a floor
    of 1 on the scale, as compare's: a gradient whose entries are all below 1 compares by
    absolute difference, so that a right gradient that went through float32 passes here
    exactly when it passes the agreement checks.
    """

    def expect(case: Case) -> tuple[np.ndarray, ...]:
        """Central finite differences of `loss` with respect to each of `wrt`, in that order."""
        point, point_kwargs = inputs(case) if inputs is not None else (case.args, case.kwargs)
        args = tuple(np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in point)
        return tuple(numerical_gradient(lambda: loss(args, point_kwargs), args[index]) for index, _ in wrt)

    def verify(student: Callable, case: Case) -> None:
        got = student(*case.args, **case.kwargs)
        items = got if len(wrt) > 1 else (got,)
        if len(wrt) > 1 and (not isinstance(got, tuple) or len(got) != len(wrt)):
            raise CheckFailure(f"expected a tuple ({', '.join('d' + n for _, n in wrt)}), got {describe_value(got)}", got)
        numerics = expected(case, expect)
        for (_, name), item, numeric in zip(wrt, items, numerics):
            array, problem = as_float_array(f"d{name}", item)
            if problem:
                raise CheckFailure(problem, got)
            if array.shape != numeric.shape:
                raise CheckFailure(f"d{name}: expected shape {numeric.shape}, got {array.shape}", got)
            error = relative_error(array, numeric, floor=GRADIENT_ERROR_FLOOR)
            if not error < tolerance:
                raise CheckFailure(f"d{name}: relative error {error:.2g} against finite differences (needs < {tolerance:g})", got)

    return Check(function, description, cases, verify, single_call=True, evidence=True, expect=expect, **options)
