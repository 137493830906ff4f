"""The trusted handle on the untrusted worker: start it, load the submission, call functions.

A call that hangs or kills the worker costs only that call: the worker's whole process group
is killed and a fresh worker (with the submission loaded again) serves the next call.
Whatever comes back is validated by `grader.wire` before anyone looks at it.
"""

from __future__ import annotations

import ctypes
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
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR
from typing import Any, Sequence

from grader import isolation, wire
from grader.isolation import Isolation
from grader.worker import BOOTSTRAP


@dataclass(frozen=True)
class SandboxLimits:
    """Limits on one worker. Times are wall-clock seconds."""

    call_seconds: float = 2.0
    load_seconds: float = 10.0  # for the whole submission, plus cell_seconds for each cell
    cell_seconds: float = 3.0  # for the top-level code of one cell (a .py file is one cell)
    top_level_seconds: float = 30.0  # for the top-level code of all cells together; then each cell gets
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


@dataclass(frozen=True)
class Cell:
    """Source code to run in the worker; `filename` is what tracebacks and feedback name."""

    source: str
    filename: str


@dataclass
class LoadReport:
    """What happened when the submission's cells ran: errors per cell, functions defined."""

    errors: list[dict] = field(default_factory=list)
    defined: list[str] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)  # unavailable modules the submission imported
    not_functions: dict[str, str] = field(default_factory=dict)  # expected name -> type of the non-function bound to it
    failure: str | None = None  # the load itself did not finish (timeout, crash)


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
        become_subreaper()
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


_PR_SET_CHILD_SUBREAPER = 36


@functools.lru_cache(maxsize=None)
def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux), so that what a worker leaves
    behind is reaped here instead of lingering as a zombie. True if it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


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
        self._broken: str | None = None
        self._pending: deque[str] = deque()
        self._load_deadline = 0.0
        self.applied_layers: list[str] = []

    @property
    def load_seconds(self) -> float:
        """The time the whole submission gets to load: a base, plus the time its cells may take
        (each its own limit, all together at most top_level_seconds plus a little per cell)."""
        cells = len(self.cells)
        return self.limits.load_seconds + min(self.limits.cell_seconds * cells,
                                              self.limits.top_level_seconds + self.limits.late_cell_seconds * cells)

    def load(self) -> LoadReport:
        """Start a worker and run the submission; the first load's report is kept."""
        self.start()
        return self.finish_load()

    def start(self) -> None:
        """Start a worker and send it the submission, without waiting for it to run."""
        worker = _WorkerProcess(self.limits, self.output, self._scratch.name, self.confinement)
        self._worker = worker
        header = {"op": "load", "module": self.module_name, "cell_seconds": self.limits.cell_seconds,
                  "top_level_seconds": self.limits.top_level_seconds, "late_cell_seconds": self.limits.late_cell_seconds,
                  "expected": self.expected,
                  "cells": [{"source": c.source, "filename": c.filename} for c in self.cells]}
        self._load_deadline = time.monotonic() + self.load_seconds
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
        """The report of one load, and the index of the cell running when it ended."""
        worker = self._worker
        try:
            ready, _ = wire.receive_message(worker.answers, self._load_deadline)
        except wire.WireError as error:
            ended = worker.kill()
            self._worker = None
            raise SandboxFault(f"the sandbox could not start a worker ({ended}; {error}): "
                               f"{self.output.text()[-600:].strip()}") from None
        if ready.get("op") != "ready":
            raise SandboxFault(f"the worker sent {str(ready)[:80]} instead of 'ready'")
        self.applied_layers = [str(layer) for layer in _as_list(ready.get("layers"))]
        running, deadline = None, self._load_deadline
        try:
            while True:
                answer, _ = wire.receive_message(worker.answers, deadline)
                if answer.get("op") != "cell":
                    break
                running = answer.get("index")
                # a cell is interrupted after cell_seconds at most: one that is not done soon after will not stop
                deadline = min(self._load_deadline, time.monotonic() + self.limits.cell_seconds + CELL_GRACE_SECONDS)
            report = LoadReport(errors=_as_list(answer.get("errors")), defined=_as_list(answer.get("defined")),
                                standins=[str(name)[:80] for name in _as_list(answer.get("standins"))],
                                not_functions=_not_functions(answer.get("not_functions"), self.expected))
        except wire.WireTimeout:
            if deadline < self._load_deadline:
                report = LoadReport(failure=f"it ran past its time limit ({self.limits.cell_seconds:g} s) and did not stop when interrupted")
            else:
                report = LoadReport(failure=f"running the submission took longer than {self.load_seconds:g} s")
            self._stop_worker()
        except wire.WireError as error:
            report = LoadReport(failure=f"the worker died while running the submission ({worker.kill(0.5)})"
                                if isinstance(error, wire.WireClosed) else f"the worker sent an invalid answer ({error})")
            self._stop_worker()
        return report, running

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
        if self._worker is None:
            if self.restarts >= self.limits.max_restarts:
                raise StudentAbort(f"the worker was restarted {self.restarts} times; no more calls are made")
            self.restarts += 1
            if self.load().failure:
                raise StudentAbort(self._broken)
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

    def next_answer(self) -> Any:
        """The answer to the oldest call sent and not yet answered."""
        if not self._pending or self._worker is None:
            raise RuntimeError("next_answer() without a call in flight")
        function = self._pending.popleft()
        try:
            answer, result_arrays = wire.receive_message(self._worker.answers, time.monotonic() + self.limits.call_seconds)
        except wire.WireTimeout:
            self._stop_worker()
            raise StudentAbort(f"{function} did not return within {self.limits.call_seconds:g} s") from None
        except wire.WireClosed:
            ended = self._stop_worker(grace=0.5)
            raise StudentAbort(f"the worker process died while running {function} ({ended})") from None
        except wire.WireError as error:
            self._stop_worker()
            raise StudentAbort(f"{function} returned something that cannot be graded ({error})") from None
        return self._answer(function, answer, result_arrays)

    def _discard_pending(self) -> None:
        while self._pending and self._worker is not None:
            try:
                self.next_answer()
            except (StudentRaised, StudentAbort):
                pass
        self._pending.clear()

    def _answer(self, function: str, answer: dict, arrays: list) -> Any:
        status = answer.get("status")
        if status == "ok":
            try:
                return wire.unpack(answer.get("value"), arrays)
            except wire.WireError as error:
                raise StudentAbort(f"{function} returned something that cannot be graded ({error})") from None
        if status == "raised":
            where = answer.get("where") if isinstance(answer.get("where"), dict) else None
            if answer.get("type") == "MemoryError":  # no retrying a memory hog: it costs seconds a call
                self._stop_worker()
                limit = self.limits.address_space_bytes / (1 << 30)
                raise StudentAbort(f"{function} ran out of memory (the limit is {limit:g} GiB)")
            raise StudentRaised(str(answer.get("type"))[:80], str(answer.get("message"))[:500], where)
        if status == "missing":
            raise StudentAbort(f"{self.module_name} does not define {function}")
        if status == "unserialisable":
            raise StudentAbort(f"{function} returned an object that cannot be read as numbers")
        self._stop_worker()
        raise StudentAbort(f"the worker sent an answer of unknown status {str(status)[:40]!r}")

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
        if pid.isdigit() and not _alive(int(pid)) and _owned_folder(folder):
            shutil.rmtree(folder, ignore_errors=True)


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


def _not_functions(value: Any, expected: list[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {name: str(value[name])[:80] for name in expected if name in value}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []
