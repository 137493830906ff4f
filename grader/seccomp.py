"""A seccomp filter for the worker, built with the system's libseccomp through ctypes.

Default: allow. Denied with EPERM: new processes (fork, vfork, clone without CLONE_THREAD;
clone3 gets ENOSYS so that libc falls back to clone), sockets, signals to any process but
this one, and the kernel interfaces a numpy function never needs (ptrace, namespaces, mounts,
bpf, io_uring, keyrings, inotify …). Threads still work.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os

_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_CMP_NE, _SCMP_CMP_MASKED_EQ = 1, 7
_CLONE_THREAD = 0x00010000
_DENIED = (
    "fork", "vfork", "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns",
    "mount", "umount2", "pivot_root", "chroot", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
    "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "kcmp", "personality", "inotify_add_watch", "fanotify_init", "open_by_handle_at", "move_mount",
    "fsopen", "fsmount", "open_tree", "swapon", "swapoff", "reboot", "kexec_load", "init_module", "finit_module",
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


@functools.lru_cache(maxsize=None)
def _library():
    """libseccomp, loaded once (call before Landlock hides the library search path)."""
    for candidate in ("libseccomp.so.2", ctypes.util.find_library("seccomp")):
        if not candidate:
            continue
        try:
            library = ctypes.CDLL(candidate, use_errno=True)
            library.seccomp_init.restype = ctypes.c_void_p
            return library
        except OSError:
            continue
    return None


def available() -> bool:
    """Whether libseccomp can be loaded here (Linux with libseccomp2)."""
    return _library() is not None


def install() -> None:
    """Load the filter into this process (and its future threads). Raises OSError on failure."""
    library = _library()
    if library is None:
        raise OSError("libseccomp is not available")
    context = ctypes.c_void_p(library.seccomp_init(ctypes.c_uint32(_SCMP_ACT_ALLOW)))
    if not context:
        raise OSError("seccomp_init failed")

    def rule(action: int, name: str, *comparisons: _ArgCmp) -> None:
        number = library.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            return  # a syscall this architecture does not have
        array = (_ArgCmp * len(comparisons))(*comparisons) if comparisons else None
        status = library.seccomp_rule_add_array(context, ctypes.c_uint32(action), number, len(comparisons), array)
        if status < 0:
            raise OSError(-status, f"seccomp_rule_add({name}) failed")

    try:
        deny = _errno_action(errno.EPERM)
        for name in _DENIED:
            rule(deny, name)
        rule(deny, "clone", _ArgCmp(0, _SCMP_CMP_MASKED_EQ, _CLONE_THREAD, 0))
        rule(_errno_action(errno.ENOSYS), "clone3")
        own = os.getpid()
        rule(deny, "kill", _ArgCmp(0, _SCMP_CMP_NE, own, 0))
        rule(deny, "tkill", _ArgCmp(0, _SCMP_CMP_NE, own, 0))
        rule(deny, "tgkill", _ArgCmp(0, _SCMP_CMP_NE, own, 0))
        status = library.seccomp_load(context)
        if status < 0:
            raise OSError(-status, "seccomp_load failed")
    finally:
        library.seccomp_release(context)
