"""The public authoring API: what an instructor writes an assignment's checks with.

An assignment's `checks.py` defines `build(ref) -> (checks, misconceptions)`, `ref` being its
reference module. With this API it declares each graded function once and attaches its
checks (see grader.authoring.functions for a worked example):

    from grader.authoring import Assignment
    from . import cases as c

    def build(ref):
        hw = Assignment(ref)
        step = hw.function("rnn_step", outputs="h_t", cases=c.rnn_step_cases())
        step.shapes(max_examples=15)
        step.agrees("matches the reference on random inputs", weight=3, max_examples=60)
        return hw.checks(), []

What else an author needs is here too: cases (Case, recipe, seeds, normal, batch_shapes,
distinct_sizes, variants), shared properties (rows_are_distributions, causal_zeros), tolerant
comparison for custom checks (as_float_array, compare_array, outputs_match, CheckFailure,
Check), finite differences (numerical_gradient, relative_error), Misconception, and Mutant (for the
realistic mistakes in `mutants.py` beside the checks that `grader audit` grades). The
modules behind it: `functions` (Assignment, Function), `checks` (the check kinds, the
engine), `strategies` (recipes and variants), `predicates`, `compare`, `gradcheck` and
`diagnosis` (naming the misconception behind a failure).

Names are imported when first used, so that `import grader.authoring.diagnosis` (as the
students' self-check does) loads neither hypothesis nor the checks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "Assignment": "grader.authoring.functions",
    "Function": "grader.authoring.functions",
    "Case": "grader.authoring.checks",
    "Check": "grader.authoring.checks",
    "CheckFailure": "grader.authoring.checks",
    "expected": "grader.authoring.checks",
    "recipe": "grader.authoring.strategies",
    "seeds": "grader.authoring.strategies",
    "normal": "grader.authoring.strategies",
    "batch_shapes": "grader.authoring.strategies",
    "distinct_sizes": "grader.authoring.strategies",
    "variants": "grader.authoring.strategies",
    "rows_are_distributions": "grader.authoring.predicates",
    "causal_zeros": "grader.authoring.predicates",
    "as_float_array": "grader.authoring.compare",
    "compare_array": "grader.authoring.compare",
    "outputs_match": "grader.authoring.compare",
    "numerical_gradient": "grader.authoring.gradcheck",
    "relative_error": "grader.authoring.gradcheck",
    "Misconception": "grader.model",
    "Mutant": "grader.authoring.mutants",
}

__all__ = list(_HOMES)

if TYPE_CHECKING:  # for editors and type checkers; at run time, __getattr__ imports on first use
    from grader.authoring.checks import Case, Check, CheckFailure, expected
    from grader.authoring.compare import as_float_array, compare_array, outputs_match
    from grader.authoring.functions import Assignment, Function
    from grader.authoring.gradcheck import numerical_gradient, relative_error
    from grader.authoring.mutants import Mutant
    from grader.authoring.predicates import causal_zeros, rows_are_distributions
    from grader.authoring.strategies import batch_shapes, distinct_sizes, normal, recipe, seeds, variants
    from grader.model import Misconception


def __getattr__(name: str) -> Any:
    """`grader.authoring.NAME` for a name of `__all__`, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'grader.authoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
