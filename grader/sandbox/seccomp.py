"""A seccomp filter for the worker, built with the system's libseccomp through ctypes.

Default: allow. Denied with EPERM: new processes (fork, vfork, clone without CLONE_THREAD;
clone3 gets ENOSYS so that libc falls back to clone), sockets, signals to any process but
this one, device nodes (mknod of a character or block device), every call that changes
another process's limits, priority, CPUs, scheduling, memory placement or queues it a
signal (prlimit64, setpriority, sched_set*, ioprio_set, migrate_pages, move_pages,
rt_sigqueueinfo …: allowed only on this process, as pid 0 or its own pid), and the kernel
interfaces a numpy function never needs (ptrace, namespaces, mounts, bpf, io_uring, keyrings,
inotify, the host name, the kernel log, the clock …). Threads still work.

libseccomp 2.5 accepts one comparison per argument in a rule, so "neither 0 nor this pid" is
written as several rules: one for pids above this one, and one per aligned block of pids
between 1 and this one minus 1 (a masked comparison each; about log2(pid) rules).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os

_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_CMP_NE, _SCMP_CMP_EQ, _SCMP_CMP_GT, _SCMP_CMP_MASKED_EQ = 1, 4, 6, 7
_CLONE_THREAD = 0x00010000
_S_IFMT, _S_IFCHR, _S_IFBLK = 0o170000, 0o020000, 0o060000
_PRIO_PROCESS, _IOPRIO_WHO_PROCESS = 0, 1
_ALL_BITS = (1 << 64) - 1
_DENIED = (
    "fork", "vfork", "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns",
    "mount", "umount2", "pivot_root", "chroot", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
    "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "kcmp", "personality", "inotify_add_watch", "fanotify_init", "open_by_handle_at", "move_mount",
    "fsopen", "fsmount", "open_tree", "swapon", "swapoff", "reboot", "kexec_load", "init_module", "finit_module",
    # root-only or other processes' business: denied even where a capability would be missing anyway
    "sethostname", "setdomainname", "syslog", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "vhangup", "quotactl", "quotactl_fd", "iopl", "ioperm", "delete_module", "kexec_file_load", "lookup_dcookie",
    "process_madvise", "process_mrelease", "fspick", "mount_setattr", "name_to_handle_at",
)
# Calls aimed at the process whose pid is this argument (0 means the caller).
_PID_ARGUMENT = {
    "prlimit64": 0, "sched_setaffinity": 0, "sched_setscheduler": 0, "sched_setparam": 0, "sched_setattr": 0,
    "migrate_pages": 0, "move_pages": 0, "get_robust_list": 0, "rt_sigqueueinfo": 0, "rt_tgsigqueueinfo": 0,
}
# Calls whose first argument says what the second names: one process (allowed for this one), or a group or user.
_WHICH_WHO = {"setpriority": _PRIO_PROCESS, "ioprio_set": _IOPRIO_WHO_PROCESS}


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def aligned_blocks(low: int, high: int) -> list[tuple[int, int]]:
    """[low, high] as (mask, value) pairs, `x & mask == value` for exactly the x in the range (64 bits)."""
    blocks = []
    while low <= high:
        size = (low & -low) if low else 1 << 64
        while size > high - low + 1:
            size >>= 1
        blocks.append((_ALL_BITS & ~(size - 1), low))
        low += size
    return blocks


def foreign_pid(argument: int, own: int) -> list[_ArgCmp]:
    """Comparisons, one per rule, that together match every value of `argument` but 0 and `own`.
    A value above `own` (any with high bits set too: the kernel reads a pid as 32 bits) is one."""
    comparisons = [_ArgCmp(argument, _SCMP_CMP_GT, own, 0)]
    return comparisons + [_ArgCmp(argument, _SCMP_CMP_MASKED_EQ, mask, value) for mask, value in aligned_blocks(1, own - 1)]


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
        for name, argument in (("mknod", 1), ("mknodat", 2)):
            for device in (_S_IFCHR, _S_IFBLK):
                rule(deny, name, _ArgCmp(argument, _SCMP_CMP_MASKED_EQ, _S_IFMT, device))
        for name, argument in _PID_ARGUMENT.items():
            for comparison in foreign_pid(argument, own):
                rule(deny, name, comparison)
        for name, one_process in _WHICH_WHO.items():
            rule(deny, name, _ArgCmp(0, _SCMP_CMP_NE, one_process, 0))
            for comparison in foreign_pid(1, own):
                rule(deny, name, _ArgCmp(0, _SCMP_CMP_EQ, one_process, 0), comparison)
        rule(deny, "kill", _ArgCmp(0, _SCMP_CMP_NE, own, 0))
        rule(deny, "tkill", _ArgCmp(0, _SCMP_CMP_NE, own, 0))
        rule(deny, "tgkill", _ArgCmp(0, _SCMP_CMP_NE, own, 0))
        status = library.seccomp_load(context)
        if status < 0:
            raise OSError(-status, "seccomp_load failed")
    finally:
        library.seccomp_release(context)
