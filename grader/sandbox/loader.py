"""Loading the submission into a worker: run its cells' top-level code, and report what happened.

A worker is sent the submission's cells; it says it is ready (and which isolation layers it
applied), announces each cell as it starts it, and ends with its load report (errors per cell,
the functions defined, the stand-ins used), each message parsed by grader.sandbox.messages.
What the worker does not say in time, or says wrongly, is the submission's failure to load,
never the grader's, but for a worker that cannot even start (SandboxFault).

Every run of the submission (the first load, a run without a cell that could not be stopped,
a reload after a restart) spends from one load budget, and the time its cells run from one
top-level budget (grader.sandbox.limits), so that restarts cannot multiply what slow top-level
code costs.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Sequence

from grader.model import Cell, LoadReport
from grader.sandbox import messages, wire
from grader.sandbox.limits import SandboxLimits, TimeBudget, load_budget_seconds
from grader.sandbox.worker_process import SandboxFault, Workers

MAX_SKIPPED_CELLS = 2  # cells that could not be stopped, skipped before a load is given up
CELL_GRACE_SECONDS = 2.0  # after a cell's time limit, for the interruption to take effect
MIN_RELOAD_SECONDS = 1.0  # no restart when less of the load budget is left: a worker takes this long to start


class Loader:
    """Runs the submission `cells` of the module `module_name` in the workers of `workers`.

    `first_report` is the first load's report; `broken` says why the submission cannot be
    called at all (its last load failed), None while it can.
    """

    def __init__(self, module_name: str, cells: Sequence[Cell], limits: SandboxLimits, expected: Sequence[str],
                 workers: Workers):
        self.module_name, self.limits, self.workers = module_name, limits, workers
        self.cells = list(cells)  # a cell that could not be stopped is emptied here, for the next runs
        self.expected = list(expected)  # the functions that will be called, for the load report
        self.first_report: LoadReport | None = None
        self.broken: str | None = None
        self.applied_layers: list[str] = []
        self.starts = 0
        self.restarts = 0
        self.load_budget = TimeBudget(load_budget_seconds(limits, len(self.cells)))  # every run of the submission
        self.top_level_budget = TimeBudget(limits.top_level_seconds)  # the cells' top-level code, in every run
        self._started = 0.0
        self._deadline = 0.0

    @property
    def load_seconds(self) -> float:
        """The time all runs of the submission share (the first load and every reload)."""
        return self.load_budget.seconds

    @property
    def filenames(self) -> set[str]:
        """The names of the cells: the only places a worker may say the student's code raised."""
        return {cell.filename for cell in self.cells}

    def load(self) -> LoadReport:
        """Start a worker and run the submission; the first load's report is kept."""
        self.start()
        return self.finish_load()

    def start(self) -> None:
        """Start a worker and send it the submission, without waiting for it to run."""
        self._started = time.monotonic()
        self._deadline = self._started + self.load_budget.remaining
        self.starts += 1
        worker = self.workers.start()
        header = {"op": "load", "module": self.module_name, "cell_seconds": self.limits.cell_seconds,
                  "top_level_seconds": self.top_level_budget.remaining, "late_cell_seconds": self.limits.late_cell_seconds,
                  "expected": self.expected,
                  "cells": [{"source": c.source, "filename": c.filename} for c in self.cells]}
        try:
            wire.send_message(worker.to_worker, header)
        except wire.WireClosed:
            pass  # finish_load() finds out what happened to it

    def finish_load(self) -> LoadReport:
        """Wait for the worker started by start() to run the submission; its report.

        A cell that could not be stopped (it ignored its time limit, or killed the worker) is
        skipped, and the submission is run again without it, up to MAX_SKIPPED_CELLS times, so
        the other cells of a notebook still count. A single-cell submission (a .py) cannot be
        salvaged this way: its load fails.
        """
        skipped: list[dict] = []
        while True:
            report, running = self._receive_load()
            salvageable = (report.failure and isinstance(running, int) and 0 < running < len(self.cells)
                           and len(self.cells) > 2 and len(skipped) < MAX_SKIPPED_CELLS)
            if not salvageable:
                break
            skipped.append({"type": "CellSkipped", "message": report.failure, "cell": running, "where": None,
                            "cause": report.failure_kind})
            self.cells[running] = replace(self.cells[running], source="")
            self.start()
        report.errors = skipped + report.errors
        if report.failure:
            self.workers.stop()
            self.broken = report.failure
        if self.first_report is None:
            self.first_report = report
        return report

    def reload(self) -> str | None:
        """Run the submission again in a fresh worker, after its worker was stopped, if the
        budgets allow another run; None when it loaded, else why no more calls can be made."""
        if self.restarts >= self.limits.max_restarts:
            return f"the worker was restarted {self.restarts} times; no more calls are made"
        if self.load_budget.remaining < MIN_RELOAD_SECONDS:
            return (f"its worker was stopped, and the submission cannot be run again: all its runs together "
                    f"get {self.load_seconds:g} s, and they used them up (restarted {self.restarts} times)")
        self.restarts += 1
        return self.broken if self.load().failure else None

    def _receive_load(self) -> tuple[LoadReport, int | None]:
        """The report of one load, and the index of the cell running when it ended. Its time
        is spent from the load budget (and the time its cells ran from the top-level budget)."""
        cells_started = None
        try:
            if not self._receive_ready():
                return LoadReport(failure=self._out_of_load_time(), failure_kind="time"), None
            cells_started = time.monotonic()
            return self._receive_cells()
        finally:
            now = time.monotonic()
            self.load_budget.spend(now - self._started)
            if cells_started is not None:
                self.top_level_budget.spend(now - cells_started)

    def _receive_ready(self) -> bool:
        """Wait for the worker to say it is ready; False if a reload ran out of time first.

        Raises:
            SandboxFault: the worker could not start (a fault of the grader or the machine).
        """
        worker = self.workers.current
        try:
            ready, _ = wire.receive_message(worker.answers, self._deadline)
            self.applied_layers = messages.parse_ready(ready)
        except wire.WireTimeout:
            if self.starts > 1:  # a reload with little of the load budget left
                self.workers.stop()
                return False
            raise SandboxFault(f"the sandbox could not start a worker ({self.workers.stop()}; no answer in "
                               f"{self.load_seconds:g} s): {self.workers.output.text()[-600:].strip()}") from None
        except wire.WireError as error:
            raise SandboxFault(f"the sandbox could not start a worker ({self.workers.stop()}; {error}): "
                               f"{self.workers.output.text()[-600:].strip()}") from None
        return True

    def _receive_cells(self) -> tuple[LoadReport, int | None]:
        """The worker's messages while it runs the cells, up to its load report."""
        worker, filenames = self.workers.current, [cell.filename for cell in self.cells]
        running, deadline = None, self._deadline
        try:
            while True:
                answer, _ = wire.receive_message(worker.answers, deadline)
                if answer.get("op") != "cell":
                    break
                running = messages.parse_cell(answer, 0 if running is None else running + 1, len(self.cells))
                # a cell is interrupted after cell_seconds at most: one that is not done soon after will not stop
                deadline = min(self._deadline, time.monotonic() + self.limits.cell_seconds + CELL_GRACE_SECONDS)
            report = messages.parse_loaded(answer, filenames, self.expected)
        except wire.WireTimeout:
            if deadline < self._deadline:
                report = LoadReport(failure=f"it ran past its time limit ({self.limits.cell_seconds:g} s) and did not stop "
                                            "when interrupted", failure_kind="time")
            else:
                report = LoadReport(failure=self._out_of_load_time(), failure_kind="time")
            self.workers.stop()
        except wire.WireClosed:
            report = LoadReport(failure=f"the worker died while running the submission ({self.workers.stop(0.5)})",
                                failure_kind="died")
        except wire.WireError as error:
            report = LoadReport(failure=f"it sent the grader an invalid message ({error}); "
                                        "the submission must not write to the grader's channel", failure_kind="invalid_message")
            self.workers.stop()
        return report, running

    def _out_of_load_time(self) -> str:
        """Why a load ended at the load budget's end: the first run took too long, or the reloads used it up."""
        if self.starts == 1:
            return f"running the submission took longer than {self.load_seconds:g} s"
        return (f"running the submission again, after its worker was stopped, took longer than the time left: "
                f"all its runs together get {self.load_seconds:g} s")
