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
