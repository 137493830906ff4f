"""Shared fixtures: the repository's paths and the reference solution module."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import settings

pytest.register_assert_rewrite("hostile_suite")  # its tests are collected by two test files

REPO = Path(__file__).resolve().parents[1]
REFERENCE_PATH = REPO / "solutions" / "hw1" / "hw1.py"

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
