"""Class folders for the grade-all tests and benchmark: real submissions of every kind.

`make_class(folder, n)` writes `n` students, cycling through right answers (the reference, loop,
einsum and notebook versions), realistic mistakes (assignments/hw1/mutants.py), broken files and hostile
code (tests/hostile.py), each under its own name, in the shapes students submit: a .py file, a
notebook, or a folder holding hw1.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from conftest import REFERENCE_PATH, REPO, hw1_mutants
from grader.authoring.mutants import apply
from hostile import CASES as HOSTILE
from notebooks import filled_template, partly_done_notebook

CORRECT = REPO / "tests" / "submissions" / "correct"
BROKEN = {
    "syntax-error.py": "import numpy as np\n\ndef rnn_step(h_prev, c_t, W_h, W_c, nonlinearity='tanh')\n    return h_prev\n",
    "empty.py": "",
    "truncated.ipynb": '{"cells": [{"cell_type": "code", "source": "def rnn_step(',
    "binary.py": None,  # bytes, below
}


def _hostile_source(case) -> str:
    reference = REFERENCE_PATH.read_text()
    code = case.code.format(port=9, marker="HOSTILE")
    if case.where == "import":
        return reference + "\n\n" + code
    head = reference.index(f"def {case.where}(")
    end = reference.find("\n# %%", head)
    return reference[:head] + code + "\n\n" + reference[end:]


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
    order = ["fake-results-everywhere", "infinite-loop-in-function", "memory-bomb-in-function", "fork-bomb-at-import",
             "os-exit-in-function", "sys-exit-at-import", "infinite-loop-at-import"]
    quick_hostile = sorted((c for c in HOSTILE if c.id in order), key=lambda c: order.index(c.id))
    for case in quick_hostile:
        items.append(("hostile", f"{case.id}.py", _hostile_source(case)))
    return items


# A class of 20, repeated: 6 right answers, 8 with mistakes, 3 broken files, 3 hostile.
PATTERN = ["correct", "buggy", "correct", "buggy", "broken", "correct", "buggy", "hostile", "correct", "buggy",
           "buggy", "broken", "correct", "buggy", "hostile", "correct", "buggy", "broken", "buggy", "hostile"]


def make_class(folder: Path, count: int) -> dict[str, tuple[str, str]]:
    """Write `count` students into `folder` (created); {student name: (kind, label)}."""
    folder.mkdir(parents=True, exist_ok=True)
    by_kind: dict[str, list] = {}
    for kind, name, content in kinds():
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
            (folder / student / "hw1.py").write_text(content[1])
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
