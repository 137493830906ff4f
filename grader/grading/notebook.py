"""Turn a Jupyter notebook into the cells the worker runs: code cells only, magics neutralised.

IPython syntax is not Python: a line magic (`%timeit f()`), a shell escape (`!pip install x`),
a help request (`np.einsum?`) and a cell magic (`%%bash`) would be syntax errors that cost a student their whole cell. Each
such line becomes `pass`, so line numbers stay right; a `%%` cell that is not Python is
skipped. `get_ipython()` returns an object that accepts and ignores any call.
"""

from __future__ import annotations

import json
import re

from grader.model import Cell

# Cell magics whose body is still Python: keep the body, drop the magic line.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3"}
_MAGIC_LINE = re.compile(r"^(\s*)(%|!)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)[\w.,\s]+=\s*(%|!)")
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+(\(\))?|[\w.]+(\(\))?\?{1,2})\s*$")  # `np.einsum?`, `??softmax`

# Untrusted JSON is parsed only within these bounds (see parse_json); real notebooks, saved
# widget state and plots included, stay far below both.
MAX_JSON_DEPTH = 100
MAX_JSON_CONTAINERS = 1_000_000
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SCAN_CHUNK = 1 << 20

# How `looks_like_python` recognises a line of Python source.
PYTHON_LINES_LOOKED_AT = 50
_DOCSTRING_LINE = re.compile(r"^[rRbBuU]?(\"\"\"|\'\'\'|\"|')")
_PYTHON_STATEMENT = re.compile(
    r"^(import\s+[\w.]+|from\s+[\w.]+\s+import\b|(async\s+)?def\s+\w+\s*\(|class\s+\w+\s*[(:]|@[\w.]+"
    r"|(if|elif|while|for|with|assert|return|raise|del|global|nonlocal)\b|(try|else|finally)\s*:|pass$"
    r"|print\s*\(|[A-Za-z_][\w.]*(\[[^\]]*\])?(\s*,\s*[A-Za-z_][\w.]*)*\s*(=(?!=)|[-+*/%@&|^]=|:\s*[\w.\[\]]+\s*=?))"
)

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
            code_cells.append(Cell(python, f"{name} cell {number}", in_notebook=True))
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
        data = parse_json(text)
    except (ValueError, NotebookError):
        return False
    return isinstance(data, dict) and "nbformat" in data and ("cells" in data or "worksheets" in data)


def parse_json(text: str):
    """`json.loads(text)`, safe on untrusted text in the grader's own process.

    Python's JSON parser recurses once per nesting level (100k nested lists: RecursionError)
    and builds an object per list or dict (millions of `[]`: gigabytes). Both are bounded before
    parsing by one linear scan (`json_shape`), and what still fails is a NotebookError.

    Raises:
        ValueError: `text` is not JSON (json.JSONDecodeError, with its line).
        NotebookError: `text` nests deeper than MAX_JSON_DEPTH, holds more than
            MAX_JSON_CONTAINERS lists and objects, or parsing ran out of memory or stack.
    """
    depth, containers = json_shape(text)
    if depth > MAX_JSON_DEPTH:
        raise NotebookError(f"its JSON nests lists or objects {depth} levels deep, more than the {MAX_JSON_DEPTH} a notebook may")
    if containers > MAX_JSON_CONTAINERS:
        raise NotebookError(f"its JSON holds {containers} lists and objects, more than the {MAX_JSON_CONTAINERS} a notebook may")
    try:
        return json.loads(text)
    except (RecursionError, MemoryError) as error:
        raise NotebookError(f"its JSON could not be parsed ({type(error).__name__})") from None


def json_shape(text: str) -> tuple[int, int]:
    """The deepest nesting of lists and objects in the JSON `text`, and how many there are,
    counting only brackets outside strings (as a JSON parser reads them, up to its first error).

    Linear in the text, at C speed: strings are cut out with one regular expression (unrolled,
    so it never backtracks), the brackets left are counted and summed with numpy, a chunk at a time.
    """
    import numpy as np

    outside_strings = _JSON_STRING.sub("", text).encode("utf-8", "replace")
    level, deepest, containers = 0, 0, 0
    for start in range(0, len(outside_strings), _SCAN_CHUNK):  # in chunks: a 64 MiB file costs MiBs, not GiBs
        codes = np.frombuffer(outside_strings, dtype=np.uint8, count=min(_SCAN_CHUNK, len(outside_strings) - start), offset=start)
        opens = (codes == ord("[")) | (codes == ord("{"))
        closes = (codes == ord("]")) | (codes == ord("}"))
        levels = level + np.cumsum(opens.astype(np.int64) - closes)
        level, deepest, containers = int(levels[-1]), max(deepest, int(levels.max())), containers + int(opens.sum())
    return deepest, containers


def _not_a_notebook(text: str) -> str | None:
    """Why `text` cannot be a notebook, in a student's terms; None when it may be one."""
    if not text.strip():
        return "the file is empty"
    try:
        data = parse_json(text)
    except NotebookError as error:
        return str(error)
    except ValueError as error:
        if not text.lstrip().startswith(("{", "[")):
            return ("it is not JSON; it looks like Python source with an .ipynb name: submit it as a .py file"
                    if looks_like_python(text) else "it is not JSON")
        if text.lstrip().startswith("{") and not text.rstrip().endswith("}"):  # a notebook ends with its closing brace
            return f"the file ends too early (line {error.lineno}): it was cut short, perhaps by an upload or a full disk"
        line = getattr(error, "lineno", None)
        return f"it is not valid JSON (at line {line})" if line else "it is not valid JSON"
    if not isinstance(data, dict) or "nbformat" not in data or not isinstance(data.get("cells", data.get("worksheets")), list):
        return "it is JSON, but not a notebook (it has no nbformat version and list of cells)"
    return None


def looks_like_python(text: str) -> bool:
    """True when the first line of `text` that is not blank, a comment or a docstring opens a
    Python statement (an import, a def, a class, a decorator, an assignment, ...).

    Only advice hangs on it (the wording of why a non-JSON .ipynb scores 0), so a heuristic is
    enough, and it must be cheap and safe on anything: it looks at most at the first
    PYTHON_LINES_LOOKED_AT lines with one anchored regular expression each, and never compiles,
    tokenizes or runs the student's text in the grader (compile() of a million `-` signs raises
    MemoryError, of a long sum RecursionError).
    """
    for line in text.split("\n", PYTHON_LINES_LOOKED_AT)[:PYTHON_LINES_LOOKED_AT]:
        line = line.strip()[:200]
        if not line or line.startswith("#") or _DOCSTRING_LINE.match(line):
            continue
        return bool(_PYTHON_STATEMENT.match(line))
    return False


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:160]
