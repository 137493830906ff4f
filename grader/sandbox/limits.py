"""What one submission may cost the sandbox: the limits on its workers and its time budgets.

Time is bounded per submission, however many workers it takes: all runs of the submission
(the first load and every reload after a restart) share one load budget (`load_seconds`) and
one top-level budget (`top_level_seconds`), and all calls share `calls_seconds` of waiting for
answers, of which one function's calls may take `function_seconds` (so that a slow function
cannot starve the others). With at most MAX_CELLS code cells, the worst case is in
`worst_case_seconds`.

Plain data and arithmetic: the submission reader (grader.grading.submission) takes MAX_CELLS
from here, and the sandbox's process, loader and call channel their limits and budgets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxLimits:
    """Limits on one worker. Times are wall-clock seconds."""

    call_seconds: float = 2.0
    calls_seconds: float = 60.0  # waiting for answers, all calls of the submission together
    function_seconds: float = 10.0  # waiting for answers, all calls of one function together
    load_seconds: float = 10.0  # for all runs of the submission together, plus what its cells may take:
    cell_seconds: float = 3.0  # for the top-level code of one cell (a .py file is one cell)
    top_level_seconds: float = 30.0  # for the top-level code of all cells of all runs together; then each cell gets
    late_cell_seconds: float = 0.25  # only this (enough to define functions, not to train a model)
    cpu_seconds: int = 60
    address_space_bytes: int = 1 << 30
    file_size_bytes: int = 16 << 20
    open_files: int = 64
    output_bytes: int = 16 << 10
    max_restarts: int = 12
    processes: int = 256
    scratch_bytes: int = 64 << 20


MAX_CELLS = 300  # code cells in a submission: each may take late_cell_seconds, so they bound the load budget
KILL_SECONDS = 4.5  # at most, to end a worker (0.5 s grace, 2 s to reap its group, 2 s to drain its output)


def load_budget_seconds(limits: SandboxLimits, cells: int) -> float:
    """The time all runs of a submission of `cells` code cells share: a base, plus what its
    cells may take (each its own limit, all together at most top_level_seconds plus a little
    per cell). The number of cells counts up to MAX_CELLS."""
    cells = min(cells, MAX_CELLS)
    return limits.load_seconds + min(limits.cell_seconds * cells, limits.top_level_seconds + limits.late_cell_seconds * cells)


def worst_case_seconds(limits: SandboxLimits = SandboxLimits()) -> float:
    """An upper bound on the sandbox's time for one submission, whatever it does: every load
    and reload, every call, and ending each worker when its budget ran out. The grader's own
    work (checking the answers, writing the reports) comes on top: 1 to 3 s."""
    return load_budget_seconds(limits, MAX_CELLS) + limits.calls_seconds + 2 * KILL_SECONDS


class TimeBudget:
    """Wall-clock seconds shared by every worker of one submission: what is spent is gone."""

    def __init__(self, seconds: float):
        self.seconds, self.spent = seconds, 0.0

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.spent)

    def spend(self, seconds: float) -> None:
        self.spent += max(0.0, seconds)
