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
from grader.sandbox import Cell

MAX_SUBMISSION_BYTES = 5 << 20


@dataclass(frozen=True)
class Submission:
    """What will run in the worker (`cells`), with notes for the feedback and, when nothing can run, the reason."""

    label: str
    graded_file: str | None
    cells: tuple[Cell, ...]
    notes: tuple[str, ...] = ()
    problem: str | None = None


def load_submission(path: Path, module: str) -> Submission:
    """Read the submission at `path` for an assignment whose module is called `module`.

    Raises:
        UsageError: `path` does not exist.
    """
    if not path.exists():
        raise UsageError(f"submission {path} does not exist")
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
        if size > MAX_SUBMISSION_BYTES:
            return Submission(label, path.name, (), tuple(notes), f"{path.name} is {size} bytes, over the limit of {MAX_SUBMISSION_BYTES}")
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
    else:
        if not text.strip():
            notes.append(f"{path.name} is empty.")
        cells = (Cell(text, path.name),)
    return Submission(label, path.name, cells, tuple(notes))
