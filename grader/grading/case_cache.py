"""The cases of every check, and what each expects, recorded once per assignment version and replayed when grading.

Hypothesis draws the same cases for a check on every run (a fixed seed, no database), and the
checks compare the answers with the same reference values (the reference's answer, finite
differences of its loss: a check's `expect`, grader.authoring.checks) every time. Drawing the
cases and computing those values was most of what a grading process did. They are recorded
once, in a cache file keyed by the assignment's version (grader.grading.version): each check's
cases with their expectations, as a segment of bytes (grader.grading.case_codec). Grading
reads a check's segment when it comes to that check and replays its cases
(grader.grading.checking); hypothesis runs only for a check that fails, to find its smallest
failing case.

The cache decides no grade: every grading replays the recorded cases, whether they were read
from the file or recorded just now, and they are the very cases, expecting the very values, that
hypothesis and the reference give (checked when they are recorded), so a grade never depends
on whether the file was there. A missing, unreadable, corrupt, tampered-with or stale file is
recorded again, and one that cannot be written is kept in memory for this process only. A
segment that no longer reads back intact when grading comes to it (the file was changed in
place) makes its check run hypothesis, which meets the same cases.

It is private to the user who grades: a folder of mode 0700 that they own (any other folder is
not used), files of mode 0600, written whole (a reader never sees a part, and two graders
writing at once write the same thing). Student code does not reach it: the sandbox exposes no
home folder, a worker under a uid of its own cannot read the files, and the file a grader
holds open is not inherited by its workers. A file holds numbers and strings, never code, with
a digest of its index and of each segment; it is written a check at a time, its index last.

Where: $GRADER_CACHE_DIR, else $XDG_CACHE_HOME/nlp-grader/cases, else
~/.cache/nlp-grader/cases. Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import weakref
from pathlib import Path
from typing import Any, Sequence

from grader.authoring.checks import NOT_RECORDED, Case, Check
from grader.grading.case_codec import (NotStorable, decode_groups, encode_groups, has_strided_floats, identical,
                                       same_groups)
from grader.grading.checking import group_size, record_cases
from grader.grading.version import assignment_version
from grader.model import Assignment
from grader.sandbox.calls import request_bytes
from grader.sandbox.wire import WireError
from grader.writing import writing_atomically

MAGIC = b"nlp-grader cases\n"
FORMAT = 2
CACHE_ENV = "GRADER_CACHE_DIR"
_LENGTH = struct.Struct("<Q")
_DIGEST_BYTES = 32


class StoredCases:
    """One check's recorded cases: a segment of the cache file, read when grading comes to the
    check, or the segment itself when it was recorded in this process."""

    def __init__(self, segment: bytes | None = None, file: "_OpenCache | None" = None, offset: int = 0,
                 length: int = 0, digest: str = ""):
        self._segment, self._file, self._offset, self._length, self._digest = segment, file, offset, length, digest

    def groups(self) -> list[tuple[Case, ...]] | None:
        """The check's groups of cases, each case with what it expects; None if the file no
        longer holds them intact (the check then runs hypothesis, which meets the same cases)."""
        segment = self._segment
        if segment is None:
            segment = self._file.read(self._offset, self._length) if self._file is not None else None
            if segment is None or hashlib.sha256(segment).hexdigest() != self._digest:
                return None
        try:
            return decode_groups(segment)
        except (ValueError, KeyError, TypeError, IndexError, struct.error):
            return None


Replays = list  # one entry per check: its StoredCases, or None where it runs hypothesis


class _OpenCache:
    """The cache file, held open while its segments may be read (closed when no longer used)."""

    def __init__(self, descriptor: int):
        self.descriptor = descriptor
        self._closer = weakref.finalize(self, os.close, descriptor)

    def read(self, offset: int, length: int) -> bytes | None:
        try:
            data = os.pread(self.descriptor, length, offset)
        except OSError:
            return None
        return data if len(data) == length else None


def cached_replays(assignment: Assignment, checks: Sequence[Check], version: str | None = None) -> Replays:
    """The recorded cases of each check of `assignment`: read from the cache when it holds this
    version of the assignment (`version`, its assignment_version, when the caller has it), else
    recorded (and written to the cache when it can be)."""
    version = version or assignment_version(assignment)
    path = cache_path(assignment, version)
    if path is not None:
        replays = _read(path, version, checks)
        if replays is not None:
            return replays
        try:
            _record_into(path, version, checks)
        except OSError:  # a full or read-only disk: this process keeps its replays in memory
            pass
        else:
            replays = _read(path, version, checks)
            if replays is not None:
                return replays
    return [None if segment is None else StoredCases(segment) for segment in map(_segment, checks)]


def _record_into(path: Path, version: str, checks: Sequence[Check]) -> None:
    """Record each check's cases and write the cache file, a check at a time (one check's cases
    are in memory at once): MAGIC, the segments, the index (JSON), its sha256, its length."""
    entries, offset = [], len(MAGIC)
    with writing_atomically(path, mode=0o600) as handle:
        handle.write(MAGIC)
        for check in checks:
            segment = _segment(check)
            entry = {"function": check.function, "name": check.name, "segment": None}
            if segment is not None:
                handle.write(segment)
                entry["segment"] = [offset, len(segment), hashlib.sha256(segment).hexdigest()]
                offset += len(segment)
            entries.append(entry)
        index = json.dumps({"format": FORMAT, "version": version, "checks": entries}, separators=(",", ":")).encode("utf-8")
        handle.write(index + hashlib.sha256(index).digest() + _LENGTH.pack(len(index)))


def cache_folder() -> Path | None:
    """The cache's folder, made private if new; None if it cannot be used (it is not a folder
    of ours, others may write or read it, or it cannot be made)."""
    configured = os.environ.get(CACHE_ENV)
    try:
        if configured:
            folder = Path(configured)
        else:
            base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            folder = Path(base) / "nlp-grader" / "cases"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.lstat()
    except (OSError, RuntimeError):  # RuntimeError: no home folder
        return None
    private = stat.S_ISDIR(status.st_mode) and status.st_uid == os.geteuid() and not status.st_mode & 0o077
    return folder if private else None


def cache_path(assignment: Assignment, version: str) -> Path | None:
    folder = cache_folder()
    return None if folder is None else folder / f"{assignment.name}-{version[:40]}.cases"


def _segment(check: Check) -> bytes | None:
    """The check's recorded cases as a segment, if they can be recorded and read back exactly;
    else None: that check runs hypothesis, whether or not the cache is written, so grades never
    depend on it. A check that sends each group's calls together gets each group's message too,
    made from the cases read back (what grading would send)."""
    groups = record_cases(check)
    if groups is None:
        return None
    try:
        segment = encode_groups(groups)
        decoded = decode_groups(segment)
        if not same_groups(decoded, groups):
            return None
        if check.expect is not None and has_strided_floats(groups) and not all(  # stored as contiguous copies
                case.expected is NOT_RECORDED or identical(check.expect(case), case.expected)
                for group in decoded for case in group):
            return None
        if check.single_call and group_size(check) > 1:
            requests = [request_bytes(check.function, [(case.args, dict(case.kwargs)) for case in group])
                        for group in decoded]
            segment = encode_groups(groups, requests)
    except (NotStorable, WireError):
        return None
    return segment


def recorded(assignment: Assignment, version: str) -> bool:
    """Whether the cache holds this version of the assignment, with an intact index: its checks
    loaded, and built a case each (grader.grading.assignment.check_case_sources), when it was
    recorded, since the version covers every file they depend on."""
    path = cache_path(assignment, version)
    return path is not None and _read_index(path, version) is not None


def _read(path: Path, version: str, checks: Sequence[Check]) -> Replays | None:
    """The replays in the file at `path`, if it is a private file of ours holding exactly this
    version's checks with an intact index; else None. Segments are read later, when used."""
    opened = _read_index(path, version)
    if opened is None:
        return None
    file, entries, index_at = opened
    try:
        if len(entries) != len(checks):
            return None
        if any(entry["function"] != check.function or entry["name"] != check.name for entry, check in zip(entries, checks)):
            return None
        replays: Replays = []
        for entry in entries:
            if entry["segment"] is None:
                replays.append(None)
                continue
            offset, length, digest = entry["segment"]
            if not (type(offset) is int and type(length) is int and type(digest) is str
                    and len(MAGIC) <= offset and offset + length <= index_at):
                return None
            replays.append(StoredCases(file=file, offset=offset, length=length, digest=digest))
        return replays
    except (ValueError, KeyError, TypeError, AttributeError):  # not ours
        return None


def _read_index(path: Path, version: str) -> tuple[_OpenCache, list, int] | None:
    """The file at `path`, open, its index's entries and where the index begins, if it is a
    private file of ours holding this version with an intact index; else None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    file = _OpenCache(descriptor)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid() or status.st_mode & 0o077:
            return None
        size = status.st_size
        head, tail = file.read(0, len(MAGIC)), file.read(size - _LENGTH.size, _LENGTH.size) if size >= _LENGTH.size else None
        if head != MAGIC or tail is None:
            return None
        (length,) = _LENGTH.unpack(tail)
        index_at = size - _LENGTH.size - _DIGEST_BYTES - length
        if index_at < len(MAGIC):
            return None
        index_and_digest = file.read(index_at, length + _DIGEST_BYTES)
        if index_and_digest is None or hashlib.sha256(index_and_digest[:length]).digest() != index_and_digest[length:]:
            return None
        stored = json.loads(index_and_digest[:length].decode("utf-8"))
        entries = stored["checks"]
        if stored["format"] != FORMAT or stored["version"] != version or not isinstance(entries, list):
            return None
        return file, entries, index_at
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # unreadable, not JSON, or not ours
        return None
