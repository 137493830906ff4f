"""The one serialisation across the trust boundary: length-prefixed frames of JSON and `.npy`.

A message is a JSON header frame followed by `header["arrays"]` frames, each one `.npy`
file written with `allow_pickle=False`. Every frame starts with its length as 8 big-endian
bytes. Reading checks the length before allocating, and an `.npy` frame is accepted only if
its header describes a plain numeric array (bool, int, uint or float; no fields, no objects)
whose size matches the frame exactly. Nothing is ever unpickled.

A JSON header is text in UTF-8 (non-ASCII characters are not escaped, so a submission's source
in any script crosses at its own size). Reading a header bounds it before Python sees it as
data: its size (`Limits.max_header_bytes`: 1 MiB for the worker's messages; the grader's
requests may carry the whole submission), its nesting (MAX_JSON_DEPTH) and its integers (at
most MAX_INT_DIGITS digits). Whatever breaks a bound is a WireError, never another exception.

Values (arguments and results) are JSON trees whose leaves point at the message's arrays:
    {"t": "array", "i": 0}                 an array (also a scalar returned by student code)
    {"t": "seq", "items": [...]}           a tuple or list: at most MAX_ITEMS items
    {"t": "dict", "items": [[key, ...]]}   a dict: at most MAX_KEYS keys, each a str of at most
                                           MAX_KEY_CHARS characters, none twice, in the dict's order
    {"t": "json", "v": ...}                a JSON scalar: str, int, float, bool or None
    {"t": "other", "type": "set"}          a returned object that is not numeric data
Containers (sequences and dicts) nest at most MAX_DEPTH deep, a call's list of arguments
included. Reading a tree checks every bound and raises WireError saying which was broken.
Packing a value that breaks one: a request from the grader (`strict`, an assignment's case)
is refused with WireError; an answer from student code becomes `other`, saying why, which
the grader reports as what it is, and a sequence that is too long or too deep is sent as the
array numpy makes of it, if it holds numbers.
"""

from __future__ import annotations

import array
import fcntl
import json
import os
import re
import select
import struct
import termios
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


_LENGTH = struct.Struct(">Q")
_ALLOWED_KINDS = "biuf"
MAX_HEADER_BYTES = 1 << 20  # a message from the worker
# A request from the trusted grader: the load request carries the submission's source, at most
# 5 MiB (grader.grading.submission.MAX_CODE_BYTES), which JSON may escape to 6 bytes a byte (`\u001f`).
MAX_REQUEST_HEADER_BYTES = 32 << 20
MAX_JSON_DEPTH = 32  # the deepest honest message (a call's arguments) nests about 10 levels
MAX_INT_DIGITS = 20  # pack() sends an int only below 2**53 (16 digits)
MAX_DEPTH = 4  # containers in containers: a call's arguments (1), a dict (2) of pairs (3) of tuples (4)
MAX_ITEMS = 64  # items of a tuple or list
MAX_KEYS = 64  # keys of a dict
MAX_KEY_CHARS = 100  # characters of a dict's key


class WireError(Exception):
    """A frame or message is malformed, too large, or not allowed."""


class WireClosed(WireError):
    """The other side closed the channel (a worker that died, or a parent that left)."""


class WireTimeout(WireError):
    """No complete message arrived before the deadline."""


@dataclass(frozen=True)
class Limits:
    """Caps on what one message may carry."""

    max_frame_bytes: int = 64 << 20
    max_elements: int = 4 << 20  # of one array
    max_arrays: int = 64  # as many as a tuple has items or a dict keys
    max_total_elements: int = 128 << 20  # of all its arrays together (1 GiB of float64)
    max_header_bytes: int = MAX_HEADER_BYTES
    check_depth: bool = True  # walk the header for its nesting; not needed for what the trusted grader sends


# --- frames -------------------------------------------------------------------------------

def room_to_write(fd: int) -> int | None:
    """How many bytes the pipe `fd` writes to holds besides those not read yet; None if unknown."""
    try:
        capacity = fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
        unread = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, unread)
    except (OSError, AttributeError):
        return None
    return max(0, capacity - unread[0])


def write_frames(fd: int, frames: list[bytes]) -> None:
    """Write `frames`, each prefixed by its length, to the file descriptor `fd`."""
    write_all(fd, joined_frames(frames))


