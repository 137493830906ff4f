"""The case cache (grader.grading.case_cache): grading replays the cases hypothesis would draw,
with what each check expects on them, recorded once per assignment version, and a grade never
depends on the cache.

Replayed cases are the very cases a live hypothesis run meets, expecting the very values the
reference gives, for every check of hw1 and of the scaffold; a submission gets the same results
with the cache missing, written, corrupt or tampered with; a random function is still caught as
one; a folder or file that is not private to the grader is never read; and the file holds
plain data that cannot name code to run."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from conftest import REPO
from grader.authoring import Case, recipe, seeds
from grader.authoring.checks import NOT_RECORDED, agreement
from grader.grading import case_cache
from grader.grading.assignment import load_assignment
from grader.grading.case_cache import CACHE_ENV, cache_path, cached_replays
from grader.grading.case_codec import decode_groups, identical, same_groups
from grader.grading.checking import _hypothesis_test, record_cases, same_cases
from grader.grading.pipeline import load_kit
from grader.grading.version import assignment_version
from grader.sandbox.calls import request_bytes
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


def test_every_hw1_check_replays_exactly_the_cases_hypothesis_draws_expecting_what_the_reference_gives(hw1_kit):
    assert all(replay is not None for replay in hw1_kit.replays)  # every check of hw1 is replayed
    for check, replay in zip(hw1_kit.checks, hw1_kit.replays):
        live, replayed = live_groups(check), replay.groups()
        assert len(replayed) == len(live) and all(same_cases(a, b) for a, b in zip(live, replayed)), check.name
        for group in replayed:
            for case in group:
                if check.expect is not None:  # recorded, and the value computed now
                    assert case.expected is not NOT_RECORDED and identical(case.expected, check.expect(case)), check.name
                else:
                    assert case.expected is NOT_RECORDED
            if check.single_call:  # the message that asks for the group's calls, made before, is the one made now
                assert group.request == request_bytes(check.function, [(c.args, dict(c.kwargs)) for c in group])
    assert sum(len(group) for check in hw1_kit.checks for group in live_groups(check)) >= 1600


def test_the_scaffolds_checks_replay_too(tiny_assignment, cache):
    assignment = load_assignment("tiny", tiny_assignment)
    kit = load_kit(assignment)
    assert kit.replays and all(replay is not None and replay.groups() for replay in kit.replays)
    assert cache_path(assignment, assignment_version(assignment)).is_file()


def replayed(kit) -> list:
    return [None if replay is None else replay.groups() for replay in kit.replays]


def same_replays(first: list, second: list) -> bool:
    return len(first) == len(second) and all(
        (a is None and b is None) or (a is not None and b is not None and same_groups(a, b)
                                      and [g.request for g in a] == [g.request for g in b])
        for a, b in zip(first, second))


def test_the_file_is_private_and_read_back_as_recorded(tiny_assignment, cache):
    assignment = load_assignment("tiny", tiny_assignment)
    kit = load_kit(assignment)
    path = cache_path(assignment, assignment_version(assignment))
    assert oct(cache.stat().st_mode & 0o777) == "0o700" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert same_replays(replayed(kit), [None if r is None else r.groups() for r in cached_replays(assignment, kit.checks)])
    assert path.read_bytes().startswith(case_cache.MAGIC)


def index_of(path: Path) -> tuple[dict, int]:
    """The file's index (JSON, at its end) and where the index starts (segment offsets count from the file's start)."""
    data = path.read_bytes()
    (length,) = struct.unpack_from("<Q", data, len(data) - 8)
    start = len(data) - 8 - 32 - length
    return json.loads(data[start:start + length]), start


def tamper_index(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b'"version"')
    data[at + 12] = ord("0") if data[at + 12] != ord("0") else ord("1")  # another version, were it trusted
    path.write_bytes(bytes(data))


def tamper_segment(path: Path) -> None:
    index, _ = index_of(path)
    offset, length, _ = index["checks"][0]["segment"]
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0x01  # one bit of a recorded case or value
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def other_version(path: Path) -> None:
    index, start = index_of(path)
    index["version"] = "0" * 64
    text = json.dumps(index, separators=(",", ":")).encode("utf-8")
    data = path.read_bytes()
    path.write_bytes(data[:start] + text + hashlib.sha256(text).digest() + struct.pack("<Q", len(text)))


def group_readable(path: Path) -> None:
    path.chmod(0o640)


def replaced_by_a_link(path: Path) -> None:
    target = path.with_name("elsewhere.cases")
    path.rename(target)
    path.symlink_to(target)


@pytest.mark.parametrize("spoil", [tamper_index, truncate, other_version, group_readable, replaced_by_a_link],
                         ids=lambda f: f.__name__)
def test_a_spoiled_file_is_recorded_again_never_trusted(tiny_assignment, cache, spoil, monkeypatch):
    assignment = load_assignment("tiny", tiny_assignment)
    kit = load_kit(assignment)
    before = replayed(kit)
    path = cache_path(assignment, assignment_version(assignment))
    spoil(path)
    recorded = []
    original = case_cache.record_cases
    monkeypatch.setattr(case_cache, "record_cases", lambda check: recorded.append(check) or original(check))
    assert same_replays(before, [r.groups() for r in cached_replays(assignment, kit.checks)])
    assert len(recorded) == len(kit.checks)  # recorded again, not read
    assert not path.is_symlink() and oct(path.stat().st_mode & 0o777) == "0o600"  # and written again, privately


def test_a_segment_changed_after_the_index_was_read_is_not_replayed(tiny_assignment, cache):
    """The file changed in place while a grader holds it: that check's cases are not trusted
    (it runs hypothesis, which meets the same cases); the others still replay."""
    assignment = load_assignment("tiny", tiny_assignment)
    load_kit(assignment)
    kit = load_kit(assignment)  # read from the file
    path = cache_path(assignment, assignment_version(assignment))
    tamper_segment(path)  # in place (the same file, written again): the grader's open file sees it
    assert kit.replays[0].groups() is None
    assert all(replay.groups() for replay in kit.replays[1:])


def test_a_segment_cannot_name_code_to_run():
    """A pickle that would call a function (here os.system) is refused, not run."""
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo PWNED > /dev/null",))

    with pytest.raises(ValueError):
        decode_groups(pickle.dumps(([((Evil(),), {}, "x")], [None])))
    with pytest.raises(ValueError):
        decode_groups(pickle.dumps(([((np.ones(2),), {}, "x")], [None])).replace(b"numpy", b"posix"))


@pytest.mark.parametrize("mode", [0o755, 0o770])
def test_a_folder_others_can_reach_is_not_used(tiny_assignment, cache, mode, monkeypatch):
    cache.mkdir(mode=mode)
    cache.chmod(mode)
    assignment = load_assignment("tiny", tiny_assignment)
    assert case_cache.cache_folder() is None
    kit = load_kit(assignment)
    assert all(replay.groups() for replay in kit.replays) and list(cache.iterdir()) == []  # recorded in memory, nothing written


def test_a_cache_that_cannot_be_written_is_kept_in_memory(tiny_assignment, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))  # under a file: cannot be made
    assignment = load_assignment("tiny", tiny_assignment)
    assert all(replay.groups() for replay in load_kit(assignment).replays)


@recipe
def _plain_case(draw):
    seed = draw(seeds())
    return Case((np.random.default_rng(seed).standard_normal(3),), summary="x of shape (3,)")


class _Scale:
    """Not a value a segment can hold."""

    def __init__(self, factor: float):
        self.factor = factor


@recipe
def _unstorable_case(draw):
    factor = draw(st.sampled_from([1.0, 2.0]))
    seed = draw(seeds())
    return Case((np.random.default_rng(seed).standard_normal(3),), {"scale": _Scale(factor)}, summary="x")


@recipe
def _strided_case(draw):
    seed = draw(seeds())
    return Case((np.random.default_rng(seed).standard_normal((4, 6))[:, ::2],), summary="x of shape (4, 3), strided")


@st.composite
def _strategy_cases(draw):
    return Case((np.full(3, draw(st.integers(0, 9)), dtype=float),), summary="x")


_DRAWN = [0]


@st.composite
def _changing_strategy_cases(draw):
    _DRAWN[0] += 1  # a state of its own: other cases each run
    return Case((np.full(3, float(_DRAWN[0] + draw(st.integers(0, 9)))),), summary="x")


def test_checks_whose_cases_are_recorded_exactly_and_those_that_run_hypothesis(tiny_assignment, cache):
    reference = lambda x, scale=None: 2 * x  # noqa: E731
    plain = agreement("f", "doubles", _plain_case(), reference, ("y",))
    unstorable = agreement("f", "doubles big", _unstorable_case(), reference, ("y",))
    strided = agreement("f", "doubles views", _strided_case(), reference, ("y",))
    layout = agreement("f", "says its layout", _strided_case(), lambda x: np.full(x.shape, float(x.flags.c_contiguous)), ("y",))
    strategy = agreement("f", "doubles integers", _strategy_cases(), reference, ("y",))
    random_strategy = agreement("f", "doubles changing numbers", _changing_strategy_cases(), reference, ("y",))
    checks = (plain, unstorable, strided, layout, strategy, random_strategy)
    segments = [case_cache._segment(check) for check in checks]
    # a strided view is stored as the contiguous copy the student gets, unless what the check
    # expects depends on the layout; a plain strategy is recorded when it draws the same cases twice
    assert [segment is None for segment in segments] == [False, True, False, True, False, True]
    assert record_cases(random_strategy) is None
    for check, segment in zip(checks, segments):
        if segment is not None:
            assert same_groups(decode_groups(segment), record_cases(check)), check.name


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
            for path in folder.glob("*.cases"):
                truncate(path)
        runs[run] = {path: grade(path, run) for path in (reference, stateful)}
        assert [p.name.split("-")[0] for p in folder.glob("*.cases")] == ["tiny"]
    assert runs["empty"] == runs["written"] == runs["spoiled"]
    assert runs["empty"][reference]["score"] == runs["empty"][reference]["max"] == 10.0
    stateful_tests = runs["empty"][stateful]["tests"]
    assert runs["empty"][stateful]["score"] < 10.0
    assert any("random or stateful" in output for _, _, output in stateful_tests), stateful_tests


COUNT_OPEN_FILES = '''
import os


def open_files(inode):
    """How many of this process's file descriptors are open on the file with this inode number."""
    count = 0
    for fd in range(1024):
        try:
            if os.fstat(fd).st_ino == int(inode[0]):
                count += 1
        except OSError:
            pass
    return float(count) + 0 * inode
