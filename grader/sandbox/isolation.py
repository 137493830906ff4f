"""Which isolation layers this machine offers, which an `--isolation` level asks for, and the
command that starts a worker inside them.

Layers, weakest first (each detected at start-up, used when present and asked for):
- `process`: a separate process in its own process group, clean environment, `python -I`;
  the grader is a child subreaper and non-dumpable. Always.
- `rlimits`: CPU time, address space, file size, open files, processes, no core; BLAS threads 1. Always.
- `uid`: a dedicated unprivileged uid for the worker when the grader runs as root.
- `no capabilities`: the worker empties its capability sets (the bounding set too, when it
  starts as root), locks the securebits and sets no_new_privs (Linux). A root worker that
  cannot change uid is still uid 0, but one without any capability.
- `bwrap`: bubblewrap: a read-only allow-listed filesystem (the interpreter, numpy, the
  worker's own code; never the reference or the checks), size-limited private /tmp and
  /dev/shm, no network, its own PID namespace, killed with the grader.
- `landlock`: the kernel's Landlock: the same read allow-list and writes only to scratch,
  enforced on the process itself (works without namespaces or root).
- `seccomp`: no new processes, no sockets, no signals to others, no kernel attack surface.

Levels: `auto` (everything available; each missing layer gets a warning sentence: what is
lost, whether grading is still contained, and the command that adds it), `strict` (as auto, but
refuses to grade without a filesystem barrier: bwrap or landlock), and, to test each barrier
on its own, `landlock` (process, rlimits, uid where possible, landlock, seccomp: no
namespaces) and `bwrap` (process, rlimits, uid, bwrap: no landlock, no seccomp). Every level
has a filesystem barrier; there is deliberately no level without one.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field

from grader.errors import UsageError
from grader.sandbox import capabilities, landlock, seccomp
from grader.sandbox.isolation_warnings import (BWRAP_DOES_NOT_START, BWRAP_NEEDS_LINUX, BWRAP_NO_NAMESPACES,
                                               BWRAP_NOT_INSTALLED, Found, missing_layers)

LEVELS = ("auto", "strict", "landlock", "bwrap")
WORKER_UID_BASE = 61234
_PR_SET_DUMPABLE = 4


@dataclass(frozen=True)
class Isolation:
    """The layers one grading run uses. `missing` names the layers auto could not have here (short
    names, for results.json); `warnings` says, one sentence per missing layer, what that means."""

    level: str
    bwrap: bool = False
    landlock_abi: int = 0
    seccomp: bool = False
    worker_uid: int | None = None
    capabilities: bool = False
    missing: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def layers(self) -> list[str]:
        layers = ["process", "rlimits"]
        if self.worker_uid is not None:
            layers.append(f"uid {self.worker_uid}")
        if self.capabilities:
            layers.append(capabilities.LAYER)
        if self.bwrap:
            layers.append("bwrap")
        if self.landlock_abi:
            layers.append(f"landlock (ABI {self.landlock_abi})")
        if self.seccomp:
            layers.append("seccomp")
        return layers

    @property
    def filesystem_barrier(self) -> bool:
        return self.bwrap or self.landlock_abi > 0

    @property
    def summary(self) -> str:
        """One line: the level and the layers it uses."""
        return f"isolation {self.level}: " + ", ".join(self.layers)

    def describe(self) -> str:
        """The summary, then one line per missing layer (what `grader isolation` prints)."""
        return "\n".join([self.summary, *self.warnings])

    def warning_text(self) -> str:
        """The warnings as the commands print them on stderr, once per run ("" when nothing is missing)."""
        return "\n".join(f"grader: warning: {warning}" for warning in self.warnings)

    def as_dict(self) -> dict:
        return {"level": self.level, "layers": self.layers, "missing": list(self.missing), "warnings": list(self.warnings)}


@functools.lru_cache(maxsize=None)
def _bwrap_works(as_root: bool) -> tuple[str, str] | None:
    """None if bubblewrap can start a sandbox here the way the grader runs it, else why not: one
    of isolation_warnings' BWRAP_* reasons, and what bubblewrap said ("" if nothing)."""
    path = shutil.which("bwrap")
    if path is None:
        return BWRAP_NOT_INSTALLED, ""
    probe = [path, *_bwrap_namespace_flags(as_root), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        completed = subprocess.run(probe, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return BWRAP_DOES_NOT_START, str(error)
    if completed.returncode != 0:
        return BWRAP_NO_NAMESPACES, completed.stderr.decode(errors="replace").strip()[:120]
    return None


def _bwrap_namespace_flags(as_root: bool) -> list[str]:
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
              "--die-with-parent", "--new-session"]
    if as_root:  # no user namespace: inside, the worker empties its bounding set (CAP_SETPCAP) and changes uid
        return common + ["--cap-drop", "ALL", "--cap-add", "CAP_SETPCAP", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return common + ["--unshare-user", "--disable-userns"]


def _readable_by_others(paths: list[str]) -> bool:
    """Whether a different unprivileged uid could reach and read every path (all ancestors o+x)."""
    return _first_unreadable(paths) is None


def _first_unreadable(paths: list[str]) -> str | None:
    """The first of `paths` or their ancestors that a different unprivileged uid cannot reach or read."""
    for path in paths:
        current = os.path.realpath(path)
        while True:
            try:
                mode = os.stat(current).st_mode
            except OSError:
                return current
            needed = stat.S_IXOTH if stat.S_ISDIR(mode) else stat.S_IROTH
            if not mode & needed:
                return current
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
    return None


def choose(level: str = "auto") -> Isolation:
    """The isolation for `level` on this machine.

    Raises:
        UsageError: the level is unknown, or asks for a layer this machine does not have.
    """
    if level not in LEVELS:
        raise UsageError(f"unknown isolation level {level!r} (choose from {', '.join(LEVELS)})")
    is_root = os.geteuid() == 0
    linux = sys.platform.startswith("linux")
    bwrap_problem, bwrap_detail = (_bwrap_works(is_root) if linux else (BWRAP_NEEDS_LINUX, "")) or (None, "")
    abi = landlock.abi_version()
    has_seccomp = seccomp.available()
    use_bwrap = level in ("auto", "strict", "bwrap") and not bwrap_problem
    use_landlock = level in ("auto", "strict", "landlock") and abi > 0
    use_seccomp = level in ("auto", "strict", "landlock") and has_seccomp
    if level == "bwrap" and bwrap_problem:
        fix = "; install it with: apt-get install bubblewrap" if bwrap_problem == BWRAP_NOT_INSTALLED else ""
        detail = f" ({bwrap_detail})" if bwrap_detail else ""
        raise UsageError(f"--isolation bwrap: {bwrap_problem}{detail}{fix}")
    if level == "landlock" and not abi:
        raise UsageError("--isolation landlock: this kernel has no Landlock")
    uid, unreadable = None, None
    if is_root:
        if use_bwrap or _readable_by_others(worker_paths()):
            uid = WORKER_UID_BASE + os.getpid() % 1000
        else:
            unreadable = _first_unreadable(list(worker_paths()))
    drops_capabilities = capabilities.available()
    missing, warnings = (), ()
    if level in ("auto", "strict"):  # the other levels leave layers out on purpose
        missing, warnings = missing_layers(Found(
            linux=linux, root=is_root, bwrap_problem=bwrap_problem, landlock=abi > 0, seccomp=has_seccomp,
            capabilities=drops_capabilities, own_user=uid is not None, unreadable=unreadable, bwrap_detail=bwrap_detail))
    isolation = Isolation(level=level, bwrap=use_bwrap, landlock_abi=abi if use_landlock else 0,
                          seccomp=use_seccomp, worker_uid=uid, capabilities=drops_capabilities,
                          missing=missing, warnings=warnings)
    if level == "strict" and not isolation.filesystem_barrier:
        raise UsageError("--isolation strict: no filesystem barrier here (install bubblewrap, or use a kernel with Landlock)")
    if level == "strict" and is_root and uid is None and not drops_capabilities:
        raise UsageError("--isolation strict: the worker would run as root with every capability "
                         "(it can neither change uid nor drop its capabilities here)")
    return isolation


@functools.lru_cache(maxsize=None)
def worker_paths() -> tuple[str, ...]:
    """What the worker must be able to read: the interpreter's prefix, numpy's and the grader's import roots.
    numpy is found, not imported: the grader starts its worker before it loads numpy."""
    import importlib.util

    import grader

    numpy_root = os.path.dirname(os.path.dirname(os.path.realpath(importlib.util.find_spec("numpy").origin)))
    grader_root = os.path.dirname(os.path.dirname(os.path.realpath(grader.__file__)))
    return tuple(dict.fromkeys([os.path.realpath(sys.base_prefix), numpy_root, grader_root]))


def import_roots() -> list[str]:
    """The sys.path entries the worker needs (numpy's and the grader's roots)."""
    return list(worker_paths()[1:])


def _sandbox_binds() -> list[str]:
    """What the worker's filesystem holds besides /usr: the interpreter, numpy's root, the `grader/` package."""
    import grader

    base, numpy_root = worker_paths()[:2]
    return list(dict.fromkeys([base, numpy_root, os.path.dirname(os.path.realpath(grader.__file__))]))


def read_allow_list() -> list[str]:
    """Paths the worker may read: system libraries, the interpreter, numpy, the worker's own package."""
    return _sandbox_binds() + ["/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/dev/null", "/dev/urandom", "/dev/zero"]


def bwrap_prefix(isolation: Isolation, scratch_bytes: int, env: dict[str, str]) -> list[str]:
    """The bubblewrap command line that wraps the worker's interpreter."""
    command = [shutil.which("bwrap"), *_bwrap_namespace_flags(os.geteuid() == 0), "--clearenv",
               "--ro-bind", "/usr", "/usr"]
    for link in ("lib", "lib64", "bin", "sbin"):
        if os.path.islink(f"/{link}"):
            command += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
        elif os.path.isdir(f"/{link}"):
            command += ["--ro-bind", f"/{link}", f"/{link}"]
    command += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(scratch_bytes), "--tmpfs", "/tmp",
                "--perms", "1777", "--size", str(16 << 20), "--tmpfs", "/dev/shm"]
    made: set[str] = set()
    for path in _sandbox_binds():
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth])
            mounted = ancestor in ("/usr", "/tmp", "/proc", "/dev") or ancestor.startswith(("/usr/", "/proc/", "/dev/"))
            if ancestor not in made and not mounted:  # bubblewrap would make it, but readable by its owner only
                command += ["--perms", "0755", "--dir", ancestor]
                made.add(ancestor)
        command += ["--ro-bind", path, path]
    for key, value in env.items():
        command += ["--setenv", key, value]
    return command + ["--chdir", "/tmp"]


def harden_grader() -> None:
    """Make this grader process non-dumpable (a same-uid worker cannot read its memory)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass
