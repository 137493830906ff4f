"""What a grade depends on, as digests: the submission's content and the assignment's version.

A batch run keeps each student's digests with their results; a later run regrades a student
only when one of them changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import grader
from grader.grading.submission import read_submission_bytes
from grader.model import Assignment


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


def assignment_version(assignment: Assignment) -> str:
    """sha256 of everything that decides a grade besides the submission: the assignment's
    configuration, reference and checks, and the grader's own code."""
    digest = hashlib.sha256(grader.__version__.encode("utf-8"))
    sources = [assignment.directory / "assignment.json", assignment.reference]
    sources += sorted(assignment.directory.glob("*.py"))
    sources += sorted(Path(grader.__file__).parent.rglob("*.py"))
    sources += sorted(path for path in (Path(grader.__file__).parent / "templates").glob("*") if path.is_file())
    for source in sources:
        digest.update(str(source.name).encode("utf-8") + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()
