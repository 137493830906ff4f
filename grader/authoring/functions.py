"""An assignment's checks, declared function by function: the core of the authoring API.

An author declares each graded function once (its name, the names of its outputs, its usual
cases) and attaches checks to it, without repeating the name or the reference: the
reference implementation is taken from the reference module by name, and the function's
points come from assignment.json (its checks share them by weight). Each method builds the
same grader.authoring.checks.Check the engine's kinds build, adds it to the assignment in the
order declared, and returns it:

    def build(ref):
        hw = Assignment(ref)
        step = hw.function("rnn_step", outputs="h_t", cases=c.rnn_step_cases())
        step.shapes(max_examples=15)
        step.agrees("matches the reference on random inputs", weight=3, max_examples=60)
        step.raises("raises ValueError for an unknown nonlinearity", cases=c.bad_names(), max_examples=10)
        back = hw.function("rnn_step_backward", outputs=("dh_prev", "dc_t", "dW_h", "dW_c"), cases=...)
        back.gradient("agrees with finite differences of rnn_step", of="rnn_step",
                      wrt=("h_prev", "c_t", "W_h", "W_c"), weight=2, max_examples=15)
        return hw.checks(), misconceptions

Every check method takes, keyword only: `cases` (the function's own by default), `weight`
(its share of the function's points), `max_examples` (at least that many cases are tried)
and `visibility` (Gradescope's; anything but "visible" hides the check's inputs). A mistake
in a declaration (a function the reference lacks, an argument `wrt` names that the forward
does not take) raises UsageError at once, which `grader checks NAME` reports with the file.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np

from grader.authoring.checks import (GRADIENT_TOLERANCE, Case, Check, CheckFailure, agreement, gradient, property_holds,
                                     raises, shape_and_dtype)
from grader.authoring.compare import ATOL, RTOL, as_float_array, compare_array, compare_outputs, describe_value
from grader.errors import UsageError

Cases = Any  # a recipe (grader.authoring.strategies.recipe) or a hypothesis strategy of Cases


class Assignment:
    """The checks of one assignment, declared against its reference module `reference`.

    Not grader.model.Assignment (the loaded assignment.json): this one only collects checks.
    """

    def __init__(self, reference: ModuleType):
        self.reference = reference
        self._functions: dict[str, Function] = {}
        self._checks: list[Check] = []

    def function(self, name: str, *, outputs: str | Sequence[str], cases: Cases) -> Function:
        """Declare the graded function `name`: its outputs' names, in the order it returns them
        (a string for one output), and the cases its checks use unless they say otherwise."""
        if name in self._functions:
            raise UsageError(f"function {name!r} is declared twice; declare it once and add all its checks to it")
        implementation = getattr(self.reference, name, None)
        if not callable(implementation):
            raise UsageError(f"function {name!r}: the reference module defines no function of that name")
        names = (outputs,) if isinstance(outputs, str) else tuple(outputs)
        if not names or not all(isinstance(output, str) for output in names):
            raise UsageError(f"function {name!r}: outputs must name each output, e.g. outputs=('h_t',)")
        declared = Function(self, name, names, cases, implementation)
        self._functions[name] = declared
        return declared

    def checks(self) -> list[Check]:
        """Every check declared so far, in the order declared."""
        return list(self._checks)

    def _add(self, check: Check) -> Check:
        self._checks.append(check)
        return check


class Function:
    """One graded function of an Assignment (made by `Assignment.function`), to attach checks to.

    `name` is the function's, `outputs` its outputs' names, `cases` its default cases and
    `reference` the reference implementation.
    """

    def __init__(self, assignment: Assignment, name: str, outputs: tuple[str, ...], cases: Cases,
                 reference: Callable[..., Any]):
        self.assignment, self.name, self.outputs, self.cases, self.reference = assignment, name, outputs, cases, reference

    # --- evidence: compares with the reference ------------------------------------------------

    def agrees(self, description: str, *, cases: Cases = None, rtol: float = RTOL, atol: float = ATOL,
               weight: float = 1.0, max_examples: int = 50, visibility: str = "visible") -> Check:
        """Every output equals the reference's, within the usual tolerance (about 1e-6, relative
        to the largest entry; rtol=0, atol=0 for exact integer outputs). Evidence.

        Stability at large magnitudes is this check on cases of large magnitude, described so.
        """
        return self._add(agreement(self.name, description, self._cases(cases), self.reference, self.outputs,
                                   rtol=rtol, atol=atol, **_options(weight, max_examples, visibility)))

    def gradient(self, description: str, *, of: str, wrt: Sequence[str],
                 inputs: Callable[..., tuple[Any, tuple, dict]] | None = None, output: str | int | None = None,
                 cases: Cases = None, tolerance: float = GRADIENT_TOLERANCE,
                 weight: float = 1.0, max_examples: int = 50, visibility: str = "visible") -> Check:
        """This backward function's outputs are the gradients, by central finite differences, of
        `L = sum(upstream * forward(*args, **kwargs)[output])`, with `forward` the reference's
        function `of`. Evidence.

        `wrt` names, in the order this function returns the gradients, the arguments of `of`
        that they are the gradients of (the output d<name> has that argument's shape). By
        default the case is `(upstream, *forward args)` with the forward's keywords;
        `inputs(*case.args, **case.kwargs) -> (upstream, forward args, forward kwargs)` says
        otherwise, e.g. for `softmax_backward(dA, A, axis)`, differentiated at x = log A:
        `inputs=lambda dA, A, axis: (dA, (np.log(A),), {"axis": axis})`, and for a loss's
        gradient (no upstream), `inputs=lambda *args: (1.0, args, {})`. `output` picks one
        output of a forward that returns several, by the name `of` was declared with, or by
        position.
        """
        forward = getattr(self.assignment.reference, of, None)
        if not callable(forward):
            raise UsageError(f"{self.name}.gradient(of={of!r}): the reference module defines no function of that name")
        names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        if len(names) != len(self.outputs):
            raise UsageError(f"{self.name}.gradient: wrt names {len(names)} argument(s) of {of} but {self.name} "
                             f"returns {len(self.outputs)} output(s) ({', '.join(self.outputs)}): one for each")
        positions = _positions(forward, of, names)
        pick = self._forward_output(of, output)
        transform = inputs or _upstream_then_forward_args

        def loss(args: tuple, kwargs: dict) -> float:
            result = forward(*args[1:], **kwargs)
            return float(np.sum(args[0] * (result if pick is None else result[pick])))

        def point(case: Case) -> tuple[tuple, dict]:
            upstream, forward_args, forward_kwargs = transform(*case.args, **case.kwargs)
            return (upstream, *forward_args), dict(forward_kwargs)

        return self._add(gradient(self.name, description, self._cases(cases), loss,
                                  [(1 + position, name) for position, name in zip(positions, names)],
                                  inputs=point, tolerance=tolerance, **_options(weight, max_examples, visibility)))

    # --- supporting: pay once an evidence check of the function passed --------------------------

    def shapes(self, *, cases: Cases = None, weight: float = 1.0, max_examples: int = 50,
               visibility: str = "visible") -> Check:
        """"output shapes and dtypes": each output has the reference's shape, and a float64
        dtype (or an integer one where the reference's is). Supporting."""
        return self._add(shape_and_dtype(self.name, self._cases(cases), self.reference, self.outputs,
                                         **_options(weight, max_examples, visibility)))

    def holds(self, description: str, predicate: Callable[[Any, Case], str | None], *, output: str | None = None,
              cases: Cases = None, weight: float = 1.0, max_examples: int = 50, visibility: str = "visible") -> Check:
        """`predicate(value, case)` returns None on every case, else what is wrong (one line).
        Supporting.

        `value` is the student's output named `output`; by default the only output, or the
        whole tuple for a function of several outputs (after checking it is a tuple of that
        many). Shared predicates: grader.authoring.predicates (rows_are_distributions,
        causal_zeros).
        """
        pick = self._output_position(output)
        count = len(self.outputs)

        def on_output(got: Any, case: Case) -> str | None:
            if count == 1:
                return predicate(got, case)
            if not isinstance(got, tuple) or len(got) != count:
                return f"expected a tuple ({', '.join(self.outputs)}), got {describe_value(got)}"
            return predicate(got if pick is None else got[pick], case)

        return self._add(property_holds(self.name, description, self._cases(cases), on_output,
                                        **_options(weight, max_examples, visibility)))

    def raises(self, description: str, *, cases: Cases, exception: str = "ValueError", weight: float = 1.0,
               max_examples: int = 50, visibility: str = "visible") -> Check:
        """The function raises `exception` (by its type's name) on every case of `cases`
        (required: inputs the contract rejects). Supporting."""
        return self._add(raises(self.name, description, cases, exception, **_options(weight, max_examples, visibility)))

    def unchanged_when(self, description: str, edit: Callable[[Case], tuple], *, says: str,
                       changed_when: Callable[[Case], tuple] | None = None, changed_says: str = "",
                       cases: Cases = None, weight: float = 1.0, max_examples: int = 50,
                       visibility: str = "visible") -> Check:
        """The (one) output is the same when `edit(case)`'s arguments replace the case's: a change
        the contract says must not matter, such as the targets at masked positions. Supporting.

        `edit(case)` returns the new positional arguments; the case's keywords are kept. `says`
        describes the change as the feedback names it ("changing the embedding of <pad>").
        With `changed_when` (and `changed_says`), the output must also change when those
        arguments replace the case's, wherever the reference's does: an answer that ignores
        its inputs passes the first half, never this one.
        """
        if len(self.outputs) != 1:
            raise UsageError(f"{self.name}.unchanged_when compares one output; {self.name} returns "
                             f"{len(self.outputs)}: write a check(...) that picks one")
        name, reference = self.outputs[0], self.reference

        def verify(student: Callable[..., Any], case: Case) -> None:
            first = student(*case.args, **case.kwargs)
            value, problem = as_float_array(name, first)
            if problem:
                raise CheckFailure(problem, first)
            problem = compare_array(f"{name} after {says}", student(*edit(case), **case.kwargs), value)
            if problem:
                raise CheckFailure(problem)
            if changed_when is None:
                return
            changed_args = changed_when(case)
            moved, problem = as_float_array(name, student(*changed_args, **case.kwargs))
            if problem:
                raise CheckFailure(problem)
            reference_moved = compare_array(name, reference(*changed_args, **case.kwargs),
                                            reference(*case.args, **case.kwargs)) is not None
            if reference_moved and compare_array(name, moved, value) is None:  # None: the two are equal
                raise CheckFailure(f"{name}: {changed_says} did not change the {name}")

        return self._add(Check(self.name, description, self._cases(cases), verify,
                               **_options(weight, max_examples, visibility)))

    def equals_your(self, other: str, description: str, *, cases: Cases = None, weight: float = 1.0,
                    max_examples: int = 50, visibility: str = "visible") -> Check:
        """The student's result equals what their own function `other` returns on the same
        arguments (e.g. "the scan equals your sequential RNN"), output by output. Supporting:
        two answers that both ignore their inputs agree too."""
        outputs = self.outputs

        def verify(student: Callable[..., Any], case: Case, others: dict) -> None:
            got = student(*case.args, **case.kwargs)
            problem = compare_outputs(got, others[other](*case.args, **case.kwargs), outputs)
            if problem:
                raise CheckFailure(f"{problem} (against your {other})", got)

        return self.check(description, verify, uses=(other,), cases=cases, weight=weight,
                          max_examples=max_examples, visibility=visibility)

    # --- anything else --------------------------------------------------------------------

    def check(self, description: str, verify: Callable[..., None], *, evidence: bool = False,
              single_call: bool = False, uses: Sequence[str] = (), cases: Cases = None, weight: float = 1.0,
              max_examples: int = 50, visibility: str = "visible", expect: Callable[[Case], Any] | None = None) -> Check:
        """A check with its own `verify(student, case)`, which calls `student` (the student's
        function) and raises CheckFailure with a one-line message when the answer is wrong.

        `evidence=True` only if it compares with the reference (see grader.authoring.checks).
        `single_call=True` only if it calls `student` exactly once, with the case's own
        arguments (then several cases are sent at once). With `uses` (names of other graded
        functions), it is called as `verify(student, case, others)`, `others[name]` being the
        student's function `name`: the check still grades this function only. `expect(case)`,
        when given, is what verify compares with, computed from the case alone: the grader
        records it with the cases, and verify reads it with `expected(case, expect)`.
        """
        return self._add(Check(self.name, description, self._cases(cases), verify, evidence=evidence,
                               single_call=single_call, uses=tuple(uses), expect=expect,
                               **_options(weight, max_examples, visibility)))

    # --- helpers --------------------------------------------------------------------------

    def _cases(self, cases: Cases) -> Cases:
        return self.cases if cases is None else cases

    def _add(self, check: Check) -> Check:
        return self.assignment._add(check)

    def _output_position(self, output: str | None) -> int | None:
        """The position of `output` in the result; None for the whole result."""
        if output is None:
            return None
        if output not in self.outputs:
            raise UsageError(f"{self.name} has no output {output!r} (its outputs: {', '.join(self.outputs)})")
        return self.outputs.index(output)

    def _forward_output(self, of: str, output: str | int | None) -> int | None:
        if output is None or isinstance(output, int):
            return output
        declared = self.assignment._functions.get(of)
        if declared is None or output not in declared.outputs:
            known = f"declared outputs {', '.join(declared.outputs)}" if declared else "no declared outputs"
            raise UsageError(f"{self.name}.gradient(output={output!r}): {of} has {known}; declare {of} first, or give "
                             "the output's position")
        return declared.outputs.index(output)


def _options(weight: float, max_examples: int, visibility: str) -> dict:
    return {"weight": weight, "max_examples": max_examples, "visibility": visibility}


def _upstream_then_forward_args(upstream: Any, *args: Any, **kwargs: Any) -> tuple[Any, tuple, dict]:
    return upstream, args, kwargs


def _positions(forward: Callable[..., Any], of: str, names: Sequence[str]) -> list[int]:
    """The positions of the arguments `names` in `forward`'s signature."""
    parameters = [p.name for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = [name for name in names if name not in parameters]
    if unknown:
        raise UsageError(f"gradient wrt {unknown[0]!r}: {of} has no positional argument of that name "
                         f"(its arguments: {', '.join(parameters)})")
    return [parameters.index(name) for name in names]

