"""The cases of every check, recorded once per assignment version and replayed when grading.

Hypothesis draws the same cases for a check on every run (a fixed seed, no database), and
drawing them is a third of a grading's time. They are recorded once, as the values each
example's recipe drew (shapes and seeds: a few numbers per example, see
grader.authoring.strategies.CaseGroup), and kept in a cache file keyed by the assignment's
version (grader.grading.version); grading builds the same cases from them
(grader.grading.checking).

The cache decides no grade: every grading replays the recorded cases, whether they were read
from the file or recorded just now, so a grade never depends on whether the file was there.
A missing, unreadable, corrupt, tampered-with or stale file is recorded again, and one that
cannot be written is kept in memory for this process only.

It is private to the user who grades: a folder of mode 0700 that they own (any other folder is
not used), files of mode 0600, written whole (a reader never sees a part, and two graders
writing at once write the same thing). Student code does not reach it: the sandbox exposes no
home folder, and a worker under a uid of its own cannot read the files. A file holds numbers
and strings (JSON), never code, with its own digest.

Where: $GRADER_CACHE_DIR, else $XDG_CACHE_HOME/nlp-grader/cases, else
~/.cache/nlp-grader/cases. Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Sequence

from grader.authoring.checks import Check
from grader.grading.checking import record_cases
from grader.grading.version import assignment_version
from grader.model import Assignment
from grader.writing import write_atomic

FORMAT = 1
CACHE_ENV = "GRADER_CACHE_DIR"

Replays = list  # one entry per check: its recorded draws (record_cases), or None where it runs hypothesis


class _NotStorable(Exception):
    """A drawn value that the cache file cannot hold exactly."""


def cached_replays(assignment: Assignment, checks: Sequence[Check]) -> Replays:
    """The recorded cases of each check of `assignment`: read from the cache when it holds this
    version of the assignment, else recorded (and written to the cache when it can be)."""
    version = assignment_version(assignment)
    path = cache_path(assignment, version)
    if path is not None:
        replays = _read(path, version, checks)
        if replays is not None:
            return replays
    entries = [_entry(check, record_cases(check)) for check in checks]
    if path is not None:
        text = json.dumps({"format": FORMAT, "version": version, "digest": _digest(entries), "checks": entries})
        try:
            write_atomic(path, text, mode=0o600)
        except OSError:  # a full or read-only disk: this process keeps its replays in memory
            pass
    return _replays(entries)


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
    return None if folder is None else folder / f"{assignment.name}-{version[:40]}.json"


def _read(path: Path, version: str, checks: Sequence[Check]) -> Replays | None:
    """The replays in the file at `path`, if it is a private file of ours holding exactly this
    version's checks with an intact digest; else None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid() or status.st_mode & 0o077:
                return None
            stored = json.loads(handle.read().decode("utf-8"))
        entries = stored["checks"]
        if (stored["format"] != FORMAT or stored["version"] != version or stored["digest"] != _digest(entries)
                or len(entries) != len(checks)):
            return None
        if any(entry["function"] != check.function or entry["name"] != check.name for entry, check in zip(entries, checks)):
            return None
        return _replays(entries)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # unreadable, not JSON, or not ours
        return None


def _entry(check: Check, draws: list[list] | None) -> dict:
    """A check's record as stored. Draws that the file cannot hold exactly are not recorded:
    that check runs hypothesis, whether or not the cache is written, so grades never depend on it."""
    try:
        stored = None if draws is None else [[_encode(value) for value in example] for example in draws]
    except _NotStorable:
        stored = None
    return {"function": check.function, "name": check.name, "draws": stored}


def _replays(entries: list[dict]) -> Replays:
    return [None if entry["draws"] is None else [[_decode(value) for value in example] for example in entry["draws"]]
            for entry in entries]


def _digest(entries: Any) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest()


def _encode(value: Any) -> Any:
    """A drawn value as JSON that reads back as an equal value of the same type."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return {"float": value.hex()}
    if type(value) is tuple:
        return {"tuple": [_encode(item) for item in value]}
    if type(value) is list:
        return [_encode(item) for item in value]
    raise _NotStorable(type(value).__name__)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        ((kind, content),) = value.items()
        if kind == "float":
            return float.fromhex(content)
        if kind == "tuple":
            return tuple(_decode(item) for item in content)
        raise ValueError(f"unknown value kind {kind!r}")
    return value
