"""Grading where students submit: the Gradescope zip, the GitHub workflow, JUnit XML and --fail-under.

The Gradescope zip is unpacked into a temporary root laid out as Gradescope lays it out, and its
own run_autograder grades real submissions with the grader inside the zip. The assignment
exported and graded is the small one of `grader new tiny` (the `tiny` fixture): the subject here
is the packaging and its entry points, not hw1's checks.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from class_folders import TINY_TARGETS, hostile_source, tiny_mutants
from grading_helpers import Homework, assert_valid_results, run_grader
from hostile import CASES as HOSTILE
from notebooks import tiny_partly_done_notebook

from grader.authoring.mutants import apply
from grader.cli import build_parser


HIDDEN_CHECK = ("cases=c.negative_entries(), max_examples=10)",
                'cases=c.negative_entries(), max_examples=10, visibility="after_due_date")')


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny) -> Homework:
    """The session's tiny assignment, copied, with one check shown only after the due date, as an
    instructor hides one: normalize's check of the ValueError."""
    root = tmp_path_factory.mktemp("hidden") / "course"
    shutil.copytree(tiny.assignments.parent, root)
    checks = root / "assignments" / "tiny" / "checks.py"
    source = checks.read_text()
    assert source.count(HIDDEN_CHECK[0]) == 1
    checks.write_text(source.replace(*HIDDEN_CHECK))
    return Homework("tiny", root / "assignments")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory, tiny) -> Path:
    path = tmp_path_factory.mktemp("export") / "autograder.zip"
    completed = run_grader(*tiny.option(), "export", "gradescope", "tiny", "-o", path)
    assert completed.returncode == 0, completed.stderr
    assert f"wrote {path}" in completed.stdout
    return path


def gradescope_root(zip_path: Path, root: Path, files: dict[str, bytes | str]) -> Path:
    """A root as Gradescope makes it: the zip in source/, run_autograder beside it, the upload in submission/."""
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, content in files.items():
        path = root / "submission" / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def run_autograder(root: Path, python: str = sys.executable) -> tuple[subprocess.CompletedProcess, dict]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": python}
    env.pop("PYTHONPATH", None)
    completed = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    return completed, json.loads((root / "results" / "results.json").read_text())


