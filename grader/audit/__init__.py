"""`grader audit NAME`: the author's self-test of an assignment, before any student sees it.

It builds answers whose grades are known in advance (`candidates`: the reference, the stubs
`grader release` writes, answers that ignore their inputs (`ignoring`), and the author's mutants
from `assignments/NAME/mutants.py` (`mutant_file`), grades them all as one class in parallel
(`pool`), and holds the results against what they should be (`verdicts`, with the functions
that call a mutant's from `callers`), for the terminal (`text`). `run` orders these steps.
"""
