"""No submission costs more than a stated bound: every run of it (the first load and each reload
after a restart) shares one load budget, and a notebook has at most MAX_CELLS code cells."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import nbformat

from conftest import REFERENCE_PATH
from grader.sandbox.limits import MAX_CELLS, SandboxLimits, load_budget_seconds, worst_case_seconds
from grading_helpers import CONTRACT_POINTS, assert_valid_results, function_scores, grade_file
from notebooks import filled_template, write

GRADER_OWN_SECONDS = 6.0  # reading the submission, the checks' own work and the reports, generously
BOUND_SECONDS = worst_case_seconds() + GRADER_OWN_SECONDS  # 190 s with the default limits
HANG = "import time\n\ndef {name}(*args, **kwargs):\n    time.sleep(100)\n"


def timed_grade(path, out_dir) -> dict:
    """grade_file, with the wall time of the whole `grader grade` process."""
    started = time.monotonic()
    outcome = grade_file(path, out_dir)
    return dict(outcome, seconds=time.monotonic() - started)


def test_reloads_share_one_budget_so_slow_top_level_code_with_hangs_stays_under_the_bound(tmp_path):
    # The amplifier, at its smallest: top-level code that takes 2.5 s (under its 3 s), then
    # fifteen functions that hang, so that every restart ran the top level again. Before the shared
    # budget: 12 restarts, 13 runs of 2.5 s and 12 hangs of 2 s, about a minute. (The issue's own
    # notebook, 80 cells of 0.24 s with hanging functions, took 237 s before and 71 s after.)
    functions = [name for name in CONTRACT_POINTS]
    cells = [REFERENCE_PATH.read_text(encoding="utf-8") + "\nimport time\ntime.sleep(2.5)\n"
             + "".join(HANG.format(name=name) for name in functions)]
    amplifier = tmp_path / "amplifier.py"
    amplifier.write_text(cells[0])
    # An honest notebook: a training cell (stopped at its 3 s) and one function that hangs, so a restart runs it again.
    honest = filled_template()
    honest.cells.append(nbformat.v4.new_code_cell("import time\nfor epoch in range(8):\n    time.sleep(1)\n"))
    honest.cells.append(nbformat.v4.new_code_cell(HANG.format(name="rnn_backward")))
    honest = write(honest, tmp_path / "honest.ipynb")
    too_many = tmp_path / "too_many.ipynb"
    scratch = [nbformat.v4.new_code_cell(f"x{i} = {i}") for i in range(MAX_CELLS)]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(REFERENCE_PATH.read_text())] + scratch),
                   str(too_many))

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(timed_grade, amplifier, tmp_path)
        others = [timed_grade(honest, tmp_path), timed_grade(too_many, tmp_path)]
        amplified = slow.result()

    for outcome in [amplified, *others]:
        assert outcome["returncode"] == 0, outcome["stderr"][-2000:]
        assert_valid_results(outcome["results"])
    load_budget = load_budget_seconds(SandboxLimits(), 1)  # a .py file is one cell: 13 s for all its runs
    runs = 1 + amplified["results"]["extra_data"]["worker_restarts"]
    assert runs * 2.5 < load_budget + 2.5  # before: 13 runs, 32.5 s of top-level code alone
    hangs = len(functions)
    assert amplified["seconds"] < load_budget + 2 * runs + GRADER_OWN_SECONDS < hangs * 2.5  # before: about 60 s
    reasons = "\n".join(t["output"] for t in amplified["results"]["tests"])
    assert ("running the submission again, after its worker was stopped, took longer than the time left" in reasons
            or "the submission cannot be run again" in reasons)
    assert amplified["results"]["score"] == 0.0

    honest_scores = function_scores(others[0]["results"])
    assert honest_scores.pop("rnn_backward")[0] == 0.0
    assert all(score == points for score, points in honest_scores.values()), honest_scores
    assert "stopped after running for its time limit" in others[0]["results"]["output"]

    assert others[1]["results"]["score"] == 0.0
    assert (f"too_many.ipynb has {MAX_CELLS + 1} code cells, over the limit of {MAX_CELLS}: merge or delete cells"
            in others[1]["results"]["output"])

