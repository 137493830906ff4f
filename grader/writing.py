"""Writing files so that a reader sees the old file or the whole new one, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator


def write_atomic(path: Path, text: str | bytes, mode: int | None = None) -> None:
    """Write `text` (str, as UTF-8, or bytes) to `path` so that a reader sees the old file or the
    whole new one, never a part.

    The file gets `mode`, or else the mode any new file gets here (0666 less the umask: 0644 as
    a rule), so the course staff can read the reports; the temporary file it starts as is
    private (0600).
    """
    with writing_atomically(path, mode) as handle:
        handle.write(text.encode("utf-8") if isinstance(text, str) else text)


@contextlib.contextmanager
def writing_atomically(path: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file to write in parts, which replaces `path` whole when the block ends (and
    is removed, `path` left as it was, when the block raises): write_atomic's guarantees for a
    file too large to hold in memory at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~current_umask() if mode is None else mode)
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """This process's umask, read without changing it (Linux); else by setting and restoring it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
