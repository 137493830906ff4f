"""Grading a class on a Dask cluster: `grade-all --cluster local:2` against the local pool, and 10,000 entries through a scheduler.

    python benchmarks/bench_cluster.py [--students 40] [--entries 10000]

1. The same class (tests/class_folders.py, as bench_batch.py makes it: per 20 students, 6 right
   answers, 8 realistic mistakes, 3 broken files, 3 hostile submissions) graded from scratch
   with `grader grade-all --jobs 2` and with `--cluster local:2`, each as a whole process, and a
   one-student class with both, for the start-up. Prints the wall times, the throughput, the
   ratio cluster / local, the overhead per task (as measured, and net of the start-up), and
   checks that both runs give every student a record and the same scores (gradebook.csv).
2. A simulated class of `--entries` students through a real scheduler: a LocalCluster of two
   single-threaded worker processes started here, and grade-all's own client-side path
   (grader.classroom.batch.plan and grade_all on that cluster: the digests, the worker plugin,
   each submission read and submitted under its task_key, as_completed, every student's files
   written with write_student_files, each future released), with one change:
   the task is a stand-in that returns the rendered files of one real grading (of
   examples/hw1/bob_partly_wrong.py, made here) with the record's student, submission and key
   set per entry, instead of grading. Prints the total time, tasks per second, and the time per
   task of the reads, the scheduler round trip and the client's file writes (timed apart),
   the gradebook and summary.html for the whole class, and checks that every record exists.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))

from class_folders import make_class  # noqa: E402

TEMPLATE_STUDENT = REPO / "examples" / "hw1" / "bob_partly_wrong.py"
TEMPLATE_FILE = ""  # set by simulate(): the JSON of one real grading's StudentFiles, which every stand-in returns


# ---- 1. the same class, local pool against --cluster local:2 ------------------------------------

def grade_all_process(folder: Path, out: Path, how: list[str]) -> dict:
    """`grader grade-all hw1 folder --out out --force --quiet` plus `how`, as a whole process:
    its wall time, exit status, records and gradebook scores."""
    command = [sys.executable, "-m", "grader", "grade-all", "hw1", str(folder), "--out", str(out), "--force", "--quiet", *how]
    started = time.perf_counter()
    dask_scratch = {"DASK_TEMPORARY_DIRECTORY": str(out.parent / "dask-scratch")}  # Dask's lock files go with the rest
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, **dask_scratch})
    wall = time.perf_counter() - started
    if completed.returncode not in (0, 1):  # 1: some student's row is a grader fault, reported below
        raise SystemExit(f"{' '.join(how)}: grade-all exited {completed.returncode}: {completed.stderr[-2000:]}")
    records = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/record.json")}
    with (out / "gradebook.csv").open(newline="") as handle:
        gradebook = {row["student"]: row for row in csv.DictReader(handle)}
    return {"how": " ".join(how), "wall": wall, "status": completed.returncode, "records": records, "gradebook": gradebook}


def score_columns(row: dict) -> dict:
    """A gradebook row without its notes: the student's score, maximum and each function's score."""
    return {column: value for column, value in row.items() if column != "notes"}


def compare_class(local: dict, cluster: dict, students: set[str]) -> list[str]:
    """What differs between the two runs' records and gradebooks; empty when they agree."""
    problems = []
    for run in (local, cluster):
        if set(run["records"]) != students or set(run["gradebook"]) != students:
            problems.append(f"{run['how']}: {len(run['records'])} records, {len(run['gradebook'])} gradebook rows "
                            f"for {len(students)} students")
        faults = [name for name, record in run["records"].items() if record["status"] == "grader fault"]
        if faults:
            problems.append(f"{run['how']}: grader faults for {', '.join(sorted(faults))}")
    differing = sorted(name for name in students & set(local["gradebook"]) & set(cluster["gradebook"])
                       if score_columns(local["gradebook"][name]) != score_columns(cluster["gradebook"][name]))
    if differing:
        problems.append(f"scores differ for {', '.join(differing)}")
    unnamed = sorted(name for name, record in cluster["records"].items() if not record.get("worker"))
    if unnamed:
        problems.append(f"cluster records that name no worker: {', '.join(unnamed)}")
    return problems


