"""The worker as a process: started in its isolation with its limits, killed with its whole group.

`Workers` keeps one worker of a submission running at a time, and what outlives each worker:
the student's printed output, the scratch folder, the peak memory. A worker that hangs or dies
is killed (its process group, and whatever bubblewrap left behind, reaped) and the next one
starts fresh; when a worker may start again is the loader's and the call channel's to say
(grader.sandbox.loader, grader.sandbox.calls).

The worker's module is named only here, in the command line that starts it: no trusted module
imports it, it runs only in its own process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from grader.sandbox import isolation, process, wire
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.scratch import ScratchFolder

# The worker's command line: `python -I -c BOOTSTRAP CONFIG`.
BOOTSTRAP = (
    "import json, sys; config = json.loads(sys.argv[1]); sys.path[:0] = config['path']; "
    "from grader.sandbox.worker import main; main(config)"
)


class SandboxFault(Exception):
    """The sandbox itself could not start a worker: a fault of the grader or the machine, not the student."""


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


class _OutputCollector(threading.Thread):
    """Drains the worker's stdout+stderr, keeping the first `limit` bytes and counting the rest."""

    def __init__(self, fd: int, limit: int, sink: StudentOutput):
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


class WorkerProcess:
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


class SpareWorker:
    """A worker started before its submission is known, with the output and scratch folder it
    will bring to the submission's Workers: grade-all starts the next student's worker while it
    grades the current one. It is as fresh as one started when needed (a new process, which has
    run nothing but its own start-up), and serves one submission only."""

    def __init__(self, limits: SandboxLimits, confinement: Isolation):
        self.limits, self.confinement = limits, confinement
        self.output = StudentOutput()
        self.scratch = ScratchFolder()
        try:
            self.process: WorkerProcess | None = WorkerProcess(limits, self.output, self.scratch.path, confinement)
        except BaseException:
            self.scratch.cleanup()
            raise

    def fits(self, limits: SandboxLimits, confinement: Isolation) -> bool:
        """Whether it was started with these limits and this confinement, and still runs."""
        return (self.process is not None and self.limits == limits and self.confinement == confinement
                and self.process.process.poll() is None)

    def discard(self) -> None:
        """Stop it, unused, and remove its scratch folder."""
        if self.process is not None:
            self.process.kill()
            self.process = None
        self.scratch.cleanup()


class Workers:
    """The workers of one submission, one at a time: `current` is the running one, or None
    when it was stopped (or none started yet). The output, the scratch folder and the peak
    memory are those of every worker together. A `spare` (SpareWorker) started with the same
    limits and confinement is the first worker, when it still runs."""

    def __init__(self, limits: SandboxLimits, confinement: Isolation, spare: SpareWorker | None = None):
        self.limits, self.confinement = limits, confinement
        self._spare: WorkerProcess | None = None
        if spare is not None and spare.fits(limits, confinement):
            self.output, self.scratch, self._spare, spare.process = spare.output, spare.scratch, spare.process, None
        else:
            if spare is not None:
                spare.discard()
            self.output = StudentOutput()
            self.scratch = ScratchFolder()
        self.current: WorkerProcess | None = None
        self.peak_rss_kib = 0

    def start(self) -> WorkerProcess:
        """A fresh worker, which becomes `current` (a running one is stopped first): the spare,
        the first time, if it still runs."""
        if self.current is not None:
            self.stop()
        spare, self._spare = self._spare, None
        if spare is not None and spare.process.poll() is None:
            self.current = spare
            return spare
        if spare is not None:
            spare.kill()
        self.current = WorkerProcess(self.limits, self.output, self.scratch.path, self.confinement)
        return self.current

    def stop(self, grace: float = 0.0) -> str:
        """Kill the current worker (see WorkerProcess.kill); how it ended, or "not running"."""
        worker, self.current = self.current, None
        if worker is None:
            return "not running"
        ended = worker.kill(grace)
        self.peak_rss_kib = max(self.peak_rss_kib, worker.peak_rss_kib)
        return ended

    def close(self) -> None:
        self.stop()
        if self._spare is not None:
            self._spare.kill()
            self._spare = None
        self.scratch.cleanup()


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
            if process.process_state(pid) == ("bwrap", "Z"):
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
