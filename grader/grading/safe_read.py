"""Read a student's file without following a link or blocking on a special file.

A submission is untrusted, and so is its shape: its file may be a symbolic link (to the
reference solution, to another student's file, to /proc/kmsg), a FIFO, a device or a socket.
Every read of a submission goes through this module:

- the file is first looked at with `lstat` (a link is not followed, a special file is not opened);
- it is then opened with O_NOFOLLOW (a link swapped in meanwhile fails with ELOOP) and
  O_NONBLOCK (a FIFO or a device cannot block the open), and `fstat` must say a regular file;
- at most `limit + 1` bytes are read, so an endless or huge file costs nothing;
- a file inside a submission folder is opened relative to the folder's descriptor (`dir_fd`),
  the folder itself opened with O_DIRECTORY | O_NOFOLLOW, so no path component inside the
  submission is a link.

The components above the submission (the class folder, /autograder/submission) are the
instructor's or the platform's and may be links. What cannot be read is data, a `FileRead`
whose `problem` is one line naming the file, never an exception.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileRead:
    """What was read from one file: at most `limit + 1` bytes of it, or why nothing was."""

    name: str
    data: bytes = b""
    size: int = 0  # the file's size: fstat's, or what was read when that is more
    problem: str | None = None


def link_reason(name: str, target: str | None = "file") -> str:
    """Why a symbolic link is not graded, in one line; `target` is what it points to ('file',
    'folder', ...), None for nothing."""
    if target is None:
        return f"{name} is a link to nothing"
    what = "folder" if target == "folder" else "file"
    return f"{name} is a symbolic link: submit the {what} itself, not a link to it"


def link_target_kind(path: Path | str, dir_fd: int | None = None) -> str | None:
    """What the link at `path` points to ('file', 'folder', 'special'), None for nothing. Only
    `stat` looks at the target: it is never opened."""
    try:
        mode = os.stat(path, dir_fd=dir_fd).st_mode
    except OSError:
        return None
    return "folder" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "special"


def kind_of(path: Path | str, dir_fd: int | None = None) -> str | None:
    """'file', 'folder', 'link', 'special' or 'unreadable' (lstat fails: no permission) for what
    `path` is, without following a link; None when it does not exist."""
    try:
        mode = os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return "unreadable"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "special"


def read_regular_file(path: Path | str, limit: int, dir_fd: int | None = None, name: str | None = None) -> FileRead:
    """At most `limit + 1` bytes of the regular file at `path` (relative to `dir_fd` when given).

    A link, a special file, a file that vanished or cannot be opened gives a FileRead with its
    `problem`; `name` (default: the path's last component) is how the problem names the file.
    """
    name = name or Path(path).name
    kind = kind_of(path, dir_fd)
    if kind is None:
        return FileRead(name, problem=f"{name} is gone (removed while grading?)")
    if kind == "link":
        return FileRead(name, problem=link_reason(name, link_target_kind(path, dir_fd)))
    if kind != "file":
        what = {"folder": "is a folder", "unreadable": "cannot be read (permission denied)"}.get(kind, "is not a regular file")
        return FileRead(name, problem=f"{name} {what}")
    try:
        fd = os.open(path, _OPEN_FILE, dir_fd=dir_fd)
    except OSError as error:
        return FileRead(name, problem=_open_problem(name, error))
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):  # swapped for something else since the lstat
            return FileRead(name, problem=f"{name} is not a regular file")
        data = _read_at_most(fd, limit + 1)
        return FileRead(name, data, max(status.st_size, len(data)))
    except OSError as error:
        return FileRead(name, problem=f"{name} cannot be read ({error.strerror})")
    finally:
        os.close(fd)


def open_folder(path: Path | str, dir_fd: int | None = None, name: str | None = None) -> int | str:
    """A descriptor of the folder at `path` (relative to `dir_fd` when given), opened without
    following a link; or why it cannot be opened, naming it `name` (default: the path's last component).

    The caller closes the descriptor.
    """
    name = name or Path(path).name
    try:
        return os.open(path, _OPEN_FOLDER, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            return f"{name} is not a folder"
        return _open_problem(name, error)


def _open_problem(name: str, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return link_reason(name)
    if error.errno == errno.ENOENT:
        return f"{name} is gone (removed while grading?)"
    if error.errno == errno.ENXIO:  # a socket
        return f"{name} is not a regular file"
    return f"{name} cannot be read ({error.strerror})"


def _read_at_most(fd: int, count: int) -> bytes:
    chunks, total = [], 0
    while total < count:
        chunk = os.read(fd, min(_CHUNK, count - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
