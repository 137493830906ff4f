"""No student name collides with what `grader grade-all` writes itself (issue "Scores that cannot
be gamed", item 6): entries named like the gradebook or the summary are students like any other,
graded through the real CLI, and the batch's own files stay its own, run after run. The class is
of the small assignment of `grader new tiny` (the `tiny` fixture).
"""

from __future__ import annotations

import csv
import shutil
import unicodedata

from grading_helpers import run_grader

from grader.classroom.roster import read_roster


def test_entries_named_like_the_batch_outputs_are_students_and_the_outputs_stay_real(tiny, tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    shutil.copy(tiny.reference, folder / "alice.py")
    (folder / "bob.py").write_text("def normalize(x, axis=-1):\n    return x\n")
    (folder / "gradebook.csv.py").write_text("import numpy as np\n")
    (folder / "summary.html.py").write_text("")
    (folder / "Summary.HTML").mkdir()  # a folder: named in full, and that is taken too, ignoring case
    shutil.copy(tiny.reference, folder / "Summary.HTML" / "tiny.py")
    expected = {"alice", "bob", "gradebook.csv.py", "summary.html.py", "Summary.HTML-2"}
    for run in ("first", "rerun"):
        completed = run_grader(*tiny.option(), "grade-all", "tiny", folder, "--out", out, "--jobs", "2", timeout=300)
        assert completed.returncode == 0, (run, completed.stderr[-2000:])
        assert (out / "gradebook.csv").is_file() and (out / "summary.html").is_file()
        with open(out / "gradebook.csv", newline="") as handle:
            rows = {row["student"]: row for row in csv.DictReader(handle)}
        assert set(rows) == expected, run
        assert float(rows["alice"]["score"]) == float(rows["Summary.HTML-2"]["score"]) == 10.0
        assert float(rows["gradebook.csv.py"]["score"]) == 0
        assert "<html" in (out / "summary.html").read_text().lower()
        assert all((out / name / "record.json").is_file() for name in expected)
    assert "graded 0, reused 5 unchanged" in completed.stdout
    assert ("gradebook.csv.py: 'gradebook.csv' is the name of one of grade-all's own outputs, "
            "so this one is named 'gradebook.csv.py'") in completed.stderr


def test_names_differing_only_in_case_get_their_own_folders(tmp_path):
    for name in ("Alice.py", "alice.ipynb", "ALICE.py"):
        (tmp_path / name).write_text("")
    roster = read_roster(tmp_path, reserved=("gradebook.csv", "summary.html"))
    names = [student.name for student in roster.students]
    assert len({name.casefold() for name in names}) == 3
    assert names == ["ALICE", "Alice.py", "alice.ipynb"]
    assert roster.warnings == (
        "Alice.py: ALICE.py is already named 'ALICE' (names are compared ignoring case), so this one is named 'Alice.py'; both are graded",
        "alice.ipynb: ALICE.py is already named 'ALICE' (names are compared ignoring case), so this one is named 'alice.ipynb'; both are graded",
    )


def test_folders_whose_names_differ_only_in_how_accents_are_encoded_get_their_own_folders(tmp_path):
    composed, decomposed = unicodedata.normalize("NFC", "Zoë"), unicodedata.normalize("NFD", "Zoë")
    for name in (decomposed, composed):
        (tmp_path / name).mkdir()
    roster = read_roster(tmp_path)
    assert [student.name for student in roster.students] == [composed, f"{decomposed}-2"]  # the usual (NFC) one first
    assert roster.warnings == (f"{decomposed} and {composed} look the same but encode their accents differently "
                               f"(Unicode NFD and NFC): the NFC one is named '{composed}' and this one '{decomposed}-2'; "
                               "both are graded",)
