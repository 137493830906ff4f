"""Students who want the points without the work: a class of gaming submissions (tests/gaming.py),
graded for real with `grader grade-all`, next to honest students whose names are themselves
attacks on the reports (a spreadsheet formula, terminal escapes, HTML)."""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from pathlib import Path

import pytest

from conftest import REFERENCE_PATH, REPO
from gaming import CASES
from grader.sandbox.limits import worst_case_seconds
from grading_helpers import CONTRACT_POINTS, assert_valid_results, function_scores, run_grader
from test_mutants import CALLERS

SECRET = f"secret-{uuid.uuid4().hex}"
# Honest students (the reference), named to attack the gradebook, the terminal and the HTML summary.
HONEST_NAMES = ['=HYPERLINK("evil")', "@SUM(A1)", "\x1b]0;owned\x07\x1b[2Jwipe",
                "<img src=x onerror=alert(1)>"]
# The stated bound on one submission's grading (README, "How long one submission may take"):
# the sandbox's worst case, plus the grader's own checking and reports.
MAX_SECONDS_PER_SUBMISSION = worst_case_seconds() + 5


def gaming_source(case, class_folder: Path) -> str:
    code = (case.code.replace("@REPO@", str(REPO)).replace("@CLASS@", str(class_folder)).replace("@SECRET@", SECRET))
    if case.standalone:
        return "# _copy_marker_\n" + code if case.id == "copy-a-classmate" else code
    return REFERENCE_PATH.read_text() + "\n\n# --- gaming code ---\n" + code


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gaming-class")
    folder.chmod(0o755)
    for case in CASES:
        (folder / f"{case.id}.py").write_text(gaming_source(case, folder), encoding="utf-8")
    for name in HONEST_NAMES:
        (folder / f"{name}.py").write_text(REFERENCE_PATH.read_text(), encoding="utf-8")
    out = tmp_path_factory.mktemp("gaming-out")
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "2",
                           env={**os.environ, "GRADER_TEST_SECRET": SECRET})
    return completed, out


def student_files(out: Path, name: str) -> tuple[dict, str, dict]:
    folder = out / name
    return (json.loads((folder / "results.json").read_text()), (folder / "feedback.md").read_text(encoding="utf-8"),
            json.loads((folder / "record.json").read_text()))


def test_the_class_is_graded_and_nobody_is_lost(graded_class):
    completed, out = graded_class
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))
    assert len(rows) == len(CASES) + len(HONEST_NAMES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_gaming_earns_nothing_it_did_not_work_for(graded_class, case):
    _, out = graded_class
    results, feedback, record = student_files(out, case.id)
    assert_valid_results(results)
    assert record["status"] == "graded", record["notes"]
    everything = feedback + json.dumps(results)
    assert "BROKEN" not in everything, [line for line in everything.splitlines() if "BROKEN" in line][:3]
    assert SECRET not in everything
    assert case.says in feedback
    scores = function_scores(results)
    if case.expect == "zero":
        assert results["score"] == 0, {name: s for name, (s, _) in scores.items() if s}
    elif case.expect == "others":
        touched = set(case.attacked).union(*(CALLERS[name] for name in case.attacked if case.id != "slow-loris"))
        assert all(scores[name][0] == 0 for name in case.attacked), {name: scores[name] for name in case.attacked}
        lost = {name for name in set(CONTRACT_POINTS) - touched if scores[name][0] < scores[name][1]}
        assert not lost, f"honest functions lost points: {sorted(lost)}"
    elif case.expect == "all":
        assert results["score"] == 100, {name: s for name, s in scores.items() if s[0] < s[1]}
    else:
        assert case.expect == "graded"
        assert results["output"].strip()
    assert record["timings"]["total"] < MAX_SECONDS_PER_SUBMISSION


@pytest.mark.parametrize("name", HONEST_NAMES, ids=["formula", "at-formula", "terminal-escapes", "html"])
def test_honest_students_keep_full_marks_whatever_their_classmates_did(graded_class, name):
    _, out = graded_class
    results, _, _ = student_files(out, name)
    assert results["score"] == 100


def test_names_cannot_attack_the_reports(graded_class):
    completed, out = graded_class
    assert "\x1b" not in completed.stdout + completed.stderr
    gradebook = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))
    for row in gradebook[1:]:
        assert not row[0].startswith(("=", "@", "+", "-")), row[0]
        assert "\x1b" not in ",".join(row)
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert "<img src=x" not in summary and "\x1b" not in summary
