"""The trust boundary's serialisation: only plain numeric arrays cross, and only within limits."""

from __future__ import annotations

import io
import json
import os
import struct

import numpy as np
import pytest

from grader.sandbox import wire


@pytest.mark.parametrize("array", [
    np.zeros(()), np.arange(5.0), np.ones((2, 3)), np.ones((2, 0, 3), dtype=bool),
    np.arange(6, dtype=np.int32).reshape(3, 2).T, np.float32(3.5), np.arange(24.0).reshape(2, 3, 4)[:, ::2],
])
def test_arrays_round_trip_and_numpy_reads_them(array):
    array = np.asarray(array)
    frame = wire.encode_array(array)
    decoded = wire.decode_array(frame, 1000)
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)
    assert decoded.flags.owndata and decoded.flags.writeable
    np.testing.assert_array_equal(np.load(io.BytesIO(frame), allow_pickle=False), array)


def npy_frame(header: str, data: bytes = b"") -> bytes:
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + data


@pytest.mark.parametrize("frame, reason", [
    (npy_frame("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8), "invalid .npy header"),
    (npy_frame("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", b"\0" * 8), "invalid .npy header"),
    (npy_frame("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }"), "exceeds the limit"),
    (npy_frame("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", b"\0" * 8), "header says 24"),
    (npy_frame("{'descr': '<f8', 'fortran_order': False, 'shape': (__import__('os').getpid(),), }"), "invalid .npy header"),
    (b"\x80\x04K\x01.", "not an .npy"),  # a pickle
])
def test_disallowed_frames_are_rejected(frame, reason):
    with pytest.raises(wire.WireError, match=reason.replace("(", r"\(")):
        wire.decode_array(frame, 1000)


def test_object_and_structured_arrays_cannot_be_encoded():
    with pytest.raises(wire.WireError):
        wire.encode_array(np.array([object()]))
    with pytest.raises(wire.WireError):
        wire.encode_array(np.zeros(2, dtype=[("a", "<f8")]))


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return True


class ArrayLike:
    def __array__(self, dtype=None, copy=None):
        return np.full(3, 7.0)


def test_pack_turns_student_objects_into_plain_data():
    arrays: list = []
    tree = wire.pack((np.zeros(2).view(LyingArray), ArrayLike(), 2.5, None, "tanh", [object()], np.array([object()])), arrays)
    value = wire.unpack(json.loads(json.dumps(tree)), [wire.decode_array(wire.encode_array(a), 100) for a in arrays])
    lying, like, number, none, text, seq, obj = value
    assert type(lying) is np.ndarray and (lying == 1).sum() == 0  # plain array: no lying __eq__
    np.testing.assert_array_equal(like, [7.0, 7.0, 7.0])
    assert number == 2.5 and none is None and text == "tanh"
    assert isinstance(seq[0], wire.Opaque) and isinstance(obj, wire.Opaque)


def test_message_limits_are_enforced():
    read_fd, write_fd = os.pipe()
    reader = wire.FrameReader(read_fd)
    try:
        wire.write_frames(write_fd, [json.dumps({"arrays": 1}).encode(), wire.encode_array(np.zeros(100))])
        with pytest.raises(wire.WireError, match="exceeds the limit"):
            wire.receive_message(reader, None, wire.Limits(max_elements=10))
        wire.write_frames(write_fd, [json.dumps({"arrays": 1000}).encode()])
        with pytest.raises(wire.WireError, match="invalid array count"):
            wire.receive_message(wire.FrameReader(read_fd), None)
        os.write(write_fd, struct.pack(">Q", 1 << 40))
        with pytest.raises(wire.WireError, match="exceeds the limit"):
            wire.receive_message(wire.FrameReader(read_fd), None)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_the_arrays_of_a_message_are_bounded_together():
    read_fd, write_fd = os.pipe()
    try:
        frames = wire.encode_message({}, [np.zeros(40) for _ in range(3)])
        wire.write_frames(write_fd, frames)
        with pytest.raises(wire.WireError, match="exceed the limit of 100 elements together"):
            wire.receive_message(wire.FrameReader(read_fd), None, wire.Limits(max_total_elements=100))
        wire.write_frames(write_fd, wire.encode_message({}, [np.zeros(1)] * wire.MAX_ITEMS))  # a tuple of 64 arrays fits
        _, arrays = wire.receive_message(wire.FrameReader(read_fd), None)
        assert len(arrays) == wire.MAX_ITEMS == wire.Limits().max_arrays
    finally:
        os.close(read_fd)
        os.close(write_fd)


def cross(value, *, strict: bool = False):
    """`value` packed, sent as JSON and .npy, and unpacked: what the other side reads."""
    arrays: list = []
    tree = json.loads(json.dumps(wire.pack(value, arrays, strict=strict)))
    return wire.unpack(tree, [wire.decode_array(wire.encode_array(a), 1000) for a in arrays])


def test_dicts_of_arrays_and_long_tuples_cross_as_they_are():
    grads = {"W_h": np.ones((2, 2)), "W_c": np.arange(3.0), "pair": (np.zeros(1), 2.5), "name": "tanh", "é 形": None}
    value = cross([grads, tuple(np.full(1, float(i)) for i in range(wire.MAX_ITEMS))], strict=True)
    back, long_tuple = value
    assert list(back) == ["W_h", "W_c", "pair", "name", "é 形"]  # the dict's order
    np.testing.assert_array_equal(back["W_h"], np.ones((2, 2)))
    assert back["pair"][1] == 2.5 and back["name"] == "tanh" and back["é 形"] is None
    assert isinstance(long_tuple, tuple) and len(long_tuple) == wire.MAX_ITEMS and float(long_tuple[-1][0]) == 63.0
    deepest = {"a": ((np.ones(1),),)}  # arguments (1), a dict (2), a tuple (3), a tuple (4)
    assert float(cross([deepest], strict=True)[0]["a"][0][0][0]) == 1.0


def _opaque_dict(why: str) -> wire.Opaque:
    return wire.Opaque(f"dict that cannot cross ({why})")


@pytest.mark.parametrize("value, problem, student_side", [
    ({str(i): 0.0 for i in range(wire.MAX_KEYS + 1)}, "dict: 65 keys, over the limit of 64",
     _opaque_dict("65 keys, over the limit of 64")),
    ({1: np.ones(2)}, "dict: a key of type int, not str", _opaque_dict("a key of type int, not str")),
    ({("a", "b"): np.ones(2)}, "dict: a key of type tuple, not str", _opaque_dict("a key of type tuple, not str")),
    ({"k" * (wire.MAX_KEY_CHARS + 1): 1.0}, "dict: a key of 101 characters, over the limit of 100",
     _opaque_dict("a key of 101 characters, over the limit of 100")),
    ({"a": {"b": {"c": {"d": {"e": 1.0}}}}}, "dict: nested deeper than 4 levels",
     {"a": {"b": {"c": {"d": _opaque_dict("nested deeper than 4 levels")}}}}),
    ({"a": {1, 2}}, "set of dtype object is not numeric data", {"a": wire.Opaque("set of dtype object")}),
])
def test_what_cannot_cross_as_it_is_is_refused_to_the_grader_and_opaque_from_the_student(value, problem, student_side):
    with pytest.raises(wire.WireError) as refused:  # an assignment's case: the author is told why
        wire.pack(value, [], strict=True)
    assert str(refused.value) == problem
    assert cross(value) == student_side  # a student's answer: what it is, for the feedback


def test_a_long_sequence_is_refused_to_the_grader_and_an_array_from_the_student():
    with pytest.raises(wire.WireError, match="^tuple: 65 items, over the limit of 64$"):
        wire.pack(tuple(range(wire.MAX_ITEMS + 1)), [], strict=True)
    back = cross(tuple(range(wire.MAX_ITEMS + 1)))  # the array numpy makes of it, as before
    assert isinstance(back, np.ndarray) and back.shape == (wire.MAX_ITEMS + 1,)


LEAF = {"t": "json", "v": 1.0}


def nested(levels: int) -> dict:
    tree = LEAF
    for _ in range(levels):
        tree = {"t": "dict", "items": [["k", tree]]}
    return tree


@pytest.mark.parametrize("tree, reason", [
    ({"t": "dict", "items": [[str(i), LEAF] for i in range(wire.MAX_KEYS + 1)]}, "a dict that is not a list of at most 64 items"),
    ({"t": "dict", "items": [[1, LEAF]]}, "a dict key that is not a string (int)"),
    ({"t": "dict", "items": [[None, LEAF]]}, "a dict key that is not a string (NoneType)"),
    ({"t": "dict", "items": [["k" * 5000, LEAF]]}, "a dict key of 5000 characters, over the limit of 100"),
    ({"t": "dict", "items": [["k", LEAF], ["k", LEAF]]}, "a dict with the key 'k' twice"),
    ({"t": "dict", "items": [["k", LEAF, LEAF]]}, "a dict item that is not a [key, value] pair"),
    ({"t": "dict", "items": {"k": LEAF}}, "a dict that is not a list of at most 64 items"),
    (nested(5), "a value nested deeper than 4 levels"),
    ({"t": "seq", "items": [{"t": "seq", "items": [nested(3)]}]}, "a value nested deeper than 4 levels"),
    ({"t": "seq", "items": [LEAF] * (wire.MAX_ITEMS + 1)}, "a sequence that is not a list of at most 64 items"),
])
def test_a_value_tree_beyond_the_bounds_is_a_wire_error_that_says_which(tree, reason):
    with pytest.raises(wire.WireError) as error:
        wire.unpack(json.loads(json.dumps(tree)), [])
    assert str(error.value) == reason
    assert wire.unpack(nested(4), []) == {"k": {"k": {"k": {"k": 1.0}}}}  # as deep as allowed


def test_reading_times_out_and_notices_a_closed_channel():
    import time

    read_fd, write_fd = os.pipe()
    reader = wire.FrameReader(read_fd)
    with pytest.raises(wire.WireTimeout):
        wire.receive_message(reader, time.monotonic() + 0.05)
    os.close(write_fd)
    with pytest.raises(wire.WireClosed):
        wire.receive_message(reader, time.monotonic() + 1)
    os.close(read_fd)


def test_what_arrived_before_a_late_reader_looks_is_read_even_past_the_deadline():
    import time

    read_fd, write_fd = os.pipe()
    try:
        wire.send_message(write_fd, {"op": "ready"})
        header, arrays = wire.receive_message(wire.FrameReader(read_fd), time.monotonic() - 5)
        assert header["op"] == "ready" and arrays == []
        with pytest.raises(wire.WireTimeout):  # and nothing more is waited for
            wire.receive_message(wire.FrameReader(read_fd), time.monotonic() - 5)
    finally:
        os.close(read_fd)
        os.close(write_fd)
