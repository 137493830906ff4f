"""Recorded cases as bytes, and back: what the case cache (grader.grading.case_cache) stores per check.

A check's recorded cases are its groups (one per hypothesis example), each a tuple of Cases
whose `expected` holds what the check's `expect` gave on it. `encode_groups` turns them into
one segment of bytes; `decode_groups` builds the very same cases again: equal values of the
same types (a tuple stays a tuple, an int an int, a numpy scalar the same numpy scalar), and
arrays equal in dtype, shape and every bit, each a fresh writable array.

The bytes are a pickle of plain data: tuples, lists, dicts, str, int, float, bool, None, numpy
arrays and scalars of numeric dtypes. Only values of those types are stored (`encode_groups`
checks every one), and they are read back by an unpickler that can build nothing else: it
refuses every global but numpy's own array, dtype and scalar constructors, so the bytes cannot
name a function to call (the "restricting globals" recipe of Python's pickle documentation).
A value that cannot be stored raises NotStorable: that check is not recorded, and runs
hypothesis when grading. A strided view of an array is stored as a contiguous copy (as the
student receives it too); `has_strided_floats` says when that happened to floats, whose sums
may round otherwise than the view's, so that the caller can check what it changes.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, Sequence

import numpy as np

from grader.authoring.checks import NOT_RECORDED, Case

_ARRAY_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex
_EXACT_KINDS = "biu"  # whose every operation is exact, whatever the memory layout
# The globals a pickle of numpy arrays, dtypes and scalars names (numpy 1 and numpy 2 spell the module differently).
_ALLOWED_GLOBALS = ({(f"numpy.{core}.multiarray", name) for core in ("core", "_core") for name in ("_reconstruct", "scalar")}
                    | {(f"numpy.{core}.numeric", "_frombuffer") for core in ("core", "_core")}
                    | {("numpy", "ndarray"), ("numpy", "dtype")})


class NotStorable(Exception):
    """A recorded value that a segment cannot hold exactly."""


class ReplayedGroup(tuple):
    """The cases of one hypothesis example, built again from a segment, with `request`: the
    message that asks the worker for their calls (grader.sandbox.calls.request_bytes), when the
    check sends them together; None otherwise."""

    request: bytes | None = None


def encode_groups(groups: Sequence[Sequence[Case]], requests: Sequence[bytes | None] | None = None) -> bytes:
    """One segment holding `groups` (see the module's docstring), and `requests`, one per
    group (the messages that ask for each group's calls) when given.

    Raises:
        NotStorable: a case, or what it expects, holds a value a segment cannot hold exactly.
    """
    plain = []
    for group in groups:
        cases = []
        for case in group:
            if type(case) is not Case or type(case.args) is not tuple or type(case.kwargs) is not dict \
                    or type(case.summary) is not str:
                raise NotStorable("a case that is not a Case of a tuple, a dict and a str")
            _require_storable(case.args)
            _require_storable(case.kwargs)
            if case.expected is NOT_RECORDED:
                cases.append((case.args, case.kwargs, case.summary))
            else:
                _require_storable(case.expected)
                cases.append((case.args, case.kwargs, case.summary, case.expected))
        plain.append(tuple(cases))
    requests = list(requests) if requests is not None else [None] * len(plain)
    if len(requests) != len(plain) or not all(request is None or type(request) is bytes for request in requests):
        raise NotStorable("requests that are not one message per group")
    return pickle.dumps((plain, requests), protocol=pickle.HIGHEST_PROTOCOL)


def _require_storable(value: Any, depth: int = 0) -> None:
    kind = type(value)
    if depth > 32:
        raise NotStorable("a value nested too deep")
    if value is None or kind in (bool, int, float, str):
        return
    if kind in (tuple, list):
        for item in value:
            _require_storable(item, depth + 1)
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise NotStorable("a dict with keys that are not str")
            _require_storable(item, depth + 1)
        return
    if kind is np.ndarray:
        if value.dtype.kind not in _ARRAY_KINDS or value.dtype.fields is not None or value.dtype.hasobject:
            raise NotStorable(f"an array of dtype {value.dtype}")
        return
    if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype.kind in _ARRAY_KINDS:
        return
    raise NotStorable(f"a value of type {kind.__name__}")


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a segment names {module}.{name}, which it may not")


def decode_groups(segment: bytes) -> list[ReplayedGroup]:
    """The groups a segment holds (encode_groups), built again, each with its request.

    Raises:
        ValueError: the segment is not one that encode_groups wrote.
    """
    try:
        plain, requests = _PlainDataUnpickler(io.BytesIO(segment)).load()
    except Exception as error:  # whatever a damaged pickle raises
        raise ValueError(f"not a segment of recorded cases ({type(error).__name__})") from None
    if type(plain) is not list or type(requests) is not list or len(requests) != len(plain):
        raise ValueError("not a segment of recorded cases")
    groups = []
    for cases, request in zip(plain, requests):
        if type(cases) is not tuple or not all(type(entry) is tuple and len(entry) in (3, 4) for entry in cases) \
                or not (request is None or type(request) is bytes):
            raise ValueError("not a segment of recorded cases")
        group = ReplayedGroup(Case(*entry) if len(entry) == 4 else Case(*entry, expected=NOT_RECORDED) for entry in cases)
        group.request = request
        groups.append(group)
    return groups


def has_strided_floats(value: Any) -> bool:
    """Whether `value` holds a view of floats that is not contiguous: it is stored as a
    contiguous copy, whose sums may round otherwise (the caller checks what that changes)."""
    if isinstance(value, (tuple, list)):
        return any(has_strided_floats(item) for item in value)
    if isinstance(value, dict):
        return any(has_strided_floats(item) for item in value.values())
    if isinstance(value, Case):
        return has_strided_floats(value.args) or has_strided_floats(value.kwargs)
    return (isinstance(value, np.ndarray) and value.dtype.kind not in _EXACT_KINDS
            and not (value.flags.c_contiguous or value.flags.f_contiguous))


def identical(a: Any, b: Any) -> bool:
    """Whether `a` and `b` are the same value: the same types all the way down, arrays equal in
    dtype, shape and every bit (NaN included)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a.hex() == b.hex() or (a != a and b != b)
    return a == b


def same_groups(first: Sequence[Sequence[Case]], second: Sequence[Sequence[Case]]) -> bool:
    """Whether two lists of groups are the same cases expecting the same values."""
    return len(first) == len(second) and all(
        len(x) == len(y) and all(a.summary == b.summary and identical(a.args, b.args) and identical(a.kwargs, b.kwargs)
                                 and ((a.expected is NOT_RECORDED and b.expected is NOT_RECORDED)
                                      or identical(a.expected, b.expected))
                                 for a, b in zip(x, y))
        for x, y in zip(first, second))
