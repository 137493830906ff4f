"""Helpers for tests that grade real submissions: run the CLI, grade many files in parallel."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from conftest import REPO


def run_grader(*args: str, cwd: Path = REPO, timeout: float = 600, wrap=None, env=None) -> subprocess.CompletedProcess:
    """`python -m grader ARGS`, for real, in a subprocess; `wrap(command)` may wrap it (e.g. to change user)."""
    command = [sys.executable, "-m", "grader", *map(str, args)]
    return subprocess.run(wrap(command) if wrap else command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def grade_file(path: Path, out_dir: Path, extra: tuple[str, ...] = (), wrap=None) -> dict:
    """Grade `path` through the CLI; its results.json and feedback text, plus the exit status."""
    results, feedback = out_dir / f"{path.stem}.results.json", out_dir / f"{path.stem}.feedback.md"
    completed = run_grader("grade", "hw1", path, "--results-json", results, "--feedback", feedback, "--quiet", *extra,
                           wrap=wrap)
    return {
        "returncode": completed.returncode,
        "stdout": completed.stdout,
        "stderr": completed.stderr,
        "results": json.loads(results.read_text()) if results.exists() else None,
        "feedback": feedback.read_text() if feedback.exists() else "",
    }


def grade_many(paths: list[Path], out_dir: Path, extra: tuple[str, ...] = (), wrap=None) -> dict[Path, dict]:
    """Grade every path (two at a time: the machine has two cores)."""
    n = len(paths)
    with ProcessPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(grade_file, paths, [out_dir] * n, [extra] * n, [wrap] * n)))


CONTRACT_POINTS = {
    "rnn_step": 8, "rnn_forward": 8, "rnn_step_backward": 8, "rnn_backward": 10, "softmax": 6,
    "softmax_backward": 6, "qkv": 4, "attention_weights": 8, "self_attention": 6,
    "self_attention_backward": 10, "log_softmax": 4, "nll_loss": 8, "nll_loss_backward": 6,
    "lm_inputs_and_targets": 3, "rnn_lm_loss": 5,
}


def assert_valid_results(results: dict) -> None:
    """`results` follows contract §3 for hw1: Gradescope's fields, one function tag per test, points that add up."""
    assert set(results) >= {"score", "max_score", "execution_time", "output", "tests"}
    assert results["max_score"] == 100.0
    assert abs(results["score"] - sum(t["score"] for t in results["tests"])) < 1e-3
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "tags", "visibility"}
        assert len(test["tags"]) == 1 and test["tags"][0] in CONTRACT_POINTS
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert 0 <= test["score"] <= test["max_score"]
    points = {name: p for name, (_, p) in function_scores(results).items()}
    assert points == {k: float(v) for k, v in CONTRACT_POINTS.items()}


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
