"""What the worker may say, parsed into typed records: anything else is a WireError.

The worker runs the student's code, and that code can find the answer channel and write frames
of its own, so nothing the worker sends is trusted. `grader.sandbox.wire` reads a message within its
bounds (size, nesting, integers); the one parser per kind of message here checks every field's
type and range and returns a record the rest of the grader can use as it is, or raises
WireError saying what was wrong. The sandbox turns that into the student's failure: a load
that fails, or a check that fails.

    ready      {"op": "ready", "layers": [str]}
    cell       {"op": "cell", "index": int}            cells are announced in order: 0, 1, 2 ...
    loaded     {"op": "loaded", "errors": [error], "defined": [str], "standins": [str],
                "not_functions": {expected name: type name}}
    error      {"type": str, "message": str, "cell": int, "where": place}    at most one per cell, in order
    place      null, or {"file": one of the cells' file names, "line": int or null}
    answers    {"status": "ok", "value": value tree}   (see grader.sandbox.wire)
               {"status": "raised", "type": str, "message": str, "where": place}
               {"status": "missing"}
               {"status": "unserialisable", "type": str}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Collection, Sequence

if TYPE_CHECKING:
    import numpy as np


from grader.model import LoadReport
from grader.sandbox.wire import WireError, unpack

TYPE_CHARS = 80  # an exception's or an object's type name (the worker cuts them to this)
MESSAGE_CHARS = 500  # an exception's message
NAME_CHARS = 200  # a name the module defines, a sandbox layer, a stand-in module
MAX_DEFINED = 500
MAX_STANDINS = 50
MAX_LAYERS = 16
MAX_LINE = 1 << 31


@dataclass(frozen=True)
class Answer:
    """The worker's answer to one call."""

    status: str  # "ok", "raised", "missing" or "unserialisable"
    value: Any = None  # "ok": plain ndarrays, Python scalars, tuples, dicts with str keys, or wire.Opaque
    type_name: str = ""  # "raised": the exception's type; "unserialisable": the error's
    message: str = ""  # "raised"
    where: dict | None = None  # "raised": {"file", "line"} in the student's code, when known


# --- load -------------------------------------------------------------------------------

def parse_ready(header: dict) -> list[str]:
    """The sandbox layers the worker applied, from its "ready" message."""
    _expect_op(header, "ready")
    return _strings(header, "layers", MAX_LAYERS, NAME_CHARS)


def parse_cell(header: dict, expected_index: int, cell_count: int) -> int:
    """The index of the cell the worker started, from a "cell" message: the next one in order."""
    index = header.get("index")
    if type(index) is not int or index != expected_index or index >= cell_count:
        raise WireError(f"cell {_show(index)} announced where cell {expected_index} of {cell_count} was due")
    return index


def parse_loaded(header: dict, filenames: Sequence[str], expected: Collection[str]) -> LoadReport:
    """The load report of a submission whose cells are named `filenames` (in order), from "loaded"."""
    _expect_op(header, "loaded")
    errors = _field(header, "errors", list)
    if len(errors) > len(filenames):
        raise WireError(f"{len(errors)} errors reported for {len(filenames)} cells")
    parsed, previous = [], -1
    for error in errors:
        record = _load_error(error, filenames)
        if record["cell"] <= previous:
            raise WireError("load errors out of the order of the cells")
        previous = record["cell"]
        parsed.append(record)
    not_functions = _field(header, "not_functions", dict)
    if any(name not in expected or not _is_text(kind, TYPE_CHARS) for name, kind in not_functions.items()):
        raise WireError("invalid not_functions in the load report")
    return LoadReport(errors=parsed, defined=_strings(header, "defined", MAX_DEFINED, NAME_CHARS),
                      standins=_strings(header, "standins", MAX_STANDINS, NAME_CHARS), not_functions=dict(not_functions))


def _load_error(error: Any, filenames: Sequence[str]) -> dict:
    if not isinstance(error, dict):
        raise WireError("a load error that is not an object")
    cell = error.get("cell")
    if type(cell) is not int or not 0 <= cell < len(filenames):
        raise WireError(f"a load error in cell {_show(cell)}, not one of the {len(filenames)} cells")
    return {"type": _text(error, "type", TYPE_CHARS), "message": _text(error, "message", MESSAGE_CHARS),
            "cell": cell, "where": _place(error.get("where"), filenames)}


# --- answers ----------------------------------------------------------------------------

def parse_answer(header: dict, arrays: list[np.ndarray], filenames: Collection[str]) -> Answer:
    """The worker's answer to one call, its value unpacked from `arrays`."""
    status = header.get("status")
    if status == "ok":
        if "value" not in header:
            raise WireError("an answer without its value")
        return Answer("ok", value=unpack(header["value"], arrays))
    if status == "raised":
        return Answer("raised", type_name=_text(header, "type", TYPE_CHARS), message=_text(header, "message", MESSAGE_CHARS),
                      where=_place(header.get("where"), filenames))
    if status == "missing":
        return Answer("missing")
    if status == "unserialisable":
        return Answer("unserialisable", type_name=_text(header, "type", TYPE_CHARS))
    raise WireError(f"an answer of unknown status {_show(status)}")


# --- fields -----------------------------------------------------------------------------

def _expect_op(header: dict, op: str) -> None:
    if header.get("op") != op:
        raise WireError(f"{_show(header.get('op'))} where {op!r} was due")


def _field(header: dict, key: str, kind: type) -> Any:
    value = header.get(key)
    if not isinstance(value, kind):
        raise WireError(f"{key} is not a JSON {'array' if kind is list else 'object'}")
    return value


def _text(header: dict, key: str, max_chars: int) -> str:
    value = header.get(key)
    if not _is_text(value, max_chars):
        raise WireError(f"{key} is not a string of at most {max_chars} characters")
    return value


def _strings(header: dict, key: str, max_items: int, max_chars: int) -> list[str]:
    values = _field(header, key, list)
    if len(values) > max_items or not all(_is_text(value, max_chars) for value in values):
        raise WireError(f"{key} is not a list of at most {max_items} strings of at most {max_chars} characters")
    return list(values)


def _place(where: Any, filenames: Collection[str]) -> dict | None:
    """None, or {"file": one of `filenames`, "line": None or a line number}."""
    if where is None:
        return None
    if not isinstance(where, dict) or not isinstance(where.get("file"), str) or where["file"] not in filenames:
        raise WireError("a place that is not in one of the submission's files")
    line = where.get("line")
    if line is not None and (type(line) is not int or not 0 <= line < MAX_LINE):
        raise WireError(f"line {_show(line)} is not a line number")
    return {"file": where["file"], "line": line}


def _is_text(value: Any, max_chars: int) -> bool:
    return isinstance(value, str) and len(value) <= max_chars


def _show(value: Any) -> str:
    """A short, safe rendering of a value that failed a check, for the reason."""
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    return repr(value)[:40]
