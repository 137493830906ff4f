"""`grader export gradebook`: the roster's students with their grade-all scores, and everyone
the export leaves out or gives no grade, never silently dropped.

A roster student and a record are the same student when their names are (ignoring case and how
accents are encoded, as grade-all names folders: grader.classroom.roster.name_key). Every roster
student gets a row, in the roster's order:

- graded: their score;
- no record (nothing of theirs in the class folder, so nothing graded): an empty cell, or 0
  with `missing="zero"`; listed as "no submission";
- a record of a grader fault, or a record.json that cannot be read: an empty cell, whatever
  `missing` says (the grader, not the student, failed: a 0 would be a grade nobody gave);
  listed as "grader fault" or "unreadable record".

A record whose student is not in the roster has no LMS id: it is not in the export, and is
listed as "not in roster" with its score, so that it can be added by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.classroom.batch import GRADER_FAULT
from grader.classroom.class_records import ClassRecords
from grader.classroom.lms_roster import LmsRoster
from grader.classroom.roster import name_key
from grader.report.lms_gradebook import (FAULTED, MISSING_CHOICES, NO_SUBMISSION, NOT_IN_ROSTER, UNREADABLE, LmsRow,
                                         Unmatched)


@dataclass(frozen=True)
class LmsExport:
    """The export's rows (one per roster student, in the roster's order) and who is listed beside it."""

    rows: tuple[LmsRow, ...]
    unmatched: tuple[Unmatched, ...]

    def listed(self, problem: str) -> list[Unmatched]:
        return [entry for entry in self.unmatched if entry.problem == problem]


def match_grades(roster: LmsRoster, class_records: ClassRecords, max_score: float, missing: str = "blank") -> LmsExport:
    """The rows and listing of the module docstring; `max_score` is the assignment's."""
    if missing not in MISSING_CHOICES:
        raise ValueError(f"missing must be one of {MISSING_CHOICES}, not {missing!r}")
    records = {name_key(name): record for name, record in class_records.records.items()}
    unreadable = {name_key(name): (name, reason) for name, reason in class_records.unreadable.items()}
    rows: list[LmsRow] = []
    unmatched: list[Unmatched] = []
    for entry in roster.entries:
        key = name_key(entry.student)
        record = records.pop(key, None)
        score: float | None = None
        if record is not None and record.get("status") == GRADER_FAULT:
            unmatched.append(Unmatched(record["student"], FAULTED, "the grader itself failed on this submission, so it "
                                       "has no grade: exported with an empty grade; run grade-all again to grade it",
                                       max_score=max_score))
        elif record is not None:
            score = float(record["score"])
        elif key in unreadable:
            folder, reason = unreadable.pop(key)
            unmatched.append(Unmatched(folder, UNREADABLE, f"{reason}: exported with an empty grade; run grade-all "
                                       "again to grade it", max_score=max_score))
        else:
            score = 0.0 if missing == "zero" else None
            unmatched.append(Unmatched(entry.student, NO_SUBMISSION, "in the roster, but no graded submission: exported "
                                       f"with {'a grade of 0' if missing == 'zero' else 'an empty grade'}",
                                       score, max_score))
        rows.append(LmsRow(entry.student, entry.fields, score))
    for record in records.values():
        fault = " (and the grader failed on this submission)" if record.get("status") == GRADER_FAULT else ""
        unmatched.append(Unmatched(record["student"], NOT_IN_ROSTER, f"graded but not in the roster{fault}: not "
                                   "exported; add them to the roster and export again",
                                   float(record["score"]), float(record["max_score"])))
    for folder, reason in unreadable.values():
        unmatched.append(Unmatched(folder, UNREADABLE, f"{reason}; not in the roster either: not exported"))
    return LmsExport(tuple(rows), tuple(unmatched))
