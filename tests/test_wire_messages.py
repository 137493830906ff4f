"""The worker's messages are checked at the boundary: bounded JSON, then a typed parse of each
kind. Anything an honest worker would not send is a WireError, never another exception."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from grader.sandbox import messages, wire
from grader.sandbox.limits import MAX_CELLS
from grader.grading.submission import MAX_CODE_BYTES

FILES = ["hw1.ipynb cell 2", "hw1.ipynb cell 4"]
EXPECTED = ["softmax", "qkv"]


def decode(text: str | bytes) -> dict:
    return wire.decode_header(text.encode("utf-8") if isinstance(text, str) else text)


# --- bounded JSON -------------------------------------------------------------------------

@pytest.mark.parametrize("frame, reason", [
    (b'{"v": ' + b"9" * 5000 + b"}", "an integer of 5000 digits"),  # json.loads alone: ValueError
    (b'{"v": -' + b"9" * 21 + b"}", "an integer of 21 digits"),
    (b'{"v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested deeper than 32 levels"),  # alone: RecursionError
    (b'{"v": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper than 32 levels"),
    (b'{"v": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}", "nested deeper than 32 levels"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"v": "\xff"}', "invalid message header"),
    (b'{"v": ', "invalid message header"),
])
def test_malformed_headers_are_wire_errors(frame, reason):
    with pytest.raises(wire.WireError, match=reason):
        wire.decode_header(frame)


def test_headers_within_the_bounds_decode_non_finite_numbers_included():
    header = decode('{"v": [[[1, -2.5e300, NaN, Infinity]]], "n": ' + "9" * 20 + "}")
    assert header["n"] == int("9" * 20) and header["v"][0][0][:2] == [1, -2.5e300]
    assert math.isnan(header["v"][0][0][2]) and header["v"][0][0][3] == math.inf


def test_the_header_size_limit_is_checked_before_reading(tmp_path):
    read_fd, write_fd = os.pipe()
    try:
        wire.send_message(write_fd, {"text": "é" * 1000})
        reader = wire.FrameReader(read_fd)
        with pytest.raises(wire.WireError, match="exceeds the limit of 1000"):
            wire.receive_message(reader, limits=wire.Limits(max_header_bytes=1000))
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_non_ascii_crosses_unescaped_and_unchanged():
    text = "é 注意力 🧠 " * 100
    frame = wire.encode_header({"source": text})
    assert len(frame) < len(text.encode("utf-8")) + 50  # escaped, it would be about 3 times larger
    assert wire.decode_header(frame)["source"] == text


def test_a_lone_surrogate_falls_back_to_escaping():
    text = "bad \ud800 é"  # a student's exception message may hold one; UTF-8 cannot encode it
    assert wire.decode_header(wire.encode_header({"message": text}))["message"] == text


def test_the_largest_load_request_fits_the_request_limit():
    """Worst case: all the code is control characters, which JSON escapes to 6 bytes each."""
    per_cell = MAX_CODE_BYTES // MAX_CELLS
    cells = [{"source": "\x1f" * per_cell, "filename": "n" * 255 + f" cell {i}"} for i in range(MAX_CELLS)]
    header = {"op": "load", "module": "hw1", "expected": EXPECTED * 100, "cells": cells}
    assert len(wire.encode_header(header)) <= wire.MAX_REQUEST_HEADER_BYTES


def test_array_references_must_be_plain_ints():
    with pytest.raises(wire.WireError, match="missing array"):
        wire.unpack({"t": "array", "i": True}, [np.zeros(1), np.ones(1)])


# --- typed parse of the load --------------------------------------------------------------

def loaded(**changes) -> dict:
    header = {"op": "loaded", "arrays": 0, "defined": ["softmax", "helper"], "standins": ["matplotlib"],
              "not_functions": {"qkv": "ndarray"},
              "errors": [{"type": "ValueError", "message": "形状 🙃", "cell": 1, "where": {"file": FILES[1], "line": 3}}]}
    header.update(changes)
    return header


def error(**changes) -> dict:
    record = {"type": "ValueError", "message": "m", "cell": 0, "where": None}
    record.update(changes)
    return record


def test_an_honest_load_report_parses_as_it_was_sent():
    report = messages.parse_loaded(loaded(), FILES, EXPECTED)
    assert report.errors == [{"type": "ValueError", "message": "形状 🙃", "cell": 1, "where": {"file": FILES[1], "line": 3}}]
    assert report.defined == ["softmax", "helper"] and report.standins == ["matplotlib"]
    assert report.not_functions == {"qkv": "ndarray"} and report.failure is None


@pytest.mark.parametrize("header", [
    loaded(op="ready"), {"op": "loaded"},
    loaded(errors={"0": error()}), loaded(errors=["ValueError"]), loaded(errors=[error()] * 3),
    loaded(errors=[error(cell=10**6)]), loaded(errors=[error(cell=-1)]), loaded(errors=[error(cell=True)]),
    loaded(errors=[error(cell="0")]), loaded(errors=[error(cell=0.0)]), loaded(errors=[error(cell=2)]),
    loaded(errors=[error(cell=1), error(cell=0)]),
    loaded(errors=[error(type={"a": 1})]), loaded(errors=[error(message=["m"])]), loaded(errors=[error(message="m" * 501)]),
    loaded(errors=[error(where={"file": FILES[0], "line": "7"})]), loaded(errors=[error(where={"file": FILES[0], "line": True})]),
    loaded(errors=[error(where={"file": FILES[0], "line": -1})]), loaded(errors=[error(where={"file": FILES[0], "line": 2**40})]),
    loaded(errors=[error(where={"file": "/etc/passwd", "line": 1})]), loaded(errors=[error(where={"file": ["x"], "line": 1})]),
    loaded(errors=[error(where=[FILES[0], 1])]),
    loaded(defined="softmax"), loaded(defined=[f"f{i}" for i in range(10**6)]), loaded(defined=[1]), loaded(defined=["f" * 201]),
    loaded(standins=[{"name": "x"}]), loaded(not_functions={"secret": "int"}), loaded(not_functions={"qkv": {"t": 1}}),
    loaded(not_functions=[]),
])
def test_a_malformed_load_report_is_a_wire_error(header):
    with pytest.raises(wire.WireError):
        messages.parse_loaded(json.loads(json.dumps(header)), FILES, EXPECTED)


@pytest.mark.parametrize("index, due, count", [(1, 0, 3), (True, 1, 3), (3, 3, 3), ("1", 1, 3), (-1, 0, 3), (None, 0, 3)])
def test_cells_must_be_announced_in_order(index, due, count):
    with pytest.raises(wire.WireError):
        messages.parse_cell({"op": "cell", "index": index}, due, count)
    assert messages.parse_cell({"op": "cell", "index": due}, due, due + 1) == due


@pytest.mark.parametrize("header", [{"op": "ready", "layers": "bwrap"}, {"op": "ready", "layers": [1]}, {"op": "cell"}])
def test_a_malformed_ready_message_is_a_wire_error(header):
    with pytest.raises(wire.WireError):
        messages.parse_ready(header)


# --- typed parse of the answers -----------------------------------------------------------

def test_honest_answers_parse_as_they_were_sent():
    ok = messages.parse_answer({"status": "ok", "value": {"t": "array", "i": 0}}, [np.arange(3.0)], FILES)
    np.testing.assert_array_equal(ok.value, [0.0, 1.0, 2.0])
    raised = messages.parse_answer({"status": "raised", "type": "ValueError", "message": "形状不对 🙃",
                                    "where": {"file": FILES[0], "line": None}}, [], FILES)
    assert (raised.type_name, raised.message, raised.where) == ("ValueError", "形状不对 🙃", {"file": FILES[0], "line": None})
    assert messages.parse_answer({"status": "missing"}, [], FILES).status == "missing"
    assert messages.parse_answer({"status": "unserialisable", "type": "TypeError"}, [], FILES).type_name == "TypeError"
    grads = messages.parse_answer({"status": "ok", "value": {"t": "dict", "items": [
        ["dW_h", {"t": "array", "i": 0}], ["pair", {"t": "seq", "items": [{"t": "array", "i": 1}, {"t": "json", "v": 2}]}]]}},
        [np.ones(2), np.zeros(1)], FILES)
    assert list(grads.value) == ["dW_h", "pair"] and grads.value["pair"][1] == 2
    np.testing.assert_array_equal(grads.value["dW_h"], [1.0, 1.0])


@pytest.mark.parametrize("header", [
    {}, {"status": "done"}, {"status": ["ok"]}, {"status": "ok"}, {"status": "ok", "value": {"t": "array", "i": True}},
    {"status": "ok", "value": {"t": "other", "type": {"a": 1}}}, {"status": "ok", "value": {"t": "json", "v": {"a": 1}}},
    {"status": "raised", "type": {"a": 1}, "message": "m", "where": None},
    {"status": "raised", "type": "E", "message": ["m"], "where": None},
    {"status": "raised", "type": "E", "message": "m", "where": {"file": FILES[0], "line": "7"}},
    {"status": "raised", "type": "E", "message": "m", "where": "hw1.py"},
    {"status": "raised", "type": "E" * 81, "message": "m", "where": None},
    {"status": "unserialisable", "type": 3},
    {"status": "ok", "value": {"t": "dict", "items": [[3, {"t": "array", "i": 0}]]}},
    {"status": "ok", "value": {"t": "dict", "items": [["k" * 101, {"t": "array", "i": 0}]]}},
    {"status": "ok", "value": {"t": "dict", "items": [[str(i), {"t": "array", "i": 0}] for i in range(65)]}},
    {"status": "ok", "value": {"t": "dict", "items": [["a", {"t": "array", "i": 0}], ["a", {"t": "array", "i": 0}]]}},
    {"status": "ok", "value": {"t": "dict", "items": [["a", {"t": "array", "i": 1}]]}},
    {"status": "ok", "value": {"t": "dict", "items": [["a", {"t": "dict", "items": [["b", {"t": "seq", "items": [
        {"t": "seq", "items": [{"t": "seq", "items": []}]}]}]]}]]}},
])
def test_a_malformed_answer_is_a_wire_error(header):
    with pytest.raises(wire.WireError):
        messages.parse_answer(header, [np.zeros(1)], FILES)
