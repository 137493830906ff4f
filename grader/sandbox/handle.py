"""The trusted handle on the untrusted worker: start it, load the submission, call functions.

A call that hangs or kills the worker costs only that call: the worker's whole process group
is killed and a fresh worker (with the submission loaded again) serves the next call.
Whatever comes back is read by `grader.sandbox.wire` and parsed by `grader.sandbox.messages`
before anyone looks at it: a message that is not what an honest worker sends is the student's
failure.

Time is bounded per submission, however many workers it takes: all runs of the submission
(the first load and every reload after a restart) share one load budget (`load_seconds`) and
one top-level budget (`top_level_seconds`), and all calls share `calls_seconds` of waiting for
answers, of which one function's calls may take `function_seconds` (so that a slow function
cannot starve the others). With at most MAX_CELLS code cells, the worst case is in
`worst_case_seconds`.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR
from typing import Any, Sequence

from grader.model import Cell, LoadReport
from grader.sandbox import isolation, messages, process, wire
from grader.sandbox.isolation import Isolation


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


MAX_SKIPPED_CELLS = 2  # cells that could not be stopped, skipped before a load is given up
CELL_GRACE_SECONDS = 2.0  # after a cell's time limit, for the interruption to take effect
MAX_CELLS = 300  # code cells in a submission: each may take late_cell_seconds, so they bound the load budget
MIN_RELOAD_SECONDS = 1.0  # no restart when less of the load budget is left: a worker takes this long to start
KILL_SECONDS = 4.5  # at most, to end a worker (0.5 s grace, 2 s to reap its group, 2 s to drain its output)

# The worker's command line: `python -I -c BOOTSTRAP CONFIG`. The worker's module is named only
# here; no trusted module imports it, the worker runs only in its own process.
BOOTSTRAP = (
    "import json, sys; config = json.loads(sys.argv[1]); sys.path[:0] = config['path']; "
    "from grader.sandbox.worker import main; main(config)"
)


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


class StudentRaised(Exception):
    """The student's function raised an exception (data about the submission, not a fault)."""

    def __init__(self, type_name: str, message: str, where: dict | None):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.where = type_name, message, where

    @property
    def place(self) -> str:
        """" (hw1.ipynb cell 4, line 18)" where the student's code raised, or "" when unknown."""
        where = self.where or {}
        return f" ({where.get('file')}, line {where['line']})" if isinstance(where.get("line"), int) else ""


class StudentAbort(BaseException):
    """The call cannot give an answer (timeout, dead worker, missing function, broken load).

    A BaseException so that it stops a hypothesis run at once instead of being shrunk.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _OutputCollector(threading.Thread):
    """Drains the worker's stdout+stderr, keeping the first `limit` bytes and counting the rest."""

    def __init__(self, fd: int, limit: int, sink: "StudentOutput"):
        super().__init__(daemon=True)
        self.fd, self.limit, self.sink = fd, limit, sink

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, 1 << 16):
                self.sink.add(chunk, self.limit)
        except OSError:
            pass
        finally:
            os.close(self.fd)


