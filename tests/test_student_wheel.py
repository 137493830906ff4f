"""What students install to run `grader check`: the wheel of this repository, built as the README
says. It must hold the grader package and nothing of the reference or the hidden checks, and
`grader check` must work from it alone, in a copy of the student template."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REFERENCE_PATH, REPO
from grader.grading.solution_blocks import find_solution_blocks

LEFT_OUT_OF_THE_COPY = {".git", ".venv", "out", "build", "dist", "__pycache__", ".hypothesis", ".pytest_cache"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip wheel --no-deps -w dist .` builds, from a copy of the checkout (a build
    writes build/ and *.egg-info/ beside the sources, which would change the checkout that the
    hostile suite watches)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPO, source, ignore=lambda folder, names: [n for n in names if n in LEFT_OUT_OF_THE_COPY
                                                                 or n.endswith(".egg-info")])
    completed = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"), "."],
                               cwd=source, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    [built] = (work / "dist").glob("*.whl")
    return built


def test_the_wheel_holds_the_grader_and_nothing_private(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        contents = {name: archive.read(name).decode("utf-8", "replace") for name in names}
    top_levels = {name.split("/")[0] for name in names}
    assert "grader" in top_levels
    assert top_levels - {"grader"} == {next(t for t in top_levels if t.endswith(".dist-info"))}, top_levels
    assert "grader/cli.py" in names and "grader/templates/feedback.html.j2" in names
    assert "grader/templates/new_assignment/checks.py.tmpl" in names  # `grader new`'s example, not homework
    for private in ("solutions", "assignments", "examples", "tests", "student_template"):
        assert not any(private in name.split("/")[:-1] or name.startswith(private) for name in names), private
    solution_lines = {line.strip() for block in find_solution_blocks(REFERENCE_PATH.read_text())
                      for line in block.lines if len(line.strip()) >= 20}
    assert len(solution_lines) > 50  # the reference's bodies, so the search below means something
    checks_lines = {line.strip() for path in (REPO / "assignments").rglob("*.py") for line in path.read_text().splitlines()
                    if len(line.strip()) >= 40 and not line.strip().startswith(("import ", "from ", "#"))}
    public = {line.strip() for path in (REPO / "grader").rglob("*.py") for line in path.read_text().splitlines()}
    for name, text in contents.items():
        if name.endswith("RECORD"):
            continue
        leaked = [line for line in solution_lines | (checks_lines - public) if line in text]
        assert not leaked, f"{name} holds private lines: {leaked[:3]}"


def _check(template: Path, installed: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, "-m", "grader", "check", *args], cwd=template, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed (without its dependencies, which the venv has) into a folder of its own."""
    installed = tmp_path_factory.mktemp("site")
    completed = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(installed), str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return installed


def test_grader_check_runs_from_the_installed_wheel_alone(installed, tmp_path):
    template = tmp_path / "hw1"
    shutil.copytree(REPO / "student_template" / "hw1", template)
    env = {**os.environ, "PYTHONPATH": str(installed)}
    where = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=template, env=env,
                           capture_output=True, text=True, timeout=60)
    assert where.stdout.strip().startswith(str(installed)), where  # the wheel's grader, not the checkout's

    stubs = _check(template, installed, "hw1.py")
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert "rnn_step" in stubs.stdout and "not implemented" in stubs.stdout.lower()

    shutil.copyfile(REFERENCE_PATH, template / "hw1.py")
    solved = _check(template, installed, "hw1.py")
    assert solved.returncode == 0, solved.stdout + solved.stderr


def test_grader_new_works_from_the_installed_wheel(installed, tmp_path):
    """The scaffold's templates are package data: an instructor who installed the wheel can start an assignment."""
    env = {**os.environ, "PYTHONPATH": str(installed)}
    created = subprocess.run([sys.executable, "-m", "grader", "new", "hw3"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "assignments" / "hw3" / "checks.py").is_file() and (tmp_path / "student_template" / "hw3").is_dir()
