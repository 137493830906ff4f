"""Leave the worker with no capabilities, for good (Linux), with ctypes.

A root worker that cannot change its uid would otherwise keep every capability: make device
nodes, change the host name, read the kernel log. `drop()` empties the bounding set (what any
later exec could regain) and the ambient set, locks the securebits so that uid 0 means nothing
to the kernel's capability rules (SECBIT_NOROOT) and a later uid change restores nothing,
changes the uid when asked (from root), clears the effective, permitted and inheritable sets,
and sets no_new_privs. Then it checks the result and raises if anything is left, so that
student code never runs with a capability.

Order matters: the bounding set and the securebits need CAP_SETPCAP, so they come first; the
uid change needs CAP_SETUID and CAP_SETGID; the capability sets are cleared last.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import sys

_PR_CAPBSET_READ, _PR_CAPBSET_DROP = 23, 24
_PR_GET_SECUREBITS, _PR_SET_SECUREBITS = 27, 28
_PR_SET_NO_NEW_PRIVS, _PR_GET_NO_NEW_PRIVS = 38, 39
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_IS_SET, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 1, 4
_CAP_SETPCAP = 8
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

SECBIT_NOROOT, SECBIT_NOROOT_LOCKED = 1 << 0, 1 << 1
SECBIT_NO_SETUID_FIXUP, SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << 2, 1 << 3
SECBIT_KEEP_CAPS_LOCKED = 1 << 5
SECBIT_NO_CAP_AMBIENT_RAISE, SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 6, 1 << 7
LAYER = "no capabilities"


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@functools.lru_cache(maxsize=None)
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def available() -> bool:
    """Whether this platform has Linux capabilities that `drop` can clear."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return hasattr(_libc(), "capset") and hasattr(_libc(), "prctl")
    except OSError:
        return False


def _prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    result = _libc().prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(0), ctypes.c_ulong(0))
    if result < 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed: {os.strerror(ctypes.get_errno())}")
    return result


def last_capability() -> int:
    """The highest capability number this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as file:
            return int(file.read())
    except (OSError, ValueError):
        last = 0
        while _libc().prctl(_PR_CAPBSET_READ, ctypes.c_ulong(last + 1), 0, 0, 0) >= 0:
            last += 1
        return last


def sets() -> dict[str, int]:
    """This process's capability sets as bit masks: effective, permitted, inheritable, bounding, ambient."""
    header, data = _Header(_LINUX_CAPABILITY_VERSION_3, 0), (_Data * 2)()
    if _libc().capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    found = {name: getattr(data[0], name) | getattr(data[1], name) << 32 for name in ("effective", "permitted", "inheritable")}
    found["bounding"] = found["ambient"] = 0
    for cap in range(last_capability() + 1):
        if _libc().prctl(_PR_CAPBSET_READ, ctypes.c_ulong(cap), 0, 0, 0) > 0:
            found["bounding"] |= 1 << cap
        if _libc().prctl(_PR_CAP_AMBIENT, ctypes.c_ulong(_PR_CAP_AMBIENT_IS_SET), ctypes.c_ulong(cap), 0, 0) > 0:
            found["ambient"] |= 1 << cap
    return found


def _drop_bounding_set() -> None:
    for cap in range(last_capability() + 1):
        if _libc().prctl(_PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) < 0 and ctypes.get_errno() != errno.EINVAL:
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap} from the bounding set")


def _lock_securebits(uid_will_change: bool) -> None:
    """Uid 0 gains nothing on exec, and capabilities can never come back. When the uid is about to
    change, the kernel's clearing of the capability sets on that change must still happen."""
    bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_KEEP_CAPS_LOCKED
    if not uid_will_change:
        bits |= SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED
    try:
        _prctl(_PR_SET_SECUREBITS, bits | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
    except OSError:  # a kernel older than 4.3 has no ambient capabilities, nor their securebits
        _prctl(_PR_SET_SECUREBITS, bits)


def change_uid(uid: int) -> None:
    """Become `uid` (from root), with no supplementary groups."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _clear_sets() -> None:
    header, data = _Header(_LINUX_CAPABILITY_VERSION_3, 0), (_Data * 2)()
    if _libc().capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def drop(uid: int | None = None) -> None:
    """Leave this process with no capability, now or after any exec; as `uid` if given.

    The bounding set can be emptied only by a process holding CAP_SETPCAP (root); an
    unprivileged process keeps its bounding set, which no_new_privs makes useless to it (an
    exec never gains a capability). Raises OSError when a capability is left.
    """
    if sets()["effective"] & (1 << _CAP_SETPCAP):
        _drop_bounding_set()
        _lock_securebits(uid_will_change=uid is not None)
    try:
        _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError as error:
        if error.errno != errno.EINVAL:  # EINVAL: a kernel without ambient capabilities
            raise
    if uid is not None:
        change_uid(uid)
    _clear_sets()
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    left = {name: hex(mask) for name, mask in sets().items() if mask and name != "bounding"}
    if left or _prctl(_PR_GET_NO_NEW_PRIVS) != 1:
        raise OSError(errno.EPERM, f"capabilities left after dropping them: {left or 'no_new_privs is not set'}")
