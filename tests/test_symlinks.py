"""A submission is read only from regular files inside it, never through a link (issue "Scores
that cannot be gamed", item 1): `grader grade`, `grader grade-all`, the Gradescope entry point
and `grader check`, each run for real on real symbolic links, FIFOs and /proc/kmsg. The links
point at the reference of the small assignment of `grader new tiny` (the `tiny` fixture).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from grading_helpers import Homework, assert_valid_results, grade_many, run_grader

LINK_REASON = "is a symbolic link: submit the file itself, not a link to it"
KMSG = Path("/proc/kmsg")


def _kmsg_link(path: Path) -> bool:
    """Make `path` a link to /proc/kmsg (a read blocks for ever, or fails); False where there is none."""
    if not os.path.lexists(KMSG):
        return False
    path.symlink_to(KMSG)
    return True


def test_grade_refuses_a_link_to_the_reference_a_linked_file_in_a_folder_and_a_fifo(tiny, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    linked = subs / "linked.py"
    linked.symlink_to(tiny.reference)  # full marks before the fix
    folder = subs / "folder"
    folder.mkdir()
    (folder / "tiny.py").symlink_to(tiny.reference)
    linked_folder = subs / "linked_folder"
    linked_folder.symlink_to(tiny.reference.parent)  # holds tiny.py: the reference
    fifo = subs / "fifo.py"
    os.mkfifo(fifo)
    paths = [linked, folder, linked_folder, fifo]
    if _kmsg_link(subs / "kmsg.py"):
        paths.append(subs / "kmsg.py")
    graded = grade_many(paths, tmp_path, homework=tiny)
    reasons = {
        linked: f"linked.py {LINK_REASON}",
        folder: f"tiny.py {LINK_REASON}",
        linked_folder: "linked_folder is a symbolic link: submit the folder itself, not a link to it",
        fifo: "fifo.py is not a regular file",
        subs / "kmsg.py": f"kmsg.py {LINK_REASON}",
    }
    for path in paths:
        outcome = graded[path]
        assert outcome["returncode"] == 0, outcome["stderr"]
        assert_valid_results(outcome["results"], tiny)
        assert outcome["results"]["score"] == 0, path
        assert reasons[path] in outcome["results"]["output"] and reasons[path] in outcome["feedback"]


def grade_all(homework: Homework, folder: Path, out: Path) -> subprocess.CompletedProcess:
    return run_grader(*homework.option(), "grade-all", homework.name, folder, "--out", out, "--jobs", "2", timeout=300)


def gradebook(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_grade_all_gives_a_linked_student_zero_not_the_linked_students_score(tiny, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(tiny.reference, folder / "student_a.py")
    (folder / "student_b.py").symlink_to("student_a.py")  # student_b -> ../student_a, as in the issue
    (folder / "student_c").mkdir()
    (folder / "student_c" / "tiny.py").symlink_to("../student_a.py")
    (folder / "student_d").symlink_to(tiny.reference.parent)  # a linked folder holding the reference's tiny.py
    os.mkfifo(folder / "student_e.py")
    has_kmsg = _kmsg_link(folder / "student_f.py")
    out = tmp_path / "out"
    first = grade_all(tiny, folder, out)
    assert first.returncode == 0, first.stderr
    rows = gradebook(out)
    assert float(rows["student_a"]["score"]) == 10.0
    expected = {
        "student_b": f"student_b.py {LINK_REASON}",
        "student_c": f"tiny.py {LINK_REASON}",
        "student_d": "student_d is a symbolic link: submit the folder itself, not a link to it",
        "student_e": "student_e.py is not a regular file",
    }
    if has_kmsg:
        expected["student_f"] = f"student_f.py {LINK_REASON}"
    assert set(rows) == {"student_a", *expected}
    for student, reason in expected.items():
        assert float(rows[student]["score"]) == 0, student
        assert rows[student]["notes"] == f"Nothing could be graded: {reason}."
        results = json.loads((out / student / "results.json").read_text())
        assert results["score"] == 0 and reason in results["output"]
    again = grade_all(tiny, folder, out)  # the digests read nothing through a link either, and the FIFO does not hang them
    assert again.returncode == 0, again.stderr
    assert f"graded 0, reused {len(rows)} unchanged" in again.stdout


def gradescope_root(homework: Homework, root: Path) -> Path:
    """A root laid out like /autograder: the export's private payload in source/, an empty submission/."""
    from grader.grading.assignment import load_assignment
    from grader.distribute.export import payload

    for name, content in payload(load_assignment(homework.name, homework.assignments)).items():
        path = root / "source" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (root / "submission").mkdir()
    return root


def run_gradescope(root: Path) -> tuple[subprocess.CompletedProcess, dict]:
    completed = subprocess.run([sys.executable, "-m", "grader.distribute.gradescope", "tiny", str(root)], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    return completed, json.loads((root / "results" / "results.json").read_text())


PRIVATE_REFERENCE = Path("source/assignments/tiny/private/tiny.py")


def _link_the_module_to_the_private_reference(submission: Path, root: Path) -> str:
    (submission / "tiny.py").symlink_to(root / PRIVATE_REFERENCE)
    return f"tiny.py {LINK_REASON}"


def _link_a_stray_file_and_a_folder_to_the_private_copy(submission: Path, root: Path) -> str:
    (submission / "my_homework.py").symlink_to(root / PRIVATE_REFERENCE)  # the one .py file: picked, and refused
    (submission / "private").symlink_to(root / PRIVATE_REFERENCE.parent)  # a linked folder: neither entered nor picked
    return f"my_homework.py {LINK_REASON}"


def _link_the_module_to_kmsg(submission: Path, root: Path) -> str:
    if not _kmsg_link(submission / "tiny.py"):
        pytest.skip("no /proc/kmsg here")
    return f"tiny.py {LINK_REASON}"


@pytest.mark.parametrize("upload", [_link_the_module_to_the_private_reference,
                                    _link_a_stray_file_and_a_folder_to_the_private_copy, _link_the_module_to_kmsg])
def test_gradescope_never_grades_through_a_link(tiny, tmp_path, upload):
    root = gradescope_root(tiny, tmp_path / "autograder")
    assert (root / PRIVATE_REFERENCE).is_file()
    reason = upload(root / "submission", root)
    completed, results = run_gradescope(root)
    assert completed.returncode == 0, completed.stderr
    assert_valid_results(results, tiny)
    assert results["score"] == 0
    assert reason in results["output"]
    assert reason in (root / "results" / "feedback.md").read_text()


@pytest.fixture
def homework(tiny, tmp_path) -> Path:
    folder = tmp_path / "my homework"
    shutil.copytree(tiny.template, folder)
    return folder


@pytest.mark.parametrize("args", [(), ("tiny.py",)])
def test_check_refuses_a_link_to_the_reference(tiny, homework, args):
    (homework / "tiny.py").unlink()
    (homework / "tiny.py").symlink_to(tiny.reference)  # every public test would pass through it
    os.utime(homework / "tiny.py", follow_symlinks=False)  # the link is the file changed last
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's grader, wherever the student's folder is
    completed = run_grader("check", *args, cwd=homework, timeout=120, env=env)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert f"tiny.py {LINK_REASON}" in completed.stdout
    assert "0 of 5 public tests pass." in completed.stdout and "public tests pass." in completed.stdout
