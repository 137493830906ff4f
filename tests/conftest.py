"""Shared fixtures: the repository's paths and the reference solution module."""

from __future__ import annotations

import atexit
import compileall
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

pytest.register_assert_rewrite("hostile_suite")  # its tests are collected by two test files

REPO = Path(__file__).resolve().parents[1]
REFERENCE_PATH = REPO / "solutions" / "hw1" / "hw1.py"

# The case cache (grader.grading.case_cache) of every grading the tests run, this process's and
# its subprocesses': in a temporary folder, removed at the end, never in the home folder.
CASE_CACHE = tempfile.mkdtemp(prefix="grader-test-case-cache-")
os.environ["GRADER_CACHE_DIR"] = CASE_CACHE
atexit.register(shutil.rmtree, CASE_CACHE, ignore_errors=True)

# Every grading the tests run is a new process (often two: the grader and its worker) that
# imports the grader and the assignment's checks: compile them once, as a first run of Python
# would, so that none of those processes compiles them again where PYTHONDONTWRITEBYTECODE is
# set (it stops Python writing the compiled files, not reading them).
for _folder in ("grader", "assignments", "solutions"):
    compileall.compile_dir(REPO / _folder, quiet=1)

settings.register_profile("grader-tests", derandomize=True, database=None, deadline=None, print_blob=False)
settings.load_profile("grader-tests")


@functools.cache
def hw1_mutants() -> tuple:
    """Homework 1's mutants, from assignments/hw1/mutants.py (grader.authoring.mutants.Mutant)."""
    from grader.grading.assignment import import_assignment_module, load_assignment

    return tuple(import_assignment_module(load_assignment("hw1", REPO / "assignments"), "mutants").MUTANTS)


def load_module(path: Path, name: str):
    """Import the file at `path` as a fresh module called `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def reference():
    """The reference solution of homework 1, imported from solutions/hw1/hw1.py."""
    return load_module(REFERENCE_PATH, "hw1_reference")


@pytest.fixture
def python() -> str:
    return sys.executable


@pytest.fixture(scope="session")
def tiny_assignment(tmp_path_factory) -> Path:
    """The assignments folder of `grader new tiny`, made once per session in a temporary folder:
    the scaffold's two small functions (normalize 6 points, normalize_backward 4), a check of
    every kind, its solutions/tiny/ and student_template/tiny/ beside it. It grades in well
    under a second: tests of the CLI, batches and reports need not grade all of hw1.
    Read it, never change it (copy it first); its root is the returned folder's parent."""
    root = tmp_path_factory.mktemp("tiny")
    completed = subprocess.run([sys.executable, "-m", "grader", "new", "tiny"], cwd=root, capture_output=True, text=True,
                               timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert completed.returncode == 0, completed.stderr
    return root / "assignments"


@pytest.fixture(scope="session")
def tiny(tiny_assignment):
    """tiny_assignment as a grading_helpers.Homework: grade_file(..., homework=tiny) and the like."""
    from grading_helpers import Homework

    return Homework("tiny", tiny_assignment)


# The test files that take longest (each grades many submissions for real), heaviest first.
# pytest-xdist's `--dist loadfile` hands whole files to its workers in collection order, so
# starting with these keeps one worker from being left with a long file at the end while the
# others are idle. The order changes no test's outcome: each file sets up its own state.
LONGEST_FILES = ("test_mutants.py", "test_hw2_audit.py", "test_hostile.py", "test_hostile_unprivileged.py",
                 "test_gaming.py", "test_cluster.py", "test_grade_all.py", "test_audit.py", "test_privileges.py", "test_pages.py",
                 "test_reload_budget.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: index for index, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FILES)))  # stable: the rest keep their order
