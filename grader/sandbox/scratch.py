"""The scratch folder the workers of one submission run in (their cwd, HOME and TMPDIR).

Each grader process names its folders after its process id and holds each one locked while it
is in use, so that a grader cleaning up after graders that were killed (kill -9 gives them no
time to clean up) removes only folders no one uses, even those of a grader in another PID
namespace, whose process ids mean nothing here.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import tempfile
from pathlib import Path
from stat import S_ISDIR

from grader.sandbox import isolation
from grader.sandbox.process import process_state

SCRATCH_PREFIX = "grader-worker-"


class ScratchFolder:
    """A fresh folder for one submission's workers, locked until `cleanup()` removes it."""

    def __init__(self) -> None:
        remove_stale_scratch()
        self._folder = tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        self.path = self._folder.name
        self._lock = lock_folder(self.path)  # says "in use" to graders that clean up

    def cleanup(self) -> None:
        self._folder.cleanup()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


@functools.lru_cache(maxsize=None)
def remove_stale_scratch() -> None:
    """Remove the scratch folders of graders that were killed; they are named after their
    grader's process id. Once per process."""
    if not Path("/proc/self").exists():  # no way to tell a live grader from a dead one here
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if not (pid.isdigit() and not _alive(int(pid)) and _owned_folder(folder)):
            continue
        lock = lock_folder(str(folder))  # a grader in another PID namespace may still be using it
        if lock is not None:
            shutil.rmtree(folder, ignore_errors=True)
            os.close(lock)


def lock_folder(path: str) -> int | None:
    """An open descriptor of the folder `path` holding an exclusive flock, or None when another
    process holds it (or the folder is gone). The lock lasts until the descriptor is closed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _owned_folder(path: Path) -> bool:
    """Whether `path` is a folder (not a link) of this uid, or, for root, of a worker's uid (root
    hands scratch to the worker); False if it vanished. By uid, not by name: a uid without a
    name (a worker's, another user's) must not stop grading."""
    try:
        info = path.lstat()
    except OSError:  # another grader removed it first
        return False
    workers = range(isolation.WORKER_UID_BASE, isolation.WORKER_UID_BASE + 1000) if os.getuid() == 0 else ()
    return S_ISDIR(info.st_mode) and (info.st_uid == os.getuid() or info.st_uid in workers)


def _alive(pid: int) -> bool:
    """True if process `pid` exists and is not a zombie (a zombie's scratch folder is stale too)."""
    state = process_state(pid)
    return state is not None and state[1] != "Z"
