"""Which file of a submission is graded, and who is in a class folder (issue 14, points 4 to 6).

One rule (grader/grading/submission_finding.py), seen through the real command lines: `grader grade` on
a folder, `grader grade-all`, Gradescope's entry point (`python -m grader.distribute.gradescope`) and
`grader check` grade the same file of the same folder and say the same thing about it. A class
folder's stray files are skipped and named before grading; two names that differ only in how
their accents are encoded are two students with visibly different names and one warning,
printed before the progress bar.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from conftest import REPO
from grading_helpers import assert_valid_results, run_grader

TEMPLATE = REPO / "student_template" / "hw1"
# Right for one function only, lm_inputs_and_targets: 3 points, and 1 of the public tests.
TINY = ("def lm_inputs_and_targets(token_ids, pad_id):\n"
        "    targets = token_ids[:, 1:]\n"
        "    return token_ids[:, :-1], targets, targets != pad_id\n")
TINY_SCORE = 3.0

# Submission folders as students make them: what they hold, and what every path says about them.
SHAPES: dict[str, dict[str, str | bytes]] = {
    "only": {  # a lone solution.py, next to what the template and the tools leave
        "solution.py": TINY, "test_public.py": (TEMPLATE / "test_public.py").read_text(), "notes.txt": "done!\n",
        "__pycache__/solution.cpython-311.pyc": b"\0", ".ipynb_checkpoints/hw1-checkpoint.ipynb": "{}", ".DS_Store": b"\0",
    },
    "nested": {  # GitHub's "Download ZIP", unpacked on a Mac
        "hw1-main/hw1.py": TINY, "hw1-main/README.md": "# hw1\n", "__MACOSX/hw1-main/._hw1.py": b"\0",
    },
    "two": {"a.py": TINY, "b.py": TINY},
}
NOTES = {
    "only": "The submission holds no hw1.py or hw1.ipynb, so solution.py, its only .py or .ipynb file, was used "
            "instead: name it hw1.py next time.",
    "nested": "The submission holds no file to grade but one folder, hw1-main/, so hw1-main/hw1.py was used: "
              "next time submit hw1.py itself, not the folder around it.",
}
TWO_FILES = ("the folder holds neither hw1.py nor hw1.ipynb but 2 other .py or .ipynb files (a.py, b.py): "
             "rename the one you want graded to hw1.py (a notebook: hw1.ipynb)")
STRAY = {"notes.txt": "to do\n", "README.md": "# class\n", "syllabus.pdf": b"%PDF-1.4\n", ".DS_Store": b"\0",
         "__MACOSX/._only": b"\0"}
NFC, NFD = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    """One grade-all run over a class holding every shape, stray files, and names that clash."""
    root = tmp_path_factory.mktemp("finding")
    folder, out = root / "class", root / "out"
    for shape, files in SHAPES.items():
        write(folder / shape, files)
    write(folder, {f"{NFC}.py": TINY, f"{NFD}.py": "", "alice.py": "", "alice/hw1.py": TINY, **STRAY})
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "2", timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return root, out, completed, rows


def gradescope(root: Path, files: dict[str, str | bytes]) -> dict:
    """Gradescope's entry point on an upload of `files`, in a root laid out like /autograder; its results.json."""
    from grader.grading.assignment import load_assignment
    from grader.distribute.export import payload

    for name, content in payload(load_assignment("hw1", REPO / "assignments")).items():
        write(root / "source", {name: content})
    write(root / "submission", files)
    completed = subprocess.run([sys.executable, "-m", "grader.distribute.gradescope", "hw1", str(root)], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def check(folder: Path) -> subprocess.CompletedProcess:
    """`grader check` with no argument in a copy of the template whose hw1.py and hw1.ipynb are gone."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's grader, wherever the student's folder is
    return run_grader("check", cwd=folder, timeout=120, env=env)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_grade_grade_all_gradescope_and_check_grade_the_same_file_and_say_the_same(class_run, tmp_path, shape):
    _, out, _, rows = class_run
    files = SHAPES[shape]
    graded = shape != "two"
    expected = NOTES[shape] if graded else f"Nothing could be graded: {TWO_FILES}."

    results_path = tmp_path / "results.json"
    completed = run_grader("grade", "hw1", write(tmp_path / shape, files), "--results-json", results_path, "--quiet")
    assert completed.returncode == 0, completed.stderr
    by_grade = json.loads(results_path.read_text())
    by_gradescope = gradescope(tmp_path / "autograder", files)
    by_grade_all = json.loads((out / shape / "results.json").read_text())
    for results in (by_grade, by_gradescope, by_grade_all):
        assert_valid_results(results)
        assert results["score"] == (TINY_SCORE if graded else 0.0)
        assert expected in results["output"]
    assert rows[shape]["notes"] == expected and float(rows[shape]["score"]) == (TINY_SCORE if graded else 0.0)

    homework = tmp_path / "homework"
    shutil.copytree(TEMPLATE, homework)
    (homework / "hw1.py").unlink()
    (homework / "hw1.ipynb").unlink()
    checked = check(write(homework, files))
    if graded:  # the file was found and run: its one right function passes its public test
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert f"note: {NOTES[shape]}" in checked.stdout and "\n1 of 29 public tests pass." in checked.stdout
    else:  # nothing to check is a usage error: one line, naming the files and what to rename
        assert checked.returncode == 2 and checked.stdout == ""
        assert checked.stderr.count("\n") == 1 and TWO_FILES in checked.stderr


def test_grade_all_skips_files_that_are_not_submissions_and_says_so_before_grading(class_run):
    _, out, completed, rows = class_run
    assert not {"notes", "README", "syllabus", ".DS_Store", "__MACOSX"} & set(rows)
    assert not (out / "notes").exists() and not (out / "README").exists()
    line = ("skipped 3 entries that are not submissions (not a .py or .ipynb file or a folder): "
            "README.md, notes.txt, syllabus.pdf")
    assert completed.stderr.count(line) == 1 and f"grader: note: {line}\n" in completed.stderr
    assert completed.stderr.index(line) < completed.stderr.index("grading 7 of 7")  # before the progress bar
    assert f"<li>{line}</li>" in (out / "summary.html").read_text()
    assert completed.stdout.startswith("7 students: graded 7")


def test_names_that_differ_only_in_how_accents_are_encoded_are_two_students_and_one_warning(class_run):
    _, out, completed, rows = class_run
    assert NFC != NFD and NFC.encode() != NFD.encode()
    # The usual (composed) name keeps the stem; the other is named in full: visibly different rows.
    assert float(rows[NFC]["score"]) == TINY_SCORE and float(rows[f"{NFD}.py"]["score"]) == 0.0
    assert NFD not in rows and f"{NFC}.py" not in rows
    assert (out / NFC / "results.json").is_file() and (out / f"{NFD}.py" / "results.json").is_file()
    warning = (f"{NFD}.py and {NFC}.py look the same but encode their accents differently (Unicode NFD and NFC): "
               f"the NFC one is named '{NFC}' and this one '{NFD}.py'; both are graded")
    assert completed.stderr.count("grader: warning: ") == 2  # this one and alice's, each once
    assert completed.stderr.count(warning) == 1
    assert completed.stderr.index(warning) < completed.stderr.index("grading 7 of 7")
    assert warning in (out / "summary.html").read_text().replace("&#39;", "'")


def test_a_folder_and_a_file_with_the_same_stem_are_both_graded_with_one_warning_before_grading(class_run):
    _, _, completed, rows = class_run
    assert float(rows["alice"]["score"]) == TINY_SCORE  # the folder alice/, holding hw1.py
    assert float(rows["alice.py"]["score"]) == 0.0
    warning = "alice.py: alice is already named 'alice', so this one is named 'alice.py'; both are graded"
    assert completed.stderr.count(warning) == 1
    assert completed.stderr.index(warning) < completed.stderr.index("grading 7 of 7")
