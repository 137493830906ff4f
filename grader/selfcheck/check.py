"""`grader check`: the student runs the public tests on their own file before submitting.

It needs only what the student has, their template folder: the public tests and
`grader.json`, which `grader release` writes next to them (the module's name, each
function's points and hint, and the hints the grader gives for common errors). It never sees
the hidden checks or the reference solution. The student's code runs in the same sandbox as
when it is graded (`grader.sandbox.handle`); the public tests run under pytest in this process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from grader.errors import UsageError
from grader.model import CheckPlan, Misconception, PublicTestResult, SelfCheckReport
from grader.sandbox.isolation import Isolation
from grader.grading.load_notes import load_notes, missing_reason
from grader.selfcheck.public_tests import run_public_tests, subjects_of_tests
from grader.grading.safe_read import kind_of, open_folder
from grader.sandbox.handle import StudentModule
from grader.sandbox.limits import SandboxLimits
from grader.grading.submission import load_submission
from grader.grading.submission_finding import find_in_folder, require_submission

MANIFEST = "grader.json"
DEFAULT_TESTS = "test_public.py"


def manifest_text(assignment: str, module: str, points: dict[str, float], hints: dict[str, str],
                  error_hints: Sequence[Misconception], public_tests: str = DEFAULT_TESTS) -> str:
    """The grader.json that `grader release` writes into the template."""
    data = {
        "about": f"Used by `grader check`, which runs {public_tests} on your {module}.py or {module}.ipynb. Do not edit.",
        "assignment": assignment,
        "module": module,
        "public_tests": public_tests,
        "functions": [{"name": name, "points": points[name], "hint": hints.get(name, "")} for name in points],
        "error_hints": [{"title": m.title, "explanation": m.explanation, "function": m.function, "pattern": m.error_pattern}
                        for m in error_hints if m.error_pattern],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def plan_self_check(submission: Path | None, here: Path) -> CheckPlan:
    """Find the student's file, the public tests and grader.json.

    With no `submission`, `here` must be the homework folder; the module's .py or .ipynb in it
    is checked (the one changed last, when both are there).

    Raises:
        UsageError: what to check cannot be found; the message says what to do.
    """
    if submission is not None and kind_of(submission) is None:
        raise UsageError(f"submission {submission} does not exist")
    named_folder = submission is not None and kind_of(submission) == "folder"  # a link to a folder is not one
    folder = here if submission is None else (submission if named_folder else submission.parent)
    manifest_path = next((p for p in (folder / MANIFEST, here / MANIFEST) if p.is_file()), None)
    if manifest_path is None and submission is None:
        raise UsageError(f"there is no {MANIFEST} in {here}: run `grader check` inside your homework folder "
                         f"(the one holding {DEFAULT_TESTS} and {MANIFEST}), or name your file: grader check hw1.ipynb")
    manifest = _read_manifest(manifest_path) if manifest_path else None
    if submission is not None and not named_folder:
        require_submission(submission, manifest["module"] if manifest else None, "your")
    notes: list[str] = []
    if manifest:
        module = manifest["module"]
    elif not named_folder and submission.stem.isidentifier():
        module = submission.stem
    else:
        raise UsageError(f"there is no {MANIFEST} next to {submission}: copy it from your homework template")
    if submission is None or named_folder:
        submission, chosen = _pick_file(folder, module)
        if chosen:
            notes.append(chosen)
    tests_name = manifest["public_tests"] if manifest else DEFAULT_TESTS
    candidates = [manifest_path.parent / tests_name] if manifest_path else [folder / tests_name, here / tests_name]
    tests_file = next((p for p in candidates if p.is_file()), None)
    if tests_file is None:
        raise UsageError(f"the public tests ({tests_name}) are not in {candidates[0].parent}: copy them from your homework template")
    if manifest:
        points = {f["name"]: float(f["points"]) for f in manifest["functions"]}
        hints = {f["name"]: str(f.get("hint") or "") for f in manifest["functions"]}
        error_hints = tuple(Misconception("error", str(h["title"]), str(h["explanation"]), h.get("function"), error_pattern=str(h["pattern"]))
                            for h in manifest.get("error_hints", []))
    else:
        points, hints, error_hints = {name: 0.0 for name in _called_functions(tests_file, module)}, {}, ()
    return CheckPlan(submission, tests_file, module, manifest["assignment"] if manifest else module,
                     points, hints, error_hints, tuple(notes))


def run_self_check(plan: CheckPlan, limits: SandboxLimits = SandboxLimits(),
                   confinement: Isolation | None = None) -> SelfCheckReport:
    """Run the public tests of `plan` against the student's file, in the sandbox."""
    notes = list(plan.notes)
    submission = load_submission(plan.submission, plan.module)
    notes += submission.notes
    if submission.problem:
        reason = f"nothing could be run: {submission.problem}"
        source = plan.tests_file.read_text(encoding="utf-8")
        subjects = subjects_of_tests(source, plan.module, list(plan.points))
        results = tuple(PublicTestResult(name, function, reason) for name, function in subjects.items())
        return SelfCheckReport(plan, results, tuple(notes), (f"{submission.problem}.",))
    with StudentModule(plan.module, list(submission.cells), limits, confinement, expected=list(plan.points)) as module:
        module.start()
        import numpy  # noqa: F401  (both imported while the worker starts, on the other core: the public
        import pytest  # noqa: F401  tests need them, and the wire, numpy)

        load = module.finish_load()
        if load.failure:
            notes.insert(0, f"The file could not be run: {load.failure}.")
        notes += load_notes(load, submission.cells)
        graded_file = submission.graded_file or plan.submission.name
        missing = {} if load.failure else {name: missing_reason(name, graded_file, load, submission.cells) for name in plan.points
                                           if name not in load.defined}
        results, collection_errors = run_public_tests(plan.tests_file, plan.module, module, list(plan.points), missing)
        printed = module.output.text()
    problems = tuple(f"{plan.tests_file.name} could not be collected: {error}" for error in collection_errors)
    if not results and not problems:
        problems = (f"{plan.tests_file.name} holds no tests",)
    return SelfCheckReport(plan, tuple(results), tuple(notes), problems, printed)


