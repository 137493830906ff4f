"""The version of an assignment, as a digest: what a grade depends on besides the submission."""

from __future__ import annotations

import hashlib
from pathlib import Path

import hypothesis
import numpy

import grader
from grader.model import Assignment


def assignment_version(assignment: Assignment) -> str:
    """sha256 of everything that decides a grade besides the submission: the assignment's
    configuration, reference and checks, the grader's own code, and the versions of hypothesis
    (which draws the cases) and numpy (which builds their arrays)."""
    digest = hashlib.sha256(f"{grader.__version__}\0{hypothesis.__version__}\0{numpy.__version__}".encode("utf-8"))
    sources = [assignment.directory / "assignment.json", assignment.reference]
    sources += sorted(assignment.directory.glob("*.py"))
    sources += sorted(Path(grader.__file__).parent.rglob("*.py"))
    sources += sorted(path for path in (Path(grader.__file__).parent / "templates").glob("*") if path.is_file())
    for source in sources:
        digest.update(str(source.name).encode("utf-8") + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()
