"""Who is in a class folder: each file or sub-folder is one student, named by its stem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

# Not students: what archives, editors and operating systems leave in a folder.
IGNORED_NAMES = {"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Student:
    """One student's submission: `path` is a file or a folder; `name` is unique in the class."""

    name: str
    path: Path


def read_roster(folder: Path, exclude: Path | None = None) -> tuple[list[Student], list[str]]:
    """The students of `folder`, sorted by name, and warnings about names that had to change.

    Hidden entries (a leading dot), IGNORED_NAMES and `exclude` (the output folder, when it
    sits inside `folder`) are not students. When two entries share a stem (alice.py and
    alice.ipynb), the first in name order is `alice` and the next is named in full
    (`alice.ipynb`), so that no student is lost.

    Raises:
        UsageError: `folder` does not exist or is not a folder.
    """
    if not folder.exists():
        raise UsageError(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: grade-all needs a folder holding one entry per student "
                         "(use `grader grade` for one submission)")
    excluded = exclude.resolve() if exclude is not None else None
    students: list[Student] = []
    taken: set[str] = set()
    warnings: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name in IGNORED_NAMES or (excluded and entry.resolve() == excluded):
            continue
        name = entry.name if entry.is_dir() else entry.stem
        if not name or name in taken:
            warnings.append(f"{entry.name}: another entry is already called {name!r}, so this one is named {entry.name!r}")
            name = entry.name
        taken.add(name)
        students.append(Student(name, entry))
    return students, warnings
