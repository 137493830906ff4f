"""The plain-numpy floor of grading: import numpy and the submission, make the grader's calls, compare with np.allclose.

    python benchmarks/numpy_floor.py CALLS.pickle SUBMISSION.py

CALLS.pickle (written by bench_grade.py from a real grading) lists every call the grader made,
in order, with the answer the reference gave: (function, args, kwargs, answer), the answer
being ("ok", value) or ("raised", exception type name). This script makes the same calls on
the submission, in this process, with no sandbox, no hypothesis and no report, and compares
each answer with np.allclose: what any grader of these calls must do at the least. It prints
how many calls matched, and exits 1 if one did not.
"""

from __future__ import annotations

import importlib.util
import pickle
import sys

import numpy as np


def same(got, expected) -> bool:
    if isinstance(expected, tuple):
        return isinstance(got, tuple) and len(got) == len(expected) and all(map(same, got, expected))
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(same(got[k], expected[k]) for k in expected)
    try:
        return bool(np.allclose(got, expected, rtol=1e-6, atol=1e-6, equal_nan=True))
    except (TypeError, ValueError):
        return got == expected


def main() -> int:
    calls_path, submission = sys.argv[1], sys.argv[2]
    with open(calls_path, "rb") as handle:
        calls = pickle.load(handle)
    spec = importlib.util.spec_from_file_location("submission", submission)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    matched = 0
    for function, args, kwargs, (status, expected) in calls:
        try:
            got = getattr(module, function)(*args, **kwargs)
        except Exception as error:
            matched += status == "raised" and type(error).__name__ == expected
        else:
            matched += status == "ok" and same(got, expected)
    print(f"{matched} of {len(calls)} calls matched")
    return 0 if matched == len(calls) else 1


if __name__ == "__main__":
    sys.exit(main())
