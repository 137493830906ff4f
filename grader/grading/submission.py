"""Read a submission: a .py file, an .ipynb file, or a folder holding one of them (which file
of a folder is graded: grader.grading.submission_finding).

A submission that cannot be graded becomes data with a reason (`problem`), not an exception:
it still gets a score (0) and feedback that says why. Only a path that does not exist at all
is a usage error. The file is read through grader.grading.safe_read: never through a symbolic link
(the submission itself or the file in its folder), never from a special file, and never more
than the size limit + 1 bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.grading.notebook import NotebookError, looks_like_notebook, read_notebook_cells
from grader.grading.safe_read import FileRead, kind_of, link_reason, link_target_kind, open_folder, read_regular_file
from grader.grading.submission_finding import Found, find_in_folder
from grader.model import Cell
from grader.sandbox.limits import MAX_CELLS

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


@dataclass(frozen=True)
class SubmissionBytes:
    """What grading reads from a submission: the graded file's bytes (at most the limit + 1), or why none."""

    label: str
    graded_file: str | None
    data: bytes = b""
    size: int = 0
    notes: tuple[str, ...] = ()
    problem: str | None = None


def read_submission_bytes(path: Path, module: str, must_exist: bool = True) -> SubmissionBytes:
    """The bytes of the file to grade at `path`: the file itself, or the file of a folder that
    grader.grading.submission_finding chooses, read without following a link (see
    grader.grading.safe_read).

    A link (the submission itself, or the file in its folder), a special file, a folder with
    nothing to grade, a file over the limit: a SubmissionBytes with its `problem`.

    Raises:
        UsageError: nothing is at `path`, and `must_exist` (a batch passes False: an entry that
            vanished from a class folder is that student's broken submission).
    """
    label = path.name
    kind = kind_of(path)
    if kind is None:
        if must_exist:
            raise UsageError(f"submission {path} does not exist")
        return SubmissionBytes(label, None, problem=f"{label} is gone (removed while grading?)")
    if kind == "link":
        return SubmissionBytes(label, None, problem=link_reason(label, link_target_kind(path)))
    if kind != "folder":
        return _checked(label, read_regular_file(path, MAX_NOTEBOOK_BYTES), ())
    folder = open_folder(path)
    if isinstance(folder, str):
        return SubmissionBytes(label, None, problem=folder)
    try:
        found = find_in_folder(folder, module)
        if found.problem:
            return SubmissionBytes(label, None, notes=found.notes, problem=found.problem)
        return _checked(label, _read_inside(folder, found), found.notes)
    finally:
        os.close(folder)


def _read_inside(folder: int, found: Found) -> FileRead:
    """Read the file `found` in the open `folder`, entering its sub-folder (if any) without following a link."""
    *subfolders, file = found.parts
    if not subfolders:
        return read_regular_file(file, MAX_NOTEBOOK_BYTES, dir_fd=folder)
    inner = open_folder(subfolders[0], dir_fd=folder)
    if isinstance(inner, str):
        return FileRead(found.name, problem=inner)
    try:
        return read_regular_file(file, MAX_NOTEBOOK_BYTES, dir_fd=inner, name=found.name)
    finally:
        os.close(inner)


def _checked(label: str, read: FileRead, notes: tuple[str, ...]) -> SubmissionBytes:
    """`read` as a SubmissionBytes, with a problem when it is over the size limit."""
    if read.problem:
        return SubmissionBytes(label, read.name, notes=notes, problem=read.problem)
    if read.size > MAX_NOTEBOOK_BYTES:
        advice = (": clear its outputs (Edit > Clear Outputs of All Cells), save, and submit it again"
                  if read.name.endswith(".ipynb") else "")
        return SubmissionBytes(label, read.name, notes=notes,
                               problem=f"{read.name} is {_mib(read.size)}, over the limit of {_mib(MAX_NOTEBOOK_BYTES)}{advice}")
    return SubmissionBytes(label, read.name, read.data, read.size, notes)


def load_submission(path: Path, module: str, must_exist: bool = True) -> Submission:
    """Read the submission at `path` for an assignment whose module is called `module`.

    Raises:
        UsageError: `path` does not exist, and `must_exist` (a batch passes False: a broken
            link in a class folder is that student's broken submission).
    """
    read = read_submission_bytes(path, module, must_exist)
    label, name, notes = read.label, read.graded_file, list(read.notes)
    if read.problem:
        return Submission(label, name, (), tuple(notes), read.problem)
    raw = read.data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Submission(label, name, (), tuple(notes), f"{name} is not UTF-8 text (is it a binary file?)")
    if "\x00" in text:
        return Submission(label, name, (), tuple(notes), f"{name} contains NUL bytes (is it a binary file?)")
    as_notebook = name.endswith(".ipynb")
    if not as_notebook and looks_like_notebook(text):
        as_notebook = True
        notes.append(f"{name} holds a Jupyter notebook, not Python source: it was graded as a notebook.")
    if as_notebook:
        try:
            cells = tuple(read_notebook_cells(text, name))
        except NotebookError as error:
            return Submission(label, name, (), tuple(notes), str(error))
        if len(cells) - 1 > MAX_CELLS:  # the first cell is the grader's prelude
            return Submission(label, name, (), tuple(notes), f"{name} has {len(cells) - 1} code cells, over the limit "
                              f"of {MAX_CELLS}: merge or delete cells (scratch work), save, and submit it again")
        code_bytes = sum(len(cell.source.encode("utf-8")) for cell in cells)
        if code_bytes > MAX_CODE_BYTES:
            return Submission(label, name, (), tuple(notes),
                              f"the code cells of {name} hold {_mib(code_bytes)} of code, over the limit of {_mib(MAX_CODE_BYTES)}")
    elif len(raw) > MAX_CODE_BYTES:
        return Submission(label, name, (), tuple(notes), f"{name} is {_mib(len(raw))}, over the limit of {_mib(MAX_CODE_BYTES)} for Python source")
    else:
        if not text.strip():
            notes.append(f"{name} is empty.")
        cells = (Cell(text, name),)
    return Submission(label, name, cells, tuple(notes))


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"
