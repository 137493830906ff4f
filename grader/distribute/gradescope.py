"""What Gradescope's `run_autograder` runs: grade `ROOT/submission` into `ROOT/results/results.json`.

    python -m grader.distribute.gradescope ASSIGNMENT [ROOT]   (ROOT: $AUTOGRADER_ROOT, else /autograder)

The submission folder is whatever the student uploaded, graded like any submission folder
(grader.grading.submission_finding: `hw1.py` or `hw1.ipynb`, else the only .py or .ipynb file,
such as `hw1 (2).ipynb`, with a note; a symbolic link is never followed). A results.json is always
written: a fault of the grader gives one that says so, never a missing file.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from grader.points import format_points
from grader.writing import write_atomic


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
        print("usage: python -m grader.distribute.gradescope ASSIGNMENT [ROOT]", file=sys.stderr)
        return 2
    root = Path(argv[1] if len(argv) > 1 else os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    results_path = root / "results" / "results.json"
    try:
        from grader.grading.assignment import load_assignment
        from grader.grading.pipeline import grade_submission
        from grader.report.feedback import feedback_markdown
        from grader.report.results_json import results_json
        from grader.sandbox.isolation import choose

        assignment = load_assignment(argv[0], root / "source" / "assignments")
        path = root / "submission"
        if not path.exists():
            path.mkdir(parents=True)  # an empty submission folder: graded 0, with the reason
        confinement = choose("auto")
        if confinement.warnings:  # once, in the autograder's output (for the instructor)
            print(confinement.warning_text(), file=sys.stderr)
        report = grade_submission(assignment, path, confinement=confinement)
        results = results_json(report)
        write_atomic(results_path, json.dumps(results, indent=2) + "\n")
        write_atomic(root / "results" / "feedback.md", feedback_markdown(report))
        print(f"graded {path}: {format_points(results['score'])} / {format_points(results['max_score'])}")
        return 0
    except BaseException as error:  # whatever happened, Gradescope gets a results.json
        traceback.print_exc()
        write_atomic(results_path, json.dumps(fault_results(f"{type(error).__name__}: {error}",
                                                            time.perf_counter() - started), indent=2) + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
