"""Load and validate an assignment's configuration (`assignments/<name>/assignment.json`)."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

from grader.errors import UsageError
from grader.model import Assignment

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
