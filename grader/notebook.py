"""Turn a Jupyter notebook into the cells the worker runs: code cells only, magics neutralised.

IPython syntax is not Python: a line magic (`%timeit f()`), a shell escape (`!pip install x`),
a help request (`np.einsum?`) and a cell magic (`%%bash`) would be syntax errors that cost a student their whole cell. Each
such line becomes `pass`, so line numbers stay right; a `%%` cell that is not Python is
skipped. `get_ipython()` returns an object that accepts and ignores any call.
"""

from __future__ import annotations

import json
import re

from grader.sandbox import Cell

# Cell magics whose body is still Python: keep the body, drop the magic line.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3"}
_MAGIC_LINE = re.compile(r"^(\s*)(%|!)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)[\w.,\s]+=\s*(%|!)")
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+(\(\))?|[\w.]+(\(\))?\?{1,2})\s*$")  # `np.einsum?`, `??softmax`

PRELUDE = Cell(
    source=(
        "class _IgnoredIPython:\n"
        "    def __getattr__(self, name):\n"
        "        return lambda *args, **kwargs: None\n"
        "def get_ipython():\n"
        "    return _IgnoredIPython()\n"
        "def display(*args, **kwargs):\n"
        "    pass\n"
    ),
    filename="<notebook prelude>",
)


class NotebookError(Exception):
    """The file is not a readable Jupyter notebook; the message says why in student terms."""


def read_notebook_cells(text: str, name: str) -> list[Cell]:
    """The code cells of the notebook `text`, in order, each named "NAME cell N" (N counts all cells from 1)."""
    import nbformat  # imported here: it is slow to import and only notebooks need it

    problem = _not_a_notebook(text)
    if problem:
        raise NotebookError(f"{name} is not a valid Jupyter notebook: {problem}")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises NotJSONError, ValidationError, KeyError, ...
        raise NotebookError(f"{name} is not a valid Jupyter notebook ({_short(error)})") from None
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(f"{name} is not a valid Jupyter notebook (it has no list of cells)")
    code_cells = [PRELUDE]
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        python = neutralise_ipython(str(source))
        if python is not None:
            code_cells.append(Cell(python, f"{name} cell {number}"))
    return code_cells


def neutralise_ipython(source: str) -> str | None:
    """`source` with IPython-only lines replaced by `pass` (same line count); None for a non-Python cell."""
    lines = source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return None
        lines[0] = "pass"
    out = []
    for line in lines:
        if _MAGIC_LINE.match(line) or _ASSIGNED_MAGIC.match(line) or _HELP.match(line):
            indent = re.match(r"^\s*", line).group(0)
            out.append(f"{indent}pass")
        else:
            out.append(line)
    return "\n".join(out)


def looks_like_notebook(text: str) -> bool:
    """True when `text` is JSON holding a notebook's top-level keys (say, a notebook saved as .py)."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and "nbformat" in data and ("cells" in data or "worksheets" in data)


def _not_a_notebook(text: str) -> str | None:
    """Why `text` cannot be a notebook, in a student's terms; None when it may be one."""
    if not text.strip():
        return "the file is empty"
    try:
        data = json.loads(text)
    except ValueError as error:
        if not text.lstrip().startswith(("{", "[")):
            return ("it is not JSON; it looks like Python source with an .ipynb name: submit it as a .py file"
                    if _parses_as_python(text) else "it is not JSON")
        if text.lstrip().startswith("{") and not text.rstrip().endswith("}"):  # a notebook ends with its closing brace
            return f"the file ends too early (line {error.lineno}): it was cut short, perhaps by an upload or a full disk"
        line = getattr(error, "lineno", None)
        return f"it is not valid JSON (at line {line})" if line else "it is not valid JSON"
    if not isinstance(data, dict) or "nbformat" not in data or not isinstance(data.get("cells", data.get("worksheets")), list):
        return "it is JSON, but not a notebook (it has no nbformat version and list of cells)"
    return None


def _parses_as_python(text: str) -> bool:
    try:
        compile(text, "<submission>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:160]
