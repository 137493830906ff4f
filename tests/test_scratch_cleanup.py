"""Cleaning up after killed graders never removes a scratch folder that is still in use.

A grader in another PID namespace (a container, `unshare --pid`) sees none of this one's
processes, so the process id in a folder's name is not enough: a folder is removed only when
no one holds its lock."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from grader.sandbox.scratch import SCRATCH_PREFIX, lock_folder, remove_stale_scratch


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"{SCRATCH_PREFIX}4000001-{uuid.uuid4().hex[:8]}"  # a pid no process has here
    folder.mkdir()
    return folder


def test_a_locked_folder_of_a_pid_not_seen_here_is_kept_and_an_unlocked_one_removed():
    in_use, abandoned = _folder(), _folder()
    lock = lock_folder(str(in_use))
    try:
        assert lock is not None
        remove_stale_scratch.__wrapped__()
        assert in_use.is_dir()
        assert not abandoned.exists()
    finally:
        os.close(lock)
        in_use.rmdir()


def test_a_grader_holds_its_scratch_folder_locked_while_it_grades():
    from grader.model import Cell
    from grader.sandbox.handle import StudentModule

    with StudentModule("hw1", [Cell("x = 1\n", "hw1.py")]) as module:
        scratch = module.workers.scratch.path
        assert lock_folder(scratch) is None
    assert not os.path.exists(scratch)
