"""A class's grades as the CSV file each LMS imports, and the list of who is not in it.

Plain data in (`LmsRow`: a roster student's fields and score; `Unmatched`: a student left out
or without a grade), text out. Every file is UTF-8 CSV with CRLF line ends (RFC 4180), one
row per roster student, in the roster's order; a score is printed by `format_points` and an
empty cell is "no grade". Which roster column feeds which cell (the roster's columns are
defined in grader/classroom/lms_roster.py):

canvas — Canvas's Gradebook import (Grades > Import). Header `Student, ID, SIS User ID, SIS Login
    ID, Section`, then the assignment's column, then a `Points Possible` row, as in Canvas's own
    export. Canvas matches a row by `ID` (its user id), else `SIS User ID`, else `SIS Login ID`
    (name last); it fills the assignment whose id is in the column's header (`Homework 1 (12345)`)
    or whose name is the header, else creates one worth the Points Possible row. An empty cell
    against an existing grade is a change to "no grade", listed on Canvas's review page before
    anything is saved.
    Guide: https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807
    and https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades;
    the importer that reads the file: https://github.com/instructure/canvas-lms/blob/master/lib/gradebook_importer.rb
    (row_has_student_headers?, update_column_count, check_for_non_student_row, process_student)
    and ui/features/gradebook_uploads/jquery/process_gradebook_upload.js (what it posts).
moodle — Moodle's grade import (Grades > Import > CSV file). One column that identifies the user
    (`Email address`, `ID number` or `Username`, headed as Moodle's own export heads them, chosen
    in the import form's "Map from", with "Map to" set to the same field) and the grade column
    (mapped to a grade item, or to "new grade item"). An empty cell is "no grade": it clears an
    existing grade. A row whose identifier is empty is not skipped cleanly (the importer keeps the
    previous row's user), so every row must have one.
    Docs: https://docs.moodle.org/311/en/Grade_import; the importer:
    https://github.com/moodle/moodle/blob/main/grade/import/csv/classes/load_data.php
    (map_user_data_with_value, update_grade_item: '' or '-' is a null grade).
blackboard — Blackboard Learn's Grade Center upload (Work Offline > Upload), every field quoted.
    Header `Last Name, First Name, Username, Student ID`, as a Grade Center download begins,
    then the grade column. Rows are matched by Username alone (name changes are not processed);
    a column header that ends in `|<column id>` (`Homework 1 [Total Pts: 10 Score] |12345`,
    copied from a download) fills that column, any other header creates a new column (a text
    column worth 0 points in the Original view, to edit after the upload). The docs do not say
    what an empty cell does to an existing grade: it is written only where there is no grade.
    Docs: http://library.blackboard.com/ref/3ea64795-6ecc-4abd-b595-0a9a8dfdec94/Content/_instructor_grade_center/grade_center_upload_download.htm,
    http://library.blackboard.com/docs/r7/71/en_US/instructor/bbas_r7_1_instructor/upload_gradebook.htm
    and https://und.teamdynamix.com/TDClient/2048/IT/KB/ArticleDet?ID=59084 (the current text).
csv — a plain file for any other system: `student, id, score, max_score`.

Text that students or the LMS's users control (a student's name in the class folder, a display
name, a section) goes through `csv_cell`; an identifier (id, SIS id, login, email, username) is
written as the roster gives it, since the LMS matches it character for character.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from grader.points import format_points
from grader.report.escaping import csv_cell

# Moodle's "Identify user by" choices: the roster column each reads, and the header Moodle's own export gives it.
MOODLE_FIELDS = {"email": ("email", "Email address"), "idnumber": ("sis_id", "ID number"),
                 "username": ("username", "Username")}
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
BLACKBOARD_HEADER = ("Last Name", "First Name", "Username", "Student ID")
CSV_HEADER = ("student", "id", "score", "max_score")
UNMATCHED_HEADER = ("student", "problem", "score", "max_score", "detail")

# The problems an Unmatched entry names, in the order the listing gives them.
NOT_IN_ROSTER, NO_SUBMISSION, FAULTED, UNREADABLE = "not in roster", "no submission", "grader fault", "unreadable record"
PROBLEMS = (NOT_IN_ROSTER, NO_SUBMISSION, FAULTED, UNREADABLE)
MISSING_CHOICES = ("blank", "zero")  # the grade of a roster student with no graded submission: an empty cell, or 0


@dataclass(frozen=True)
class LmsRow:
    """One roster student as the export lists them: `fields` maps roster columns (`name`, `id`,
    `email`, ...) to their text, `score` is their points, or None for an empty cell."""

    student: str
    fields: Mapping[str, str]
    score: float | None


@dataclass(frozen=True)
class Unmatched:
    """A student the export leaves out or gives no grade: `problem` is one of PROBLEMS, `detail`
    says what the export did about it; `score` is the grade-all score when there is one."""

    student: str
    problem: str
    detail: str
    score: float | None = None
    max_score: float | None = None


@dataclass(frozen=True)
class LmsFormat:
    """What one LMS imports. `identifiers`: the roster columns that can identify a student in
    that LMS; the roster needs at least one of them, and every row a value in one it has.
    `fixed_headers`: the headers the grade column must not repeat. `write(rows, column,
    max_score)` is the file's text; `import_hint` says where it goes (a phrase)."""

    name: str
    lms: str
    identifiers: tuple[str, ...]
    fixed_headers: tuple[str, ...]
    write: Callable[[Sequence[LmsRow], str, float], str]
    import_hint: str


