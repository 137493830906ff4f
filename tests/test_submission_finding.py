"""Which file of a submission is graded, and who is in a class folder (issue 14, points 4 to 6).

One rule (grader/grading/submission_finding.py), seen through the real command lines: `grader grade` on
a folder, `grader grade-all`, Gradescope's entry point (`python -m grader.distribute.gradescope`) and
`grader check` grade the same file of the same folder and say the same thing about it. A class
folder's stray files are skipped and named before grading; two names that differ only in how
their accents are encoded are two students with visibly different names and one warning,
printed before the progress bar. The submissions are of the small assignment of `grader new
tiny` (the `tiny` fixture): which file is found is the subject, not hw1's checks.
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
from grading_helpers import Homework, assert_valid_results, run_grader

# Right for one function of tiny only, normalize_backward: 4 points of 10, and 2 of its 5 public tests.
ONE_FUNCTION = ("import numpy as np\n\n\ndef normalize_backward(dp, x, axis=-1):\n"
                "    total = np.sum(x, axis=axis, keepdims=True)\n"
                "    return (dp - np.sum(dp * x / total, axis=axis, keepdims=True)) / total\n")
ONE_FUNCTION_SCORE = 4.0


def shapes(homework: Homework) -> dict[str, dict[str, str | bytes]]:
    """Submission folders as students make them: what they hold (every path says something about them)."""
    return {
        "only": {  # a lone solution.py, next to what the template and the tools leave
            "solution.py": ONE_FUNCTION, "test_public.py": (homework.template / "test_public.py").read_text(),
            "notes.txt": "done!\n", "__pycache__/solution.cpython-311.pyc": b"\0",
            ".ipynb_checkpoints/tiny-checkpoint.ipynb": "{}", ".DS_Store": b"\0",
        },
        "nested": {  # GitHub's "Download ZIP", unpacked on a Mac
            "tiny-main/tiny.py": ONE_FUNCTION, "tiny-main/README.md": "# tiny\n", "__MACOSX/tiny-main/._tiny.py": b"\0",
        },
        "two": {"a.py": ONE_FUNCTION, "b.py": ONE_FUNCTION},
    }


SHAPES = ["nested", "only", "two"]
NOTES = {
    "only": "The submission holds no tiny.py or tiny.ipynb, so solution.py, its only .py or .ipynb file, was used "
            "instead: name it tiny.py next time.",
    "nested": "The submission holds no file to grade but one folder, tiny-main/, so tiny-main/tiny.py was used: "
              "next time submit tiny.py itself, not the folder around it.",
}
TWO_FILES = ("the folder holds neither tiny.py nor tiny.ipynb but 2 other .py or .ipynb files (a.py, b.py): "
             "rename the one you want graded to tiny.py (a notebook: tiny.ipynb)")
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
def class_run(tmp_path_factory, tiny):
    """One grade-all run over a class holding every shape, stray files, and names that clash."""
    root = tmp_path_factory.mktemp("finding")
    folder, out = root / "class", root / "out"
    for shape, files in shapes(tiny).items():
        write(folder / shape, files)
    write(folder, {f"{NFC}.py": ONE_FUNCTION, f"{NFD}.py": "", "alice.py": "", "alice/tiny.py": ONE_FUNCTION, **STRAY})
    completed = run_grader(*tiny.option(), "grade-all", "tiny", folder, "--out", out, "--jobs", "2", timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return root, out, completed, rows


def gradescope(homework: Homework, root: Path, files: dict[str, str | bytes]) -> dict:
    """Gradescope's entry point on an upload of `files`, in a root laid out like /autograder; its results.json."""
    from grader.grading.assignment import load_assignment
    from grader.distribute.export import payload

    for name, content in payload(load_assignment(homework.name, homework.assignments)).items():
        write(root / "source", {name: content})
    write(root / "submission", files)
    completed = subprocess.run([sys.executable, "-m", "grader.distribute.gradescope", homework.name, str(root)], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def check(folder: Path) -> subprocess.CompletedProcess:
    """`grader check` with no argument in a copy of the template whose tiny.py and tiny.ipynb are gone."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's grader, wherever the student's folder is
    return run_grader("check", cwd=folder, timeout=120, env=env)


@pytest.mark.parametrize("shape", SHAPES)
def test_grade_grade_all_gradescope_and_check_grade_the_same_file_and_say_the_same(class_run, tiny, tmp_path, shape):
    _, out, _, rows = class_run
    files = shapes(tiny)[shape]
    graded = shape != "two"
    expected = NOTES[shape] if graded else f"Nothing could be graded: {TWO_FILES}."

    results_path = tmp_path / "results.json"
    completed = run_grader(*tiny.option(), "grade", "tiny", write(tmp_path / shape, files), "--results-json", results_path,
                           "--quiet")
    assert completed.returncode == 0, completed.stderr
    by_grade = json.loads(results_path.read_text())
    by_gradescope = gradescope(tiny, tmp_path / "autograder", files)
    by_grade_all = json.loads((out / shape / "results.json").read_text())
    for results in (by_grade, by_gradescope, by_grade_all):
        assert_valid_results(results, tiny)
        assert results["score"] == (ONE_FUNCTION_SCORE if graded else 0.0)
        assert expected in results["output"]
    assert rows[shape]["notes"] == expected and float(rows[shape]["score"]) == (ONE_FUNCTION_SCORE if graded else 0.0)

    homework = tmp_path / "homework"
    shutil.copytree(tiny.template, homework)
    (homework / "tiny.py").unlink()
    (homework / "tiny.ipynb").unlink()
    checked = check(write(homework, files))
    if graded:  # the file was found and run: its one right function passes its public tests
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert f"note: {NOTES[shape]}" in checked.stdout and "\n2 of 5 public tests pass." in checked.stdout
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
    assert float(rows[NFC]["score"]) == ONE_FUNCTION_SCORE and float(rows[f"{NFD}.py"]["score"]) == 0.0
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
    assert float(rows["alice"]["score"]) == ONE_FUNCTION_SCORE  # the folder alice/, holding tiny.py
    assert float(rows["alice.py"]["score"]) == 0.0
    warning = "alice.py: alice is already named 'alice', so this one is named 'alice.py'; both are graded"
    assert completed.stderr.count(warning) == 1
    assert completed.stderr.index(warning) < completed.stderr.index("grading 7 of 7")