def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        module, functions = data["module"], data["functions"]
        if not (isinstance(module, str) and module.isidentifier() and isinstance(functions, list)
                and all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in functions)):
            raise ValueError("unexpected contents")
        data.setdefault("public_tests", DEFAULT_TESTS)
        data.setdefault("assignment", module)
        return data
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{path} is damaged ({error}): copy it again from your homework template") from None


def _pick_file(folder: Path, module: str) -> tuple[Path, str | None]:
    """The file to check in `folder`, chosen as grading chooses it (grader.grading.submission_finding),
    except that when the folder holds both `module`.py and `module`.ipynb (as the template does)
    the one changed last is checked; and a note saying which, when there was a choice.

    Raises:
        UsageError: nothing in `folder` can be checked; the message says what to rename.
    """
    descriptor = open_folder(folder)
    if isinstance(descriptor, str):
        raise UsageError(descriptor)
    try:
        found = find_in_folder(descriptor, module, both="newer")
    finally:
        os.close(descriptor)
    if found.problem:
        raise UsageError(f"{folder}: {found.problem}, or pass the file to check: grader check FILE")
    return folder.joinpath(*found.parts), " ".join(found.notes) or None


def _called_functions(tests_file: Path, module: str) -> list[str]:
    """The `module.X` attributes the tests use, in order of first use (when there is no grader.json)."""
    import ast

    try:
        tree = ast.parse(tests_file.read_text(encoding="utf-8"))
    except SyntaxError:
        return []
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == module]
    uses.sort(key=lambda n: (n.lineno, n.col_offset))
    return list(dict.fromkeys(n.attr for n in uses))
