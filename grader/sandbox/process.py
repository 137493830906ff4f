"""Process helpers shared by the worker and the grader's own processes (Linux; elsewhere they
do nothing).

The worker asks to die with the grader that started it; a grade-all job asks the same of the
main process, and every process that starts workers adopts what they leave behind.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def die_with_parent() -> None:
    """Be killed when the process that started this one dies, even by SIGKILL (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(70)


@functools.lru_cache(maxsize=None)
def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux), so that what a worker leaves
    behind is reaped here instead of lingering as a zombie. True if it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def process_state(pid: int | str) -> tuple[str, str] | None:
    """(name, state letter) of process `pid` from /proc, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as file:
            stat = file.read()
    except OSError:
        return None
    end = stat.rfind(")")
    return stat[stat.find("(") + 1:end], stat[end + 2:end + 3]
