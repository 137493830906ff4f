"""No submission costs more than a stated bound: every run of it (the first load and each reload
after a restart) shares one load budget, and a notebook has at most MAX_CELLS code cells."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import nbformat

from conftest import REFERENCE_PATH
from grader.sandbox import MAX_CELLS, worst_case_seconds
from grading_helpers import assert_valid_results, function_scores, grade_file
from notebooks import filled_template, write

GRADER_OWN_SECONDS = 6.0  # reading the submission, the checks' own work and the reports, generously
BOUND_SECONDS = worst_case_seconds() + GRADER_OWN_SECONDS  # 190 s with the default limits
HANG = "import time\n\ndef {name}(*args, **kwargs):\n    time.sleep(100)\n"


def timed_grade(path, out_dir) -> dict:
    """grade_file, with the wall time of the whole `grader grade` process."""
    started = time.monotonic()
    outcome = grade_file(path, out_dir)
    return dict(outcome, seconds=time.monotonic() - started)


def test_reloads_share_one_budget_so_a_slow_notebook_with_hangs_stays_under_the_bound(tmp_path):
    # The notebook: 80 cells of 0.24 s (each under the 0.25 s a late cell gets), then
    # functions that hang, so that every restart ran all 80 cells again: 237 s on this machine.
    cells = [REFERENCE_PATH.read_text(encoding="utf-8")] + ["import time\ntime.sleep(0.24)\n"] * 80
    cells += [HANG.format(name=name) for name in ("rnn_step", "softmax", "qkv", "nll_loss")]
    amplifier = tmp_path / "amplifier.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), str(amplifier))
    # An honest notebook: a training cell (stopped at its 3 s) and one function that hangs, so a restart runs it again.
    honest = filled_template()
    honest.cells.append(nbformat.v4.new_code_cell("import time\nfor epoch in range(8):\n    time.sleep(1)\n"))
    honest.cells.append(nbformat.v4.new_code_cell(HANG.format(name="rnn_backward")))
    honest = write(honest, tmp_path / "honest.ipynb")
    too_many = tmp_path / "too_many.ipynb"
    scratch = [nbformat.v4.new_code_cell(f"x{i} = {i}") for i in range(MAX_CELLS)]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cells[0])] + scratch), str(too_many))

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(timed_grade, amplifier, tmp_path)
        others = [timed_grade(honest, tmp_path), timed_grade(too_many, tmp_path)]
        amplified = slow.result()

    for outcome in [amplified, *others]:
        assert outcome["returncode"] == 0, outcome["stderr"][-2000:]
        assert_valid_results(outcome["results"])
    print(f"the issue's notebook took {amplified['seconds']:.1f} s (bound {BOUND_SECONDS:g} s)")
    assert amplified["seconds"] < BOUND_SECONDS / 2
    reasons = "\n".join(t["output"] for t in amplified["results"]["tests"])
    assert "running the submission again, after its worker was stopped, took longer than the time left" in reasons

    honest_scores = function_scores(others[0]["results"])
    assert honest_scores.pop("rnn_backward")[0] == 0.0
    assert all(score == points for score, points in honest_scores.values()), honest_scores
    assert "stopped after running for its time limit" in others[0]["results"]["output"]

    assert others[1]["results"]["score"] == 0.0
    assert (f"too_many.ipynb has {MAX_CELLS + 1} code cells, over the limit of {MAX_CELLS}: merge or delete cells"
            in others[1]["results"]["output"])

