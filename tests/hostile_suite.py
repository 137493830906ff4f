"""The hostile suite: hostile submissions, graded for real through the CLI under every isolation
level this machine offers. Each must: exit 0 with a valid results.json; earn nothing on the
attacked function while honest functions keep their points; leave the checkout unchanged and no
process or file behind; and never get a line of the hidden reference or checks into any output.

The tests are here; `tests/test_hostile.py` (root) and `tests/test_hostile_unprivileged.py`
collect them with a `corpus` fixture over their own setups, so that the two users' gradings run
in parallel (one test file per pytest-xdist process)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import REFERENCE_PATH, REPO
from grader.grading.solution_blocks import find_solution_blocks
from grading_helpers import (CONTRACT_POINTS, assert_valid_results, available_levels, function_scores, grade_many,
                             leftover_processes)
import unprivileged
from grading_helpers import run_grader
from hostile import CASES
from test_mutants import CALLERS


# Who grades: this process's user, and, when that is root, also an unprivileged user.
USERS = ["root", "unprivileged"] if unprivileged.available() else ["current user"]
SETUPS = [(user, level) for user in USERS for level in available_levels()]
MARKER = f"hostile-{uuid.uuid4().hex[:12]}"


def hidden_lines() -> set[str]:
    """Lines of the hidden files that must never reach any output (less those that the public
    grader package happens to share, which the worker may read)."""
    public = {line.strip() for path in (REPO / "grader").rglob("*.py") for line in path.read_text().splitlines()}
    lines = set()
    for block in find_solution_blocks(REFERENCE_PATH.read_text()):
        lines |= {line.strip() for line in block.lines if len(line.strip()) >= 20}
    for path in (REPO / "assignments" / "hw1").glob("*.py"):
        for line in path.read_text().splitlines():
            text = line.strip()
            if len(text) >= 30 and not text.startswith(("import ", "from ", "#", '"""')) and ("(" in text or "=" in text):
                lines.add(text)
    return lines - public


HIDDEN = hidden_lines()