def _score(row: LmsRow) -> str:
    return "" if row.score is None else format_points(row.score)


def _text(row: LmsRow, column: str) -> str:
    """A roster cell a person typed or chose (a name, a section): safe from spreadsheets."""
    return csv_cell(row.fields.get(column, ""))


def _identifier(row: LmsRow, column: str) -> str:
    """A roster cell the LMS matches exactly: as given."""
    return row.fields.get(column, "")


def _writer(quoting: int = csv.QUOTE_MINIMAL) -> tuple[io.StringIO, csv.writer]:
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, lineterminator="\r\n", quoting=quoting)


def canvas_csv(rows: Sequence[LmsRow], column: str, max_score: float) -> str:
    """Canvas's gradebook CSV: the five student columns, the grade column, a Points Possible row."""
    buffer, writer = _writer()
    writer.writerow([*CANVAS_HEADER, column])
    writer.writerow(["Points Possible", "", "", "", "", format_points(max_score)])
    for row in rows:
        writer.writerow([_text(row, "name"), _identifier(row, "id"), _identifier(row, "sis_id"),
                         _identifier(row, "login"), _text(row, "section"), _score(row)])
    return buffer.getvalue()


def moodle_csv(rows: Sequence[LmsRow], column: str, max_score: float, identify_by: str = "email") -> str:
    """Moodle's grade import CSV: the identifier column `identify_by` (a MOODLE_FIELDS key), the grade column."""
    roster_column, header = MOODLE_FIELDS[identify_by]
    buffer, writer = _writer()
    writer.writerow([header, column])
    for row in rows:
        writer.writerow([_identifier(row, roster_column), _score(row)])
    return buffer.getvalue()


def blackboard_csv(rows: Sequence[LmsRow], column: str, max_score: float) -> str:
    """Blackboard Learn's Grade Center upload: every field quoted, Username the key."""
    buffer, writer = _writer(csv.QUOTE_ALL)
    writer.writerow([*BLACKBOARD_HEADER, column])
    for row in rows:
        writer.writerow([_text(row, "last_name"), _text(row, "first_name"), _identifier(row, "username"),
                         _identifier(row, "sis_id"), _score(row)])
    return buffer.getvalue()


def plain_csv(rows: Sequence[LmsRow], column: str, max_score: float) -> str:
    """student, id, score, max_score (`column` is not used: the header is fixed)."""
    buffer, writer = _writer()
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([csv_cell(row.student), _identifier(row, "id"), _score(row), format_points(max_score)])
    return buffer.getvalue()


FORMAT_NAMES = ("canvas", "moodle", "blackboard", "csv")


def lms_format(name: str, identify_by: str = "email") -> LmsFormat:
    """The format called `name` (one of FORMAT_NAMES); for moodle, identifying users by `identify_by`."""
    if name == "canvas":
        return LmsFormat("canvas", "Canvas", ("id", "sis_id", "login"), CANVAS_HEADER, canvas_csv,
                         "import it in Canvas: Grades > Import (Canvas lists the changes before it saves them)")
    if name == "moodle":
        roster_column, header = MOODLE_FIELDS[identify_by]
        return LmsFormat("moodle", "Moodle", (roster_column,), (header,),
                         lambda rows, column, max_score: moodle_csv(rows, column, max_score, identify_by),
                         f"import it in Moodle: Grades > Import > CSV file, mapping from '{header}' to "
                         f"'{header}' and the grade column to its grade item")
    if name == "blackboard":
        return LmsFormat("blackboard", "Blackboard Learn", ("username",), BLACKBOARD_HEADER, blackboard_csv,
                         "upload it in Blackboard Learn: Grade Center > Work Offline > Upload")
    if name == "csv":
        return LmsFormat("csv", "CSV", ("id",), CSV_HEADER, plain_csv, "for any other system")
    raise ValueError(f"unknown LMS format {name!r}")


def default_export_name(name: str) -> str:
    """The file `grader export gradebook` writes into OUT for format `name` unless told -o."""
    return f"gradebook-{name}.csv"


def unmatched_name(export_name: str) -> str:
    """The listing written beside the export `export_name`: `gradebook-canvas.unmatched.csv`."""
    stem = export_name[:-len(".csv")] if export_name.lower().endswith(".csv") else export_name
    return f"{stem}.unmatched.csv"


def unmatched_csv(entries: Sequence[Unmatched]) -> str:
    """student, problem, score, max_score, detail: one row per entry, by problem (PROBLEMS' order) then student."""
    buffer, writer = _writer()
    writer.writerow(UNMATCHED_HEADER)
    for entry in sorted(entries, key=lambda e: (PROBLEMS.index(e.problem), e.student)):
        writer.writerow([csv_cell(entry.student), entry.problem,
                         "" if entry.score is None else format_points(entry.score),
                         "" if entry.max_score is None else format_points(entry.max_score), csv_cell(entry.detail)])
    return buffer.getvalue()
