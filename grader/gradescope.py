"""What Gradescope's `run_autograder` runs: grade `ROOT/submission` into `ROOT/results/results.json`.

    python -m grader.gradescope ASSIGNMENT [ROOT]      (ROOT: $AUTOGRADER_ROOT, else /autograder)

The submission folder is whatever the student uploaded. It is graded like a folder holding
`hw1.py` or `hw1.ipynb`; when it holds neither but exactly one .py or .ipynb file (a student
who uploaded `hw1 (2).ipynb`), that file is graded, and the feedback says so. A symbolic link
is never followed: see `choose_submission` and grader.safe_read. A results.json
is always written: a fault of the grader gives one that says so, never a missing file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import traceback
from pathlib import Path

from grader.safe_read import kind_of
from grader.writing import write_atomic


def choose_submission(folder: Path, module: str) -> tuple[Path, str | None]:
    """The path to grade in Gradescope's submission folder, and a note when a file was picked.

    Nothing is followed: when the folder holds `module`.py or `module`.ipynb in any form (a link
    too), the folder is graded, and grading refuses a link with its reason. Otherwise the only
    candidates are regular .py and .ipynb files, found without entering a linked folder; a link
    is never a candidate (it could point at the autograder's private copy of the reference).
    """
    if kind_of(folder) != "folder" or any(kind_of(folder / f"{module}{suffix}") for suffix in (".py", ".ipynb")):
        return folder, None
    candidates = sorted(path for path in _regular_files(folder) if path.suffix in (".py", ".ipynb"))
    if len(candidates) == 1:
        return candidates[0], f"The submission holds no {module}.py or {module}.ipynb, so {candidates[0].name} was graded."
    return folder, None


def _regular_files(folder: Path):
    """The regular files under `folder`, neither hidden nor in __MACOSX, without following a link."""
    for parent, folders, files in os.walk(folder):  # os.walk does not enter a linked folder
        folders[:] = [name for name in folders if not (name.startswith(".") or name == "__MACOSX")]
        for name in files:
            if not name.startswith(".") and kind_of(Path(parent) / name) == "file":
                yield Path(parent) / name


def fault_results(message: str, seconds: float) -> dict:
    """A valid results.json for when the grader itself failed: the student is told it is not their fault."""
    return {
        "score": 0.0,
        "execution_time": round(seconds, 3),
        "output": ("The autograder itself failed, so this submission was not graded. This is not a problem "
                   f"with your code: please tell your instructor. ({message})"),
        "tests": [],
        "extra_data": {"grader_fault": message},
    }


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    if not argv:
        print("usage: python -m grader.gradescope ASSIGNMENT [ROOT]", file=sys.stderr)
        return 2
    root = Path(argv[1] if len(argv) > 1 else os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    results_path = root / "results" / "results.json"
    try:
        from grader.assignment import load_assignment
        from grader.isolation import choose
        from grader.pipeline import grade_submission
        from grader.report.feedback import feedback_markdown
        from grader.report.results_json import results_json

        assignment = load_assignment(argv[0], root / "source" / "assignments")
        path, note = choose_submission(root / "submission", assignment.module)
        if not path.exists():
            path.mkdir(parents=True)  # an empty submission folder: graded 0, with the reason
        confinement = choose("auto")
        if confinement.warnings:  # once, in the autograder's output (for the instructor)
            print(confinement.warning_text(), file=sys.stderr)
        report = grade_submission(assignment, path, confinement=confinement)
        if note:
            report = dataclasses.replace(report, notes=(note, *report.notes))
        results = results_json(report)
        write_atomic(results_path, json.dumps(results, indent=2) + "\n")
        write_atomic(root / "results" / "feedback.md", feedback_markdown(report))
        print(f"graded {path}: {results['score']:g} / {results['max_score']:g}")
        return 0
    except BaseException as error:  # whatever happened, Gradescope gets a results.json
        traceback.print_exc()
        write_atomic(results_path, json.dumps(fault_results(f"{type(error).__name__}: {error}",
                                                            time.perf_counter() - started), indent=2) + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
