"""`grader grade-all`: grade a whole class in parallel, resumably, and never lose a student.

Each student's outputs go to `OUT/<student>/`: results.json, feedback.md, feedback.html and,
written last, record.json (what the gradebook needs, and the digests of the submission and
the assignment it was graded from). Every file is written atomically, so a run that is
stopped (Ctrl-C, kill -9) leaves each student either complete or untouched; the next run
reuses every complete student whose digests still match and grades the rest, the students
whose record is a fault of the grader, and those whose record lacks a field this version
writes (a record from an earlier version of the grader).

Grading runs in `jobs` processes that load the assignment once, or on a Dask cluster
(grader.classroom.cluster). Either way the jobs return each student's rendered files and
record, and this process alone writes them. A job that dies takes only its in-flight students
with it: they are graded again in a fresh pool, and a student who breaks the pool MAX_ATTEMPTS
times gets a row that says so, with score 0.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import json
import multiprocessing
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from grader.classroom.fingerprint import submission_digest
from grader.classroom.roster import Student, read_roster
from grader.errors import UsageError
from grader.grading.submission_finding import listing
from grader.grading.version import assignment_version
from grader.model import LOAD_STATUSES, Assignment, Report
from grader.report.lms_gradebook import FORMAT_NAMES, default_export_name, unmatched_name
from grader.writing import write_atomic

RECORD = "record.json"
RECORD_FIELDS = ("student", "submission", "key", "status", "load_status", "score", "max_score", "functions", "points",
                 "notes", "misconceptions", "timings", "graded_at", "pid")  # what student_record writes
SIMILARITY_FOLDER = "similarity"  # grade-all --similarity's report (grader/classroom/similarity.py)
# what `grader grade-all` writes into OUT besides the student folders (its similarity report too), and
# `grader export gradebook` by default: no student is given one of these names
CLASS_FILES = ("gradebook.csv", "summary.html", SIMILARITY_FOLDER,
               *(name for lms in FORMAT_NAMES for name in (default_export_name(lms),
                                                          unmatched_name(default_export_name(lms)))))
GRADER_FAULT = "grader fault"  # a record's status when the grader itself failed on the submission (else "graded")
STUDENT_FILES = ("results.json", "feedback.md", "feedback.html")
MAX_ATTEMPTS = 2
STUDENT_TIME_LIMIT_SECONDS = 900  # a watchdog on the grader itself, far above any honest grading time


@dataclass
class BatchResult:
    """What a grade-all run did: every student's record, and how each came to be."""

    records: list[dict]
    graded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class BatchPlan:
    """Who is in the class, whose earlier record still holds, the digests of those to grade, and
    what the instructor is told before grading: the entries skipped (not submissions) and the
    warnings about names (grader.classroom.roster)."""

    students: list[Student]
    reusable: dict[str, dict]
    keys: dict[str, dict]
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def plan(assignment: Assignment, folder: Path, out: Path, force: bool) -> BatchPlan:
    """Read the roster and decide, per student, to reuse their record or to grade them.

    Raises:
        UsageError: `folder` is not a folder.
    """
    roster = read_roster(folder, exclude=out, reserved=CLASS_FILES)
    students = list(roster.students)
    version = assignment_version(assignment)
    reusable, keys = {}, {}
    for student in students:
        key = {"submission": submission_digest(student.path, assignment.module), "assignment": version}
        record = None if force else _complete_record(out / student.name, key)
        if record is not None:
            reusable[student.name] = record
        else:
            keys[student.name] = key
    return BatchPlan(students, reusable, keys, roster.skipped, roster.warnings)


