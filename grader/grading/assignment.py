"""Load and validate an assignment's configuration (`assignments/<name>/assignment.json`)."""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

from grader.errors import UsageError
from grader.model import Assignment
from grader.points import UNITS_PER_POINT

CONFIG_NAME = "assignment.json"
_REQUIRED_KEYS = ("name", "title", "module", "reference", "public_tests", "handout", "template", "points")


def available_assignments(assignments_dir: Path) -> list[str]:
    """Names of the assignments under `assignments_dir` (folders holding an assignment.json)."""
    if not assignments_dir.is_dir():
        return []
    return sorted(p.parent.name for p in assignments_dir.glob(f"*/{CONFIG_NAME}"))


def load_assignment(name: str, assignments_dir: Path) -> Assignment:
    """Read, validate and return the assignment called `name`.

    Raises:
        UsageError: the assignment does not exist or its configuration is invalid; the
            message names the file and what to change.
    """
    directory = (assignments_dir / name).resolve()
    config_path = directory / CONFIG_NAME
    if not config_path.is_file():
        known = ", ".join(available_assignments(assignments_dir)) or "none"
        raise UsageError(
            f"unknown assignment {name!r}: no {config_path} (assignments found under "
            f"{assignments_dir}: {known}; use --assignments DIR to look elsewhere)"
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{config_path}: not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise UsageError(f"{config_path}: expected a JSON object at the top level")
    missing = [key for key in _REQUIRED_KEYS if key not in config]
    if missing:
        raise UsageError(f"{config_path}: missing key(s) {', '.join(missing)}")

    def path_of(key: str) -> Path:
        return (directory / config[key]).resolve()

    reference = path_of("reference")
    if not reference.is_file():
        raise UsageError(f"{config_path}: reference {reference} does not exist")
    points = _validate_points(config["points"], config_path, reference)
    return Assignment(
        name=str(config["name"]),
        title=str(config["title"]),
        module=str(config["module"]),
        directory=directory,
        reference=reference,
        public_tests=path_of("public_tests"),
        handout=path_of("handout"),
        template=path_of("template"),
        points=points,
    )


def _validate_points(points: object, config_path: Path, reference: Path) -> dict[str, float]:
    if not isinstance(points, dict) or not points:
        raise UsageError(f"{config_path}: 'points' must map function names to points")
    defined = module_functions(reference.read_text(encoding="utf-8"))
    validated: dict[str, float] = {}
    for function, value in points.items():
        if function not in defined:
            raise UsageError(
                f"{config_path}: 'points' names {function!r}, which {reference.name} does not define"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise UsageError(f"{config_path}: points for {function!r} must be a positive number, not {value!r}")
        if abs(value * UNITS_PER_POINT - round(value * UNITS_PER_POINT)) > 1e-6:
            raise UsageError(f"{config_path}: points for {function!r} must be a whole number of hundredths "
                             f"(scores are counted in hundredths of a point), not {value!r}")
        validated[function] = float(value)
    return validated


def module_functions(source: str) -> dict[str, str]:
    """The top-level functions of a module's source, each with the first line of its docstring."""
    functions = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            docstring = ast.get_docstring(node) or ""
            functions[node.name] = docstring.strip().splitlines()[0] if docstring.strip() else ""
    return functions


def function_hints(assignment: Assignment) -> dict[str, str]:
    """The one-line TODO hint of each graded function, from its solution blocks in the reference."""
    from grader.grading.solution_blocks import find_solution_blocks

    hints: dict[str, str] = {}
    source = assignment.reference.read_text(encoding="utf-8")
    for block in find_solution_blocks(source, str(assignment.reference)):
        if block.function in assignment.points:
            hints[block.function] = f"{hints[block.function]} {block.hint}" if block.function in hints else block.hint
    return hints


def load_reference(assignment: Assignment) -> ModuleType:
    """Import the reference solution (trusted instructor code) under a private module name."""
    return _import_file(assignment.reference, f"_grader_reference_{assignment.name}")


def load_checks(assignment: Assignment, reference: ModuleType, try_sources: bool = True) -> tuple[list, list]:
    """The assignment's checks and misconceptions, from `checks.py` in its folder.

    `checks.py` defines `build(reference) -> (checks, misconceptions)`; it may import its
    sibling modules relatively (the folder is loaded as a package). Each check's cases are
    tried once here (`check_case_sources`), unless not `try_sources` (the case cache holds
    this very version of the assignment, whose cases were tried when it was recorded).

    Raises:
        UsageError: checks.py is missing, build() reports a mistake in them (the
            authoring API raises UsageError), or its checks do not cover the assignment's
            points, use a function that has none, or have a case source that cannot work.
    """
    from grader.authoring.checks import VISIBILITIES, Check

    checks_file = assignment.directory / "checks.py"
    if not checks_file.is_file():
        raise UsageError(f"{checks_file} does not exist: an assignment needs its checks")
    module = import_assignment_module(assignment, "checks")
    try:
        checks, misconceptions = module.build(reference)
    except UsageError as error:
        raise UsageError(f"{checks_file}: {error}") from None
    for check in checks:
        if not isinstance(check, Check):
            raise UsageError(f"{checks_file}: build() returned {check!r}, which is not a Check")
        if check.function not in assignment.points:
            raise UsageError(f"{checks_file}: check {check.name!r} grades {check.function!r}, which has no points")
        if check.weight <= 0 or check.visibility not in VISIBILITIES:
            raise UsageError(f"{checks_file}: check {check.name!r} needs a positive weight and a visibility in {VISIBILITIES}")
        _check_uses(check, assignment, checks_file)
    unchecked = [name for name in assignment.points if not any(c.function == name for c in checks)]
    if unchecked:
        raise UsageError(f"{checks_file}: no check grades {', '.join(unchecked)}")
    unevidenced = [name for name in assignment.points if not any(c.function == name and c.evidence for c in checks)]
    if unevidenced:
        raise UsageError(f"{checks_file}: no check of {', '.join(unevidenced)} compares with the reference "
                         "(agreement, gradient or a Check with evidence=True), so its other checks could never pay")
    names = [check.name for check in checks]
    if len(set(names)) != len(names):
        raise UsageError(f"{checks_file}: two checks share a name; names must be unique")
    if try_sources:
        check_case_sources(checks, checks_file)
    return list(checks), list(misconceptions)


def _check_uses(check, assignment: Assignment, checks_file: Path) -> None:
    """A check may call only other graded functions, and (calling more than one) is not single_call."""
    for function in check.uses:
        if function not in assignment.points or function == check.function:
            raise UsageError(f"{checks_file}: check {check.name!r} uses {function!r}, which is not another graded "
                             f"function (those are {', '.join(assignment.points)})")
    if check.uses and check.single_call:
        raise UsageError(f"{checks_file}: check {check.name!r} uses {', '.join(check.uses)}, so it calls more than "
                         "one function: it cannot be single_call")


def check_case_sources(checks, checks_file: Path) -> None:
    """Build one case from each check's cases, so that a source that cannot work is an error now,
    with the place to fix, rather than lost coverage later.

    Raises:
        UsageError: a check's cases are neither a recipe nor a hypothesis strategy; a recipe
            draws no seed (its variants would all be one case); building a case raises or
            gives something that is not a Case.
    """
    from grader.authoring.checks import Case
    from grader.authoring.compare import describe_value
    from hypothesis.errors import HypothesisException
    from hypothesis.strategies import SearchStrategy

    from grader.authoring.strategies import CaseRecipe, try_case_sources
    from grader.grading.checking import draw_without_local_constants

    for check in checks:
        if not isinstance(check.cases, (CaseRecipe, SearchStrategy)):
            called = " (call it: cases=name())" if callable(check.cases) else ""
            raise UsageError(f"{checks_file}: the cases of check {check.name!r} are {check.cases!r}, not a recipe "
                             f"(@recipe) or a hypothesis strategy{called}")
    draw_without_local_constants()  # as when grading: no constants from local modules, nothing written in the cwd
    try:
        trials = try_case_sources([check.cases for check in checks])
    except HypothesisException as error:
        reason = (str(error).strip().splitlines() or [""])[0]
        raise UsageError(f"{checks_file}: hypothesis could not build a case of every check "
                         f"({type(error).__name__}: {reason})") from None
    for check, trial in zip(checks, trials):
        where = trial.source.location if isinstance(trial.source, CaseRecipe) else f"{checks_file}: {trial.source!r}"
        if trial.error is not None:
            reason = (str(trial.error).strip().splitlines() or [""])[0]
            raise UsageError(f"{where}: building a case for check {check.name!r} raised "
                             f"{type(trial.error).__name__}: {reason}")
        if not isinstance(trial.value, Case):
            raise UsageError(f"{where}: the cases of check {check.name!r} gave {describe_value(trial.value)}, "
                             "not a Case")
        if not trial.drew_seed:
            raise UsageError(f"{where}: the case recipe {trial.source.function.__name__} draws no seeds(), so the "
                             f"variants of each of its cases would all be one case (check {check.name!r}); build its "
                             "arrays from draw(seeds()), or pass a hypothesis strategy (@st.composite), whose cases "
                             "are drawn one by one")


def import_assignment_module(assignment: Assignment, name: str) -> ModuleType:
    """The module `name` of the assignment's folder (checks, mutants), imported as part of the
    folder's package, so that it may import its siblings relatively."""
    package_name = f"_grader_assignment_{assignment.name}"
    init = assignment.directory / "__init__.py"
    if package_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            package_name, init if init.is_file() else None, submodule_search_locations=[str(assignment.directory)]
        )
        package = importlib.util.module_from_spec(spec)
        sys.modules[package_name] = package
        if init.is_file():
            spec.loader.exec_module(package)
    return importlib.import_module(f"{package_name}.{name}")


def _import_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
