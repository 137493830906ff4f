"""What Gradescope's `run_autograder` runs: grade `ROOT/submission` into `ROOT/results/results.json`.

    python -m grader.gradescope ASSIGNMENT [ROOT]      (ROOT: $AUTOGRADER_ROOT, else /autograder)

The submission folder is whatever the student uploaded. It is graded like a folder holding
`hw1.py` or `hw1.ipynb`; when it holds neither but exactly one .py or .ipynb file (a student
who uploaded `hw1 (2).ipynb`), that file is graded, and the feedback says so. A results.json
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

from grader.writing import write_atomic


def choose_submission(folder: Path, module: str) -> tuple[Path, str | None]:
    """The path to grade in Gradescope's submission folder, and a note when a file was picked."""
    if (folder / f"{module}.py").is_file() or (folder / f"{module}.ipynb").is_file() or not folder.is_dir():
        return folder, None
    candidates = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb")
                        and not any(part.startswith(".") or part == "__MACOSX" for part in p.relative_to(folder).parts))
    if len(candidates) == 1:
        return candidates[0], f"The submission holds no {module}.py or {module}.ipynb, so {candidates[0].name} was graded."
    return folder, None


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
        report = grade_submission(assignment, path, confinement=choose("auto"))
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