class StudentOutput:
    """The student's printed output across every worker of one submission, bounded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.kept = bytearray()
        self.total = 0

    def add(self, chunk: bytes, limit: int) -> None:
        with self._lock:
            self.total += len(chunk)
            room = limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def text(self) -> str:
        with self._lock:
            text = self.kept.decode("utf-8", errors="replace")
            if self.total > len(self.kept):
                text += f"\n… ({self.total - len(self.kept)} more bytes not shown)"
            return text


class SandboxFault(Exception):
    """The sandbox itself could not start a worker: a fault of the grader or the machine, not the student."""


class _WorkerProcess:
    """One running worker: its process group, its two channels and its output collector."""

    def __init__(self, limits: SandboxLimits, output: StudentOutput, scratch: str, confinement: Isolation):
        to_worker_r, self.to_worker = os.pipe()
        self.from_worker, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        inside_scratch = "/tmp" if confinement.bwrap else scratch
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "HOME": inside_scratch, "TMPDIR": inside_scratch}
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if key in os.environ:
                env[key] = os.environ[key]
        config = {
            "fds": [to_worker_r, from_worker_w],
            "path": isolation.import_roots(),
            "uid": confinement.worker_uid,
            "capabilities": confinement.capabilities,
            "limits": {"cpu_seconds": limits.cpu_seconds, "address_space_bytes": limits.address_space_bytes,
                       "file_size_bytes": limits.file_size_bytes, "open_files": limits.open_files,
                       "processes": limits.processes},
            "landlock": {"read": isolation.read_allow_list(), "write": [inside_scratch]} if confinement.landlock_abi else None,
            "seccomp": confinement.seccomp,
        }
        process.become_subreaper()
        isolation.harden_grader()
        python = os.path.realpath(sys.executable) if confinement.bwrap else sys.executable
        command = [python, "-I", "-c", BOOTSTRAP, json.dumps(config)]
        if confinement.bwrap:
            command = isolation.bwrap_prefix(confinement, limits.scratch_bytes, env) + command
        elif confinement.worker_uid is not None:  # the worker changes uid itself, after emptying its bounding set
            os.chown(scratch, confinement.worker_uid, confinement.worker_uid)
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output_w, stderr=output_w,
                pass_fds=(to_worker_r, from_worker_w), cwd=scratch, env=env, start_new_session=True,
            )
        finally:
            for fd in (to_worker_r, from_worker_w, output_w):
                os.close(fd)
        self.peak_rss_kib = 0
        self.answers = wire.FrameReader(self.from_worker)
        self.collector = _OutputCollector(output_r, limits.output_bytes, output)
        self.collector.start()

    def kill(self, grace: float = 0.0) -> str:
        """Kill the whole process group; return how the worker ended. Records its peak memory.

        With `grace`, a worker that is already ending (its channel closed) gets that long to
        exit by itself first, so that its own exit status is what is reported.
        """
        deadline = time.monotonic() + grace
        while True:
            try:
                pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.process.returncode = code = os.waitstatus_to_exitcode(status)
                self.peak_rss_kib = usage.ru_maxrss
                _kill_group(self.process.pid)
                return self._finish(code)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        _kill_group(self.process.pid)
        try:
            _, status, usage = os.wait4(self.process.pid, 0)
            self.process.returncode = code = os.waitstatus_to_exitcode(status)
            self.peak_rss_kib = usage.ru_maxrss
        except ChildProcessError:  # already reaped
            code = self.process.wait()
        return self._finish(code)

    def _finish(self, code: int) -> str:
        _reap_group(self.process.pid)
        _reap_adopted_bubblewrap()
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.collector.join(timeout=2)
        return _describe_exit(code)


def _reap_group(pgid: int, seconds: float = 2.0) -> None:
    """Reap the killed members of process group `pgid` that were adopted by this process."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if pid == 0:
            time.sleep(0.01)


