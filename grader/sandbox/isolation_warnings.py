"""What a missing isolation layer means, in one sentence each.

Each sentence says what student code runs without, what the other layers still stop (and so
whether grading is still contained), and the command that adds the layer where there is one.
The facts are those of SECURITY.md ("The layers", "What is guaranteed where"):

- the filesystem is confined by bubblewrap (a private read-only view) or Landlock (an allow-list);
- new processes, sockets and calls aimed at the grader are stopped by seccomp, or by bubblewrap's
  PID and network namespaces;
- a worker started by root needs a user of its own (bubblewrap, or an interpreter other users
  can read) or, failing that, no capabilities plus Landlock (root's files) and seccomp (the
  grader, which shares its uid).

Grading is contained when all three hold; every sentence that says so is true of the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

# Why bubblewrap cannot be used (`Found.bwrap_problem`), one of these; what it said, apart (`bwrap_detail`).
BWRAP_NOT_INSTALLED = "bubblewrap is not installed"
BWRAP_NO_NAMESPACES = "bubblewrap cannot create its namespaces here"
BWRAP_DOES_NOT_START = "bubblewrap does not start here"
BWRAP_NEEDS_LINUX = "bubblewrap needs Linux"

_STILL_CONTAINED = ", so grading is still contained"
_FILES_OPEN = "nothing confines what it can read and write, the hidden reference and checks included, so grading is not contained"
_NOT_LINUX = ("this is not Linux, so bubblewrap, Landlock, seccomp and the capability drop are all missing: student code "
              "runs in a separate process with resource limits only, and it can read and write whatever the grader's "
              "user can and reach the network, so grading is not contained; grade on Linux, with bubblewrap installed")


@dataclass(frozen=True)
class Found:
    """What this machine offers the worker, as `isolation.choose` found it."""

    linux: bool
    root: bool
    bwrap_problem: str | None  # None: bubblewrap works here
    landlock: bool
    seccomp: bool
    capabilities: bool  # the worker can drop its capabilities
    own_user: bool  # as root: the worker runs as an unprivileged user of its own
    unreadable: str | None = None  # as root without one: the path other users cannot read
    bwrap_detail: str = ""  # what bubblewrap said when it failed, if anything

    @property
    def bwrap_reason(self) -> str:
        """Why bubblewrap cannot be used, with what it said: "bubblewrap cannot create its namespaces here (...)"."""
        return f"{self.bwrap_problem} ({self.bwrap_detail})" if self.bwrap_detail else str(self.bwrap_problem)

    @property
    def bwrap(self) -> bool:
        return self.bwrap_problem is None

    @property
    def contained(self) -> bool:
        files = self.bwrap or self.landlock
        calls = self.bwrap or self.seccomp
        privileges = not self.root or self.own_user or (self.capabilities and self.landlock and self.seccomp)
        return files and calls and privileges


def missing_layers(found: Found) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The short names of the layers `auto` cannot have here, and the sentences that say what that means."""
    if not found.linux:
        return ("bwrap", "landlock", "seccomp", "no capabilities"), (_NOT_LINUX,)
    layers, sentences = [], []
    for layer, missing, sentence in (
        ("bwrap", not found.bwrap, _bwrap),
        ("landlock", not found.landlock, _landlock),
        ("seccomp", not found.seccomp, _seccomp),
        ("uid", found.root and not found.own_user, _own_user),
        ("no capabilities", not found.capabilities, _capabilities),
    ):
        if missing:
            layers.append(layer)
            sentences.append(sentence(found))
    return tuple(layers), tuple(sentences)


def _still(found: Found) -> str:
    return _STILL_CONTAINED if found.contained else ""


def _bwrap(found: Found) -> str:
    text = f"{found.bwrap_reason}: student code runs without a private view of the filesystem, processes and network"
    if found.landlock and found.seccomp:
        text += (", but Landlock still confines what it can read and write, and seccomp still stops it starting "
                 "processes, using the network and reaching the grader" + _still(found))
    elif found.landlock:
        text += ", but Landlock still confines what it can read and write"
    else:
        text += f", and with no Landlock either {_FILES_OPEN}"
    if found.bwrap_problem == BWRAP_NOT_INSTALLED:
        return text + "; install it with: apt-get install bubblewrap"
    if found.bwrap_problem == BWRAP_NO_NAMESPACES:
        return text + ("; it needs namespaces, which this system or container refuses "
                       "(on Ubuntu 24.04 allow them with: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)")
    return text + "; check that this command runs: bwrap --ro-bind / / true"


def _landlock(found: Found) -> str:
    text = "Landlock is not available in this kernel: student code runs without the kernel's file allow-list"
    if found.bwrap:
        text += (", but bubblewrap's private filesystem view still holds no hidden file and lets it write only "
                 "its own /tmp and /dev/shm" + _still(found))
    else:
        text += f", and with no bubblewrap either {_FILES_OPEN}"
    return text + ("; Landlock needs Linux 5.13 or later with Landlock enabled (CONFIG_SECURITY_LANDLOCK=y and "
                   "landlock in the lsm= boot parameter): there is no package to install")


def _seccomp(found: Found) -> str:
    text = ("libseccomp is not installed: student code runs without the system-call filter that stops it starting "
            "processes, opening sockets and changing the grader's limits or priority")
    if found.bwrap:
        text += (", but bubblewrap still gives it no network, ends its processes with the sandbox and keeps the "
                 "grader out of its reach" + _still(found))
    else:
        text += ", and without bubblewrap nothing else stops all of that, so grading is not contained"
    return text + "; install it with: apt-get install libseccomp2"


def _own_user(found: Found) -> str:
    unreadable = f"{found.unreadable}, where" if found.unreadable else "the folder where"
    privileges = "without root's capabilities" if found.capabilities else "with every capability"
    text = (f"student code runs as root ({privileges}), not as a user of its own, because other users cannot read "
            f"{unreadable} the Python interpreter, numpy or the grader are")
    if not found.capabilities:
        text += ", so grading is not contained"
    elif found.landlock and found.seccomp:
        text += "; Landlock still keeps it from root's files and seccomp from the grader" + _still(found)
    elif not found.landlock:
        text += "; with no Landlock it can read and write root's files, so grading is not contained"
    else:
        text += "; with no seccomp it can change the grader's limits and priority, so grading is not contained"
    where = f"outside {found.unreadable}" if found.unreadable else "that other users can read"
    return text + (f"; to give it one, install bubblewrap (apt-get install bubblewrap) or install the grader in a "
                   f"virtual environment made from /usr/bin/python3 {where}")


def _capabilities(found: Found) -> str:
    text = "capabilities cannot be dropped on this system"
    if found.root and not found.own_user:
        return text + (": student code runs as root with every privilege, so grading is not contained; "
                       "grade as an ordinary user, or install bubblewrap (apt-get install bubblewrap)")
    return text + ": student code keeps those it inherits, but it runs as an unprivileged user, who has none" + _still(found)