def checkout_fingerprint() -> dict[str, str]:
    """Each file of the checkout: its sha256, or, in the virtual environment the README's
    commands make (.venv/, thousands of files), its size and modification time."""
    fingerprint = {}
    for path in sorted(REPO.rglob("*")):
        parts = set(path.relative_to(REPO).parts)
        if path.is_file() and not {"__pycache__", ".git", ".hypothesis"} & parts:  # .hypothesis: the tests' own
            if ".venv" in parts:
                status = path.lstat()
                fingerprint[str(path.relative_to(REPO))] = f"{status.st_size}:{status.st_mtime_ns}"
            else:
                fingerprint[str(path.relative_to(REPO))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return fingerprint


class InSetup:
    """Runs a grader with TMPDIR inside its setup's folder (so its workers' scratch folders are
    there) and its case cache in `cache`, as `user` (picklable, for grade_many)."""

    def __init__(self, tmp: Path, holds: Path | None, cache: Path):
        self.tmp, self.holds, self.cache = str(tmp), str(holds) if holds else None, str(cache)

    def __call__(self, command: list[str]) -> list[str]:
        command = ["/usr/bin/env", f"TMPDIR={self.tmp}", f"GRADER_CACHE_DIR={self.cache}", *command]
        return unprivileged.as_unprivileged(command, self.holds) if self.holds else command


@pytest.fixture(scope="module")
def listeners():
    """A TCP, a UDP and an abstract unix socket on this machine, for the network attack to aim at."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    tcp.setblocking(False)
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    udp.setblocking(False)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(f"\0grader-test-{port}")
    unix.listen(8)
    unix.setblocking(False)
    yield port, (tcp, udp, unix)
    for sock in (tcp, udp, unix):
        sock.close()


def submission_source(case, port: int, cache: Path) -> str:
    code = case.code.format(port=port, marker=MARKER, cache=cache)
    return REFERENCE_PATH.read_text() + "\n\n# --- hostile code ---\n" + code


def corpus_fixture(setups: list[tuple[str, str]]):
    """A module-scoped `corpus` fixture: the hostile cases graded once per setup (user, level)."""

    @pytest.fixture(scope="module", params=setups, ids=lambda setup: f"{setup[0]}-{setup[1]}".replace(" ", "-"))
    def corpus(request, listeners):
        user, level = request.param
        port, _ = listeners
        scratch = Path(tempfile.mkdtemp(prefix="hostile-", dir="/tmp"))
        try:
            yield grade_corpus(scratch, user, level, port)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return corpus


def grade_corpus(scratch: Path, user: str, level: str, port: int) -> dict:
    """Grade every hostile case as `user` under `level`, in a world-readable scratch folder."""
    folder, out, holds, tmp = scratch / "submissions", scratch / "out", scratch / "holds", scratch / "tmp"
    for directory, mode in ((scratch, 0o755), (folder, 0o755), (out, 0o777), (holds, 0o755), (tmp, 0o1777)):
        directory.mkdir(exist_ok=True)
        directory.chmod(mode)
    # The case cache: root's is the suite's (tests/conftest.py); the unprivileged user makes its own.
    cache = tmp / "case-cache-unprivileged" if user == "unprivileged" else Path(os.environ["GRADER_CACHE_DIR"])
    wrap = InSetup(tmp, holds if user == "unprivileged" else None, cache)
    probe = run_grader("isolation", "--isolation", level, wrap=wrap)
    assert probe.returncode == 0, f"{user} cannot have --isolation {level}: {probe.stderr}"
    paths = []
    for case in CASES:
        path = folder / f"{case.id}.py"
        path.write_text(submission_source(case, port, cache))
        path.chmod(0o644)
        paths.append(path)
    before = checkout_fingerprint()
    started = time.monotonic()
    runs = grade_many(paths, out, ("--isolation", level), wrap=wrap)
    time.sleep(0.3)  # let the kernel finish tearing down the last sandboxes
    return {
        "user": user,
        "level": level,
        "layers": probe.stdout.strip(),
        "runs": {case.id: runs[path] for case, path in zip(CASES, paths)},
        "checkout_changed": sorted(k for k, v in checkout_fingerprint().items() if before.get(k) != v),
        "leftovers": leftover_processes(scratch, MARKER),
        "scratch_left": sorted(str(p) for p in tmp.glob("grader-worker-*")),
        "cache_files": sorted(path.name for path in cache.glob("*.cases")),
        "seconds": time.monotonic() - started,
    }


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_submission_is_graded_safely(corpus, case):
    run = corpus["runs"][case.id]
    assert run["returncode"] == 0, run["stderr"][-2000:]
    results = run["results"]
    assert_valid_results(results)
    scores = function_scores(results)
    if case.where != "import":
        earned = [t["name"] for t in results["tests"] if t["tags"] == [case.where] and t["status"] == "passed"
                  and not t["name"].endswith("output shapes and dtypes")]
        assert not earned, f"the attacked {case.where} passed {earned}"
    honest = {"all": set(CONTRACT_POINTS), "none": set(),
              "others": set(CONTRACT_POINTS) - {case.where} - CALLERS.get(case.where, set())}[case.honest]
    lost = {name for name in honest if scores[name][0] < scores[name][1]}
    assert not lost, f"honest functions lost points: {sorted(lost)}"
    if case.honest == "none":
        assert results["score"] == 0
    honest_score = sum(CONTRACT_POINTS[name] for name in honest) if case.honest != "all" else 100
    shape_points = sum(t["max_score"] for t in results["tests"] if t["name"].endswith("output shapes and dtypes"))
    assert results["score"] <= honest_score + shape_points
    everything = "\n".join([run["stdout"], run["stderr"], run["feedback"], str(results)])
    leaked = [line for line in HIDDEN if line in everything]
    assert not leaked, f"hidden lines reached the output: {leaked[:3]}"
    found = re.findall(r"FOUND (\S+)", everything)
    assert not [path for path in found if "/assignments/" in path or "/solutions/" in path], found
    assert "CONNECTED" not in everything
    assert "CACHE-READ" not in everything


def test_the_checkout_is_unchanged(corpus):
    assert corpus["checkout_changed"] == [], corpus["checkout_changed"]


def test_no_process_is_left_behind(corpus):
    assert corpus["leftovers"] == [], corpus["leftovers"]


def test_no_file_is_left_behind(corpus):
    leftovers = corpus["scratch_left"] + [p for p in Path("/dev/shm").glob(f"fill-{MARKER}")]
    for directory in (Path("/tmp"), Path.home()):
        leftovers += list(directory.glob(f"fill-{MARKER}"))
    assert leftovers == []


def test_the_network_was_never_reached(corpus, listeners):
    _, (tcp, udp, unix) = listeners
    for sock in (tcp, unix):
        with pytest.raises(BlockingIOError):
            sock.accept()
    with pytest.raises(BlockingIOError):
        udp.recv(100)


def test_the_cases_came_from_the_grading_users_cache_which_no_submission_read(corpus):
    assert [name for name in corpus["cache_files"] if name.startswith("hw1-")], corpus["cache_files"]
    output = corpus["runs"]["read-the-case-cache"]["stdout"] + corpus["runs"]["read-the-case-cache"]["feedback"]
    assert "CACHE-READ" not in output


def test_the_fake_results_did_not_replace_the_real_ones(corpus):
    results = corpus["runs"]["fake-results-everywhere"]["results"]
    assert results["tests"] and results["score"] == 100.0




def test_the_grader_ran_as_the_intended_user_with_the_intended_layers(corpus):
    assert corpus["layers"].startswith(f"isolation {corpus['level']}: ")
    if corpus["user"] != "root":
        assert "uid " not in corpus["layers"]  # an unprivileged grader cannot change uid
    elif corpus["level"] in ("auto", "bwrap"):
        assert "uid " in corpus["layers"]  # root hands the worker a uid of its own inside bubblewrap
    for run in corpus["runs"].values():
        assert run["results"]["extra_data"]["isolation"]["level"] == corpus["level"]

