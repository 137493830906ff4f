"""What a grade depends on, as a digest: the submission's content (the assignment's version is
grader.grading.version's).

A batch run keeps each student's digests with their results; a later run regrades a student
only when one of them changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader.grading.submission import read_submission_bytes


def submission_digest(path: Path, module: str) -> str:
    """sha256 of what grading reads from `path` (grader.grading.submission.read_submission_bytes): the
    graded file's name and bytes, or why it cannot be read, and the notes on the choice.

    It reads exactly as grading does: never through a link, never from a special file (a FIFO
    cannot hang it), never more than the size limit + 1 bytes.
    """
    read = read_submission_bytes(path, module, must_exist=False)
    digest = hashlib.sha256()
    for part in (read.graded_file or "", read.problem or "", "\n".join(read.notes), str(read.size)):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(read.data)
    return digest.hexdigest()
