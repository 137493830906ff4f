"""Run a command as an unprivileged user, from a root test process.

The interpreter may live under a directory other users cannot enter (here /root, mode 700).
In a private mount namespace, each such directory is covered by an empty world-readable tmpfs
into which the paths the command needs are bound back; then `setpriv` drops to the uid with
no capabilities. Nothing outside that namespace changes.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import sys
import tempfile

from conftest import REPO

UNPRIVILEGED_UID = 61300


def available() -> bool:
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in ("unshare", "setpriv", "mount"))


def _blocking_ancestor(path: str) -> str | None:
    """The highest ancestor of `path` that other users cannot enter, if any."""
    parts = os.path.realpath(path).strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        ancestor = "/" + "/".join(parts[:depth])
        if os.path.isdir(ancestor) and not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return ancestor
    return None


def as_unprivileged(command: list[str], hold_root: str, uid: int = UNPRIVILEGED_UID) -> list[str]:
    """`command`, wrapped so that it runs as `uid`; `hold_root` is a scratch directory. With uid 0
    it stays root, but on a machine where the interpreter is readable by other users."""
    needed = [os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), str(REPO)]
    script, moves, covered = [], [], {}
    for path in dict.fromkeys(needed):
        blocker = _blocking_ancestor(path)
        if blocker is None:
            continue
        hold = tempfile.mkdtemp(dir=hold_root)
        script.append(f"mount --bind {shlex.quote(path)} {shlex.quote(hold)}")
        covered.setdefault(blocker, []).append((path, hold))
    for blocker, pairs in covered.items():
        script.append(f"mount -t tmpfs -o mode=755 tmpfs {shlex.quote(blocker)}")
        for path, hold in pairs:
            moves += [f"mkdir -p {shlex.quote(path)}", f"mount --move {shlex.quote(hold)} {shlex.quote(path)}"]
    drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--", "env", f"HOME={hold_root}"]
    script += moves + ["exec " + " ".join(shlex.quote(part) for part in drop + command)]
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", " && ".join(script)]