def joined_frames(frames: list[bytes]) -> bytes:
    """`frames` as they go down the channel: each prefixed by its length."""
    return b"".join(_LENGTH.pack(len(frame)) + frame for frame in frames)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` (joined frames) to the file descriptor `fd`."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:
            raise WireClosed("the other side closed the channel") from None
        view = view[written:]


class FrameReader:
    """Reads frames from a file descriptor through a buffer: one read usually brings a whole message."""

    def __init__(self, fd: int):
        self.fd = fd
        self._buffer = bytearray()

    def _fill(self, size: int, deadline: float | None) -> None:
        while len(self._buffer) < size:
            if deadline is not None:
                # past the deadline, what already arrived is still read: the grader being late
                # (busy loading the checks on a loaded machine) is not the other side's fault
                timeout = max(0.0, deadline - time.monotonic())
                if not select.select([self.fd], [], [], timeout)[0]:
                    raise WireTimeout("no answer before the time limit")
            chunk = os.read(self.fd, max(1 << 16, min(size - len(self._buffer), 1 << 24)))
            if not chunk:
                raise WireClosed("the other side closed the channel")
            self._buffer += chunk

    def read_frame(self, deadline: float | None, max_bytes: int) -> bytes:
        self._fill(_LENGTH.size, deadline)
        (length,) = _LENGTH.unpack_from(self._buffer)
        if length > max_bytes:
            raise WireError(f"a frame of {length} bytes exceeds the limit of {max_bytes}")
        self._fill(_LENGTH.size + length, deadline)
        frame = bytes(self._buffer[_LENGTH.size : _LENGTH.size + length])
        del self._buffer[: _LENGTH.size + length]
        return frame


# --- .npy ---------------------------------------------------------------------------------
# Version 1.0 of the format: magic, a little-endian uint16 header length, then the header
# dict padded with spaces to a multiple of 64 bytes and ended by a newline. The header is
# parsed by a strict pattern, never evaluated.

_MAGIC = b"\x93NUMPY\x01\x00"
_HEADER = re.compile(
    r"\{'descr': '(?P<descr>[<>|=][biuf][1-8])', 'fortran_order': False, "
    r"'shape': \((?P<shape>(?:\d{1,12}, )*\d{1,12},?|)\), \} *\n"
)


def encode_array(array: np.ndarray) -> bytes:
    """An `.npy` (v1.0) file holding `array`, which must hold plain numeric data."""
    array = array if array.flags.c_contiguous else array.copy(order="C")
    if array.dtype.kind not in _ALLOWED_KINDS or array.dtype.fields is not None:
        raise WireError(f"array of dtype {array.dtype} is not numeric data")
    shape = repr(tuple(int(n) for n in array.shape))
    header = f"{{'descr': '{array.dtype.str}', 'fortran_order': False, 'shape': {shape}, }}"
    total = len(_MAGIC) + 2 + len(header) + 1
    header += " " * (-total % 64) + "\n"
    return _MAGIC + struct.pack("<H", len(header)) + header.encode("latin1") + array.tobytes()


def decode_array(frame: bytes, max_elements: int) -> np.ndarray:
    """A plain, owned ndarray from an `.npy` frame, or WireError if the frame is not allowed."""
    if len(frame) < 10 or frame[:8] != _MAGIC:
        raise WireError("not an .npy v1.0 array")
    header_length = int.from_bytes(frame[8:10], "little")
    import numpy as np  # here, not at the top: the grader starts its worker before it loads numpy

    header = frame[10 : 10 + header_length]
    known = _DECODED_HEADERS.get(header)
    if known is None:
        match = _HEADER.fullmatch(header.decode("latin1"))
        if not match:
            raise WireError("invalid .npy header")
        shape = tuple(int(n) for n in match["shape"].replace(",", " ").split())
        count = 1
        for n in shape:
            count *= n
        known = (np.dtype(match["descr"]), shape, count)
        if len(_DECODED_HEADERS) >= _DECODED_HEADERS_KEPT:
            _DECODED_HEADERS.clear()
        _DECODED_HEADERS[header] = known
    dtype, shape, count = known
    if len(shape) > 32 or count > max_elements:
        raise WireError(f"an array of shape {shape} exceeds the limit of {max_elements} elements")
    offset = 10 + header_length
    if len(frame) - offset != count * dtype.itemsize:
        raise WireError(f"array data is {len(frame) - offset} bytes, its header says {count * dtype.itemsize}")
    return np.frombuffer(frame, dtype=dtype, count=count, offset=offset).reshape(shape).copy()


# The headers decode_array has parsed, with what they say (dtype, shape, element count): most
# arrays a grading sends share a few shapes. At most _DECODED_HEADERS_KEPT, then it starts again.
_DECODED_HEADERS: dict[bytes, tuple] = {}
_DECODED_HEADERS_KEPT = 1024


# --- messages -----------------------------------------------------------------------------

def encode_message(header: dict, arrays: list[np.ndarray] = ()) -> list[bytes]:
    """The frames of a message: the JSON header (with the array count), then one `.npy` per array."""
    return [encode_header(dict(header, arrays=len(arrays)))] + [encode_array(a) for a in arrays]


def encode_header(body: dict) -> bytes:
    """`body` as JSON in UTF-8, non-ASCII characters as they are (1 to 4 bytes each, not 6 to 12).

    A string holding a lone surrogate (which UTF-8 cannot encode, say from a student's
    exception message) makes the whole header escape its non-ASCII characters instead.
    """
    text = json.dumps(body, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body).encode("ascii")


def decode_header(frame: bytes, check_depth: bool = True) -> dict:
    """The JSON object in a header frame, within the bounds on nesting (unless not `check_depth`)
    and integers, or WireError."""
    try:
        header = json.loads(frame.decode("utf-8"), parse_int=_bounded_int)
    except RecursionError:
        raise WireError(f"invalid message header: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as error:  # json.JSONDecodeError is a ValueError
        raise WireError(f"invalid message header: {str(error)[:200]}") from None
    if not isinstance(header, dict):
        raise WireError("a message header must be a JSON object")
    # a value nests no deeper than it has brackets: most headers need no walk
    if check_depth and frame.count(b"[") + frame.count(b"{") > MAX_JSON_DEPTH and _depth(header) > MAX_JSON_DEPTH:
        raise WireError(f"invalid message header: nested deeper than {MAX_JSON_DEPTH} levels")
    return header


def _bounded_int(text: str) -> int:
    """json's hook for an integer literal: refuses one too long to be a count, an index or a line."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise WireError(f"invalid message header: an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _depth(tree: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON tree (a scalar is 0), without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def send_message(fd: int, header: dict, arrays: list[np.ndarray] = ()) -> None:
    write_frames(fd, encode_message(header, arrays))


def receive_message(reader: FrameReader, deadline: float | None = None, limits: Limits = Limits()) -> tuple[dict, list[np.ndarray]]:
    """The next message from `reader`: its JSON header and its validated arrays."""
    header = decode_header(reader.read_frame(deadline, limits.max_header_bytes), limits.check_depth)
    count = header.get("arrays")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= limits.max_arrays:
        raise WireError(f"invalid array count {count!r}")
    arrays, total = [], 0
    for _ in range(count):
        array = decode_array(reader.read_frame(deadline, limits.max_frame_bytes), limits.max_elements)
        total += array.size
        if total > limits.max_total_elements:
            raise WireError(f"the arrays of a message exceed the limit of {limits.max_total_elements} elements together")
        arrays.append(array)
    return header, arrays


# --- values -------------------------------------------------------------------------------

def pack(value: Any, arrays: list[np.ndarray], depth: int = 0, *, strict: bool = False) -> dict:
    """A JSON tree for `value`, appending its arrays to `arrays`.

    Tuples and lists become sequences, dicts with str keys dicts (within the bounds of the
    module's docstring); str, bool and None stay JSON; anything else is converted with
    np.asarray and sent as an array if it holds numeric data. With `strict` (what the grader
    sends), a value that cannot cross as it is raises WireError instead of becoming `other`.
    """
    if isinstance(value, (tuple, list)):
        problem = _container_problem(value, depth)
        if problem is None:
            return {"t": "seq", "items": [pack(item, arrays, depth + 1, strict=strict) for item in value]}
        if strict:
            raise WireError(f"{_type_name(value)}: {problem}")
    if isinstance(value, dict):
        problem = _container_problem(value, depth)
        if problem is None:
            return {"t": "dict", "items": [[str.__str__(key), pack(item, arrays, depth + 1, strict=strict)]
                                           for key, item in value.items()]}
        if strict:
            raise WireError(f"{_type_name(value)}: {problem}")
        return {"t": "other", "type": f"{_type_name(value)} that cannot cross ({problem})"}
    if value is None or isinstance(value, (str, bool)):
        return {"t": "json", "v": value if type(value) in (str, bool, type(None)) else _plain(value)}
    if type(value) in (int, float):
        return {"t": "json", "v": value if abs(value) < 2**53 or isinstance(value, float) else float(value)}
    import numpy as np

    try:
        array = np.asarray(value)
    except Exception:  # a student's object may raise anything from __array__
        array = None
    if array is None or array.dtype.kind not in _ALLOWED_KINDS or array.dtype.fields is not None:
        kind = _type_name(value) if array is None else f"{_type_name(value)} of dtype {array.dtype}"
        if strict:
            raise WireError(f"{kind} is not numeric data")
        return {"t": "other", "type": kind}
    arrays.append(array)
    return {"t": "array", "i": len(arrays) - 1}


def _container_problem(value: tuple | list | dict, depth: int) -> str | None:
    """Why the tuple, list or dict `value`, at `depth`, cannot cross as it is; None if it can."""
    if depth >= MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        if len(value) > MAX_KEYS:
            return f"{len(value)} keys, over the limit of {MAX_KEYS}"
        for key in value:
            if not isinstance(key, str):
                return f"a key of type {_type_name(key)}, not str"
            if len(key) > MAX_KEY_CHARS:
                return f"a key of {len(key)} characters, over the limit of {MAX_KEY_CHARS}"
        return None
    if len(value) > MAX_ITEMS:
        return f"{len(value)} items, over the limit of {MAX_ITEMS}"
    return None


def unpack(tree: Any, arrays: list[np.ndarray], depth: int = 0) -> Any:
    """The value a JSON tree describes; sequences come back as tuples, dicts as dicts, `other`
    as Opaque. Any bound broken (see the module's docstring) is a WireError saying which."""
    if not isinstance(tree, dict):
        raise WireError("invalid value tree")
    kind = tree.get("t")
    if kind == "array":
        index = tree.get("i")
        if not _is_index(index, len(arrays)):
            raise WireError("value refers to a missing array")
        return arrays[index]
    if kind in ("seq", "dict") and depth >= MAX_DEPTH:
        raise WireError(f"a value nested deeper than {MAX_DEPTH} levels")
    if kind == "seq":
        items = tree.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise WireError(f"a sequence that is not a list of at most {MAX_ITEMS} items")
        return tuple(unpack(item, arrays, depth + 1) for item in items)
    if kind == "dict":
        return _unpack_dict(tree.get("items"), arrays, depth)
    if kind == "json":
        value = tree.get("v")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise WireError("invalid JSON leaf")
        return value
    if kind == "other":
        type_name = tree.get("type", "object")
        if not isinstance(type_name, str):
            raise WireError("invalid type name of a returned object")
        return Opaque(type_name[:100])
    raise WireError(f"unknown value kind {str(kind)[:40]!r}")


def _unpack_dict(items: Any, arrays: list[np.ndarray], depth: int) -> dict:
    """The dict of a "dict" tree's `items`, each a [key, value tree] pair, within the bounds."""
    if not isinstance(items, list) or len(items) > MAX_KEYS:
        raise WireError(f"a dict that is not a list of at most {MAX_KEYS} items")
    result = {}
    for item in items:
        if not isinstance(item, list) or len(item) != 2:
            raise WireError("a dict item that is not a [key, value] pair")
        key, value = item
        if not isinstance(key, str):
            raise WireError(f"a dict key that is not a string ({_type_name(key)})")
        if len(key) > MAX_KEY_CHARS:
            raise WireError(f"a dict key of {len(key)} characters, over the limit of {MAX_KEY_CHARS}")
        if key in result:
            raise WireError(f"a dict with the key {key[:40]!r} twice")
        result[key] = unpack(value, arrays, depth + 1)
    return result


def _is_index(value: Any, size: int) -> bool:
    """True if `value` is an int (not a bool) in [0, size)."""
    return type(value) is int and 0 <= value < size


@dataclass(frozen=True)
class Opaque:
    """A returned object that could not cross the boundary as numeric data."""

    type_name: str


def _plain(value: Any) -> Any:
    """A str or bool subclass instance as the plain builtin value."""
    return str.__str__(value) if isinstance(value, str) else bool(value)


def _type_name(value: Any) -> str:
    try:
        return type(value).__name__[:60]
    except Exception:
        return "object"
