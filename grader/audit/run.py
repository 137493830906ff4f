"""`grader audit`'s steps: plan (load the assignment, its checks and mutants; build the answers
to grade), then grade them all in parallel and judge the reports."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from grader.audit.callers import callers_of, uses_of
from grader.audit.candidates import Candidate, build_candidates
from grader.audit.mutant_file import load_mutants
from grader.audit.pool import grade_files
from grader.audit.verdicts import AuditReport, judge
from grader.grading.pipeline import GradingKit, load_kit
from grader.model import Assignment


@dataclass(frozen=True)
class AuditPlan:
    """What the audit will grade, and what it judges the gradings with."""

    assignment: Assignment
    kit: GradingKit
    candidates: tuple[Candidate, ...]
    callers: dict[str, set[str]]
    has_mutants: bool


def plan_audit(assignment: Assignment) -> AuditPlan:
    """Load the checks and the mutants and build the answers to grade.

    Raises:
        UsageError: the checks or mutants.py do not load, or a mutant cannot be graded.
    """
    kit = load_kit(assignment)
    source = assignment.reference.read_text(encoding="utf-8")
    mutants = load_mutants(assignment, source, {m.label for m in kit.misconceptions})
    candidates = build_candidates(source, assignment.points, mutants or (), str(assignment.reference))
    return AuditPlan(assignment, kit, tuple(candidates), callers_of(source, uses_of(kit.checks)), mutants is not None)


def run_audit(plan: AuditPlan, jobs: int, progress: Callable[[int], None] | None = None) -> AuditReport:
    """Grade every answer of `plan` in `jobs` processes and judge the reports."""
    started = time.perf_counter()
    assignment = plan.assignment
    with tempfile.TemporaryDirectory(prefix="grader-audit-") as folder:
        paths = []
        for index, candidate in enumerate(plan.candidates):
            path = Path(folder) / f"{index:03d}" / f"{assignment.module}.py"  # one file name for all: the same messages
            path.parent.mkdir()
            path.write_text(candidate.source, encoding="utf-8")
            paths.append(path)
        reports = grade_files(assignment, paths, jobs, progress)
    report = judge(assignment.name, assignment.points, plan.kit.checks, plan.candidates, reports, plan.callers,
                   plan.kit.misconceptions, plan.has_mutants)
    return replace(report, seconds=time.perf_counter() - started, jobs=jobs)
