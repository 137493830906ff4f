"""`grader grade-all --cluster`: grade a class on a Dask cluster, with grade-all's guarantees.

Dask delivers at least once: a killed worker's tasks run again, and finished results that
lived on it are computed again. So:

- Workers never write into `--out`. A task returns the student's rendered files and record
  (grader.classroom.batch.StudentFiles); this process alone writes them, atomically, the
  record last, as the local pool does. A run stopped at any point (the client killed, the
  scheduler lost) leaves each student complete or untouched, and the next run grades only the
  rest (grader.classroom.batch.plan).
- A task's key is the assignment version and the submission's digest (and the student's name):
  running it twice is harmless, and the same submission gets the same result on any worker.
- A task that killed its workers `allowed-failures` times (Dask's KilledWorker: 3 by default)
  becomes that student's row saying the grading infrastructure failed on it: a grader fault
  (exit status 1), never a silent zero, never reused on a rerun.

Each worker gets the assignment (its folder and the reference) once, through a worker plugin
(GradingPlugin) that writes it to a private folder of that worker, loads its checks and
probes the sandbox there; student code on the worker never sees them, as with the local pool.
Every student's results say which worker graded them and with which isolation layers. With
`--isolation strict`, a worker without a filesystem barrier refuses work, and the run says
which and why. Every task needs the Dask resource RESOURCE, which a worker offers from its
start when `grader worker` started it (its own sandbox probe passed) or it belongs to the
LocalCluster of `--cluster local:N`; a worker that refuses the run's isolation level stops
offering it, and a task that reached it first is rescheduled. So tasks go only to workers
that can grade, including those that join (or come back) while the class is graded.

`distributed` is an optional extra (`pip install 'nlp-grader[cluster]'`), imported only here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from grader.classroom.batch import StudentFiles, fault_files, render_student, write_student_files
from grader.classroom.roster import Student
from grader.errors import UsageError
from grader.model import Assignment

PLUGIN_NAME = "nlp-grader"
QUIET_WORKERS = {"distributed.worker.profile.enabled": False}  # Dask's sampling profiler slows grading by a tenth
WORKERS_SECONDS = 120  # how long a run waits for a first worker to join the scheduler
RESOURCE = "nlp-grader"  # what a worker whose sandbox passed its probe offers: one grading at a time
IN_FLIGHT = 8  # submissions sent ahead per accepting worker
INSTALL_HINT = "install the cluster extra: pip install 'nlp-grader[cluster]'"
INFRASTRUCTURE_FAULT = ("the grading infrastructure failed on this submission: every worker that ran its task died "
                        "({error}); it was not graded, and the next run grades it again")


@dataclass(frozen=True)
class ClusterSpec:
    """Where to grade: an existing scheduler's `address` (tcp://host:8786), or a LocalCluster of
    `local_workers` single-threaded worker processes started for the run."""

    address: str | None = None
    local_workers: int = 0

    @property
    def label(self) -> str:
        return f"local:{self.local_workers}" if self.local_workers else str(self.address)


def parse_cluster(text: str) -> ClusterSpec:
    """`--cluster`'s value: `local:N` or a scheduler address.

    Raises:
        UsageError: `local:` without a whole number of workers of at least 1, or an empty address.
    """
    if text.startswith("local:") or text == "local":
        count = text[len("local:"):]
        if not re.fullmatch(r"[0-9]+", count) or int(count) < 1:
            raise UsageError(f"--cluster {text}: say how many worker processes to start, e.g. --cluster local:2")
        return ClusterSpec(local_workers=int(count))
    if not text.strip():
        raise UsageError("--cluster needs a scheduler address (tcp://host:8786) or local:N")
    return ClusterSpec(address=text if "://" in text else f"tcp://{text}")


def import_distributed():
    """The `distributed` package, or a UsageError that says how to install it."""
    try:
        import distributed
    except ImportError:
        raise UsageError(f"--cluster needs Dask distributed, which is not installed: {INSTALL_HINT}") from None
    return distributed


def task_key(version: str, key: dict, student: str) -> str:
    """The Dask key of a student's grading: the assignment version and the submission's digest
    (the student's name too: their feedback names their file)."""
    name = hashlib.sha256(student.encode("utf-8")).hexdigest()[:12]
    return f"grade-{version[:16]}-{key['submission'][:24]}-{name}"


def assignment_bundle(assignment: Assignment) -> dict[str, bytes]:
    """The files a worker needs to grade `assignment`, by path relative to a folder of its own:
    assignments/NAME/ (assignment.json, its Python files) and the reference, which
    assignment.json is made to point at."""
    name = assignment.name
    config = json.loads((assignment.directory / "assignment.json").read_text(encoding="utf-8"))
    reference = f"solutions/{name}/{assignment.reference.name}"
    config["reference"] = f"../../{reference}"
    bundle = {f"assignments/{name}/assignment.json": json.dumps(config, indent=2).encode("utf-8"),
              reference: assignment.reference.read_bytes()}
    for path in sorted(assignment.directory.glob("*.py")):
        bundle[f"assignments/{name}/{path.name}"] = path.read_bytes()
    return bundle


class GradingPlugin:
    """On each worker, once: the assignment written to a private folder, its checks loaded and
    the sandbox probed (a refusal, under --isolation strict, is kept to say why)."""

    name = PLUGIN_NAME
    idempotent = True

    def __init__(self, bundle: dict[str, bytes], assignment_name: str, isolation_level: str):
        self.bundle, self.assignment_name, self.isolation_level = bundle, assignment_name, isolation_level
        self.folder: str | None = None
        self.assignment = self.kit = self.confinement = None
        self.refusal: str | None = None
        self.layers = ""

    async def setup(self, worker=None) -> None:
        self.prepare()
        if worker is not None and self.refusal:
            asyncio.ensure_future(self._withdraw(worker))

    @staticmethod
    async def _withdraw(worker) -> None:
        """Stop offering RESOURCE (this worker refuses work), once the worker is registered with
        the scheduler (a worker that joins meets this plugin before its registration ends)."""
        from distributed.core import Status

        for _ in range(1200):  # at most a minute
            if worker.status == Status.running:
                await worker.set_resources(**{RESOURCE: 0})
                return
            await asyncio.sleep(0.05)

    def prepare(self) -> None:
        from grader.grading.assignment import load_assignment
        from grader.grading.pipeline import load_kit
        from grader.sandbox.isolation import choose
        from grader.sandbox.process import become_subreaper

        become_subreaper()  # the sandbox's orphans are this worker's to reap
        self.folder = tempfile.mkdtemp(prefix="grader-assignment-")  # 0700: the worker's user alone
        for relative, data in self.bundle.items():
            path = Path(self.folder) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            self.confinement = choose(self.isolation_level)
        except UsageError as error:
            self.refusal = str(error)
            return
        self.layers = self.confinement.describe().split(": ", 1)[-1]
        self.assignment = load_assignment(self.assignment_name, Path(self.folder) / "assignments")
        self.kit = load_kit(self.assignment)

    def teardown(self, worker=None) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _plugin_class():
    """GradingPlugin as a distributed.WorkerPlugin (imported only when a cluster is used)."""
    distributed = import_distributed()
    return type("GradingWorkerPlugin", (GradingPlugin, distributed.WorkerPlugin), {})


def _worker_state(dask_worker) -> dict:
    """On a worker: whether it grades, and with which layers, or why not."""
    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    if plugin is None:
        return {"refusal": "the grader's plugin is not set up on this worker"}
    if plugin.refusal:
        return {"refusal": plugin.refusal}
    if not dask_worker.state.total_resources.get(RESOURCE):
        return {"refusal": f"it offers no {RESOURCE} resource: start workers with `grader worker ADDRESS` "
                           f"(or `dask worker ADDRESS --nthreads 1 --resources {RESOURCE}=1` once its sandbox is checked)"}
    return {"refusal": None, "layers": plugin.layers, "pid": os.getpid()}


def grade_task(submission, student: str, file_name: str, key: dict) -> StudentFiles:
    """On a worker: grade one student's submission (already read by the client) and render
    their files; nothing is written on the worker."""
    from distributed import get_worker

    from grader.classroom.batch import fault_report
    from grader.grading.pipeline import grade_submission

    worker = get_worker()
    plugin = worker.plugins[PLUGIN_NAME]
    started = time.perf_counter()
    if plugin.refusal:  # it reached this worker before the worker withdrew its offer: another worker grades it
        from distributed import Reschedule

        raise Reschedule()
    try:
        report = grade_submission(plugin.assignment, Path(file_name), confinement=plugin.confinement, kit=plugin.kit,
                                  must_exist=False, submission=submission)
    except Exception as error:  # a fault of the grader: the student still gets a row that says so
        report = fault_report(plugin.assignment, file_name, f"{type(error).__name__}: {error}", time.perf_counter() - started)
    report.extra["worker"] = worker.address
    return render_student(report, student, Path(file_name), key, started)


class ClusterSession:
    """A connection to the cluster of `spec`, with the assignment on every worker that accepts
    work: open it (`with`) before grading, so that a cluster that cannot be reached is a usage
    error before anything starts; `grade` then grades students on it.

    Raises (on entering):
        UsageError: distributed is not installed, the scheduler cannot be reached, no worker
            joins, or none accepts work.
    """

    def __init__(self, spec: ClusterSpec, assignment: Assignment, isolation_level: str, say=None):
        self.spec, self.assignment, self.isolation_level = spec, assignment, isolation_level
        self.say = say or (lambda line: print(line, file=sys.stderr))
        self.distributed = import_distributed()
        self.cluster = self.client = None
        self.scratch: str | None = None
        self.accepted: list[str] = []

    def __enter__(self) -> "ClusterSession":
        try:
            if self.spec.local_workers:
                import dask

                self.scratch = tempfile.mkdtemp(prefix="grader-dask-")  # the workers' own files, removed at the end
                with dask.config.set(QUIET_WORKERS):
                    self.cluster = self.distributed.LocalCluster(
                        n_workers=self.spec.local_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, local_directory=self.scratch, resources={RESOURCE: 1})
            self.client = _connect(self.distributed, self.cluster or self.spec.address, self.spec)
            self.accepted = _start_workers(self.client, self.assignment, self.isolation_level, self.spec, self.say)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def grade(self, todo: list[Student], keys: dict[str, dict], out: Path, progress=None) -> Iterator[dict]:
        """Yield each student's record of `todo`, graded on the cluster and written into `out`
        here, as each finishes. Submissions are read and sent a window at a time (IN_FLIGHT per
        accepting worker), so that the first records come at once and the scheduler holds a
        window, not the class."""
        from grader.grading.submission import load_submission
        from grader.grading.version import assignment_version

        distributed, client, assignment = self.distributed, self.client, self.assignment
        version = assignment_version(assignment)
        waiting = iter(todo)
        futures = {}
        finished = distributed.as_completed([], loop=client.loop)

        def send_next() -> bool:
            student = next(waiting, None)
            if student is None:
                return False
            submission = load_submission(student.path, assignment.module, must_exist=False)
            future = client.submit(grade_task, submission, student.name, student.path.name, keys[student.name],
                                   key=task_key(version, keys[student.name], student.name), pure=False,
                                   resources={RESOURCE: 1})
            futures[future] = student
            finished.add(future)
            return True

        for _ in range(IN_FLIGHT * len(self.accepted)):
            if not send_next():
                break
        for future in finished:
            student = futures.pop(future)
            files = _outcome(future, assignment, student, keys[student.name], distributed)
            record = write_student_files(out / student.name, files)
            future.release()
            send_next()
            if progress:
                progress(1)
            yield record


def _connect(distributed, address, spec: ClusterSpec):
    """A client of the cluster; it waits for the scheduler as long as Dask's
    distributed.comm.timeouts.connect says (30 s unless configured)."""
    try:
        return distributed.Client(address, set_as_default=False)
    except OSError as error:  # TimeoutError and connection errors
        raise UsageError(f"--cluster {spec.label}: cannot reach the scheduler ({type(error).__name__}: {error}); "
                         "is `dask scheduler` running there?") from None


def _start_workers(client, assignment: Assignment, isolation_level: str, spec: ClusterSpec, say) -> list[str]:
    """Send the assignment to every worker once and probe each one's sandbox; the addresses of
    those that accept work."""
    if not client.scheduler_info().get("workers"):
        try:
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            raise UsageError(f"--cluster {spec.label}: no worker joined the scheduler in {WORKERS_SECONDS} s; "
                             "start some with: grader worker ADDRESS") from None
    client.register_plugin(_plugin_class()(assignment_bundle(assignment), assignment.name, isolation_level))
    states = client.run(_worker_state)
    accepted = sorted(address for address, state in states.items() if not state.get("refusal"))
    for address, state in sorted(states.items()):
        if state.get("refusal"):
            say(f"grader: worker {address} refuses work: {state['refusal']}")
    if not accepted:
        raise UsageError(f"--cluster {spec.label}: no worker accepts work (each said why above)")
    return accepted


def _outcome(future, assignment: Assignment, student: Student, key: dict, distributed) -> StudentFiles:
    """The student's files from a finished task; a fault row when the task could not finish."""
    try:
        return future.result()
    except distributed.KilledWorker as error:
        return fault_files(assignment, student, key, INFRASTRUCTURE_FAULT.format(error=error))
    except Exception as error:  # a fault of the grader on that worker: the student still gets a row
        return fault_files(assignment, student, key, f"{type(error).__name__}: {error}")

