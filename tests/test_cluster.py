"""`grader grade-all --cluster`: a class graded on Dask, with the local pool's guarantees. Real
processes throughout: the CLI, a LocalCluster it starts, and a `dask scheduler` with workers
started by `grader worker`, on 127.0.0.1.

- The same class gives the same results on the local pool, a LocalCluster and a real cluster
  (results.json less timings and the worker's name, feedback byte for byte).
- A worker SIGKILLed mid-class: the other finishes, every student has exactly one record.
- The client SIGKILLed mid-class: the rerun grades only the rest.
- A task whose worker dies with no failure allowed (KilledWorker): that student's row says the
  grading infrastructure failed (exit status 1), and the next run grades them again.
- Nothing is left running, and no worker wrote into --out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from class_folders import make_class
from grader.audit.verdicts import comparable, first_difference
from grading_helpers import leftover_processes, run_grader
from test_grade_all import add_slow_students, records

pytest.importorskip("distributed")  # the test extra installs it; without it the cluster tests cannot run at all

STUDENTS = 8


def grade_all(homework, folder: Path, out: Path, *extra: str, tmp: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_grader(*homework.option(), "grade-all", homework.name, folder, "--out", out, *extra, timeout=300,
                      env={**os.environ, "TMPDIR": str(tmp), **(env or {})})


def start_grade_all(homework, folder: Path, out: Path, address: str, tmp: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "grader", *homework.option(), "grade-all", homework.name, str(folder),
               "--out", str(out), "--cluster", address, "--quiet", *extra]
    return subprocess.Popen(command, env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition, seconds: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def comparable_files(out: Path, student: str) -> tuple:
    results = comparable(json.loads((out / student / "results.json").read_text()))
    results["extra_data"].pop("worker", None)
    return results, (out / student / "feedback.md").read_bytes(), (out / student / "feedback.html").read_bytes()


def assert_same_grades(expected: Path, got: Path) -> None:
    """Every student of `expected` has the same grading in `got`, and nobody else is there."""
    assert sorted(records(got)) == sorted(records(expected))
    for student in records(expected):
        (a, *texts_a), (b, *texts_b) = comparable_files(expected, student), comparable_files(got, student)
        assert first_difference(a, b) is None, (student, first_difference(a, b))
        assert texts_a == texts_b, student


class Cluster:
    """A `dask scheduler` and `grader worker` processes on 127.0.0.1, in `root`; stopped by close()."""

    def __init__(self, root: Path, env: dict | None = None):
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.env = root, {**os.environ, "TMPDIR": str(root), **(env or {})}
        self.workers: list[subprocess.Popen] = []
        scheduler_file = root / "scheduler.json"
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: (scheduler_file.exists() and scheduler_file.stat().st_size > 0) or self.scheduler.poll() is not None,
                 60, "the scheduler")
        assert self.scheduler.poll() is None, "the scheduler did not start"
        self.address = json.loads(scheduler_file.read_text())["address"]

    def add_worker(self, env: dict | None = None) -> subprocess.Popen:
        log = self.root / f"worker-{len(self.workers)}.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "grader", "worker", self.address, "--", "--no-nanny", "--no-dashboard",
             "--local-directory", str(self.root / f"worker-{len(self.workers)}")],
            env={**self.env, **(env or {})}, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        self.workers.append(worker)
        wait_for(lambda: "Registered to" in log.read_text() or worker.poll() is not None, 60, "a worker")
        assert worker.poll() is None, log.read_text()
        return worker

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, tiny):
    """A class of every kind of tiny submission and two slow right answers, graded on the local pool."""
    root = tmp_path_factory.mktemp("cluster-class")
    folder = root / "submissions"
    make_class(folder, STUDENTS, tiny)
    add_slow_students(folder, tiny)
    # a right answer that also looks for the assignment each worker was given (its checks and the
    # reference, in a folder of the worker's under TMPDIR, here inside `root`), and prints what it reads
    (folder / "y-bundle-reader.py").write_text(tiny.reference.read_text() + f"""
import glob as _glob
for _path in _glob.glob({str(root)!r} + "/**/grader-assignment-*/**/*.py", recursive=True):
    try:
        print("BUNDLE-READ", _path, open(_path).read()[:80])
    except OSError:
        pass
