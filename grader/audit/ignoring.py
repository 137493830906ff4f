"""Answers that ignore their inputs, for any assignment: each must earn 0 (contract §1).

An input-ignoring answer is written as a submission (the source of the assignment's module) and
graded like any other, in the sandbox. The sandbox cannot see the reference, so the source of
the *shaped* flavours carries it: each function runs the reference only to learn the structure
of its answer (a tuple, a dict, an array, a float), each array's shape and dtype, and where it
raises, then throws the values away and returns its flavour's values in their place. That is
the hardest input-ignoring answer to catch: it has the right shapes, raises the required
errors, and its distributions sum to 1; only the checks that compare values with the reference
can catch it, which is what the rule for supporting checks (grader.grading.scoring.count_supporting)
relies on.

The other flavours do without the reference, as a student who games the grader would: zeros
shaped like the first argument (`return np.zeros_like(x)`), the number 0.0 whatever the answer's
shape, and a ValueError for every call.
"""

from __future__ import annotations

from typing import Iterable

# flavour -> (what it returns, in words; the body of `_values(shape)`, given the reference's answer's shape)
SHAPED: dict[str, tuple[str, str]] = {
    "zeros": ("zeros", "return _np.zeros(shape)"),
    "ones": ("ones", "return _np.ones(shape)"),
    "uniform": ("rows of a fixed uniform distribution (1/n along the last axis)",
                "return _np.full(shape, 1.0 / shape[-1]) if shape and shape[-1] else _np.ones(shape)"),
    "noise": ("normal noise from the same seed on every call",
              "return _np.random.default_rng(1234).standard_normal(shape)"),
    "constant-per-call": ("a new constant on every call (1, 2, 3, ...)", "return _np.full(shape, float(_CALLS[0]))"),
}
# flavour -> (what it returns, in words; the body of each function, without the reference)
UNSHAPED: dict[str, tuple[str, str]] = {
    "zeros-like-first-argument": ("zeros shaped like its first argument",
                                  "given = args or tuple(kwargs.values())\n"
                                  "        return _like(given[0] if given else 0.0)"),
    "zero-scalar": ("the number 0.0, whatever the answer's shape", "return 0.0"),
    "raises": ("a ValueError for every call", 'raise ValueError("this answer ignores its inputs")'),
}
FLAVOURS = {**SHAPED, **UNSHAPED}
RAISES = "raises"  # fails every check by raising: it shows nothing about what a check can tell

_COMMON = '''\
import numpy as _np

_CALLS = [0]


def _values(shape):
    {values}


def _like(value):
    """`value`'s structure, shapes and dtypes, holding _values instead of its values."""
    if isinstance(value, tuple):
        return tuple(_like(item) for item in value)
    if isinstance(value, list):
        return [_like(item) for item in value]
    if isinstance(value, dict):
        return {{key: _like(item) for key, item in value.items()}}
    if isinstance(value, (bool, int, float, _np.ndarray, _np.generic)):
        array = _np.asarray(value)
        filled = _np.asarray(_values(array.shape)).astype(array.dtype)
        if isinstance(value, _np.ndarray):
            return filled
        return type(value)(filled[()]) if type(value) in (bool, int, float) else filled[()]
    return value
'''

_WITH_REFERENCE = '''

_REFERENCE = {{"__name__": "_audit_reference"}}
exec(compile({reference!r}, "reference", "exec"), _REFERENCE)


def _ignoring(name):
    def answer(*args, **kwargs):
        _CALLS[0] += 1
        return _like(_REFERENCE[name](*args, **kwargs))
    answer.__name__ = name
    return answer
'''

_WITHOUT_REFERENCE = '''

def _ignoring(name):
    def answer(*args, **kwargs):
        {body}
    answer.__name__ = name
    return answer
'''


def ignoring_source(flavour: str, reference_source: str, functions: Iterable[str]) -> str:
    """The module source of the input-ignoring answer `flavour` (a key of FLAVOURS), defining `functions`."""
    words = FLAVOURS[flavour][0]
    header = f'"""An answer that ignores its inputs, written by `grader audit`: {words}."""\n\n'
    if flavour in SHAPED:
        body = _COMMON.format(values=SHAPED[flavour][1]) + _WITH_REFERENCE.format(reference=reference_source)
    else:
        body = _COMMON.format(values="return _np.zeros(shape)") + _WITHOUT_REFERENCE.format(body=UNSHAPED[flavour][1])
    definitions = "".join(f"{name} = _ignoring({name!r})\n" for name in functions)
    return header + body + "\n\n" + definitions
