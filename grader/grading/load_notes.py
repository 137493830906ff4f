"""What a student reads about running their submission's top-level code: errors, stand-ins.

Shared by the grader's feedback and `grader check`, so the two say the same thing.
"""

from __future__ import annotations

from typing import Sequence

from grader.model import Cell, LoadReport
from grader.sandbox.available_modules import DISPLAY_MODULES


def load_notes(load: LoadReport, cells: Sequence[Cell]) -> list[str]:
    """Notes on the top-level run of `cells`: one per error, and one for unavailable imports."""
    notes = [describe_load_error(error, cells) for error in load.errors]
    if load.standins:
        notes.append(describe_standins(load.standins))
    return notes


SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")


def missing_reason(name: str, graded_file: str, load: LoadReport, cells: Sequence[Cell] = ()) -> str:
    """Why the function `name`, which the run of the submission did not define, cannot be called.

    Only a file that ran to its end "does not define" a function. A `.py` file with a syntax
    error did not load at all (its functions may well be written); one whose top-level code
    raised stopped there; a notebook cell that stopped early may have held the function. Each
    says so, naming where, and never that the function is not written.
    """
    if name in load.not_functions:
        return (f"{graded_file} binds {name} to a {load.not_functions[name]}, not a function: a later line or cell "
                f"assigns to that name (say `{name} = {name}(...)`); give the variable another name")
    for error in load.errors:
        place, line = _place(error, cells)
        if _in_notebook(error, cells):
            return f"{graded_file} does not define {name} in the code that ran ({place} stopped early: {_what_stopped(error)})"
        if error["type"] in SYNTAX_ERRORS:
            where = f"line {line}: " if line is not None else ""
            return f"the file did not load ({where}{_what_stopped(error)})"
        where = f" at line {line}" if line is not None else ""
        return f"{graded_file} stopped{where} ({_what_stopped(error)}) without defining {name}"
    return f"{graded_file} does not define {name}"


REASON_CHARS = 120  # of an exception's message quoted in a one-line reason


def _what_stopped(error: dict) -> str:
    """What stopped the top-level code, in a few words: "SyntaxError: expected ':'"."""
    if error["type"] == "CellTimeout":
        return "it ran past its time limit"
    message = " ".join(str(error["message"]).split())
    if len(message) > REASON_CHARS:
        message = message[: REASON_CHARS - 1] + "…"
    if error["type"] == "CellSkipped":
        return message
    return f"{error['type']}: {message}"


def _place(error: dict, cells: Sequence[Cell]) -> tuple[str, int | None]:
    """Where a load error happened, as its note names it ("hw1.ipynb cell 7, line 3"), and its line."""
    where = error["where"] or {}
    place = cells[error["cell"]].filename if cells else ""
    if where.get("line") is not None:
        place = f"{where['file']}, line {where['line']}"
    return place, where.get("line")


def _in_notebook(error: dict, cells: Sequence[Cell]) -> bool:
    """Whether the error stopped a cell of a notebook (the others still ran), not a .py file."""
    return bool(cells) and cells[error["cell"]].in_notebook


def describe_standins(modules: Sequence[str]) -> str:
    """The note for imports of modules that grading does not provide."""
    shown = ", ".join(modules)
    others = [name for name in modules if name not in DISPLAY_MODULES]
    text = (f"Not available when grading: {shown} (graded code has numpy and the standard library). "
            "Their imports were given stand-ins, so the cells importing them still ran")
    if others:
        return text + f"; a graded function that uses {', '.join(others)} fails with ImportError."
    return text + ", and plots and progress bars are ignored."


def describe_load_error(error: dict, cells: Sequence[Cell]) -> str:
    """One note for an exception raised by a cell's top-level code, naming the cell and line.

    `error` is a load error as `grader.sandbox.messages` checked it: its cell is one of `cells`.
    """
    place, _ = _place(error, cells)
    kind, message = error["type"], error["message"]
    if kind == "CellSkipped":
        advice = {"time": " Leave long computations out of what you submit.", "invalid_message": ""}.get(
            error.get("cause"), " Do not end the process (os._exit, os.kill) in what you submit.")
        return (f"{place}: this cell could not be run to its end ({message}), so the notebook was run again "
                f"without it: nothing defined in it was graded.{advice}")
    if kind == "CellTimeout":
        return (f"{place}: the code at the top level was stopped after running for its time limit. "
                "Keep experiments and training loops out of what you submit (or under "
                "`if __name__ == \"__main__\":`); functions defined before that point, and in later cells, were still graded.")
    if kind in SYNTAX_ERRORS:
        if _in_notebook(error, cells):
            return (f"{place}: {kind}: {message}. Python could not read that cell, so nothing defined in it "
                    "could be graded; the other cells still ran.")
        return f"{place}: {kind}: {message}. Python stopped reading the file there, so nothing in it could be graded."
    if _in_notebook(error, cells):
        return (f"{place}: {kind} was raised while running the code at the top level: {message}. "
                "That cell stopped there; functions defined before that point, and in the other cells, were still graded.")
    return (f"{place}: {kind} was raised while running the code at the top level: {message}. "
            "Functions defined before that point were still graded.")