""")
    local = root / "local-out"
    completed = grade_all(tiny, folder, local, "--jobs", "2", tmp=root)
    assert completed.returncode == 0, completed.stderr
    return root, folder, local


def test_a_local_cluster_grades_as_the_local_pool_does(graded_class, tiny):
    root, folder, local = graded_class
    out = root / "local-cluster-out"
    completed = grade_all(tiny, folder, out, "--cluster", "local:2", tmp=root)
    assert completed.returncode == 0, completed.stderr
    assert_same_grades(local, out)
    workers = {record["worker"] for record in records(out).values()}
    assert workers and all(worker.startswith("tcp://127.0.0.1:") for worker in workers)
    for student in records(out):
        isolation = json.loads((out / student / "results.json").read_text())["extra_data"]["isolation"]
        assert "bwrap" in isolation["layers"] or "landlock (ABI" in " ".join(isolation["layers"])
    assert "BUNDLE-READ" not in (out / "y-bundle-reader" / "feedback.md").read_text()
    summary = (out / "summary.html").read_text()
    assert "Cluster workers" in summary and "on the cluster local:2" in summary
    assert all(worker in summary for worker in workers)
    assert leftover_processes(root) == []


def test_a_worker_killed_mid_class_costs_nobody_and_a_killed_client_resumes(graded_class, tiny):
    root, folder, local = graded_class
    cluster = Cluster(root / "cluster")
    try:
        first, second = cluster.add_worker(), cluster.add_worker()
        out = root / "worker-killed-out"
        client = start_grade_all(tiny, folder, out, cluster.address, root)
        wait_for(lambda: len(records(out)) >= 1 or client.poll() is not None, 120, "a first record")
        first.send_signal(signal.SIGKILL)
        _, stderr = client.communicate(timeout=300)
        assert client.returncode == 0, stderr
        assert_same_grades(local, out)  # every student once, graded as on the local pool
        assert {record["status"] for record in records(out).values()} == {"graded"}
        assert "BUNDLE-READ" not in (out / "y-bundle-reader" / "feedback.md").read_text()

        cluster.add_worker()
        resumed = root / "client-killed-out"
        client = start_grade_all(tiny, folder, resumed, cluster.address, root)
        wait_for(lambda: len(records(resumed)) >= 2 or client.poll() is not None, 120, "two records")
        client.send_signal(signal.SIGKILL)
        client.communicate(timeout=60)
        done = len(records(resumed))
        assert 2 <= done < len(records(local)), done
        again = grade_all(tiny, folder, resumed, "--cluster", cluster.address, tmp=root)
        assert again.returncode == 0, again.stderr
        total = len(records(local))
        assert f"graded {total - done}, reused {done} unchanged" in again.stdout, again.stdout
        assert_same_grades(local, resumed)
        assert second.poll() is None  # the other worker kept going
    finally:
        cluster.close()
    assert leftover_processes(root / "cluster") == []


def test_a_task_whose_workers_die_is_an_infrastructure_fault_graded_again_next_time(graded_class, tiny, tmp_path):
    """No failure allowed (allowed-failures 0): the tasks of a worker killed mid-grading end as
    KilledWorker, and those students' rows say so; a replacement worker grades the rest. The
    runs ask for --isolation bwrap, and a worker without bubblewrap on its PATH refuses work:
    the run says which and why, and gives it nothing (as --isolation strict does a worker
    without a filesystem barrier, which this machine cannot offer)."""
    root, folder, local = graded_class
    no_bwrap = {"PATH": str(tmp_path)}  # an empty folder: the grader runs sys.executable, not a name
    cluster = Cluster(root / "killed-worker", env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"})
    try:
        refusing = cluster.add_worker(env=no_bwrap)
        doomed = cluster.add_worker()
        out = root / "killed-worker-out"
        client = start_grade_all(tiny, folder, out, cluster.address, root, "--isolation", "bwrap")
        wait_for(lambda: len(records(out)) >= 1 or client.poll() is not None, 120, "a first record")
        doomed.send_signal(signal.SIGKILL)
        cluster.add_worker()
        _, stderr = client.communicate(timeout=300)
        assert client.returncode == 1, stderr  # a fault of the grading, not of the students
        refusals = [line for line in stderr.splitlines() if "refuses work" in line]
        assert len(refusals) == 1 and "--isolation bwrap: bubblewrap is not installed" in refusals[0], stderr
        refusing_address = refusals[0].split("worker ", 1)[1].split(" refuses", 1)[0]
        assert refusing_address not in {r["worker"] for r in records(out).values() if "worker" in r}
        faults = {name: r for name, r in records(out).items() if r["status"] == "grader fault"}
        assert faults and sorted(records(out)) == sorted(records(local))
        for record in faults.values():
            assert record["score"] == 0 and "the grading infrastructure failed on this submission" in record["notes"][0]
        again = grade_all(tiny, folder, out, "--cluster", cluster.address, "--isolation", "bwrap", tmp=root)
        assert again.returncode == 0, again.stderr
        assert f"graded {len(faults)}, reused {len(records(local)) - len(faults)}" in again.stdout
        assert_same_grades(local, out)
        assert refusing.poll() is None  # it refused the work, not the cluster
    finally:
        cluster.close()
    assert leftover_processes(root / "killed-worker") == []


def test_usage_errors_are_one_line_and_exit_2(tmp_path, tiny):
    folder = tmp_path / "class"
    folder.mkdir()
    for extra, message in ((["--cluster", "local:0"], "say how many worker processes to start"),
                           (["--cluster", "local:2", "--jobs", "2"], "--jobs and --cluster: choose one"),
                           (["--cluster", "tcp://127.0.0.1:9"], "cannot reach the scheduler")):
        (folder / "a.py").write_text(tiny.reference.read_text())
        completed = grade_all(tiny, folder, tmp_path / "out", *extra, tmp=tmp_path,
                              env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})  # Dask's own setting
        assert completed.returncode == 2, (extra, completed.stderr)
        assert len(completed.stderr.strip().splitlines()) == 1 and message in completed.stderr, completed.stderr
    worker = run_grader("worker", "local:2")
    assert worker.returncode == 2 and "give the scheduler's address" in worker.stderr
    worker = run_grader("worker", "tcp://127.0.0.1:9", "--isolation", "bwrap", env={**os.environ, "PATH": str(tmp_path)})
    assert worker.returncode == 2 and worker.stderr.startswith("grader: error: --isolation bwrap: bubblewrap is not"), \
        worker.stderr


# ---- the pure parts ------------------------------------------------------------------------------

def test_cluster_addresses_and_task_keys():
    from grader.classroom.cluster import ClusterSpec, parse_cluster, task_key
    from grader.errors import UsageError

    assert parse_cluster("local:3") == ClusterSpec(local_workers=3)
    assert parse_cluster("tcp://10.0.0.5:8786") == ClusterSpec(address="tcp://10.0.0.5:8786")
    assert parse_cluster("sched.example.edu:8786").address == "tcp://sched.example.edu:8786"
    for bad in ("local:0", "local:x", "local:", "local", " "):
        with pytest.raises(UsageError):
            parse_cluster(bad)
    key = {"submission": "ab" * 32, "assignment": "cd" * 32}
    assert task_key("cd" * 32, key, "alice") == task_key("cd" * 32, dict(key), "alice")  # a rerun meets the same key
    assert len({task_key("cd" * 32, key, "alice"), task_key("cd" * 32, key, "bob"), task_key("ef" * 32, key, "alice"),
                task_key("cd" * 32, {**key, "submission": "12" * 32}, "alice")}) == 4


def test_the_bundle_holds_the_assignment_and_its_reference_and_nothing_else(tiny, tmp_path):
    from grader.classroom.cluster import assignment_bundle
    from grader.grading.assignment import load_assignment

    assignment = load_assignment("tiny", tiny.assignments)
    bundle = assignment_bundle(assignment)
    assert sorted(bundle) == sorted([f"assignments/tiny/{p.name}" for p in assignment.directory.glob("*.py")]
                                    + ["assignments/tiny/assignment.json", "solutions/tiny/tiny.py"])
    assert bundle["solutions/tiny/tiny.py"] == assignment.reference.read_bytes()
    for relative, data in bundle.items():  # written out as a worker does, it loads as the same assignment
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    copy = load_assignment("tiny", tmp_path / "assignments")
    assert copy.points == assignment.points and copy.reference.read_bytes() == assignment.reference.read_bytes()


def test_the_summary_times_each_worker():
    from grader.report.class_summary import summarise

    records = [{"student": f"s{i}", "score": 1.0, "functions": {}, "worker": worker, "timings": {"total": seconds}}
               for i, (worker, seconds) in enumerate([("tcp://a:1", 1.0), ("tcp://b:2", 4.0), ("tcp://a:1", 2.0)])]
    workers = summarise("x", "X", records, {"f": 1.0}, {}).workers
    assert [(w["worker"], w["students"], w["total"], w["mean"], w["slowest"]) for w in workers] == [
        ("tcp://b:2", 1, 4.0, 4.0, 4.0), ("tcp://a:1", 2, 3.0, 1.5, 2.0)]
    assert summarise("x", "X", [{**r, "worker": None} for r in records], {"f": 1.0}, {}).workers == []
