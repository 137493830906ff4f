"""Grading's first step: the submission read, and its sandboxed worker started.

It imports neither hypothesis nor the checks, so that a command can take this step first and
let the worker start (spawn, confine, import numpy, run the submission's top-level code) on
the other core while it loads the checks (grader.grading.pipeline).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from grader.grading.submission import Submission, load_submission
from grader.model import Assignment
from grader.sandbox.handle import StudentModule
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.worker_process import SpareWorker


@dataclass
class StudentRun:
    """The submission at `path`, read, and its worker (`module`, running its code), or None when
    it could not be read (`submission.problem` says why). `started` is the perf_counter time the
    step began: grading's time counts from it."""

    submission: Submission
    module: StudentModule | None
    started: float = field(default_factory=time.perf_counter)

    def close(self) -> None:
        """Stop the worker, if it runs (the report keeps what it printed)."""
        if self.module is not None:
            self.module.close()


def start_student_run(assignment: Assignment, path: Path, limits: SandboxLimits, confinement: Isolation,
                      must_exist: bool = True, submission: Submission | None = None,
                      expected: Sequence[str] | None = None, spare: SpareWorker | None = None) -> StudentRun:
    """Read the submission at `path` (unless `submission` is given, read before) and start its
    worker, without waiting for it: `spare`, a worker started before for it, when there is one
    (it is used or stopped here).

    Raises:
        UsageError: there is nothing at `path` and `must_exist`.
    """
    started = time.perf_counter()
    try:
        submission = submission or load_submission(path, assignment.module, must_exist)
    except BaseException:
        if spare is not None:
            spare.discard()
        raise
    if submission.problem:
        if spare is not None:
            spare.discard()
        return StudentRun(submission, None, started)
    module = StudentModule(assignment.module, list(submission.cells), limits, confinement,
                           expected=list(assignment.points) if expected is None else list(expected), spare=spare)
    run = StudentRun(submission, module, started)
    try:
        module.start()  # the worker imports numpy and runs the submission while the checks load
    except BaseException:
        run.close()
        raise
    return run
