"""The grader's cases depend on each check's seed alone: hypothesis draws no constants from the
modules a process happens to have loaded, and writes no `.hypothesis/` cache where the grader
is run (an instructor's folder, Gradescope's source folder)."""

from __future__ import annotations

import json

from grading_helpers import run_grader


def test_grading_writes_nothing_into_the_folder_it_is_run_from(tiny, tmp_path):
    """The small assignment of `grader new tiny` has a check of every kind, each drawing its cases with hypothesis."""
    results = tmp_path / "out" / "results.json"
    completed = run_grader(*tiny.option(), "grade", "tiny", tiny.reference, "--results-json", results, "--quiet",
                           cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(results.read_text())["score"] == 10.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_hypothesis_draws_no_constants_from_local_modules():
    from hypothesis.internal.conjecture import providers

    from grader.grading.checking import draw_without_local_constants

    draw_without_local_constants()
    assert len(providers._get_local_constants()) == 0  # the grader, the checks and the reference are all loaded here
