"""Getting an assignment to students and back: the student template made from the reference
(`release`, with `percent_cells` for the notebook), and the exports for where students submit
(`export`): Gradescope's autograder, whose entry point is `python -m grader.distribute.gradescope`,
and a GitHub Actions workflow, which reports with `python -m grader.distribute.github`; and
the start of a new assignment (`scaffold`, for `grader new`).
"""
