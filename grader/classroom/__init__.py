"""Grading a whole class (`grader grade-all`): who is in a class folder (`roster`), the digests
that say whether a student's last grading still holds (`fingerprint`), and the plan, the pool of
jobs and each student's files (`batch`).
"""
