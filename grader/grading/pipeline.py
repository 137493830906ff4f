"""The order of the steps for one submission: assignment → submission → sandboxed run → checks → report."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable

from grader.grading.assignment import function_hints, load_checks, load_reference
from grader.grading.case_cache import cached_replays, recorded
from grader.grading.checking import run_checks
from grader.grading.load_notes import load_notes, missing_reason
from grader.grading.student_run import StudentRun, start_student_run
from grader.grading.submission import Submission
from grader.grading.version import assignment_version
from grader.model import Assignment, Report
from grader.sandbox import isolation
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.worker_process import SpareWorker


@dataclasses.dataclass(frozen=True)
class GradingKit:
    """What grading needs from the assignment besides the submission: loaded once, reused by a batch."""

    reference: object
    checks: list
    misconceptions: list
    hints: dict
    replays: list  # each check's recorded cases (grader.grading.case_cache)


def load_kit(assignment: Assignment) -> GradingKit:
    """The reference, checks, misconceptions and hints of `assignment` (trusted instructor code),
    and the cases of its checks, from the case cache. Each check's cases are tried when they
    load (grader.grading.assignment.check_case_sources), unless the cache holds this version:
    they were tried when it was recorded."""
    reference = load_reference(assignment)
    version = assignment_version(assignment)
    checks, misconceptions = load_checks(assignment, reference, try_sources=not recorded(assignment, version))
    return GradingKit(reference, checks, misconceptions, function_hints(assignment),
                      cached_replays(assignment, checks, version))


def grade_submission(assignment: Assignment, path: Path, limits: SandboxLimits = SandboxLimits(),
                     confinement: Isolation | None = None, kit: GradingKit | None = None, must_exist: bool = True,
                     submission: Submission | None = None, run: StudentRun | None = None,
                     spare: SpareWorker | None = None, on_started: Callable[[], None] | None = None) -> Report:
    """Grade the submission at `path`. A broken submission is graded (its feedback says why);
    only a missing path (UsageError, unless not `must_exist`) or a fault of the grader (or its
    sandbox) raises.

    `kit` is the assignment's loaded checks, when the caller grades many submissions;
    `submission`, the submission at `path` already read (load_submission), when it was read
    elsewhere (a cluster's client reads it, a worker grades it); `run`, the first step already
    taken (grader.grading.student_run.start_student_run, with the same limits and confinement),
    when the caller started the worker before loading this module. It is closed here. `spare`
    (grader.sandbox.worker_process.SpareWorker): a worker started for this submission before it
    was known, used (or stopped) here; `on_started`, called once the submission's worker was
    started (grade-all starts the next student's worker then).
    `extra["timings"]` splits the time: `startup` (reading the submission, starting the worker,
    running its top-level code) and `checking` (the checks' calls and comparisons).
    """
    confinement = confinement or (run.module.confinement if run is not None and run.module is not None
                                  else isolation.choose("auto"))
    try:
        run = run or start_student_run(assignment, path, limits, confinement, must_exist, submission, spare=spare)
        if on_started is not None:
            on_started()
        kit = kit or load_kit(assignment)
        report = _grade(assignment, run.submission, run.module, kit, run.started)
        return dataclasses.replace(report, extra={**report.extra, "isolation": confinement.as_dict()},
                                   function_hints=dict(kit.hints))
    finally:
        if run is not None:
            run.close()


def _grade(assignment, submission, module, kit: GradingKit, started) -> Report:
    notes = list(submission.notes)
    student_output = ""
    extra: dict[str, object] = {}
    if module is None:
        load_status = "unreadable"
        notes.insert(0, f"Nothing could be graded: {submission.problem}.")
        missing = {name: f"nothing could be graded ({submission.problem})" for name in assignment.points}
        loaded = time.perf_counter()
        results = run_checks(kit.checks, None, assignment.points, kit.misconceptions, missing, kit.reference, kit.replays)
    else:
        load = module.finish_load()
        loaded = time.perf_counter()
        notes += load_notes(load, submission.cells)
        load_status = "not_run" if load.failure else "partial" if load.errors else "loaded"
        if load.failure:
            notes.insert(0, f"The submission could not be run: {load.failure}.")
            missing = {name: f"the submission could not be run ({load.failure})" for name in assignment.points}
        else:
            graded_file = submission.graded_file or assignment.module
            missing = {name: missing_reason(name, graded_file, load, submission.cells) for name in assignment.points
                       if name not in load.defined}
        results = run_checks(kit.checks, module, assignment.points, kit.misconceptions, missing, kit.reference, kit.replays)
        module.close()
        student_output = module.output.text()
        extra = {"worker_layers": module.applied_layers, "student_calls": module.calls, "student_calls_per_function": dict(module.calls_per_function),
                 "worker_restarts": module.restarts,
                 "worker_peak_rss_kib": module.worker_peak_rss_kib}
    finished = time.perf_counter()
    extra["timings"] = {"startup": round(loaded - started, 4), "checking": round(finished - loaded, 4)}
    return Report(
        assignment=assignment.name, submission=submission.label, results=tuple(results), notes=tuple(notes),
        student_output=student_output, execution_time=time.perf_counter() - started,
        function_points=dict(assignment.points), extra=extra, load_status=load_status,
    )
