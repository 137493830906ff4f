"""`grader check`, the students' self-check: find their file, the public tests and grader.json
(`check`), and run the public tests under pytest against their code in the sandbox
(`public_tests`). It needs only what a student has: never the reference or the hidden checks.
"""