def _reap_adopted_bubblewrap() -> None:
    """Reap the dead bubblewrap processes this (subreaper) process adopted: bubblewrap puts the
    worker in a session of its own, out of reach of _reap_group, and a long-lived grader (a
    grade-all job) must not collect one zombie per student."""
    for children in Path("/proc/self/task").glob("*/children"):
        try:
            pids = children.read_text().split()
        except OSError:
            continue
        for pid in pids:
            if _process_state(pid) == ("bwrap", "Z"):
                try:
                    os.waitpid(int(pid), os.WNOHANG)
                except ChildProcessError:
                    pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class StudentModule:
    """The student's module, as seen from the trusted side.

    `call(name, *args, **kwargs)` returns the validated result (plain ndarrays, Python
    scalars, tuples, or wire.Opaque for non-numeric objects), raises StudentRaised when the
    student's code raised, and StudentAbort when there is no answer to be had.
    """

    def __init__(self, module_name: str, cells: list[Cell], limits: SandboxLimits = SandboxLimits(),
                 confinement: Isolation | None = None, expected: Sequence[str] = ()):
        self.module_name, self.cells, self.limits = module_name, cells, limits
        self.expected = list(expected)  # the functions that will be called, for the load report
        self.confinement = confinement or isolation.choose("auto")
        self.output = StudentOutput()
        self.load_report: LoadReport | None = None
        self.calls = 0
        self.calls_per_function: dict[str, int] = {}
        self.restarts = 0
        self.worker_peak_rss_kib = 0
        self._worker: _WorkerProcess | None = None
        remove_stale_scratch()
        self._scratch = tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        self._scratch_lock = _lock_folder(self._scratch.name)  # says "in use" to graders that clean up
        self._broken: str | None = None
        self._pending: deque[str] = deque()
        self._load_deadline = 0.0
        self._load_started = 0.0
        self.starts = 0
        self.load_budget = TimeBudget(load_budget_seconds(limits, len(cells)))  # every run of the submission
        self.top_level_budget = TimeBudget(limits.top_level_seconds)  # the cells' top-level code, in every run
        self.calls_budget = TimeBudget(limits.calls_seconds)  # waiting for answers, every call
        self.function_budgets: dict[str, TimeBudget] = {}  # waiting for answers, per function
        self.applied_layers: list[str] = []

    @property
    def load_seconds(self) -> float:
        """The time all runs of the submission share (the first load and every reload)."""
        return self.load_budget.seconds

    def load(self) -> LoadReport:
        """Start a worker and run the submission; the first load's report is kept."""
        self.start()
        return self.finish_load()

    def start(self) -> None:
        """Start a worker and send it the submission, without waiting for it to run."""
        self._load_started = time.monotonic()
        self._load_deadline = self._load_started + self.load_budget.remaining
        self.starts += 1
        worker = _WorkerProcess(self.limits, self.output, self._scratch.name, self.confinement)
        self._worker = worker
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
            cell = self.cells[running]
            skipped.append({"type": "CellSkipped", "message": report.failure, "cell": running, "where": None})
            self.cells[running] = Cell("", cell.filename)
            self.start()
        report.errors = skipped + report.errors
        if report.failure:
            self._stop_worker()
            self._broken = report.failure
        if self.load_report is None:
            self.load_report = report
        return report

    def _receive_load(self) -> tuple[LoadReport, int | None]:
        """The report of one load, and the index of the cell running when it ended. Its time
        is spent from the load budget (and the time its cells ran from the top-level budget)."""
        cells_started = None
        try:
            if not self._receive_ready():
                return LoadReport(failure=self._out_of_load_time()), None
            cells_started = time.monotonic()
            return self._receive_cells()
        finally:
            now = time.monotonic()
            self.load_budget.spend(now - self._load_started)
            if cells_started is not None:
                self.top_level_budget.spend(now - cells_started)

    def _receive_ready(self) -> bool:
        """Wait for the worker to say it is ready; False if a reload ran out of time first.

        Raises:
            SandboxFault: the worker could not start (a fault of the grader or the machine).
        """
        worker = self._worker
        try:
            ready, _ = wire.receive_message(worker.answers, self._load_deadline)
            self.applied_layers = messages.parse_ready(ready)
        except wire.WireTimeout:
            if self.starts > 1:  # a reload with little of the load budget left
                self._stop_worker()
                return False
            self._worker = None
            raise SandboxFault(f"the sandbox could not start a worker ({worker.kill()}; no answer in "
                               f"{self.load_seconds:g} s): {self.output.text()[-600:].strip()}") from None
        except wire.WireError as error:
            self._worker = None
            raise SandboxFault(f"the sandbox could not start a worker ({worker.kill()}; {error}): "
                               f"{self.output.text()[-600:].strip()}") from None
        return True

    def _receive_cells(self) -> tuple[LoadReport, int | None]:
        """The worker's messages while it runs the cells, up to its load report."""
        worker, filenames = self._worker, [cell.filename for cell in self.cells]
        running, deadline = None, self._load_deadline
        try:
            while True:
                answer, _ = wire.receive_message(worker.answers, deadline)
                if answer.get("op") != "cell":
                    break
                running = messages.parse_cell(answer, 0 if running is None else running + 1, len(self.cells))
                # a cell is interrupted after cell_seconds at most: one that is not done soon after will not stop
                deadline = min(self._load_deadline, time.monotonic() + self.limits.cell_seconds + CELL_GRACE_SECONDS)
            report = messages.parse_loaded(answer, filenames, self.expected)
        except wire.WireTimeout:
            if deadline < self._load_deadline:
                report = LoadReport(failure=f"it ran past its time limit ({self.limits.cell_seconds:g} s) and did not stop when interrupted")
            else:
                report = LoadReport(failure=self._out_of_load_time())
            self._stop_worker()
        except wire.WireClosed:
            report = LoadReport(failure=f"the worker died while running the submission ({worker.kill(0.5)})")
            self._stop_worker()
        except wire.WireError as error:
            report = LoadReport(failure=f"it sent the grader an invalid message ({error}); "
                                        "the submission must not write to the grader's channel")
            self._stop_worker()
        return report, running

    def _out_of_load_time(self) -> str:
        """Why a load ended at the load budget's end: the first run took too long, or the reloads used it up."""
        if self.starts == 1:
            return f"running the submission took longer than {self.load_seconds:g} s"
        return (f"running the submission again, after its worker was stopped, took longer than the time left: "
                f"all its runs together get {self.load_seconds:g} s")

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """One call of the student's `function`; see the class docstring for what it returns or raises."""
        self.send_calls(function, [(args, kwargs)])
        return self.next_answer()

    def send_calls(self, function: str, calls: list[tuple[tuple, dict]]) -> None:
        """Send several calls at once; the worker answers each as soon as it is done, so the
        caller can check one answer (`next_answer`) while the worker computes the next."""
        self._discard_pending()
        if self._broken:
            raise StudentAbort(self._broken)
        if self.calls_budget.remaining <= 0:
            raise StudentAbort(self._out_of_call_time())
        if self._function_budget(function).remaining <= 0:
            raise StudentAbort(self._out_of_function_time(function))
        if self._worker is None:
            self._restart()
        arrays: list = []
        packed = [{"args": wire.pack(list(args), arrays), "kwargs": {k: wire.pack(v, arrays) for k, v in kwargs.items()}}
                  for args, kwargs in calls]
        try:
            wire.send_message(self._worker.to_worker, {"op": "calls", "function": function, "calls": packed}, arrays)
        except wire.WireClosed:
            ended = self._stop_worker()
            raise StudentAbort(f"the worker process died before running {function} ({ended})") from None
        self._pending.extend([function] * len(calls))
        self.calls += len(calls)
        self.calls_per_function[function] = self.calls_per_function.get(function, 0) + len(calls)

    def _restart(self) -> None:
        """Start a fresh worker for the next calls, if the budgets allow another run of the submission."""
        if self.restarts >= self.limits.max_restarts:
            raise StudentAbort(f"the worker was restarted {self.restarts} times; no more calls are made")
        if self.load_budget.remaining < MIN_RELOAD_SECONDS:
            raise StudentAbort(f"its worker was stopped, and the submission cannot be run again: all its runs together "
                               f"get {self.load_seconds:g} s, and they used them up (restarted {self.restarts} times)")
        self.restarts += 1
        if self.load().failure:
            raise StudentAbort(self._broken)

    def _function_budget(self, function: str) -> TimeBudget:
        """The time all calls of `function` share: a slow function cannot use up the others' time."""
        return self.function_budgets.setdefault(function, TimeBudget(self.limits.function_seconds))

    def _out_of_function_time(self, function: str) -> str:
        return (f"the calls of {function} together took longer than {self.limits.function_seconds:g} s "
                "(a right answer takes milliseconds a call); no more calls of it are made")

    def _out_of_call_time(self) -> str:
        return (f"the calls of the submission's functions together took longer than {self.limits.calls_seconds:g} s; "
                "no more calls are made")

    def next_answer(self) -> Any:
        """The answer to the oldest call sent and not yet answered."""
        if not self._pending or self._worker is None:
            raise RuntimeError("next_answer() without a call in flight")
        function = self._pending.popleft()
        started = time.monotonic()
        function_budget = self._function_budget(function)
        wait = min(self.limits.call_seconds, self.calls_budget.remaining, function_budget.remaining)
        try:
            header, result_arrays = wire.receive_message(self._worker.answers, started + wait)
            answer = messages.parse_answer(header, result_arrays, {cell.filename for cell in self.cells})
        except wire.WireTimeout:
            self._stop_worker()
            if wait < self.limits.call_seconds:
                out_of_function_time = function_budget.remaining <= self.calls_budget.remaining
                raise StudentAbort(self._out_of_function_time(function) if out_of_function_time
                                   else self._out_of_call_time()) from None
            raise StudentAbort(f"{function} did not return within {self.limits.call_seconds:g} s") from None
        except wire.WireClosed:
            ended = self._stop_worker(grace=0.5)
            raise StudentAbort(f"the worker process died while running {function} ({ended})") from None
        except wire.WireError as error:
            self._stop_worker()
            raise StudentAbort(f"{function} returned something that cannot be graded ({error})") from None
        finally:
            self.calls_budget.spend(time.monotonic() - started)
            function_budget.spend(time.monotonic() - started)
        return self._answer(function, answer)

    def _discard_pending(self) -> None:
        while self._pending and self._worker is not None:
            try:
                self.next_answer()
            except (StudentRaised, StudentAbort):
                pass
        self._pending.clear()

    def _answer(self, function: str, answer: messages.Answer) -> Any:
        """The value of a parsed answer, or the exception that says why there is none."""
        if answer.status == "ok":
            return answer.value
        if answer.status == "raised":
            if answer.type_name == "MemoryError":  # no retrying a memory hog: it costs seconds a call
                self._stop_worker()
                limit = self.limits.address_space_bytes / (1 << 30)
                raise StudentAbort(f"{function} ran out of memory (the limit is {limit:g} GiB)")
            raise StudentRaised(answer.type_name, answer.message, answer.where)
        if answer.status == "missing":
            raise StudentAbort(f"{self.module_name} does not define {function}")
        raise StudentAbort(f"{function} returned an object that cannot be read as numbers")

    def _stop_worker(self, grace: float = 0.0) -> str:
        worker, self._worker = self._worker, None
        self._pending.clear()
        if worker is None:
            return "not running"
        ended = worker.kill(grace)
        self.worker_peak_rss_kib = max(self.worker_peak_rss_kib, worker.peak_rss_kib)
        return ended

    def close(self) -> None:
        self._stop_worker()
        self._scratch.cleanup()
        if self._scratch_lock is not None:
            os.close(self._scratch_lock)
            self._scratch_lock = None

    def __enter__(self) -> "StudentModule":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