def _complete_record(folder: Path, key: dict) -> dict | None:
    """The record in `folder` if it matches `key`, is a grading (not a fault of the grader, which
    is never kept: that student is graded again), has every field this version writes, and
    every student file is there; else None."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("key") != key or record.get("status") == GRADER_FAULT:
        return None
    if not all(name in record for name in RECORD_FIELDS) or record["load_status"] not in LOAD_STATUSES:
        return None
    if not all((folder / name).is_file() for name in STUDENT_FILES):
        return None
    return record


def grade_all(assignment: Assignment, batch: BatchPlan, out: Path, jobs: int,
              isolation_level: str = "auto", progress=None, cluster=None) -> BatchResult:
    """Grade the students `batch` says to into `out` with `jobs` processes, or on `cluster`
    (an open grader.classroom.cluster.ClusterSession); see the module docstring.

    `progress(n)` is called as each student is done (for a progress bar).
    """
    started = time.perf_counter()
    result = BatchResult(records=[], reused=sorted(batch.reusable))
    records = dict(batch.reusable)
    todo = [student for student in batch.students if student.name in batch.keys]
    out.mkdir(parents=True, exist_ok=True)
    if todo:
        if cluster is not None:
            graded = cluster.grade(todo, batch.keys, out, progress)
        else:
            graded = _grade_in_pool(assignment, todo, batch.keys, out, jobs, isolation_level, progress)
        for record in graded:
            records[record["student"]] = record
            (result.faults if record.get("status") == GRADER_FAULT else result.graded).append(record["student"])
    result.records = [records[student.name] for student in batch.students]
    result.seconds = time.perf_counter() - started
    return result


def _grade_in_pool(assignment, todo, keys, out, jobs, isolation_level, progress):
    """Yield a record per student of `todo`, as each finishes.

    A job that dies breaks the pool, and every student not finished then is graded again:
    twice in a fresh pool, then each alone, so that only the student whose grading kills its
    own process gets a fault record.
    """
    remaining, round_number = list(todo), 0
    while remaining:
        groups = [remaining] if round_number < MAX_ATTEMPTS else [[student] for student in remaining]
        remaining = []
        for group in groups:
            for student, files in _run_pool(assignment, group, keys, jobs, isolation_level):
                if files is None and len(group) == 1 and round_number >= MAX_ATTEMPTS:
                    files = fault_files(assignment, student, keys[student.name],
                                        "the grading process died while grading this submission, every time it was tried")
                if files is None:
                    remaining.append(student)
                    continue
                record = write_student_files(out / student.name, files)
                if progress:
                    progress(1)
                yield record
        round_number += 1


def _run_pool(assignment, students, keys, jobs, isolation_level):
    """Yield (student, StudentFiles) as each finishes; None for those a broken pool took down."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=min(jobs, len(students)), mp_context=context, initializer=start_job,
            initargs=(assignment.name, str(assignment.directory.parent), isolation_level)) as pool:
        futures = {pool.submit(_grade_student, s.name, str(s.path), keys[s.name]): s for s in students}
        try:
            for future in concurrent.futures.as_completed(futures):
                student = futures[future]
                try:
                    yield student, future.result()
                except BrokenProcessPool:
                    yield student, None
                except Exception as error:  # a fault of the grader in that job: the student still gets a row
                    yield student, fault_files(assignment, student, keys[student.name], f"{type(error).__name__}: {error}")
        except BaseException:  # Ctrl-C: the students being graded finish and are saved; the others wait for the next run
            pool.shutdown(wait=True, cancel_futures=True)
            raise


# ---- in each job process -------------------------------------------------------------------

_JOB: dict = {}


def start_job(assignment_name: str, assignments_dir: str, isolation_level: str) -> None:
    """Load the assignment and its checks once for every student this process grades (the
    initializer of grade-all's processes, and of `grader audit`'s)."""
    from grader.grading.assignment import load_assignment
    from grader.grading.pipeline import load_kit
    from grader.sandbox.isolation import choose
    from grader.sandbox.process import become_subreaper, die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it lets running students finish
    die_with_parent()
    become_subreaper()
    assignment = load_assignment(assignment_name, Path(assignments_dir))
    _JOB.update(assignment=assignment, kit=load_kit(assignment), confinement=choose(isolation_level), spare=None)
    atexit.register(_discard_spare)
    _start_spare()


def _start_spare() -> None:
    """Start the worker of the next student this process grades, while it grades the current one
    (a fresh process per student still: it is started before its student is known, that is all)."""
    from grader.sandbox.limits import SandboxLimits
    from grader.sandbox.worker_process import SpareWorker

    try:
        _JOB["spare"] = SpareWorker(SandboxLimits(), _JOB["confinement"])
    except Exception:  # the next student's worker starts when needed instead, and says why if it cannot
        _JOB["spare"] = None


def _discard_spare() -> None:
    spare, _JOB["spare"] = _JOB.get("spare"), None
    if spare is not None:
        spare.discard()


class _GradingTooLong(Exception):
    pass


def _alarm(signum, frame):
    raise _GradingTooLong(f"grading took longer than {STUDENT_TIME_LIMIT_SECONDS} s")


