"""Who is in a class folder: each .py or .ipynb file and each sub-folder is one student, named by its stem."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.grading.safe_read import kind_of
from grader.grading.submission_finding import is_ignored, is_submission_entry


@dataclass(frozen=True)
class Student:
    """One student's submission: `path` is a file or a folder; `name` is unique in the class."""

    name: str
    path: Path


@dataclass(frozen=True)
class Roster:
    """A class folder, read: the students (in order of name), the entries that are not
    submissions (skipped, by name), and a warning for each student whose name had to change."""

    students: tuple[Student, ...]
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def read_roster(folder: Path, exclude: Path | None = None, reserved: tuple[str, ...] = ()) -> Roster:
    """The students of `folder`, with the entries skipped and warnings about names that had to change.

    A student is a .py or .ipynb file or a folder (whose file grader.grading.submission_finding
    chooses). Any other entry (`notes.txt`, `README.md`, a PDF) is skipped, by name. Hidden
    entries (a leading dot), the litter of archives and operating systems (`__MACOSX`,
    `Thumbs.db`, ...) and `exclude` (the output folder, when it sits inside `folder`) are
    neither students nor listed. An entry is never followed: a symbolic link is a student
    named by its stem (a link to a folder, or named .py/.ipynb), refused when graded
    (grader.grading.safe_read).

    A student's name is the entry's stem (a folder's whole name). Names are compared as the
    file systems of the course staff compare them: ignoring case (`Alice` and `alice` would
    share one output folder on macOS) and how accents are encoded (`José` composed, NFC, and
    decomposed, NFD, look the same). When the stem is taken (`alice.py` after `alice.ipynb`)
    or is one of `reserved` (the batch's own outputs, such as gradebook.csv), the entry is
    named in full (`alice.py`, `gradebook.csv.py`), else in full with `-2`, `-3`, ... (a
    folder called gradebook.csv becomes `gradebook.csv-2`), and one warning says so: every
    entry is graded under a name of its own, none overwrites another or the batch's outputs.

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
    owners: dict[str, tuple[str, str] | None] = {name_key(name): None for name in reserved}  # key -> (entry, name)
    students: list[Student] = []
    skipped: list[str] = []
    warnings: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: _order(p.name)):
        if is_ignored(entry.name) or real_folder / entry.name in excluded:
            continue
        if not is_submission_entry(entry):
            skipped.append(entry.name)
            continue
        stem, name = _stem(entry), student_name(entry, set(owners))
        if name != stem:
            warnings.append(_renamed(entry.name, stem, name, owners[name_key(stem)]))
        owners[name_key(name)] = (entry.name, name)
        students.append(Student(name, entry))
    return Roster(tuple(students), tuple(skipped), tuple(warnings))


def name_key(name: str) -> str:
    """What two names that would share a folder for the course staff have in common: the name
    ignoring case and how its accents are encoded (Unicode's canonical caseless match)."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


def student_name(entry: Path, taken: set[str]) -> str:
    """The first of the entry's stem, its full name, then its full name with -2, -3, ... whose
    name_key is not in `taken`."""
    candidates = [_stem(entry), entry.name]
    number = 2
    while True:
        for candidate in candidates:
            if candidate and name_key(candidate) not in taken:
                return candidate
        candidates, number = [f"{entry.name}-{number}"], number + 1


def _renamed(entry: str, stem: str, name: str, owner: tuple[str, str] | None) -> str:
    """The warning for `entry`, whose `stem` was taken (by `owner`: its entry and name; None:
    one of the batch's own outputs) and which is named `name` instead."""
    if owner is None:
        return f"{entry}: {stem!r} is the name of one of grade-all's own outputs, so this one is named {name!r}"
    other_entry, other_name = owner
    if other_name.casefold() != stem.casefold():
        # the same name key, so the same name with its accents encoded differently: the two look
        # the same, so the warning says how they differ and what each is called
        return (f"{entry} and {other_entry} look the same but encode their accents differently (Unicode NFD and NFC): "
                f"the NFC one is named {other_name!r} and this one "
                f"{name!r}; both are graded")
    why = "" if other_name == stem else " (names are compared ignoring case)"
    return f"{entry}: {other_entry} is already named {other_name!r}{why}, so this one is named {name!r}; both are graded"


def _order(name: str) -> tuple[str, bool, str]:
    """Entries in order of name as read (composed accents), an already composed name first: of
    two names that differ only in how accents are encoded, the usual (NFC) one keeps the stem."""
    composed = unicodedata.normalize("NFC", name)
    return composed, composed != name, name


def _stem(entry: Path) -> str:
    """The entry's name without its suffix; a folder's whole name. A link is not followed: it is named by its stem."""
    return entry.name if kind_of(entry) == "folder" else entry.stem


def _places(path: Path) -> set[Path]:
    """Where `path` is, as the class folder's listing would name it: with its parent resolved, and fully resolved."""
    return {path.parent.resolve() / path.name, path.resolve()}