SCRATCH_PREFIX = "grader-worker-"


@functools.lru_cache(maxsize=None)
def remove_stale_scratch() -> None:
    """Remove the scratch folders of graders that were killed (kill -9 gives them no time to
    clean up); they are named after their grader's process id. Once per process."""
    import shutil

    if not Path("/proc/self").exists():  # no way to tell a live grader from a dead one here
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if not (pid.isdigit() and not _alive(int(pid)) and _owned_folder(folder)):
            continue
        lock = _lock_folder(str(folder))  # a grader in another PID namespace may still be using it
        if lock is not None:
            shutil.rmtree(folder, ignore_errors=True)
            os.close(lock)


def _lock_folder(path: str) -> int | None:
    """An open descriptor of the folder `path` holding an exclusive flock, or None when another
    process holds it (or the folder is gone). The lock lasts until the descriptor is closed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _owned_folder(path: Path) -> bool:
    """Whether `path` is a folder (not a link) of this uid, or, for root, of a worker's uid (root
    hands scratch to the worker); False if it vanished. By uid, not by name: a uid without a
    name (a worker's, another user's) must not stop grading."""
    try:
        info = path.lstat()
    except OSError:  # another grader removed it first
        return False
    workers = range(isolation.WORKER_UID_BASE, isolation.WORKER_UID_BASE + 1000) if os.getuid() == 0 else ()
    return S_ISDIR(info.st_mode) and (info.st_uid == os.getuid() or info.st_uid in workers)


def _process_state(pid: int | str) -> tuple[str, str] | None:
    """(name, state letter) of process `pid` from /proc, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    end = stat.rfind(")")
    return stat[stat.find("(") + 1:end], stat[end + 2:end + 3]


def _alive(pid: int) -> bool:
    """True if process `pid` exists and is not a zombie (a zombie's scratch folder is stale too)."""
    state = _process_state(pid)
    return state is not None and state[1] != "Z"
