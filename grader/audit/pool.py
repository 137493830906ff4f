"""Grade the audit's answers as one class, in parallel: grade-all's job processes
(grader.classroom.batch: each loads the assignment and its checks once), without its files."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from pathlib import Path
from typing import Callable, Sequence

from grader.classroom.batch import fault_report, grade_in_job, start_job
from grader.model import Assignment, Report


def grade_files(assignment: Assignment, paths: Sequence[Path], jobs: int,
                progress: Callable[[int], None] | None = None) -> list[Report]:
    """The report of each submission of `paths`, in order, graded in `jobs` processes; a fault of
    the grader on one is its report's `grader_fault`. `progress(1)` is called as each is done."""
    reports: list[Report | None] = [None] * len(paths)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=max(1, min(jobs, len(paths))), mp_context=context, initializer=start_job,
            initargs=(assignment.name, str(assignment.directory.parent), "auto")) as pool:
        futures = {pool.submit(_grade, str(path)): index for index, path in enumerate(paths)}
        try:
            for future in concurrent.futures.as_completed(futures):
                index = futures[future]
                graded = future.result()
                reports[index] = graded if isinstance(graded, Report) else fault_report(assignment, paths[index].name, graded, 0.0)
                if progress:
                    progress(1)
        except BaseException:  # Ctrl-C, or the pool broke: stop grading
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return reports  # type: ignore[return-value]


def _grade(path: str) -> Report | str:
    """In a job process: the report of the submission at `path`, or the grader's fault on it."""
    try:
        return grade_in_job(Path(path))
    except Exception as error:  # a fault of the grader: the audit reports it
        return f"{type(error).__name__}: {error}"