def bench_class(root: Path, students: int) -> None:
    kinds = make_class(root / "class", students)
    make_class(root / "one", 1)  # the reference alone: the runs' start-up
    mix = {kind: sum(1 for k, _ in kinds.values() if k == kind) for kind in ("correct", "buggy", "broken", "hostile")}
    print(f"1. one class of {students} hw1 submissions ({', '.join(f'{n} {k}' for k, n in mix.items())}), "
          f"graded from scratch by `grader grade-all` as a whole process, {os.cpu_count()} CPUs")
    ways = {"local": ["--jobs", "2"], "cluster": ["--cluster", "local:2"]}
    one = {name: grade_all_process(root / "one", root / f"one-{name}", how) for name, how in ways.items()}
    full = {name: grade_all_process(root / "class", root / f"out-{name}", how) for name, how in ways.items()}
    print(f"   {'':<19} {'1 student':>10} {f'{students} students':>13} {'per minute':>11} {'s per submission':>17}   "
          f"median per student (records): start-up, checking, total")
    for name, how in ways.items():
        run = full[name]
        per_minute = 60 * len(run["records"]) / run["wall"]
        per_worker = 2 * run["wall"] / len(run["records"])  # a worker's seconds per submission, everything included
        medians = [statistics.median(float(r["timings"].get(part, 0.0)) for r in run["records"].values())
                   for part in ("startup", "checking", "total")]
        print(f"   {' '.join(how):<19} {one[name]['wall']:>8.2f} s {run['wall']:>11.1f} s {per_minute:>11.1f} "
              f"{per_worker:>13.2f} s   {', '.join(f'{m:.3f}' for m in medians)} s")
    print("   (s per submission: 2 workers x wall / students, the cost of a submission to one worker, start-up included)")
    startup = one["cluster"]["wall"] - one["local"]["wall"]
    overhead = full["cluster"]["wall"] - full["local"]["wall"]
    print(f"   ratio cluster / local wall time: {full['cluster']['wall'] / full['local']['wall']:.2f} "
          f"(throughput {full['local']['wall'] / full['cluster']['wall']:.2f}x)")
    print(f"   cluster start-up (one-student class, cluster minus local): {startup:+.2f} s")
    print(f"   overhead per task: {overhead / students:+.3f} s as measured ((cluster - local) / {students}); "
          f"{(overhead - startup) / students:+.3f} s net of the start-up")
    workers: dict[str, int] = {}
    for record in full["cluster"]["records"].values():
        workers[record.get("worker", "?")] = workers.get(record.get("worker", "?"), 0) + 1
    print(f"   cluster workers (students graded): {', '.join(f'{w} {n}' for w, n in sorted(workers.items()))}")
    problems = compare_class(full["local"], full["cluster"], set(kinds))
    statuses = ", ".join(f"{' '.join(how)} exit {full[name]['status']}" for name, how in ways.items())
    if problems:
        print(f"   CHECK FAILED ({statuses}): " + "; ".join(problems))
    else:
        print(f"   check: both runs gave all {students} students a record and a gradebook row, with the same scores "
              f"(every function's column); every cluster record names its worker ({statuses})")


# ---- 2. 10,000 entries through a real scheduler ---------------------------------------------------

def stand_in_task(submission, student: str, file_name: str, key: dict):
    """On a worker, in place of grader.classroom.cluster.grade_task: the StudentFiles of one real
    grading (read once per worker from TEMPLATE_FILE), the record's student, submission, key,
    worker and pid set for this entry."""
    from distributed import get_worker

    from grader.classroom.batch import StudentFiles

    worker = get_worker()
    template = getattr(worker, "bench_template", None)
    if template is None:
        template = worker.bench_template = json.loads(Path(TEMPLATE_FILE).read_text(encoding="utf-8"))
    record = {**template["record"], "student": student, "submission": file_name, "key": key, "worker": worker.address,
              "pid": os.getpid()}
    return StudentFiles(dict(template["texts"]), record)


