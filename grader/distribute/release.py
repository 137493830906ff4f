"""Derive the student template of an assignment from its reference solution.

`grader release hw1` writes into the assignment's template folder:
    hw1.py          the reference with every solution block replaced by a TODO stub
    hw1.ipynb       the same stubs as a notebook: a markdown cell per part, a code cell per function
    test_public.py  the public sanity tests, copied
    README.md       the handout, with the table of functions and points filled in
    grader.json     what `grader check` needs: the module, each function's points and hint,
                    and the hints for errors (the assignment's misconceptions that match an
                    exception message; nothing that reveals a solution)
The output depends only on the inputs, so it can be committed and checked for drift.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from grader.distribute.percent_cells import split_cells
from grader.errors import UsageError
from grader.grading.assignment import function_hints, load_checks, load_reference, module_functions
from grader.grading.solution_blocks import strip_solutions
from grader.model import Assignment
from grader.selfcheck.check import MANIFEST, manifest_text

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def render_template(assignment: Assignment) -> dict[str, str]:
    """The template's files, by file name, as text."""
    reference = assignment.reference.read_text(encoding="utf-8")
    module = strip_solutions(reference, str(assignment.reference))
    return {
        f"{assignment.module}.py": module,
        f"{assignment.module}.ipynb": notebook_from_module(module),
        "test_public.py": _read(assignment.public_tests),
        "README.md": render_handout(assignment, module),
        MANIFEST: render_manifest(assignment),
    }


def write_template(assignment: Assignment, out_dir: Path | None = None) -> list[Path]:
    """Write the template files into `out_dir` (default: the assignment's template folder)."""
    out_dir = out_dir or assignment.template
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_template(assignment).items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def notebook_from_module(module_source: str) -> str:
    """A v4 notebook whose cells are the percent-format cells of `module_source`.

    Cell ids are numbered, not random, so the same module always gives the same bytes.
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for number, cell in enumerate(split_cells(module_source)):
        make = nbformat.v4.new_markdown_cell if cell.kind == "markdown" else nbformat.v4.new_code_cell
        notebook_cell = make(cell.source)
        notebook_cell["id"] = f"cell-{number:02d}"
        notebook.cells.append(notebook_cell)
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def render_manifest(assignment: Assignment) -> str:
    """grader.json for `grader check`: the module, points and hints, the error-message hints."""
    _, misconceptions = load_checks(assignment, load_reference(assignment))
    error_hints = [m for m in misconceptions if m.error_pattern]
    return manifest_text(assignment.name, assignment.module, dict(assignment.points), function_hints(assignment),
                         error_hints, assignment.public_tests.name)


def render_handout(assignment: Assignment, module_source: str) -> str:
    """The handout with `{{title}}`, `{{module}}`, `{{max_score}}` and `{{function_table}}` filled in."""
    summaries = module_functions(module_source)
    rows = ["| function | points | what it computes |", "|---|---:|---|"]
    for function, points in assignment.points.items():
        rows.append(f"| `{function}` | {points:g} | {summaries.get(function, '')} |")
    values = {
        "title": assignment.title,
        "module": assignment.module,
        "max_score": f"{assignment.max_score:g}",
        "function_table": "\n".join(rows),
    }

    def fill(match: re.Match) -> str:
        key = match[1]
        if key not in values:
            raise UsageError(f"{assignment.handout}: unknown placeholder {{{{{key}}}}} (known: {', '.join(values)})")
        return values[key]

    return _PLACEHOLDER.sub(fill, _read(assignment.handout))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
