"""Tolerant comparison of what the student returned with what was expected, as one-line summaries.

Arrays are summarised, never dumped: `h_t: max |Δ| = 0.41 at [1, 0, 2]; 5 of 24 entries differ; shape (2, 3, 4)`.
Every value is converted with np.asarray(..., dtype=float64) before any arithmetic.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from grader.sandbox.wire import Opaque

RTOL = 1e-6  # entry by entry: |got - expected| <= RTOL * |expected| ...
ATOL = 1e-6  # ... + ATOL * scale, scale = max(1, the largest |entry| of the whole expected result)
# Both about 1e-6, for every function and every caller alike (contract §1, edge cases): a right
# answer that went through float32 somewhere (rounding near 1e-7, a little more where a caller's
# sums cancel) passes, while the absolute part keeps entries that cancel to near 0 from failing.


def describe_value(value: Any) -> str:
    """A short description of a returned value's type and shape."""
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if value is None:
        return "None"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} {'key' if len(value) == 1 else 'keys'}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}" if value.ndim else "a scalar"
    return f"a {type(value).__name__}"


def as_float_array(name: str, value: Any) -> tuple[np.ndarray | None, str | None]:
    """`value` as a float64 array, or None and the reason it is not numeric data."""
    if isinstance(value, (Opaque, tuple, dict, str)) or value is None:
        return None, f"{name}: expected numbers, got {describe_value(value)}"
    try:
        return np.asarray(value, dtype=np.float64), None
    except (TypeError, ValueError, OverflowError):
        return None, f"{name}: expected numbers, got {describe_value(value)}"


def _index(flat_index: int, shape: tuple[int, ...]) -> str:
    return str([int(i) for i in np.unravel_index(flat_index, shape)]) if shape else "[]"


def _leaves(value: Any) -> list:
    """The arrays and numbers of a result, inside its tuples and dicts."""
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]


def result_scale(expected: Any) -> float:
    """max(1, the largest finite |entry|) over a whole result, every output of a tuple or a dict included."""
    largest = 1.0
    for item in _leaves(expected):
        try:
            array = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if array.size == 0:
            continue
        peak = float(np.abs(array).max())
        if not np.isfinite(peak):  # NaN or inf somewhere: only the finite entries count
            with np.errstate(invalid="ignore"):
                finite = array[np.isfinite(array)]
            peak = float(np.max(np.abs(finite), initial=0.0))
        largest = max(largest, peak)
    return largest


def compare_array(name: str, got: Any, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL,
                  scale: float | None = None) -> str | None:
    """None if `got` matches `expected` (same shape, close values), else a one-line summary.

    Close means |got - expected| <= atol * scale + rtol * |expected| entry by entry, where
    `scale` is max(1, max |expected|) unless the caller gives the scale of a whole result.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got_array, problem = as_float_array(name, got)
    if problem:
        return problem
    if got_array.shape != expected.shape:
        return f"{name}: expected shape {expected.shape}, got {got_array.shape}"
    if got_array.size == 0:
        return None
    if scale is None:
        scale = result_scale(expected)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = atol * scale + rtol * np.abs(expected)
        close = np.abs(got_array - expected) <= allowed
        if close.all() and np.isfinite(allowed).all():  # then both sides are finite everywhere
            return None
        if not (np.isfinite(expected).all() and np.isfinite(got_array).all()):  # NaN matches NaN, inf the same inf
            close = np.isclose(got_array, expected, rtol=rtol, atol=atol * scale, equal_nan=True)
            if close.all():
                return None
    bad = ~close
    non_finite = bad & ~np.isfinite(got_array)
    if non_finite.any():
        where = int(np.flatnonzero(non_finite)[0])
        kind = "NaN" if np.isnan(got_array.reshape(-1)[where]) else "inf"
        return (f"{name}: {kind} at {_index(where, expected.shape)} where a finite value was expected; "
                f"{int(non_finite.sum())} of {expected.size} entries are not finite; shape {expected.shape}")
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.where(bad, np.abs(got_array - expected), 0.0)
    where = int(np.argmax(np.where(np.isnan(difference), np.inf, difference)))
    return (f"{name}: max |Δ| = {difference.reshape(-1)[where]:.3g} at {_index(where, expected.shape)}; "
            f"{int(bad.sum())} of {expected.size} entries differ; shape {expected.shape}")


KEYS_SHOWN = 5  # of the missing or unexpected keys of a dict, in a message


def _keys(keys: Sequence[str]) -> str:
    shown = ", ".join(repr(key[:40]) for key in keys[:KEYS_SHOWN])
    return shown + (f" and {len(keys) - KEYS_SHOWN} more" if len(keys) > KEYS_SHOWN else "")


def compare_dict(name: str, got: Any, expected: dict, rtol: float = RTOL, atol: float = ATOL,
                 scale: float | None = None) -> str | None:
    """None if `got` is a dict with the keys of `expected` and matching arrays under them, else
    what is wrong: the keys missing, the keys not expected, and each array that differs
    (`name['key']: ...`, as compare_array says it)."""
    if not isinstance(got, dict):
        return f"{name}: expected a dict ({_keys(list(expected))}), got {describe_value(got)}"
    scale = result_scale(expected) if scale is None else scale
    problems = []
    missing = [key for key in expected if key not in got]
    extra = [key for key in got if key not in expected]
    if missing:
        problems.append(f"{name}: missing {'key' if len(missing) == 1 else 'keys'} {_keys(missing)}")
    if extra:
        problems.append(f"{name}: unexpected {'key' if len(extra) == 1 else 'keys'} {_keys(extra)}")
    problems += [compare_array(f"{name}[{key!r}]", got[key], value, rtol, atol, scale)
                 for key, value in expected.items() if key in got]
    problems = [p for p in problems if p]
    return "; ".join(problems) if problems else None


def _compare_output(name: str, got: Any, expected: Any, rtol: float, atol: float, scale: float) -> str | None:
    if isinstance(expected, dict):
        return compare_dict(name, got, expected, rtol, atol, scale)
    return compare_array(name, got, expected, rtol, atol, scale)


def compare_outputs(got: Any, expected: Any, names: Sequence[str], rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """Compare a function's whole result. With one name the result is one output; with several,
    a tuple of them. An output is an array, or a dict of arrays when the reference's is a dict
    (compared key by key)."""
    scale = result_scale(expected)
    if len(names) == 1:
        return _compare_output(names[0], got, expected, rtol, atol, scale)
    if not isinstance(got, tuple) or len(got) != len(names):
        return f"expected a tuple ({', '.join(names)}), got {describe_value(got)}"
    problems = [_compare_output(n, g, e, rtol, atol, scale) for n, g, e in zip(names, got, expected)]
    problems = [p for p in problems if p]
    return "; ".join(problems) if problems else None


def outputs_match(got: Any, candidate: Any) -> bool:
    """Whether two results are the same (shapes equal, values close as in compare_array, NaN equal to NaN)."""
    if isinstance(candidate, tuple):
        return isinstance(got, tuple) and len(got) == len(candidate) and all(map(outputs_match, got, candidate))
    if isinstance(candidate, dict):
        return (isinstance(got, dict) and got.keys() == candidate.keys()
                and all(outputs_match(got[key], value) for key, value in candidate.items()))
    got_array, problem = as_float_array("", got)
    try:
        candidate_array = np.asarray(candidate, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if problem or got_array.shape != candidate_array.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(got_array, candidate_array, rtol=RTOL, atol=ATOL * result_scale(candidate_array), equal_nan=True))
