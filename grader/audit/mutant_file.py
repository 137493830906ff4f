"""Load and validate an assignment's mutants (`assignments/<name>/mutants.py`, a `MUTANTS` list
of grader.authoring.mutants.Mutant).

Every problem is a usage error of one line that names the file and the mutant: the audit would
otherwise report a wrong mutant as a weak check.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from grader.authoring.mutants import Mutant, apply
from grader.errors import UsageError
from grader.grading.assignment import import_assignment_module
from grader.model import Assignment

MUTANTS_FILE = "mutants.py"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def mutants_path(assignment: Assignment) -> Path:
    return assignment.directory / MUTANTS_FILE


def load_mutants(assignment: Assignment, reference_source: str, labels: set[str]) -> tuple[Mutant, ...] | None:
    """The assignment's mutants, each checked against the reference; None when it has no mutants.py.

    `labels` are the assignment's misconception labels, which a mutant's `misconception` must be.

    Raises:
        UsageError: mutants.py does not load, or a mutant is not one the audit can grade.
    """
    path = mutants_path(assignment)
    if not path.is_file():
        return None
    try:
        module = import_assignment_module(assignment, "mutants")
    except SyntaxError as error:
        raise UsageError(f"{path}:{error.lineno}: does not load: SyntaxError: {error.msg}") from None
    except Exception as error:
        raise UsageError(f"{path}: does not load: {type(error).__name__}: {error}") from None
    mutants = getattr(module, "MUTANTS", None)
    if not isinstance(mutants, (list, tuple)):
        raise UsageError(f"{path}: defines no MUTANTS list (MUTANTS = [Mutant(id, function, description, old, new), ...])")
    functions = _function_lines(reference_source)
    seen: set[str] = set()
    for index, mutant in enumerate(mutants):
        if not isinstance(mutant, Mutant):
            raise UsageError(f"{path}: MUTANTS[{index}] is a {type(mutant).__name__}, not a Mutant")
        problem = _problem(mutant, assignment, reference_source, functions, labels, seen)
        if problem:
            raise UsageError(f"{path}: mutant {mutant.id!r}: {problem}")
        seen.add(mutant.id.casefold())
    return tuple(mutants)


def _problem(mutant: Mutant, assignment: Assignment, source: str, functions: dict[str, tuple[int, int]],
             labels: set[str], seen: set[str]) -> str | None:
    """What makes `mutant` one the audit cannot grade, or None."""
    if not isinstance(mutant.id, str) or not _ID.fullmatch(mutant.id):
        return "its id must be letters, digits, '.', '_' and '-' (it names a file)"
    if mutant.id.casefold() in seen:
        return "another mutant has the same id"
    if mutant.function not in assignment.points:
        return f"edits {mutant.function!r}, which is not a graded function (graded: {', '.join(assignment.points)})"
    try:
        apply(source, mutant)
    except ValueError:
        count = source.count(mutant.old) if mutant.old else 0
        return (f"its `old` text occurs {count} times in the reference, not exactly once"
                + (" (anchor it with a neighbouring line)" if count > 1 else ""))
    if mutant.new == mutant.old:
        return "its `new` text is its `old` text: it changes nothing"
    first, last = functions.get(mutant.function, (0, 0))
    start = source.index(mutant.old)
    lines = (source.count("\n", 0, start) + 1, source.count("\n", 0, start + max(len(mutant.old) - 1, 0)) + 1)
    if not first <= lines[0] <= lines[1] <= last:
        return f"its `old` text (line {lines[0]} of the reference) is not inside {mutant.function} (lines {first}-{last})"
    if mutant.misconception is not None and mutant.misconception not in labels:
        return f"names the misconception {mutant.misconception!r}, which the assignment does not know"
    return None


def _function_lines(source: str) -> dict[str, tuple[int, int]]:
    """The lines of each top-level function of `source`: from its `def` to the line before the next
    top-level statement (comments after its last statement, such as `# END SOLUTION`, included)."""
    body = ast.parse(source).body
    starts = [min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) for node in body]
    ends = [start - 1 for start in starts[1:]] + [source.count("\n") + 1]
    return {node.name: (node.lineno, end) for node, end in zip(body, ends) if isinstance(node, ast.FunctionDef)}
