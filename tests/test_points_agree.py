"""Every report prints the same score, to the digit, and whole functions earn round numbers.

Shares of a function's points are whole hundredths, added as integers (grader/points.py). The
submission here broke two functions partly: rnn_step accepts an unknown nonlinearity, and
log_softmax ignores its axis argument. With shares in ten-thousandths its total was 96.0001 in
results.json, gradebook.csv and the GitHub Classroom notice, and 96 in feedback.md.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import REFERENCE_PATH, REPO, hw1_mutants
from grader.authoring.mutants import apply
from grading_helpers import function_scores, run_grader

BROKEN = ("rnn_step-no-nonlinearity-check", "log_softmax-ignores-axis-argument")
TWO_DECIMALS = re.compile(r"\d+(\.\d{1,2})?")


def hundredths(value: float) -> int:
    units = round(value * 100)
    assert abs(value * 100 - units) < 1e-6, f"{value!r} is not a whole number of hundredths"
    return units


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("out")
    source = REFERENCE_PATH.read_text()
    for mutant in (m for m in hw1_mutants() if m.id in BROKEN):
        source = apply(source, mutant)
    (folder / "partly.py").write_text(source)
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--quiet")
    assert completed.returncode == 0, completed.stderr
    junit = out / "junit.xml"
    terminal = run_grader("grade", "hw1", folder / "partly.py", "--junit-xml", junit)
    assert terminal.returncode == 0, terminal.stderr
    notice = subprocess.run([sys.executable, "-m", "grader.distribute.github", str(out / "partly" / "results.json")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    return {"out": out, "results": json.loads((out / "partly" / "results.json").read_text()),
            "terminal": terminal.stdout, "junit": ET.parse(junit).getroot(), "notice": notice.stdout}


def test_every_share_and_total_is_whole_hundredths_added_exactly(graded):
    results = graded["results"]
    units = [hundredths(test["score"]) for test in results["tests"]]
    assert hundredths(results["score"]) == sum(units)
    assert 0 < results["score"] < 100


def test_every_report_prints_the_same_total(graded):
    results, out = graded["results"], graded["out"]
    total = f"{results['score']:.2f}".rstrip("0").rstrip(".")
    assert TWO_DECIMALS.fullmatch(total) and total != "96" and not total.startswith("96.00")
    (row,) = csv.DictReader((out / "gradebook.csv").read_text().splitlines())
    assert row["score"] == total
    assert f"**Score: {total} / 100**" in (out / "partly" / "feedback.md").read_text()
    assert f"Score: {total} / 100</p>" in (out / "partly" / "feedback.html").read_text()
    assert f'<td class="num">{total}</td>' in (out / "summary.html").read_text()
    assert re.search(rf"^total\s+{re.escape(total)}\s+100$", graded["terminal"], re.MULTILINE), graded["terminal"]
    properties = {p.get("name"): p.get("value") for p in graded["junit"].iter("property") if p.get("name") == "score"}
    assert properties == {"score": total}
    assert f"::notice title=Autograding complete::Points {total}/100" in graded["notice"]
    report = json.loads(graded["notice"].split("::notice title=Autograding report::")[1].splitlines()[0])
    assert report == {"totalPoints": float(total), "maxPoints": 100}


def test_whole_functions_earn_round_numbers_everywhere(graded):
    results, out = graded["results"], graded["out"]
    (row,) = csv.DictReader((out / "gradebook.csv").read_text().splitlines())
    scores = function_scores(results)
    whole = [name for name, (score, points) in scores.items() if score == points]
    assert len(whole) == 13 and "rnn_step" not in whole and "log_softmax" not in whole
    for name in whole:
        points = scores[name][1]
        assert points == int(points) and row[name] == str(int(points))
    for name in ("rnn_step", "log_softmax"):
        assert TWO_DECIMALS.fullmatch(row[name]) and float(row[name]) == scores[name][0]
