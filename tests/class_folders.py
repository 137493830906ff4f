"""Class folders for the grade-all tests and benchmark: real submissions of every kind.

`make_class(folder, n)` writes `n` students, cycling through right answers (the reference, loop,
einsum and notebook versions), realistic mistakes (assignments/hw1/mutants.py), broken files and hostile
code (tests/hostile.py), each under its own name, in the shapes students submit: a .py file, a
notebook, or a folder holding hw1.py. With `homework=tiny` (the `tiny` fixture) the class is one of
the small assignment of `grader new tiny`, with the same kinds in the same order
(`tiny_kinds`): it grades in a fraction of the time, for tests whose subject is the batch itself.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import nbformat

from conftest import REFERENCE_PATH, REPO, hw1_mutants
from grader.authoring.mutants import apply
from grading_helpers import HW1, Homework
from hostile import CASES as HOSTILE
from notebooks import filled_template, partly_done_notebook, tiny_partly_done_notebook

CORRECT = REPO / "tests" / "submissions" / "correct"
BROKEN = {
    "syntax-error.py": "import numpy as np\n\ndef rnn_step(h_prev, c_t, W_h, W_c, nonlinearity='tanh')\n    return h_prev\n",
    "empty.py": "",
    "truncated.ipynb": '{"cells": [{"cell_type": "code", "source": "def rnn_step(',
    "binary.py": None,  # bytes, below
}


def hostile_source(case, reference: str | None = None, target: str | None = None, marker: str = "HOSTILE") -> str:
    """The reference (hw1's unless given) with the attack of `case`: appended, or in place of its
    function (of `target`, when given: the attack's function renamed, taking any arguments)."""
    reference = REFERENCE_PATH.read_text() if reference is None else reference
    code = case.code.format(port=9, marker=marker)
    if case.where == "import":
        return reference + "\n\n" + code
    if target is not None:
        code = re.sub(rf"^def {case.where}\([^)]*\):", f"def {target}(*args, **kwargs):", code, count=1, flags=re.M)
    head = reference.index(f"def {target or case.where}(")
    end = reference.find("\n# %%", head)
    return reference[:head] + code + "\n\n" + (reference[end:] if end >= 0 else "")


def kinds() -> list[tuple[str, str, object]]:
    """(kind, name, content) for every submission kind, in a fixed order; content is str, bytes,
    a notebook, or ('folder', str) for a folder holding hw1.py."""
    reference = REFERENCE_PATH.read_text()
    items: list[tuple[str, str, object]] = [
        ("correct", "reference.py", reference),
        ("correct", "loops.py", (CORRECT / "loops.py").read_text()),
        ("correct", "einsum.py", (CORRECT / "einsum.py").read_text()),
        ("correct", "notebook.ipynb", filled_template()),
        ("correct", "folder", ("folder", reference)),
        ("buggy", "partly-done.ipynb", partly_done_notebook()),
    ]
    for mutant in hw1_mutants()[::4]:
        items.append(("buggy", f"{mutant.id}.py", apply(reference, mutant)))
    for name, text in BROKEN.items():
        items.append(("broken", name, text if text is not None else b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 40))
    for case in sorted((c for c in HOSTILE if c.id in QUICK_HOSTILE), key=lambda c: QUICK_HOSTILE.index(c.id)):
        items.append(("hostile", f"{case.id}.py", hostile_source(case)))
    return items


QUICK_HOSTILE = ["fake-results-everywhere", "infinite-loop-in-function", "memory-bomb-in-function", "fork-bomb-at-import",
                 "os-exit-in-function", "sys-exit-at-import", "infinite-loop-at-import"]

# tiny's right answer written as a student who thinks one row at a time would write it.
TINY_LOOPS = """import numpy as np


def normalize(x, axis=-1):
    if np.any(x < 0):
        raise ValueError("counts cannot be negative")
    rows = np.moveaxis(x, axis, -1)  # the distributions along the last axis
    p = np.empty(rows.shape)
    for index in np.ndindex(rows.shape[:-1]):
        p[index] = rows[index] / np.sum(rows[index])
    return np.moveaxis(p, -1, axis)


def normalize_backward(dp, x, axis=-1):
    rows, upstream = np.moveaxis(x, axis, -1), np.moveaxis(dp, axis, -1)
    dx = np.empty(rows.shape)
    for index in np.ndindex(rows.shape[:-1]):
        total = np.sum(rows[index])
        p = rows[index] / total
        dx[index] = (upstream[index] - np.sum(upstream[index] * p)) / total
    return np.moveaxis(dx, -1, axis)
"""
# Where tiny's hostile functions go: the function each attack of hw1's replaces becomes one of tiny's.
TINY_TARGETS = {"infinite-loop-in-function": "normalize_backward", "memory-bomb-in-function": "normalize",
                "os-exit-in-function": "normalize"}


def tiny_mutants(homework: Homework) -> list:
    """The mutants of `grader new`'s scaffold, from its assignments/NAME/mutants.py."""
    spec = importlib.util.spec_from_file_location(f"{homework.name}_mutants", homework.assignments / homework.name / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def tiny_kinds(homework: Homework) -> list[tuple[str, str, object]]:
    """kinds() for the scaffold of `grader new` (the `tiny` fixture): right answers (the reference,
    a loop version, the filled-in notebook, a folder), mistakes (a notebook half done, the
    scaffold's mutants), the same broken files and the same hostile code."""
    reference = homework.reference.read_text()
    items: list[tuple[str, str, object]] = [
        ("correct", "reference.py", reference),
        ("correct", "loops.py", TINY_LOOPS),
        ("correct", "notebook.ipynb", filled_template(homework=homework)),
        ("correct", "folder", ("folder", reference)),
        ("buggy", "partly-done.ipynb", tiny_partly_done_notebook(homework)),
    ]
    for mutant in tiny_mutants(homework):
        items.append(("buggy", f"{mutant.id}.py", apply(reference, mutant)))
    for name, text in BROKEN.items():
        if name == "syntax-error.py":
            text = "import numpy as np\n\ndef normalize(x, axis=-1)\n    return x\n"
        items.append(("broken", name, text if text is not None else b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 40))
    for case in sorted((c for c in HOSTILE if c.id in QUICK_HOSTILE), key=lambda c: QUICK_HOSTILE.index(c.id)):
        items.append(("hostile", f"{case.id}.py", hostile_source(case, reference, TINY_TARGETS.get(case.id))))
    return items


# A class of 20, repeated: 6 right answers, 8 with mistakes, 3 broken files, 3 hostile.
PATTERN = ["correct", "buggy", "correct", "buggy", "broken", "correct", "buggy", "hostile", "correct", "buggy",
           "buggy", "broken", "correct", "buggy", "hostile", "correct", "buggy", "broken", "buggy", "hostile"]


def make_class(folder: Path, count: int, homework: Homework = HW1) -> dict[str, tuple[str, str]]:
    """Write `count` students of `homework` into `folder` (created); {student name: (kind, label)}."""
    folder.mkdir(parents=True, exist_ok=True)
    by_kind: dict[str, list] = {}
    for kind, name, content in (kinds() if homework == HW1 else tiny_kinds(homework)):
        by_kind.setdefault(kind, []).append((name, content))
    used = {kind: 0 for kind in by_kind}
    written: dict[str, tuple[str, str]] = {}
    for index in range(count):
        kind = PATTERN[index % len(PATTERN)]
        name, content = by_kind[kind][used[kind] % len(by_kind[kind])]
        used[kind] += 1
        label, _, suffix = name.rpartition(".") if "." in name else (name, "", "")
        student = f"s{index:03d}-{label}"
        if isinstance(content, tuple):
            (folder / student).mkdir()
            (folder / student / f"{homework.module}.py").write_text(content[1])
        elif isinstance(content, nbformat.NotebookNode):
            nbformat.write(content, str(folder / f"{student}.ipynb"))
        elif isinstance(content, bytes):
            (folder / f"{student}.{suffix}").write_bytes(content)
        else:
            (folder / f"{student}.{suffix}").write_text(content)
        written[student] = (kind, label)
    return written


def copy_class(source: Path, target: Path) -> None:
    shutil.copytree(source, target)
