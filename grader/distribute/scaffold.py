"""`grader new NAME`: a small working assignment to start from, written from the package's templates.

The files go where hw1's assignment.json puts its own, relative to the assignments folder:

    <assignments>/NAME/          assignment.json, __init__.py, checks.py, cases.py,
                                 misconceptions.py, mutants.py (the hidden part)
    <assignments>/../solutions/NAME/         NAME.py (the reference), test_public.py, handout.md
    <assignments>/../student_template/NAME/  what `grader release NAME` writes from them

The example (grader/templates/new_assignment/) is two functions, `normalize` and its
gradient, with a check of every kind, two misconceptions and two mutants: it releases, grades
its reference at full marks and its stubs at 0 as it is, and is meant to be replaced
function by function (docs/authoring.md). The templates ship with the grader package, so
students who install it can read them: they are an example, never homework to grade.

Nothing is ever overwritten: an existing assignment or folder is refused before any file is
written.
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from grader.errors import UsageError

# (template file, where it goes: "assignment" or "solutions", the file's name there)
_FILES = (
    ("assignment.json.tmpl", "assignment", "assignment.json"),
    ("__init__.py.tmpl", "assignment", "__init__.py"),
    ("cases.py.tmpl", "assignment", "cases.py"),
    ("checks.py.tmpl", "assignment", "checks.py"),
    ("misconceptions.py.tmpl", "assignment", "misconceptions.py"),
    ("mutants.py.tmpl", "assignment", "mutants.py"),
    ("reference.py.tmpl", "solutions", "{name}.py"),
    ("test_public.py.tmpl", "solutions", "test_public.py"),
    ("handout.md.tmpl", "solutions", "handout.md"),
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# what graded code, the public tests or the grader import: a module of that name would hide it
_TAKEN = frozenset(sys.stdlib_module_names) | {"numpy", "pytest", "hypothesis", "grader", "nbformat", "jinja2", "tqdm",
                                                 "conftest"}


@dataclass(frozen=True)
class Scaffold:
    """Where `grader new` writes an assignment: its folder, its solutions and its template."""

    name: str
    assignment: Path  # <assignments>/NAME
    solutions: Path  # <assignments>/../solutions/NAME
    template: Path  # <assignments>/../student_template/NAME (written by release)


def plan_scaffold(name: str, assignments_dir: Path) -> Scaffold:
    """The folders of a new assignment `name`, after checking that it can be written.

    Raises:
        UsageError: `name` is not a module name students can import, or the assignment or
            one of its folders exists already.
    """
    check_name(name)
    root = assignments_dir.resolve().parent
    scaffold = Scaffold(name, assignments_dir / name, root / "solutions" / name, root / "student_template" / name)
    if (scaffold.assignment / "assignment.json").exists():
        raise UsageError(f"assignment {name!r} exists already ({shown(scaffold.assignment / 'assignment.json')}); "
                         "grader new never overwrites: choose another name")
    for folder in (scaffold.assignment, scaffold.solutions, scaffold.template):
        if folder.exists() or folder.is_symlink():
            raise UsageError(f"{shown(folder)} exists already; grader new never overwrites: choose another name, "
                             "or move that folder away")
    return scaffold


def check_name(name: str) -> None:
    """`name` is a plain module name students can import, and hides no module graded code uses.

    Raises:
        UsageError: with the reason and what would do.
    """
    if not _NAME.fullmatch(name):
        raise UsageError(f"{name!r} is not a Python module name, and the assignment's name is its module's (students "
                         "write NAME.py): use letters, digits and underscores, not starting with a digit, e.g. hw3")
    if keyword.iskeyword(name):
        raise UsageError(f"{name!r} is a Python keyword: students could not import {name}.py; choose another name, "
                         "e.g. hw3")
    if name in _TAKEN:
        raise UsageError(f"{name!r} is the name of a module that graded code or the grader imports ({name}.py would "
                         "hide it): choose another name, e.g. hw3")
    if name.startswith("test_") or name.endswith("_test"):
        raise UsageError(f"{name!r} looks like a test file's name ({name}.py would be taken for a test, not the "
                         "homework): choose another name, e.g. hw3")


def write_scaffold(scaffold: Scaffold) -> list[Path]:
    """Write the assignment's and the solutions' files (not the template: release writes it);
    the paths written, in order. The folders are created here and must not exist."""
    texts = scaffold_files(scaffold.name)
    scaffold.assignment.parent.mkdir(parents=True, exist_ok=True)
    scaffold.solutions.parent.mkdir(parents=True, exist_ok=True)
    scaffold.assignment.mkdir()
    scaffold.solutions.mkdir()
    written = []
    for (place, file_name), text in texts.items():
        path = (scaffold.assignment if place == "assignment" else scaffold.solutions) / file_name
        with open(path, "x", encoding="utf-8", newline="\n") as handle:  # "x": never over an existing file
            handle.write(text)
        written.append(path)
    return written


def shown(path: Path) -> str:
    """`path` relative to the current folder when it lies inside it, else absolute: how messages name it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def scaffold_files(name: str) -> dict[tuple[str, str], str]:
    """The text of each file of a new assignment `name`, by (place, file name)."""
    templates = resources.files("grader") / "templates" / "new_assignment"
    values = {"@ASSIGNMENT@": name, "@TITLE@": f"{name}: from counts to probabilities"}
    files = {}
    for template, place, file_name in _FILES:
        text = (templates / template).read_text(encoding="utf-8")
        for token, value in values.items():
            text = text.replace(token, value)
        files[(place, file_name.format(name=name))] = text
    return files
