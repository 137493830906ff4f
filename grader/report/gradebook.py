"""gradebook.csv (contract §2): a row per student: student, score, max_score, one column per function, then notes.

The text cells (`student`, a file stem the student chose, and `notes`, which quote what their
code raised) go through `csv_cell` (grader/report/escaping.py): one that starts like a
spreadsheet formula gets a leading `'`. The number cells are the grader's own and stay numbers.
"""

from __future__ import annotations

import csv
import io
from typing import Mapping, Sequence

from grader.points import format_points
from grader.report.escaping import csv_cell, plain_text

MAX_NOTES_CHARS = 500


def gradebook_csv(records: Sequence[dict], functions: Mapping[str, float]) -> str:
    """The CSV text. `notes` (last) says why a submission earned less than its code might: a file
    that could not be read, a cell that failed, a fault of the grader; empty when there is nothing to say."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *functions, "notes"])
    for record in records:
        scores = record.get("functions", {})
        notes = plain_text(" | ".join(record.get("notes", [])))
        if len(notes) > MAX_NOTES_CHARS:
            notes = notes[: MAX_NOTES_CHARS - 1] + "…"
        writer.writerow([csv_cell(record["student"]), format_points(record["score"]), format_points(record["max_score"]),
                         *(format_points(scores.get(name, 0.0)) for name in functions), csv_cell(notes)])
    return buffer.getvalue()