'''


def test_a_worker_started_while_the_grader_holds_the_cache_open_does_not_inherit_it(tiny_assignment, cache):
    """As in a grade-all job: the checks (and the cache file) are loaded before each student's worker starts."""
    from grader.model import Cell
    from grader.sandbox.handle import StudentModule

    assignment = load_assignment("tiny", tiny_assignment)
    load_kit(assignment)
    kit = load_kit(assignment)  # read from the file, which stays open for the segments
    inode = np.array([float(cache_path(assignment, assignment_version(assignment)).stat().st_ino)])
    namespace: dict = {}
    exec(COUNT_OPEN_FILES, namespace)
    assert namespace["open_files"](inode)[0] >= 1, "the grader holds its cache open"
    with StudentModule("tiny", [Cell(COUNT_OPEN_FILES, "tiny.py")]) as student:
        assert not student.load().failure
        assert student.call("open_files", inode).tolist() == [0.0]
    assert kit.replays[0].groups()


def test_case_sources_are_tried_when_a_version_is_recorded_not_at_every_load(tiny_assignment, cache, tmp_path, monkeypatch):
    """The author's traps are found when the cache is recorded (load_kit tries every check's
    cases); a load that finds this very version recorded skips that trial; any change to the
    assignment is a new version, tried again: a recipe that draws no seed is still refused."""
    import shutil
    import sys

    from grader.errors import UsageError
    from grader.grading import assignment as assignment_module

    shutil.copytree(tiny_assignment, tmp_path / "assignments")
    shutil.copytree(tiny_assignment.parent / "solutions", tmp_path / "solutions")
    tried = []
    real = assignment_module.check_case_sources
    monkeypatch.setattr(assignment_module, "check_case_sources", lambda *a: (tried.append(1), real(*a)))
    assignment = load_assignment("tiny", tmp_path / "assignments")
    load_kit(assignment)
    assert len(tried) == 1 and case_cache.recorded(assignment, assignment_version(assignment))
    load_kit(assignment)
    assert len(tried) == 1  # this version is recorded: its cases were tried then
    cases = tmp_path / "assignments" / "tiny" / "cases.py"
    text = cases.read_text()
    assert "draw(seeds())" in text
    cases.write_text(text.replace("draw(seeds())", "0", 1))  # a recipe that draws no seed
    for name in [name for name in sys.modules if name.startswith("_grader_assignment_tiny")]:
        monkeypatch.delitem(sys.modules, name)  # imported afresh, as a new process would
    assert not case_cache.recorded(assignment, assignment_version(assignment))
    with pytest.raises(UsageError, match="draws no seeds"):
        load_kit(assignment)
    assert len(tried) == 2
