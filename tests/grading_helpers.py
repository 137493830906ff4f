"""Helpers for tests that grade real submissions: run the CLI, grade many files in parallel."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from conftest import REPO


def run_grader(*args: str, cwd: Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m grader ARGS`, for real, in a subprocess."""
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def grade_file(path: Path, out_dir: Path) -> dict:
    """Grade `path` through the CLI; its results.json and feedback text, plus the exit status."""
    results, feedback = out_dir / f"{path.stem}.results.json", out_dir / f"{path.stem}.feedback.md"
    completed = run_grader("grade", "hw1", path, "--results-json", results, "--feedback", feedback, "--quiet")
    return {
        "returncode": completed.returncode,
        "stderr": completed.stderr,
        "results": json.loads(results.read_text()) if results.exists() else None,
        "feedback": feedback.read_text() if feedback.exists() else "",
    }


def grade_many(paths: list[Path], out_dir: Path) -> dict[Path, dict]:
    """Grade every path (two at a time: the machine has two cores)."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(grade_file, paths, [out_dir] * len(paths))))


def function_scores(results: dict) -> dict[str, tuple[float, float]]:
    """(score, points) per function, summed from the tests' tags as the contract defines."""
    scores: dict[str, list[float]] = {}
    for test in results["tests"]:
        (function,) = test["tags"]
        entry = scores.setdefault(function, [0.0, 0.0])
        entry[0] += test["score"]
        entry[1] += test["max_score"]
    return {name: (round(s, 6), round(p, 6)) for name, (s, p) in scores.items()}
