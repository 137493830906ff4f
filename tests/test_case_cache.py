"""The case cache (grader.grading.case_cache): grading replays the cases hypothesis would draw,
recorded once per assignment version, and a grade never depends on the cache.

Replayed cases are the very cases a live hypothesis run meets, for every check of hw1 and of
the scaffold; a submission gets the same results with the cache missing, written, corrupt or
tampered with; a random function is still caught as one; and a folder or file that is not
private to the grader is never read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from conftest import REPO
from grader.authoring import Case, recipe, seeds
from grader.authoring.checks import agreement
from grader.grading import case_cache
from grader.grading.assignment import load_assignment
from grader.grading.case_cache import CACHE_ENV, cache_path, cached_replays
from grader.grading.checking import _hypothesis_test, record_cases, same_cases
from grader.grading.pipeline import load_kit
from grader.grading.version import assignment_version
from grading_helpers import run_grader


def live_groups(check) -> list[tuple]:
    """The groups of cases a live hypothesis run of `check` meets when every example passes."""
    groups: list[tuple] = []
    _hypothesis_test(check, groups.append)()
    return groups


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="module")
def hw1():
    return load_assignment("hw1", REPO / "assignments")


@pytest.fixture(scope="module")
def hw1_kit(hw1, tmp_path_factory):
    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("hw1-cache"))
    try:
        return load_kit(hw1)
    finally:
        os.environ.pop(CACHE_ENV) if previous is None else os.environ.__setitem__(CACHE_ENV, previous)


def test_every_hw1_check_replays_exactly_the_cases_hypothesis_draws(hw1_kit):
    from grader.authoring.strategies import replay_variants

    assert all(replay is not None for replay in hw1_kit.replays)  # every check of hw1 is replayed
    for check, replay in zip(hw1_kit.checks, hw1_kit.replays):
        live = live_groups(check)
        replayed = [replay_variants(check.cases, len(group), draws) for group, draws in zip(live, replay)]
        assert len(replay) == len(live), check.name
        assert all(same_cases(a, b) for a, b in zip(live, replayed)), check.name
    assert sum(len(group) for check in hw1_kit.checks for group in live_groups(check)) >= 1600


def test_the_scaffolds_checks_replay_too(tiny_assignment, cache):
    assignment = load_assignment("tiny", tiny_assignment)
    kit = load_kit(assignment)
    assert kit.replays and all(replay for replay in kit.replays)
    assert cache_path(assignment, assignment_version(assignment)).is_file()


def test_the_file_is_private_and_read_back_as_recorded(tiny_assignment, cache):
    assignment = load_assignment("tiny", tiny_assignment)
    kit = load_kit(assignment)
    path = cache_path(assignment, assignment_version(assignment))
    assert oct(cache.stat().st_mode & 0o777) == "0o700" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert cached_replays(assignment, kit.checks) == kit.replays
    stored = json.loads(path.read_text())
    assert stored["version"] == assignment_version(assignment) and len(stored["checks"]) == len(kit.checks)


def tamper_digest(path: Path) -> None:
    stored = json.loads(path.read_text())
    example = stored["checks"][0]["draws"][-1]
    seed_index = max(i for i, value in enumerate(example) if type(value) is int)
    example[seed_index] += 1  # another seed or size: other cases, were it trusted
    path.write_text(json.dumps(stored))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def other_version(path: Path) -> None:
    stored = json.loads(path.read_text())
    stored["version"] = "0" * 64
    path.write_text(json.dumps(stored))


def group_readable(path: Path) -> None:
    path.chmod(0o640)


def replaced_by_a_link(path: Path) -> None:
    target = path.with_name("elsewhere.json")
    path.rename(target)
    path.symlink_to(target)


@pytest.mark.parametrize("spoil", [tamper_digest, truncate, other_version, group_readable, replaced_by_a_link],
                         ids=lambda f: f.__name__)
def test_a_spoiled_file_is_recorded_again_never_trusted(tiny_assignment, cache, spoil, monkeypatch):
    assignment = load_assignment("tiny", tiny_assignment)
    kit = load_kit(assignment)
    path = cache_path(assignment, assignment_version(assignment))
    spoil(path)
    recorded = []
    original = case_cache.record_cases
    monkeypatch.setattr(case_cache, "record_cases", lambda check: recorded.append(check) or original(check))
    assert cached_replays(assignment, kit.checks) == kit.replays
    assert len(recorded) == len(kit.checks)  # recorded again, not read
    assert not path.is_symlink() and oct(path.stat().st_mode & 0o777) == "0o600"  # and written again, privately


@pytest.mark.parametrize("mode", [0o755, 0o770])
def test_a_folder_others_can_reach_is_not_used(tiny_assignment, cache, mode, monkeypatch):
    cache.mkdir(mode=mode)
    cache.chmod(mode)
    assignment = load_assignment("tiny", tiny_assignment)
    assert case_cache.cache_folder() is None
    kit = load_kit(assignment)
    assert all(kit.replays) and list(cache.iterdir()) == []  # recorded in memory, nothing written


def test_a_cache_that_cannot_be_written_is_kept_in_memory(tiny_assignment, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))  # under a file: cannot be made
    assignment = load_assignment("tiny", tiny_assignment)
    assert all(load_kit(assignment).replays)


@recipe
def _plain_case(draw):
    seed = draw(seeds())
    return Case((np.random.default_rng(seed).standard_normal(3),), summary="x of shape (3,)")


@recipe
def _numpy_scalar_case(draw):
    scale = draw(st.sampled_from([np.float32(1.0), np.float32(2.0)]))  # not a value the file can hold exactly
    seed = draw(seeds())
    return Case((scale * np.random.default_rng(seed).standard_normal(3),), summary="x")


@st.composite
def _strategy_cases(draw):
    return Case((np.full(3, draw(st.integers(0, 9)), dtype=float),), summary="x")


def test_checks_that_cannot_be_replayed_run_hypothesis(tiny_assignment, cache):
    reference = lambda x: 2 * x  # noqa: E731
    plain = agreement("f", "doubles", _plain_case(), reference, ("y",))
    unstorable = agreement("f", "doubles big", _numpy_scalar_case(), reference, ("y",))
    strategy = agreement("f", "doubles integers", _strategy_cases(), reference, ("y",))
    assert record_cases(plain) and record_cases(strategy) is None
    entries = [case_cache._entry(check, record_cases(check)) for check in (plain, unstorable, strategy)]
    assert [entry["draws"] is None for entry in entries] == [False, True, True]
    assert case_cache._replays(entries)[0] == record_cases(plain)


STATEFUL_TINY = '''

_reference_normalize = normalize
_calls = [0]


def normalize(x, axis=-1):
    _calls[0] += 1
    if _calls[0] == 15:  # one wrong answer, part-way through: a stateful function
        return np.zeros_like(x)
    return _reference_normalize(x, axis)
'''


def test_grades_are_the_same_with_the_cache_missing_written_or_spoiled(tiny_assignment, tmp_path):
    """Real CLI runs: the reference and a stateful function, each graded with an empty cache
    folder, then with the file written, then with it spoiled."""
    root = tiny_assignment.parent
    reference = root / "solutions" / "tiny" / "tiny.py"
    stateful = tmp_path / "stateful" / "tiny.py"
    stateful.parent.mkdir()
    stateful.write_text(reference.read_text() + STATEFUL_TINY)
    folder = tmp_path / "cache"
    env = {**os.environ, CACHE_ENV: str(folder), "PYTHONPATH": str(REPO)}

    def grade(path: Path, run: str) -> dict:
        results = tmp_path / f"{path.parent.name}-{run}.json"
        completed = run_grader("--assignments", tiny_assignment, "grade", "tiny", path, "--results-json", results,
                               "--quiet", cwd=tmp_path, env=env)
        assert completed.returncode == 0, completed.stderr
        graded = json.loads(results.read_text())
        return {"score": graded["score"], "max": graded["max_score"], "tests": [(t["name"], t["score"], t["output"]) for t in graded["tests"]]}

    runs = {}
    for run in ("empty", "written", "spoiled"):
        if run == "spoiled":
            for path in folder.glob("*.json"):
                truncate(path)
        runs[run] = {path: grade(path, run) for path in (reference, stateful)}
        assert [p.name.split("-")[0] for p in folder.glob("*.json")] == ["tiny"]
    assert runs["empty"] == runs["written"] == runs["spoiled"]
    assert runs["empty"][reference]["score"] == runs["empty"][reference]["max"] == 10.0
    stateful_tests = runs["empty"][stateful]["tests"]
    assert runs["empty"][stateful]["score"] < 10.0
    assert any("random or stateful" in output for _, _, output in stateful_tests), stateful_tests
