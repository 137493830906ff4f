"""Helpers for tests that grade real submissions: run the CLI, grade many files in parallel.

`Homework` names the assignment a test grades: hw1 (`HW1`), or the small one of `grader new
tiny` (the `tiny` fixture of conftest.py), which grades in well under a second and so suits
tests of the CLI, batches, reports and notebooks, whose subject is not hw1's checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO


@dataclass(frozen=True)
class Homework:
    """An assignment as the tests grade it: `name` in the folder `assignments`, which holds
    NAME/assignment.json; its reference, template and points are read from that file."""

    name: str
    assignments: Path

    @property
    def config(self) -> dict:
        return json.loads((self.assignments / self.name / "assignment.json").read_text())

    @property
    def module(self) -> str:
        """The name of the student's module: NAME.py or NAME.ipynb."""
        return self.config["module"]

    @property
    def reference(self) -> Path:
        return (self.assignments / self.name / self.config["reference"]).resolve()

    @property
    def template(self) -> Path:
        """The student template folder: NAME.py, NAME.ipynb, test_public.py, grader.json."""
        return (self.assignments / self.name / self.config["template"]).resolve()

    @property
    def points(self) -> dict[str, float]:
        """function -> its points, in the assignment's order."""
        return {name: float(points) for name, points in self.config["points"].items()}

    @property
    def max_score(self) -> float:
        return sum(self.points.values())

    def option(self) -> tuple[str, str]:
        """The command-line option that points the grader at this assignment's folder."""
        return ("--assignments", str(self.assignments))


HW1 = Homework("hw1", REPO / "assignments")


def run_grader(*args: str, cwd: Path = REPO, timeout: float = 600, wrap=None, env=None) -> subprocess.CompletedProcess:
    """`python -m grader ARGS`, for real, in a subprocess; `wrap(command)` may wrap it (e.g. to change user)."""
    command = [sys.executable, "-m", "grader", *map(str, args)]
    return subprocess.run(wrap(command) if wrap else command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def grade_file(path: Path, out_dir: Path, extra: tuple[str, ...] = (), wrap=None, homework: Homework = HW1) -> dict:
    """Grade `path` as `homework` through the CLI; its results.json and feedback text, plus the exit status."""
    results, feedback = out_dir / f"{path.stem}.results.json", out_dir / f"{path.stem}.feedback.md"
    completed = run_grader(*homework.option(), "grade", homework.name, path, "--results-json", results,
                           "--feedback", feedback, "--quiet", *extra, wrap=wrap)
    return {
        "returncode": completed.returncode,
        "stdout": completed.stdout,
        "stderr": completed.stderr,
        "results": json.loads(results.read_text()) if results.exists() else None,
        "feedback": feedback.read_text() if feedback.exists() else "",
    }


def grade_many(paths: list[Path], out_dir: Path, extra: tuple[str, ...] = (), wrap=None,
               homework: Homework = HW1) -> dict[Path, dict]:
    """Grade every path as `homework` (two at a time: the machine has two cores)."""
    n = len(paths)
    with ProcessPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(grade_file, paths, [out_dir] * n, [extra] * n, [wrap] * n, [homework] * n)))


CONTRACT_POINTS = {
    "rnn_step": 8, "rnn_forward": 8, "rnn_step_backward": 8, "rnn_backward": 10, "softmax": 6,
    "softmax_backward": 6, "qkv": 4, "attention_weights": 8, "self_attention": 6,
    "self_attention_backward": 10, "log_softmax": 4, "nll_loss": 8, "nll_loss_backward": 6,
    "lm_inputs_and_targets": 3, "rnn_lm_loss": 5,
}


def assert_valid_results(results: dict, homework: Homework = HW1) -> None:
    """`results` follows contract §3 for `homework`: Gradescope's fields, one function tag per test, points that add up."""
    expected_points = CONTRACT_POINTS if homework == HW1 else homework.points
    assert set(results) >= {"score", "max_score", "execution_time", "output", "tests"}
    assert results["max_score"] == float(sum(expected_points.values()))
    assert abs(results["score"] - sum(t["score"] for t in results["tests"])) < 1e-3
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "tags", "visibility"}
        assert len(test["tags"]) == 1 and test["tags"][0] in expected_points
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert 0 <= test["score"] <= test["max_score"]
    points = {name: p for name, (_, p) in function_scores(results).items()}
    assert points == {k: float(v) for k, v in expected_points.items()}


def function_scores(results: dict) -> dict[str, tuple[float, float]]:
    """(score, points) per function, summed from the tests' tags as the contract defines."""
    scores: dict[str, list[float]] = {}
    for test in results["tests"]:
        (function,) = test["tags"]
        entry = scores.setdefault(function, [0.0, 0.0])
        entry[0] += test["score"]
        entry[1] += test["max_score"]
    return {name: (round(s, 6), round(p, 6)) for name, (s, p) in scores.items()}


def available_levels() -> list[str]:
    """The isolation levels this machine offers to this user (auto, landlock, bwrap)."""
    from grader.errors import UsageError
    from grader.sandbox.isolation import choose

    levels = []
    for level in ("auto", "landlock", "bwrap"):
        try:
            choose(level)
            levels.append(level)
        except UsageError:
            pass
    return levels


def leftover_processes(scope: Path, marker: str | None = None) -> list[str]:
    """Live processes of one test's gradings: whose command line or environment names `scope`
    (the test's folder, which holds the graders' TMPDIR) or `marker`, or whose working directory
    is inside it (a worker's scratch folder; a bubblewrap sandbox's outer process, which lives as
    long as anything inside it). Other tests may grade at the same time: their processes are not
    this test's."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if "State:\tZ" in status:
            continue
        try:
            environ = (entry / "environ").read_bytes().decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            environ, cwd = "", ""
        if any(str(scope) in text for text in (cmdline, environ, cwd)) or (marker is not None and marker in cmdline):
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found
