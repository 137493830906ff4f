"""Find and read a submission: a .py file, an .ipynb file, or a folder holding one of them.

A submission that cannot be graded becomes data with a reason (`problem`), not an exception:
it still gets a score (0) and feedback that says why. Only a path that does not exist at all
is a usage error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.notebook import NotebookError, looks_like_notebook, read_notebook_cells
from grader.sandbox import MAX_CELLS, Cell

MAX_CODE_BYTES = 5 << 20  # Python source: a .py file, or all of a notebook's code cells
MAX_NOTEBOOK_BYTES = 64 << 20  # a notebook's file, saved outputs (plots) included


@dataclass(frozen=True)
class Submission:
    """What will run in the worker (`cells`), with notes for the feedback and, when nothing can run, the reason."""

    label: str
    graded_file: str | None
    cells: tuple[Cell, ...]
    notes: tuple[str, ...] = ()
    problem: str | None = None


def load_submission(path: Path, module: str, must_exist: bool = True) -> Submission:
    """Read the submission at `path` for an assignment whose module is called `module`.

    Raises:
        UsageError: `path` does not exist, and `must_exist` (a batch passes False: a broken
            link in a class folder is that student's broken submission).
    """
    if not path.exists():
        if must_exist:
            raise UsageError(f"submission {path} does not exist")
        what = "a link to nothing" if path.is_symlink() else "gone (removed while grading?)"
        return Submission(path.name, None, (), (), f"{path.name} is {what}")
    notes: list[str] = []
    label = path.name
    if path.is_dir():
        python, notebook = path / f"{module}.py", path / f"{module}.ipynb"
        if python.is_file():
            if notebook.is_file():
                notes.append(f"{notebook.name} was ignored: the folder also holds {python.name}, which was graded.")
            path = python
        elif notebook.is_file():
            path = notebook
        else:
            return Submission(label, None, (), (), f"the folder holds neither {module}.py nor {module}.ipynb")
    if not path.is_file():
        return Submission(label, None, (), (), f"{path.name} is not a regular file")
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return Submission(label, path.name, (), tuple(notes), f"{path.name} is {_mib(size)}, over the limit of {_mib(MAX_NOTEBOOK_BYTES)}"
                              + (": clear its outputs (Edit > Clear Outputs of All Cells), save, and submit it again" if path.suffix == ".ipynb" else ""))
        raw = path.read_bytes()
    except OSError as error:
        return Submission(label, path.name, (), tuple(notes), f"{path.name} cannot be read ({error.strerror})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Submission(label, path.name, (), tuple(notes), f"{path.name} is not UTF-8 text (is it a binary file?)")
    if "\x00" in text:
        return Submission(label, path.name, (), tuple(notes), f"{path.name} contains NUL bytes (is it a binary file?)")
    as_notebook = path.suffix == ".ipynb"
    if not as_notebook and looks_like_notebook(text):
        as_notebook = True
        notes.append(f"{path.name} holds a Jupyter notebook, not Python source: it was graded as a notebook.")
    if as_notebook:
        try:
            cells = tuple(read_notebook_cells(text, path.name))
        except NotebookError as error:
            return Submission(label, path.name, (), tuple(notes), str(error))
        if len(cells) - 1 > MAX_CELLS:  # the first cell is the grader's prelude
            return Submission(label, path.name, (), tuple(notes), f"{path.name} has {len(cells) - 1} code cells, over the limit "
                              f"of {MAX_CELLS}: merge or delete cells (scratch work), save, and submit it again")
        code_bytes = sum(len(cell.source.encode("utf-8")) for cell in cells)
        if code_bytes > MAX_CODE_BYTES:
            return Submission(label, path.name, (), tuple(notes),
                              f"the code cells of {path.name} hold {_mib(code_bytes)} of code, over the limit of {_mib(MAX_CODE_BYTES)}")
    elif len(raw) > MAX_CODE_BYTES:
        return Submission(label, path.name, (), tuple(notes), f"{path.name} is {_mib(len(raw))}, over the limit of {_mib(MAX_CODE_BYTES)} for Python source")
    else:
        if not text.strip():
            notes.append(f"{path.name} is empty.")
        cells = (Cell(text, path.name),)
    return Submission(label, path.name, cells, tuple(notes))


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"
