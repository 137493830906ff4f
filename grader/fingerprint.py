"""What a grade depends on, as digests: the submission's content and the assignment's version.

A batch run keeps each student's digests with their results; a later run regrades a student
only when one of them changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import grader
from grader.model import Assignment


def submission_digest(path: Path, module: str) -> str:
    """sha256 of what grading reads from `path`: the file, or a folder's module.py and module.ipynb."""
    digest = hashlib.sha256()
    files = [path] if not path.is_dir() else [path / f"{module}.py", path / f"{module}.ipynb"]
    for file in files:
        digest.update(file.name.encode("utf-8") + b"\0")
        try:
            digest.update(file.read_bytes() if file.is_file() else b"<not a file>")
        except OSError as error:
            digest.update(f"<unreadable: {error.strerror}>".encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def assignment_version(assignment: Assignment) -> str:
    """sha256 of everything that decides a grade besides the submission: the assignment's
    configuration, reference and checks, and the grader's own code."""
    digest = hashlib.sha256(grader.__version__.encode("utf-8"))
    sources = [assignment.directory / "assignment.json", assignment.reference]
    sources += sorted(assignment.directory.glob("*.py"))
    sources += sorted(Path(grader.__file__).parent.rglob("*.py"))
    sources += sorted((Path(grader.__file__).parent / "templates").glob("*"))
    for source in sources:
        digest.update(str(source.name).encode("utf-8") + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()
