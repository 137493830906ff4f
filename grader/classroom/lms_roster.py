"""The roster `grader export gradebook` reads: who each student of the class folder is in the LMS.

A UTF-8 CSV file (a byte-order mark, as Excel writes, is fine), comma-separated, with a header
row. Column names are read ignoring case, surrounding spaces, and spaces or hyphens for `_`
(`SIS ID` is `sis_id`); columns not listed here are ignored; cells are stripped.

| column | what | used by |
|---|---|---|
| `student` | the student's name in the class folder, as grade-all names them (the file's stem, the folder's name; see grader/classroom/roster.py) | all: required |
| `name` | the name the LMS shows | canvas (`Student`) |
| `first_name`, `last_name` | | blackboard |
| `id` | the student's user id in the LMS (Canvas's numeric `ID`) | canvas, csv |
| `sis_id` | the institution's student id (Canvas's `SIS User ID`, Moodle's `ID number`, Blackboard's `Student ID`) | canvas, moodle --identify-by idnumber, blackboard |
| `login` | Canvas's `SIS Login ID` | canvas |
| `section` | | canvas |
| `email` | | moodle (the default identifier) |
| `username` | | blackboard (required), moodle --identify-by username |

Which identifier a format needs is grader.report.lms_gradebook.LmsFormat.identifiers.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from grader.classroom.roster import name_key
from grader.errors import UsageError

COLUMNS = ("student", "name", "first_name", "last_name", "id", "sis_id", "login", "section", "email", "username")
MAX_ROSTER_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class RosterEntry:
    """One row of the roster: the student's name in the class folder, their cells by
    (normalised) column name, and the line of the file it ends on (for messages)."""

    student: str
    fields: Mapping[str, str]
    line: int


@dataclass(frozen=True)
class LmsRoster:
    """The roster file `path`, read: its known columns (in the file's order) and its rows."""

    path: Path
    columns: tuple[str, ...]
    entries: tuple[RosterEntry, ...]


def column_name(header: str) -> str:
    """A header cell as a column name: `SIS ID` -> `sis_id`, ` Email ` -> `email`."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def read_lms_roster(path: Path) -> LmsRoster:
    """Read and check the roster at `path`.

    Raises:
        UsageError: the file is missing, not a UTF-8 comma-separated CSV, empty, without a
            `student` column or any student, with a row that names no student or has more
            cells than the header, or naming one student twice (ignoring case and how accents
            are encoded, as grade-all compares names).
    """
    if not path.exists():
        raise UsageError(f"roster {path} does not exist")
    if not path.is_file():
        raise UsageError(f"roster {path} is not a file: give a CSV file with a header row (student,...)")
    data = path.read_bytes()
    if len(data) > MAX_ROSTER_BYTES:
        raise UsageError(f"roster {path} is {len(data) // (1024 * 1024)} MiB: that is not a class roster")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"roster {path} is not a CSV text file (it is not UTF-8 text; from a spreadsheet, "
                         "save it as 'CSV UTF-8')") from None
    if not text.strip():
        raise UsageError(f"roster {path} is empty: give a CSV with a header row (student,...) and one row per student")
    try:
        rows = list(_rows(text))
    except csv.Error as error:
        raise UsageError(f"roster {path} is not a CSV file ({error})") from None
    (_, header), body = rows[0], rows[1:]
    names = [column_name(cell) for cell in header]
    if "student" not in names:
        separator = next((sep for sep in (";", "\t", "|") if sep in header[0]), None)
        hint = (f": it is separated by {separator!r}, a roster is comma-separated" if separator
                else f" (its columns: {', '.join(repr(cell) for cell in header[:8])})")
        raise UsageError(f"roster {path} has no 'student' column in its first line{hint}; the first line names the "
                         "columns, e.g. student,email")
    repeated = sorted({name for name in names if name in COLUMNS and names.count(name) > 1})
    if repeated:
        raise UsageError(f"roster {path} has the column {repeated[0]!r} twice")
    known = [(index, name) for index, name in enumerate(names) if name in COLUMNS]
    entries: list[RosterEntry] = []
    seen: dict[str, RosterEntry] = {}
    for line, cells in body:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells as spreadsheets leave at the end
        if len(cells) > len(header):
            raise UsageError(f"roster {path} line {line} has {len(cells)} cells, its header {len(header)}: "
                             "quote a cell that holds a comma")
        fields = {name: cells[index].strip() if index < len(cells) else "" for index, name in known}
        student = fields["student"]
        if not student:
            raise UsageError(f"roster {path} line {line} has no student name (its 'student' cell is empty)")
        entry = RosterEntry(student, fields, line)
        other = seen.get(name_key(student))
        if other is not None:
            how = "" if other.student == student else f" ({other.student!r} and {student!r}: names are compared " \
                                                      "ignoring case and accent encoding, as grade-all names folders)"
            raise UsageError(f"roster {path} lines {other.line} and {line} both name the student {student!r}{how}")
        seen[name_key(student)] = entry
        entries.append(entry)
    if not entries:
        raise UsageError(f"roster {path} lists no students: only its header")
    return LmsRoster(path, tuple(name for _, name in known), tuple(entries))


def _rows(text: str):
    """(line the row ends on, cells) for each row of `text`."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    for cells in reader:
        yield reader.line_num, cells


def check_identifiers(roster: LmsRoster, identifiers: tuple[str, ...], format_name: str) -> tuple[str, ...]:
    """The columns of `identifiers` the roster has, after checking that it has one, that every
    row has a value in one of them, and that no value of one is given to two students.

    Raises:
        UsageError: naming the column the format needs, or the row or value at fault.
    """
    present = tuple(column for column in identifiers if column in roster.columns)
    if not present:
        needed = " or ".join(repr(column) for column in identifiers)
        raise UsageError(f"roster {roster.path} has no {needed} column: --format {format_name} identifies students "
                         f"by {'one of them' if len(identifiers) > 1 else 'it'} (the README lists each format's columns)")
    for entry in roster.entries:
        if not any(entry.fields[column] for column in present):
            which = " and ".join(repr(column) for column in present)
            raise UsageError(f"roster {roster.path} line {entry.line} ({entry.student}): {which} "
                             f"{'are' if len(present) > 1 else 'is'} empty, and --format {format_name} needs it to "
                             "find the student")
    for column in present:
        owners: dict[str, RosterEntry] = {}
        for entry in roster.entries:
            value = entry.fields[column]
            if value and value in owners:
                raise UsageError(f"roster {roster.path} lines {owners[value].line} and {entry.line} give the same "
                                 f"{column} {value!r} to {owners[value].student} and {entry.student}")
            owners.setdefault(value, entry)
    return present