def grade_in_job(path: Path) -> Report:
    """Grade the submission at `path` with what this process loaded (start_job)."""
    from grader.grading.pipeline import grade_submission

    spare, _JOB["spare"] = _JOB.get("spare"), None
    try:
        return grade_submission(_JOB["assignment"], path, confinement=_JOB["confinement"], kit=_JOB["kit"],
                                must_exist=False, spare=spare, on_started=_start_spare)
    finally:
        if _JOB.get("spare") is None:
            _start_spare()


def _grade_student(name: str, path: str, key: dict) -> StudentFiles:
    """Grade one student: their files, rendered, and their record (grade-all's process writes them)."""
    assignment = _JOB["assignment"]
    started = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(STUDENT_TIME_LIMIT_SECONDS)
    try:
        report = grade_in_job(Path(path))
    except Exception as error:  # a fault of the grader: the student still gets a row that says so
        report = fault_report(assignment, Path(path).name, f"{type(error).__name__}: {error}", time.perf_counter() - started)
    finally:
        signal.alarm(0)
    return render_student(report, name, Path(path), key, started)


# ---- the files of one student ------------------------------------------------------------------

@dataclass(frozen=True)
class StudentFiles:
    """One student's graded files (results.json, feedback.md, feedback.html: their text) and
    record, as a job renders them; grade-all's own process writes them (write_student_files)."""

    texts: dict[str, str]
    record: dict


def fault_report(assignment: Assignment, submission: str, fault: str, seconds: float) -> Report:
    return Report(assignment=assignment.name, submission=submission, results=(), notes=(), student_output="",
                  execution_time=seconds, function_points=dict(assignment.points), grader_fault=fault)


def fault_files(assignment, student: Student, key: dict, fault: str) -> StudentFiles:
    """The files of a student the grader failed on: a row that says so, score 0, never reused."""
    report = fault_report(assignment, student.path.name, fault, 0.0)
    return render_student(report, student.name, student.path, key, time.perf_counter())


def render_student(report: Report, name: str, path: Path, key: dict, started: float) -> StudentFiles:
    """The student's results.json, feedback.md and feedback.html, and their record."""
    from grader.report.feedback import feedback_markdown
    from grader.report.html import feedback_html
    from grader.report.results_json import results_json

    reporting_started = time.perf_counter()
    texts = {"results.json": json.dumps(results_json(report), indent=2) + "\n",
             "feedback.md": feedback_markdown(report), "feedback.html": feedback_html(report)}
    timings = dict(report.extra.get("timings", {}))
    timings["reporting"] = round(time.perf_counter() - reporting_started, 4)
    timings["total"] = round(time.perf_counter() - started, 4)
    return StudentFiles(texts, student_record(report, name, path, key, timings))


def write_student_files(folder: Path, files: StudentFiles) -> dict:
    """Write the student's files, then their record (last, so that a record means the rest is
    there), each atomically; the record."""
    for name in STUDENT_FILES:
        write_atomic(folder / name, files.texts[name])
    write_atomic(folder / RECORD, json.dumps(files.record, indent=2) + "\n")
    return files.record


def student_record(report: Report, name: str, path: Path, key: dict, timings: dict) -> dict:
    """What the gradebook and the class summary need to know about one graded student."""
    functions = {function: score for function, (score, _) in report.function_scores().items()}
    if report.grader_fault:
        notes = [f"The grader itself failed on this submission ({report.grader_fault}); it was not graded."]
    else:
        notes = list(report.notes)
    misconceptions = sorted({(r.function, title) for r in report.results if not r.passed for title in r.misconceptions})
    return {
        "student": name,
        "submission": path.name,
        "key": key,
        "status": GRADER_FAULT if report.grader_fault else "graded",
        "load_status": report.load_status,
        "score": round(report.score, 4),
        "max_score": round(report.max_score, 4),
        "functions": {function: round(score, 4) for function, score in functions.items()},
        "points": {function: points for function, points in report.function_points.items()},
        "notes": notes,
        "misconceptions": [list(pair) for pair in misconceptions],
        "timings": timings,
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "pid": os.getpid(),
        **({"worker": report.extra["worker"]} if "worker" in report.extra else {}),
    }


def skipped_note(skipped: tuple[str, ...]) -> str | None:
    """One line naming the class folder's entries that are not submissions, None when there are none."""
    if not skipped:
        return None
    what = "entry that is not a submission" if len(skipped) == 1 else "entries that are not submissions"
    return f"skipped {len(skipped)} {what} (not a .py or .ipynb file or a folder): {listing(skipped)}"


def check_jobs(jobs: int | None) -> int:
    """The number of job processes: `jobs`, or one per CPU."""
    if jobs is None:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1 (got {jobs})")
    return jobs
