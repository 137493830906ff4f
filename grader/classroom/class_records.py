"""The records `grader grade-all` wrote into OUT, read back: one per graded student.

`OUT/<student>/record.json` (grader/classroom/batch.py, `student_record`) holds the student's
name, `status` ("graded", or "grader fault" when the grader itself failed on the submission:
score 0 that is not the student's), `score`, `max_score` and the `points` of each function. A
folder without a record.json is not a graded student (a run stopped before it finished, or a
folder of something else) and is not read; a record.json that cannot be read is named, with why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grader.classroom.batch import GRADER_FAULT, RECORD
from grader.errors import UsageError
from grader.model import Assignment

MAX_RECORD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ClassRecords:
    """`records`: each readable record, by student name, in order of name; `unreadable`: the
    folder name of each record.json that could not be read, with the reason."""

    records: dict[str, dict]
    unreadable: dict[str, str]


def read_class_records(out: Path, assignment: Assignment) -> ClassRecords:
    """Every record in `out`, checked to be of `assignment` as it is now.

    Raises:
        UsageError: `out` is not a folder, holds no record at all, or holds a record of
            other functions or another maximum than the assignment's (graded for another
            assignment, or before its points changed).
    """
    if not out.exists():
        raise UsageError(f"{out} does not exist: give the folder that `grader grade-all {assignment.name} FOLDER "
                         f"--out OUT` wrote")
    if not out.is_dir():
        raise UsageError(f"{out} is not a folder: give the folder that grade-all wrote (its --out)")
    records: dict[str, dict] = {}
    unreadable: dict[str, str] = {}
    for folder in sorted(out.iterdir()):
        path = folder / RECORD
        if folder.name.startswith(".") or folder.is_symlink() or not folder.is_dir() or not path.exists():
            continue
        record, problem = _read(path)
        if record is None:
            unreadable[folder.name] = problem
            continue
        _check_assignment(path, record, assignment)
        records[record["student"]] = record
    if not records and not unreadable:
        raise UsageError(f"{out} holds no student records (<student>/{RECORD}): run "
                         f"`grader grade-all {assignment.name} FOLDER --out {out}` first")
    return ClassRecords(dict(sorted(records.items())), unreadable)


def _read(path: Path) -> tuple[dict | None, str]:
    """The record at `path`, or None and why it could not be read."""
    try:
        if path.is_symlink() or not path.is_file():
            return None, f"{RECORD} is not a regular file"
        if path.stat().st_size > MAX_RECORD_BYTES:
            return None, f"{RECORD} is larger than any record grade-all writes"
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return None, f"{RECORD} could not be read ({type(error).__name__}: {error})"
    if not isinstance(record, dict):
        return None, f"{RECORD} is not a record (not a JSON object)"
    missing = [key for key in ("student", "status", "score", "max_score", "points") if key not in record]
    if missing:
        return None, f"{RECORD} lacks {', '.join(missing)}"
    if not isinstance(record["student"], str) or not isinstance(record["points"], dict) or not all(
            isinstance(record[key], (int, float)) and not isinstance(record[key], bool) for key in ("score", "max_score")):
        return None, f"{RECORD} has a field of the wrong type"
    return record, ""


def _check_assignment(path: Path, record: dict, assignment: Assignment) -> None:
    if set(record["points"]) != set(assignment.points):
        raise UsageError(f"{path} grades the functions {', '.join(sorted(record['points']))}, not those of "
                         f"{assignment.name} ({', '.join(assignment.points)}): is this the output of "
                         f"`grader grade-all {assignment.name}`?")
    if abs(float(record["max_score"]) - assignment.max_score) > 1e-9:
        raise UsageError(f"{path} was graded out of {record['max_score']:g} points, but {assignment.name} is worth "
                         f"{assignment.max_score:g} now: run `grader grade-all {assignment.name}` again")