class Stopwatch:
    """Wraps a function, adding up the time spent in its calls."""

    def __init__(self, function):
        self.function, self.seconds, self.calls = function, 0.0, 0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


def real_student_files(assignment, path: Path):
    """The StudentFiles of a real grading of `path`, made in this process."""
    from grader.classroom.batch import render_student
    from grader.grading.pipeline import grade_submission

    started = time.perf_counter()
    report = grade_submission(assignment, path)
    return render_student(report, "template", path, {"submission": "", "assignment": ""}, started)


def simulate(root: Path, entries: int) -> None:
    global TEMPLATE_FILE
    import dask
    import distributed

    import grader.classroom.cluster as cluster_module
    import grader.grading.submission as submission_module
    from grader.classroom.batch import grade_all, plan
    from grader.classroom.cluster import ClusterSpec
    from grader.grading.assignment import load_assignment
    from grader.report.class_summary import summarise
    from grader.report.gradebook import gradebook_csv
    from grader.report.html import summary_html

    assignment = load_assignment("hw1", REPO / "assignments")
    template = real_student_files(assignment, TEMPLATE_STUDENT)
    TEMPLATE_FILE = str(root / "template.json")
    Path(TEMPLATE_FILE).write_text(json.dumps({"texts": template.texts, "record": template.record}), encoding="utf-8")
    sizes = {name: len(text.encode()) for name, text in template.texts.items()}
    sizes["record.json"] = len(json.dumps(template.record, indent=2).encode())
    folder, out = root / "entries", root / "out-entries"
    folder.mkdir()
    for index in range(entries):
        (folder / f"s{index:05d}.py").write_text(f"def rnn_step(*args):\n    return {index}\n", encoding="utf-8")
    print(f"\n2. a simulated class of {entries:,} entries through a real scheduler (LocalCluster of 2 single-threaded "
          f"worker processes); each task returns the files of one real grading of {TEMPLATE_STUDENT.name} "
          f"({sum(sizes.values()) / 1024:.0f} KiB: {', '.join(f'{n} {b / 1024:.1f}' for n, b in sizes.items())})")

    dask.config.set({"temporary-directory": str(root / "dask-scratch")})
    started = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, resources={cluster_module.RESOURCE: 1})
    cluster_start = time.perf_counter() - started
    timers = {"reads": Stopwatch(submission_module.load_submission),
              "writes": Stopwatch(cluster_module.write_student_files),
              "connect": Stopwatch(cluster_module._connect), "workers": Stopwatch(cluster_module._start_workers)}
    patches = [(cluster_module, "grade_task", stand_in_task),
               (submission_module, "load_submission", timers["reads"]),  # the client imports it at each run
               (cluster_module, "write_student_files", timers["writes"]),
               (cluster_module, "_connect", timers["connect"]), (cluster_module, "_start_workers", timers["workers"])]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, replacement in patches:
        setattr(module, name, replacement)
    done: list[float] = []
    try:
        started = time.perf_counter()
        batch = plan(assignment, folder, out, force=False)
        planning = time.perf_counter() - started
        spec, progress = ClusterSpec(address=cluster.scheduler_address), lambda n: done.append(time.perf_counter())
        started = time.perf_counter()
        if hasattr(cluster_module, "ClusterSession"):  # grade_all takes a session opened first, as grade-all does
            with cluster_module.ClusterSession(spec, assignment, "auto") as session:
                result = grade_all(assignment, batch, out, jobs=1, isolation_level="auto", progress=progress, cluster=session)
        else:
            result = grade_all(assignment, batch, out, jobs=1, isolation_level="auto", progress=progress, cluster=spec)
        grading = time.perf_counter() - started
        first_done = done[0] - started if done else float("nan")
        started = time.perf_counter()
        functions = dict(assignment.points)
        gradebook = gradebook_csv(result.records, functions)
        run = {"graded": len(result.graded), "reused": 0, "faults": len(result.faults), "seconds": result.seconds,
               "jobs": 2, "notes": [], "cluster": cluster.scheduler_address}
        summary = summary_html(summarise(assignment.name, assignment.title, result.records, functions, run))
        class_files = time.perf_counter() - started
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
        started = time.perf_counter()
        cluster.close()
        closing = time.perf_counter() - started

    reads, writes = timers["reads"], timers["writes"]
    connecting = timers["connect"].seconds + timers["workers"].seconds
    round_trip = grading - connecting - reads.seconds - writes.seconds
    print(f"   {'step':<58} {'seconds':>8} {'ms per entry':>13}")
    rows = [("start the LocalCluster (2 worker processes)", cluster_start),
            ("plan: list the folder, digest each submission", planning),
            ("connect; worker plugin (assignment, checks, sandbox probe)", connecting),
            ("client reads each submission (load_submission)", reads.seconds),
            ("submit, schedule, run the stand-in, fetch files, release", round_trip),
            ("client writes each student's 4 files (write_student_files)", writes.seconds),
            ("grade_all in all (from connecting to the last record)", grading),
            ("gradebook.csv and summary.html of the class (in memory)", class_files),
            ("close the cluster", closing)]
    for label, seconds in rows:
        per_entry = "" if label.startswith(("start", "connect", "close")) else f"{1000 * seconds / entries:.2f}"
        print(f"   {label:<58} {seconds:>8.2f} {per_entry:>13}")
    streaming = done[-1] - done[0] if len(done) > 1 else float("nan")
    print(f"   {entries / grading:.0f} entries per second through grade_all ({entries / (grading - connecting):.0f} "
          f"after connecting); the first record was written {first_done:.1f} s after grade_all began (every submission is "
          f"read and submitted first), the rest streamed in {streaming:.1f} s ({(len(done) - 1) / streaming:.0f} per second)")
    print(f"   gradebook.csv {len(gradebook.encode()) / 1024:.0f} KiB, summary.html {len(summary.encode()) / 1024:.0f} KiB")
    records = list(out.glob("*/record.json"))
    names = {path.parent.name for path in records}
    expected = {path.stem for path in folder.iterdir()}
    complete = sum(1 for path in records if all((path.parent / name).is_file() for name in template.texts))
    keys = {json.loads(path.read_text())["key"]["submission"] for path in records}
    gradebook_rows = sum(1 for _ in csv.DictReader(io.StringIO(gradebook)))
    ok = (names == expected and complete == entries and len(keys) == entries and len(result.graded) == entries
          and not result.faults and gradebook_rows == entries and reads.calls == writes.calls == entries)
    verdict = "check" if ok else "CHECK FAILED"
    print(f"   {verdict}: {len(records):,} record.json of {entries:,} entries, {complete:,} with all their files, "
          f"{len(keys):,} distinct submission digests, {len(result.graded):,} graded, {len(result.faults)} grader faults, "
          f"{gradebook_rows:,} gradebook rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40, help="the class graded both ways (0: skip part 1)")
    parser.add_argument("--entries", type=int, default=10000, help="the simulated class (0: skip part 2)")
    args = parser.parse_args()
    # another scheduler on this machine holds the HTTP port 8787: ours takes a free one, which is fine
    warnings.filterwarnings("ignore", message="Port 8787 is already in use")
    print(f"load average before the run: {', '.join(f'{load:.2f}' for load in os.getloadavg())} (1, 5, 15 minutes)")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as temporary:
        root = Path(temporary)
        if args.students:
            bench_class(root, args.students)
            for path in root.glob("*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        if args.entries:
            simulate(root, args.entries)


if __name__ == "__main__":
    main()
