"""Student code that looks for privileges and aims at the grader, printing one line per probe.

`PROBES` is appended to the reference solution (so every function is honest and the module
runs it at import). Each line is `PROBE <name>: <result>`, where a refused attempt reads
`denied <ERRNO>`; `parse` reads them back from the feedback. `AIMS` lower the limits of the
process that started the worker (the grader, a grade-all job, or bubblewrap's init inside its
PID namespace) so far that the grader would die or fail if they worked.
"""

from __future__ import annotations

import re

PROBES = r'''

# --- privilege probes ---
import ctypes as _ctypes
import errno as _errno
import os as _os
import resource as _resource
import socket as _socket
import stat as _stat

_libc = _ctypes.CDLL(None, use_errno=True)


def _probe(name, action):
    try:
        result = action()
    except OSError as error:
        result = "denied " + _errno.errorcode.get(error.errno, str(error.errno))
    except Exception as error:
        result = "failed " + type(error).__name__
    print("PROBE " + name + ": " + str(result), flush=True)


def _checked(value):
    if value < 0:
        raise OSError(_ctypes.get_errno(), "failed")
    return value


def _prctl(*args):
    return _libc.prctl(*[_ctypes.c_ulong(a) for a in args], *[_ctypes.c_ulong(0)] * (5 - len(args)))


def _capabilities():
    class Header(_ctypes.Structure):
        _fields_ = [("version", _ctypes.c_uint32), ("pid", _ctypes.c_int)]

    class Data(_ctypes.Structure):
        _fields_ = [("eff", _ctypes.c_uint32), ("prm", _ctypes.c_uint32), ("inh", _ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    _checked(_libc.capget(_ctypes.byref(header), data))
    found = {name: getattr(data[0], name) | getattr(data[1], name) << 32 for name in ("eff", "prm", "inh")}
    found["bnd"] = sum(1 << cap for cap in range(64) if _prctl(23, cap) == 1)
    found["amb"] = sum(1 << cap for cap in range(64) if _prctl(47, 1, cap) == 1)
    found["nnp"] = _prctl(39)
    found["uid"] = _os.geteuid()
    return " ".join(f"{name}={value:x}" for name, value in found.items())


def _status():
    fields = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
    with open("/proc/self/status") as status:
        lines = [line.split(":") for line in status]
    return " ".join(f"{key}={value.strip()}" for key, value, *_ in lines if key in fields)


def _make_node(kind, devices):
    made = []
    for number, (major, minor) in enumerate(devices):
        path = f"node-{kind}-{number}"
        try:
            _os.mknod(path, 0o600 | kind, _os.makedev(major, minor))
        except OSError as error:
            last = error
            continue
        made.append(f"{major}:{minor}")
        try:
            with open(path, "rb") as node:
                made.append(f"read {len(node.read(512))} bytes")
        except OSError:
            made.append("unreadable")
    if made:
        return "made " + " ".join(made)
    raise last


def _kernel_log_device():
    fd = _os.open("/dev/kmsg", _os.O_RDONLY | _os.O_NONBLOCK)
    try:
        return f"read {len(_os.read(fd, 4096))} bytes"
    finally:
        _os.close(fd)


def _syslog():
    buffer = _ctypes.create_string_buffer(4096)
    return f"read {_checked(_libc.klogctl(3, buffer, 4096))} bytes"


def _sethostname():
    _socket.sethostname(_socket.gethostname())  # the same name: harmless if it works, but it must not
    return "changed"


def _signal_queue(pid):
    return f"sent {_checked(_libc.sigqueue(pid, 0, _ctypes.c_void_p(0)))}"


def _own_process():
    _resource.setrlimit(_resource.RLIMIT_NOFILE, _resource.getrlimit(_resource.RLIMIT_NOFILE))
    _resource.prlimit(_os.getpid(), _resource.RLIMIT_CORE, (0, 0))
    _os.setpriority(_os.PRIO_PROCESS, 0, _os.getpriority(_os.PRIO_PROCESS, 0))
    _os.sched_setaffinity(0, _os.sched_getaffinity(0))
    return "allowed"


_root_device = _os.stat("/").st_dev
_probe("caps", _capabilities)
_probe("status", _status)
_probe("mknod block", lambda: _make_node(_stat.S_IFBLK, [(_os.major(_root_device), _os.minor(_root_device)),
                                                          (8, 0), (253, 0), (259, 0), (7, 0)]))
_probe("mknod char", lambda: _make_node(_stat.S_IFCHR, [(1, 11), (1, 1)]))
_probe("kmsg", _kernel_log_device)
_probe("syslog", _syslog)
_probe("sethostname", _sethostname)
_probe("own process", _own_process)
_parent = _os.getppid()
print("PROBE parent: " + str(_parent), flush=True)
_probe("setpriority parent", lambda: _os.setpriority(_os.PRIO_PROCESS, _parent, 19) or "set")
_probe("setpriority user", lambda: _os.setpriority(_os.PRIO_USER, 0, 19) or "set")
_probe("affinity parent", lambda: _os.sched_setaffinity(_parent, {0}) or "set")
_probe("sigqueue parent", lambda: _signal_queue(_parent))
'''

AIMS = {  # what would kill the grader or ruin the grading of every later student of its job, if it worked
    "nofile": '''_probe("prlimit nofile parent", lambda: _resource.prlimit(_parent, _resource.RLIMIT_NOFILE, (3, 3)) and "set")\n''',
    "cpu": '''_probe("prlimit cpu parent", lambda: _resource.prlimit(_parent, _resource.RLIMIT_CPU, (1, 1)) and "set")\n''',
}


def submission(reference: str, aims: tuple[str, ...] = ("nofile", "cpu")) -> str:
    """The reference solution with the probes and the attacks `aims` on the parent appended."""
    return reference + PROBES + "".join(AIMS[aim] for aim in aims)


def parse(text: str) -> dict[str, str]:
    """The probes' results found in `text` (a feedback file), by probe name."""
    return {name: result.strip() for name, result in re.findall(r"^PROBE ([a-z ]+): (.*)$", text.replace("\\", ""), re.M)}


def capability_fields(line: str) -> dict[str, int]:
    """`name=hex` pairs of the caps probe, as integers."""
    return {name: int(value, 16) for name, value in re.findall(r"(\w+)=([0-9a-f]+)", line)}
