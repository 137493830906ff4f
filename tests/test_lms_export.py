"""`grader export gradebook`: a class's grades as the CSV each LMS imports, checked against the
formats' documentation (cited in grader/report/lms_gradebook.py), with nobody silently dropped.

One class of the small `tiny` assignment is graded once for the module by a real `grader
grade-all`; every format is exported from it through the real CLI. The class: a right answer
(alice), a name that a spreadsheet would take for a formula (=cmd, a syntax error: 0 points),
a name the roster writes in another case (Dana, roster: dana), a graded student the roster
lacks (@zed), a student the grader failed on (faulty: the record grade-all writes for a grader
fault, written with its own fault_files), and a record.json that cannot be read (broken). The
roster also names carol, who submitted nothing.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from grader.classroom.batch import CLASS_FILES, fault_files, write_student_files
from grader.classroom.roster import Student, read_roster
from grader.cli import main
from grader.grading.assignment import load_assignment
from grading_helpers import run_grader

FIELDS = ("student", "name", "first_name", "last_name", "id", "sis_id", "login", "section", "email", "username")
ROSTER = [  # the roster's rows, in its order: what each export lists, in this order
    ("alice", "Liddell, Alice", "Alice", "Liddell", "101", "S101", "aliddell", "Section A", "alice@uni.edu", "aliddell"),
    ("=cmd", "Cmd Person", "Cmd", "Person", "102", "S102", "cperson", "Section A", "cmd@uni.edu", "cperson"),
    ("dana", "Dana Scully", "Dana", "Scully", "103", "S103", "dscully", "Section B", "dana@uni.edu", "dscully"),
    ("carol", "Carol Danvers", "Carol", "Danvers", "104", "S104", "cdanvers", "Section B", "carol@uni.edu", "cdanvers"),
    ("faulty", "Fay Ulty", "Fay", "Ulty", "105", "S105", "fulty", "Section B", "fay@uni.edu", "fulty"),
    ("broken", "Bro Ken", "Bro", "Ken", "106", "S106", "bken", "Section B", "bro@uni.edu", "bken"),
]
SCORES = {"alice": "10", "=cmd": "0", "dana": "10", "carol": "", "faulty": "", "broken": ""}  # blank: no grade
# who the .unmatched.csv beside each export lists, and why (a formula-like name escaped as in every text cell)
UNMATCHED = {("'@zed", "not in roster"), ("carol", "no submission"), ("faulty", "grader fault"),
             ("broken", "unreadable record")}


def write_roster(path: Path, rows=ROSTER, fields=FIELDS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows(row[:len(fields)] for row in rows)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory, tiny):
    """(out, roster): the class of the module docstring, graded by `grader grade-all`, and its roster."""
    root = tmp_path_factory.mktemp("lms")
    folder, out = root / "class", root / "out"
    folder.mkdir()
    for name in ("alice.py", "Dana.py", "@zed.py"):
        shutil.copy(tiny.reference, folder / name)
    (folder / "=cmd.py").write_text("def normalize(\n")
    completed = run_grader(*tiny.option(), "grade-all", "tiny", folder, "--out", out, "--jobs", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr
    assignment = load_assignment("tiny", tiny.assignments)
    (folder / "faulty.py").write_text(tiny.reference.read_text())
    key = {"submission": "0" * 64, "assignment": "0" * 64}
    write_student_files(out / "faulty", fault_files(assignment, Student("faulty", folder / "faulty.py"), key,
                                                    "RuntimeError: the grader broke"))
    (out / "broken").mkdir()
    (out / "broken" / "record.json").write_text("{\"student\": ")
    return out, write_roster(root / "roster.csv")


def export(graded, tiny, fmt: str, *extra: str):
    """Run the export; its exit status, stdout, stderr, the file's text and the listing's rows."""
    out, roster = graded
    completed = run_grader(*tiny.option(), "export", "gradebook", "tiny", out, "--format", fmt, "--roster", roster,
                           *extra)
    assert completed.returncode == 0, completed.stderr
    written = out / f"gradebook-{fmt}.csv"
    if "-o" in extra:
        written = Path(extra[extra.index("-o") + 1])
    listing = written.with_name(written.name[:-len(".csv")] + ".unmatched.csv")
    with open(listing, newline="", encoding="utf-8") as handle:
        listed = list(csv.DictReader(handle))
    return completed, written.read_bytes().decode("utf-8"), listed


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_canvas_file_has_canvass_columns_points_possible_row_and_a_row_per_roster_student(graded, tiny):
    completed, text, listed = export(graded, tiny, "canvas")
    rows = rows_of(text)
    # Canvas's importer: "Student" then "ID" first, "SIS User ID" and "SIS Login ID" next, "Section" last of the
    # student columns, then one column per assignment; a row whose first cell says "Points Possible" is not a student
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "tiny"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10"]
    expected = [[name, canvas_id, sis, login, section, SCORES[student]]
                for student, name, _, _, canvas_id, sis, login, section, _, _ in ROSTER]
    assert rows[2:] == expected
    assert text.endswith("\r\n") and text.count("\r\n") == len(rows)  # RFC 4180 line ends
    assert {(row["student"], row["problem"]) for row in listed} == UNMATCHED
    assert "in the column 'tiny' (out of 10 points)" in completed.stdout and "Grades > Import" in completed.stdout


def test_canvas_column_names_an_existing_assignment_by_id(graded, tiny, tmp_path):
    target = tmp_path / "canvas grades.csv"
    _, text, _ = export(graded, tiny, "canvas", "--column", "Homework 1 (12345)", "-o", str(target))
    assert rows_of(text)[0][-1] == "Homework 1 (12345)"  # Canvas reads the id in parentheses at the end
    assert (tmp_path / "canvas grades.unmatched.csv").is_file()


def test_moodle_file_is_an_identifier_column_and_the_grade(graded, tiny):
    completed, text, _ = export(graded, tiny, "moodle")
    rows = rows_of(text)
    assert rows[0] == ["Email address", "tiny"]  # the header Moodle's own export gives the email field
    assert rows[1:] == [[email, SCORES[student]] for student, *_, email, _ in ROSTER]
    assert "mapping from 'Email address' to 'Email address'" in completed.stdout
    _, text, _ = export(graded, tiny, "moodle", "--identify-by", "username", "--column", "Homework 1")
    assert rows_of(text) == [["Username", "Homework 1"]] + [[user, SCORES[student]] for student, *_, user in ROSTER]


def test_blackboard_file_quotes_every_field_and_keys_rows_by_username(graded, tiny):
    completed, text, _ = export(graded, tiny, "blackboard")
    lines = text.split("\r\n")
    assert lines[0] == '"Last Name","First Name","Username","Student ID","tiny"' and lines[-1] == ""
    for line in lines[:-1]:  # comma-delimited upload files: every field within a quote character
        assert line.startswith('"') and line.endswith('"') and line.count('","') == 4, line
    assert rows_of(text)[1:] == [[last, first, user, sis, SCORES[student]]
                                 for student, _, first, last, _, sis, _, _, _, user in ROSTER]
    # a header without "|<column id>" creates a new column: the instructor is told what that column will be
    assert "creates a new column" in completed.stderr and "worth 0 points" in completed.stderr
    completed, text, _ = export(graded, tiny, "blackboard", "--column", "Homework 1 [Total Pts: 10 Score] |12345")
    assert rows_of(text)[0][-1] == "Homework 1 [Total Pts: 10 Score] |12345"
    assert "creates a new column" not in completed.stderr


def test_plain_csv_escapes_formula_names_and_the_listing_keeps_everyone_left_out(graded, tiny):
    completed, text, listed = export(graded, tiny, "csv")
    rows = rows_of(text)
    assert rows[0] == ["student", "id", "score", "max_score"]
    assert rows[1:] == [["'=cmd" if student == "=cmd" else student, canvas_id, SCORES[student], "10"]
                        for student, _, _, _, canvas_id, *_ in ROSTER]
    by_student = {row["student"]: row for row in listed}
    assert set(by_student) == {"'@zed", "carol", "faulty", "broken"}  # the formula-like name escaped here too
    assert by_student["'@zed"]["problem"] == "not in roster" and by_student["'@zed"]["score"] == "10"
    assert by_student["carol"]["problem"] == "no submission" and by_student["carol"]["score"] == ""
    assert by_student["faulty"]["problem"] == "grader fault"
    assert by_student["broken"]["problem"] == "unreadable record" and "record.json" in by_student["broken"]["detail"]
    stderr = completed.stderr
    assert "not in the roster, so not in the export: @zed" in stderr
    assert "no graded submission, exported with an empty grade: carol" in stderr
    assert "fault of the grader" in stderr and "faulty" in stderr and "broken" in stderr


def test_missing_zero_gives_non_submitters_zero_but_never_a_grader_fault(graded, tiny):
    _, text, listed = export(graded, tiny, "csv", "--missing", "zero")
    scores = {row[0]: row[2] for row in rows_of(text)[1:]}
    assert scores["carol"] == "0" and scores["faulty"] == "" and scores["broken"] == "" and scores["alice"] == "10"
    assert {row["student"]: row["score"] for row in listed}["carol"] == "0"


def test_the_default_exports_are_names_grade_all_never_gives_a_student(tmp_path):
    (tmp_path / "gradebook-canvas.csv.py").write_text("")
    (tmp_path / "gradebook-moodle.unmatched.csv").mkdir()
    assert {"gradebook-canvas.csv", "gradebook-moodle.unmatched.csv", "gradebook-csv.csv"} <= set(CLASS_FILES)
    names = {student.name for student in read_roster(tmp_path, reserved=CLASS_FILES).students}
    assert names == {"gradebook-canvas.csv.py", "gradebook-moodle.unmatched.csv-2"}


def usage_error(*argv: str) -> str:
    """Run the CLI as a subprocess, expect exit 2 and one line on stderr; the line."""
    completed = run_grader(*argv)
    assert completed.returncode == 2 and completed.stdout == "", completed
    lines = completed.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grader: error: "), lines
    return lines[0]


def test_a_roster_without_the_formats_column_or_not_a_csv_or_naming_a_student_twice_is_a_usage_error(
        graded, tiny, tmp_path):
    out, _ = graded
    base = (*tiny.option(), "export", "gradebook", "tiny", str(out))
    no_username = write_roster(tmp_path / "no-username.csv", fields=FIELDS[:-1])
    assert "no 'username' column" in usage_error(*base, "--format", "blackboard", "--roster", str(no_username))
    spreadsheet = tmp_path / "roster.xlsx"
    spreadsheet.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\xc7\xff\xfe")
    assert "is not a CSV text file" in usage_error(*base, "--format", "canvas", "--roster", str(spreadsheet))
    twice = write_roster(tmp_path / "twice.csv", rows=ROSTER + [("Alice",) + ROSTER[0][1:4] + ("999",) + ROSTER[0][5:]])
    message = usage_error(*base, "--format", "canvas", "--roster", str(twice))
    assert "lines 2 and 8 both name the student" in message and "'alice' and 'Alice'" in message
    assert "invalid choice: 'sakai'" in usage_error(*base, "--format", "sakai", "--roster", str(twice))


@pytest.mark.parametrize("roster_text, extra, message", [
    ("", (), "is empty"),
    ("student,id\n", (), "lists no students"),
    ("student;id\nalice;101\n", (), "separated by ';'"),
    ("name,id\nAlice,101\n", (), "no 'student' column"),
    ("student,name\nalice,Alice\n", (), "no 'id' or 'sis_id' or 'login' column"),
    ("student,id,login\nalice,101,\ncarol,,\n", (), "line 3 (carol): 'id' and 'login' are empty"),
    ("student,id\nalice,101\ncarol,101\n", (), "lines 2 and 3 give the same id '101'"),
    ("student,id\nalice,101,extra\n", (), "line 2 has 3 cells"),
    ("student,email\nalice,a@uni.edu\n", ("--format", "moodle", "--identify-by", "idnumber"), "no 'sis_id' column"),
    ("student,id\nalice,101\n", ("--identify-by", "email"), "--identify-by is for --format moodle"),
    ("student,id\nalice,101\n", ("--column", "Section"), "one of the Canvas file's own columns"),
    ("student,id\nalice,101\n", ("--format", "csv", "--column", "Homework"), "--column does not apply"),
])
def test_roster_and_option_mistakes_are_one_line_and_exit_2(graded, tiny, tmp_path, capsys, roster_text, extra,
                                                              message):
    """The same checks in-process through the CLI's entry point (main), to spare a process each."""
    out, _ = graded
    roster = tmp_path / "roster.csv"
    roster.write_text(roster_text)
    argv = [*tiny.option(), "export", "gradebook", "tiny", str(out), "--roster", str(roster), *extra]
    if "--format" not in extra:
        argv += ["--format", "canvas"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and message in captured.err, captured.err


def test_an_out_without_records_or_an_output_over_the_roster_is_a_usage_error(graded, tiny, tmp_path, capsys):
    _, roster = graded
    empty = tmp_path / "empty"
    empty.mkdir()
    base = [*tiny.option(), "export", "gradebook", "tiny"]
    assert main([*base, str(empty), "--format", "csv", "--roster", str(roster)]) == 2
    assert "holds no student records" in capsys.readouterr().err
    assert main([*base, str(graded[0]), "--format", "csv", "--roster", str(roster), "-o", str(roster)]) == 2
    assert "would overwrite the roster" in capsys.readouterr().err
    assert not list(empty.iterdir())