def test_the_zip_has_the_scripts_at_its_root_and_everything_grading_needs(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        config = json.loads(archive.read("assignments/tiny/assignment.json"))
    assert {"setup.sh", "run_autograder"} <= set(names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "grader-package/pyproject.toml" in names and "grader-package/grader/cli.py" in names
    assert "grader-package/grader/templates/summary.html.j2" in names
    assert {"assignments/tiny/checks.py", "assignments/tiny/cases.py", "assignments/tiny/private/tiny.py"} <= set(names)
    assert config["reference"] == "private/tiny.py"
    assert not [n for n in names if "__pycache__" in n or n.startswith("/") or ".." in n]
    for script in ("setup.sh", "run_autograder"):
        with zipfile.ZipFile(autograder_zip) as archive:
            text = archive.read(script).decode()
        assert text.startswith("#!/usr/bin/env bash")
        checked = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_the_zip_is_the_same_bytes_every_time(autograder_zip, tiny, tmp_path):
    again = tmp_path / "again.zip"
    assert run_grader(*tiny.option(), "export", "gradescope", "tiny", "-o", again).returncode == 0
    assert again.read_bytes() == autograder_zip.read_bytes()


def _hostile(homework: Homework, case_id: str) -> str:
    case = next(c for c in HOSTILE if c.id == case_id)
    return hostile_source(case, homework.reference.read_text(), TINY_TARGETS.get(case_id), marker="FAKE")


def partly_wrong(homework: Homework) -> str:
    """tiny's reference with its backward pass missing a term (a mutant of the scaffold): normalize's 6 points of 10."""
    (mutant,) = [m for m in tiny_mutants(homework) if m.id == "normalize_backward-missing-term"]
    return apply(homework.reference.read_text(), mutant)


UPLOADS = {  # name: (the uploaded files, given tiny; the score, or the open interval it lies in)
    "full marks": (lambda hw: {"tiny.py": hw.reference.read_text()}, 10.0),
    "partly wrong": (lambda hw: {"tiny.py": partly_wrong(hw)}, (5.0, 7.0)),
    "broken": (lambda hw: {"tiny.py": "import numpy as np\n\ndef normalize(x, axis=-1)\n    return x\n"}, 0.0),
    "notebook under another name": (lambda hw: {"tiny (2).ipynb": nbformat.writes(tiny_partly_done_notebook(hw))},
                                    (4.0, 6.0)),
    "hostile: fake results": (lambda hw: {"tiny.py": _hostile(hw, "fake-results-everywhere")}, 10.0),
    "hostile: a hanging function": (lambda hw: {"tiny.py": _hostile(hw, "infinite-loop-in-function")}, (5.0, 7.0)),
    "nothing uploaded": (lambda hw: {}, 0.0),
}


@pytest.mark.parametrize("name", list(UPLOADS))
def test_run_autograder_grades_real_submissions(autograder_zip, tiny, tmp_path, name):
    upload, expected = UPLOADS[name]
    root = gradescope_root(autograder_zip, tmp_path / "autograder", upload(tiny))
    completed, results = run_autograder(root)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert_valid_results(results, tiny)
    if isinstance(expected, tuple):
        assert expected[0] < results["score"] < expected[1]
    else:
        assert results["score"] == expected
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_due_date"}
    assert (root / "results" / "feedback.md").is_file()
    assert "FAKE" not in json.dumps([t["output"] for t in results["tests"]])
    if name == "notebook under another name":
        assert ("The submission holds no tiny.py or tiny.ipynb, so tiny (2).ipynb, its only .py or .ipynb file, "
                "was used instead: name it tiny.ipynb next time.") in results["output"]


def test_run_autograder_uses_the_grader_inside_the_zip_and_reports_its_faults(autograder_zip, tiny, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path / "autograder", {"tiny.py": tiny.reference.read_text()})
    checks = root / "source" / "assignments" / "tiny" / "checks.py"
    checks.write_text(checks.read_text() + "\nraise RuntimeError('a broken check file')\n")
    completed, results = run_autograder(root)
    assert completed.returncode == 1
    assert results["score"] == 0.0 and results["tests"] == []
    assert "The autograder itself failed" in results["output"] and "a broken check file" in results["output"]
    assert "not a problem with your code" in results["output"]


def test_run_autograder_writes_results_even_when_python_cannot_start(autograder_zip, tiny, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path / "autograder", {"tiny.py": tiny.reference.read_text()})
    completed, results = run_autograder(root, python="/bin/false")
    assert completed.returncode != 0
    assert results["score"] == 0.0 and "failed to start" in results["output"]


# ---- GitHub Classroom ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def github_export(tmp_path_factory, tiny) -> Path:
    out = tmp_path_factory.mktemp("github")
    completed = run_grader(*tiny.option(), "export", "github", "tiny", "-o", out)
    assert completed.returncode == 0, completed.stderr
    return out


def workflow_of(out: Path) -> dict:
    return yaml.safe_load((out / "student-repo" / ".github" / "workflows" / "grade-tiny.yml").read_text())


def test_the_workflow_grades_on_push_with_the_hidden_checks_from_a_secret_location(github_export):
    workflow = workflow_of(github_export)
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert "push" in triggers
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    (job,) = workflow["jobs"].values()
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    steps = {step["name"]: step for step in job["steps"]}
    private = steps["Check out the grader and the hidden checks"]
    assert private["uses"].startswith("actions/checkout@")
    assert private["with"] == {"repository": "${{ secrets.GRADER_PRIVATE_REPO }}",
                               "token": "${{ secrets.GRADER_PRIVATE_TOKEN }}", "path": "private"}
    assert steps["Check out the submission"]["with"]["path"] == "submission"
    assert "pip install --quiet ./private/grader-package" in steps["Install the grader"]["run"]
    report = steps["Report the grade to GitHub Classroom"]
    assert report["if"] == "always()" and report["run"] == "python -m grader.distribute.github results.json feedback.md"


def test_the_workflow_commands_are_valid_grader_command_lines(github_export):
    (job,) = workflow_of(github_export)["jobs"].values()
    grade = next(step["run"] for step in job["steps"] if step["name"] == "Grade")
    words = shlex.split(grade)
    assert words[:3] == ["python", "-m", "grader"]
    args = build_parser().parse_args(words[3:])
    assert (args.command, args.assignment, str(args.submission)) == ("grade", "tiny", "submission")
    assert str(args.assignments) == "private/assignments" and str(args.junit_xml) == "junit.xml"


def test_the_workflow_steps_grade_and_report_for_real(github_export, tiny, tmp_path):
    """The Grade and Report steps, run as the runner runs them: the student's repository in
    submission/, the private repository in private/, the grader installed from it."""
    workspace = tmp_path / "workspace"
    shutil.copytree(tiny.template, workspace / "submission")
    (workspace / "submission" / "tiny.py").write_text(partly_wrong(tiny))
    shutil.copytree(github_export / "private-repo", workspace / "private")
    (job,) = workflow_of(github_export)["jobs"].values()
    steps = {step["name"]: step["run"] for step in job["steps"] if "run" in step}
    summary = tmp_path / "summary.md"
    env = {**os.environ, "PYTHONPATH": str(workspace / "private" / "grader-package"), "GITHUB_STEP_SUMMARY": str(summary)}
    python = os.path.dirname(sys.executable)
    env["PATH"] = f"{python}:{env['PATH']}"  # `python` is this interpreter, as setup-python makes it
    graded = subprocess.run(["bash", "-c", steps["Grade"]], cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
    assert graded.returncode == 0, graded.stderr
    results = json.loads((workspace / "results.json").read_text())
    assert_valid_results(results, tiny)
    assert 0 < results["score"] < 10
    assert "tiny.ipynb was ignored: the folder also holds tiny.py, which was graded." in results["output"]
    reported = subprocess.run(["bash", "-c", steps["Report the grade to GitHub Classroom"]], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=60)
    total = results["score"]
    assert reported.returncode == 0
    assert reported.stdout.splitlines() == [
        f"::notice title=Autograding complete::Points {total:g}/10",
        f'::notice title=Autograding report::{{"totalPoints":{total:g},"maxPoints":10}}',
    ]
    assert summary.read_text().startswith("# Feedback: tiny")
    assert ET.parse(workspace / "junit.xml").getroot().tag == "testsuites"


def test_the_reporter_reports_zero_when_there_are_no_results(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "grader.distribute.github", str(tmp_path / "missing.json")],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert completed.stdout.splitlines()[0].startswith("::error title=Autograding failed::")
    assert '::notice title=Autograding report::{"totalPoints":0,"maxPoints":0}' in completed.stdout


# ---- any CI: JUnit XML and --fail-under --------------------------------------------------------------

def test_junit_xml_has_one_test_case_per_check(tiny, tmp_path):
    results, junit, submission = tmp_path / "results.json", tmp_path / "junit.xml", tmp_path / "partly_wrong.py"
    submission.write_text(partly_wrong(tiny))
    completed = run_grader(*tiny.option(), "grade", "tiny", submission, "--results-json", results,
                           "--junit-xml", junit, "--quiet")
    assert completed.returncode == 0
    data = json.loads(results.read_text())
    root = ET.parse(junit).getroot()
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [t["name"] for t in data["tests"]]
    assert [c.get("classname") for c in cases] == [f"tiny.{t['tags'][0]}" for t in data["tests"]]
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == sum(t["status"] == "failed" for t in data["tests"]) == int(suite.get("failures")) > 0
    assert int(suite.get("tests")) == len(cases) == len(data["tests"])
    first = next(t for t in data["tests"] if t["status"] == "failed")
    assert failed[0].find("failure").text == first["output"].split("\nHint:")[0]
    score = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert float(score["score"]) == pytest.approx(data["score"]) and score["max_score"] == "10"


@pytest.mark.parametrize("threshold, status", [("8", 1), ("5", 0), ("0", 0)])
def test_fail_under_exits_1_below_the_threshold_and_still_writes_every_report(tiny, tmp_path, threshold, status):
    results, feedback, junit, submission = tmp_path / "r.json", tmp_path / "f.md", tmp_path / "j.xml", tmp_path / "s.py"
    submission.write_text(partly_wrong(tiny))  # 6 of 10
    completed = run_grader(*tiny.option(), "grade", "tiny", submission, "--results-json", results, "--feedback", feedback,
                           "--junit-xml", junit, "--fail-under", threshold, "--quiet")
    assert completed.returncode == status, completed.stderr
    assert results.is_file() and feedback.is_file() and junit.is_file()
    if status:
        assert completed.stderr.strip().startswith("grader: score 6 ") and "is below --fail-under 8" in completed.stderr


@pytest.mark.parametrize("args, message", [
    (("grade", "hw1", "examples/hw1/alice_full_marks.py", "--fail-under", "101"), "--fail-under must be between 0 and 100"),
    (("grade", "hw1", "examples/hw1/alice_full_marks.py", "--fail-under", "lots"), "invalid float value: 'lots'"),
    (("export", "gradescope", "hw9"), "unknown assignment 'hw9'"),
    (("export", "pypi", "hw1"), "invalid choice: 'pypi'"),
    (("export", "gradescope", "hw1", "-o", "examples"), "-o examples is a folder"),
])
def test_export_and_threshold_usage_errors_exit_2(args, message):
    completed = run_grader(*args)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and message in completed.stderr


def test_each_checks_visibility_is_its_gradescope_test_visibility():
    from grader.model import CheckResult, Report
    from grader.report.results_json import results_json

    results = tuple(CheckResult(function="softmax", name=f"softmax: {v}", score=0.0, max_score=1.5, passed=False,
                                message="Failed.", visibility=v) for v in ("visible", "after_due_date", "after_published", "hidden"))
    report = Report(assignment="hw1", submission="hw1.py", results=results, notes=(), student_output="",
                    execution_time=1.0, function_points={"softmax": 6.0})
    tests = results_json(report)["tests"]
    assert [t["visibility"] for t in tests] == ["visible", "after_due_date", "after_published", "hidden"]
    assert all(t["tags"] == ["softmax"] and t["max_score"] == 1.5 for t in tests)


def test_setup_sh_refuses_a_base_image_with_a_python_older_than_3_10(autograder_zip, tmp_path):
    """Gradescope's Ubuntu 20.04 image has Python 3.8: setup.sh says which image to pick, in one
    line, before it builds anything (apt-get and python3 are stand-ins that act as on that image)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "python3").write_text('#!/bin/sh\ncase "$*" in --version) echo "Python 3.8.10";; *import\\ sys*) exit 1;; *) exit 0;; esac\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    with zipfile.ZipFile(autograder_zip) as archive:
        script = archive.read("setup.sh").decode()
    root = tmp_path / "autograder"
    root.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "AUTOGRADER_ROOT": str(root)}
    completed = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1
    assert "needs Python 3.10 or newer" in completed.stderr and "Python 3.8.10" in completed.stderr
    assert "Ubuntu 22.04" in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
    assert not (root / "grader-venv").exists()
