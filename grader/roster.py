"""Who is in a class folder: each file or sub-folder is one student, named by its stem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.safe_read import kind_of

# Not students: what archives, editors and operating systems leave in a folder.
IGNORED_NAMES = {"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Student:
    """One student's submission: `path` is a file or a folder; `name` is unique in the class."""

    name: str
    path: Path


def read_roster(folder: Path, exclude: Path | None = None,
                reserved: tuple[str, ...] = ()) -> tuple[list[Student], list[str]]:
    """The students of `folder`, sorted by name, and warnings about names that had to change.

    Hidden entries (a leading dot), IGNORED_NAMES and `exclude` (the output folder, when it
    sits inside `folder`) are not students. An entry is never followed: a symbolic link is a
    student named by its stem, whose submission is refused when graded (grader.safe_read).

    A student's name is the entry's stem (a folder's whole name). It must be unique ignoring
    case (`Alice` and `alice` would share one output folder on macOS) and must not be one of
    `reserved` (the batch's own outputs, such as gradebook.csv), ignoring case too. When the
    stem is taken (alice.py after alice.ipynb) or reserved (gradebook.csv.py), the entry is
    named in full (`alice.py`, `gradebook.csv.py`), else in full with `-2`, `-3`, ... (a
    folder called gradebook.csv becomes `gradebook.csv-2`), and a warning says so, so that no
    student is lost and no student overwrites the batch's outputs.

    Raises:
        UsageError: `folder` does not exist or is not a folder.
    """
    if not folder.exists():
        raise UsageError(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: grade-all needs a folder holding one entry per student "
                         "(use `grader grade` for one submission)")
    excluded = _places(exclude) if exclude is not None else set()
    real_folder = folder.resolve()
    students: list[Student] = []
    reserved_names = {name.casefold() for name in reserved}
    taken = set(reserved_names)
    warnings: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name in IGNORED_NAMES or real_folder / entry.name in excluded:
            continue
        stem, name = _stem(entry), student_name(entry, taken)
        if name != stem:
            why = (f"{stem!r} is the name of one of grade-all's own outputs" if stem.casefold() in reserved_names
                   else f"another entry is already called {stem!r}")
            warnings.append(f"{entry.name}: {why}, so this one is named {name!r}")
        taken.add(name.casefold())
        students.append(Student(name, entry))
    return students, warnings


def student_name(entry: Path, taken: set[str]) -> str:
    """The first of the entry's stem, its full name, then its full name with -2, -3, ... whose
    case-folded form is not in `taken`."""
    candidates = [_stem(entry), entry.name]
    number = 2
    while True:
        for candidate in candidates:
            if candidate and candidate.casefold() not in taken:
                return candidate
        candidates, number = [f"{entry.name}-{number}"], number + 1


def _stem(entry: Path) -> str:
    """The entry's name without its suffix; a folder's whole name. A link is not followed: it is named by its stem."""
    return entry.name if kind_of(entry) == "folder" else entry.stem


def _places(path: Path) -> set[Path]:
    """Where `path` is, as the class folder's listing would name it: with its parent resolved, and fully resolved."""
    return {path.parent.resolve() / path.name, path.resolve()}
