"""Grading one submission, in the order the data flows: load and validate the assignment
(`assignment`, the reference's `solution_blocks`), find and read the submission
(`submission_finding`, `safe_read`, `submission`, `notebook`), run it in the sandbox and say
what its top-level run did (`load_notes`), run the checks (`checking`), share out the points
(`scoring`); `pipeline` is the order of these steps.
"""
