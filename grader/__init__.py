"""Auto-grader for numpy homework: hidden property checks against sandboxed student code."""

import os as _os

__version__ = "0.1.0"

# One BLAS thread in every grader process (the sandboxed workers have always had one), set
# before anything imports numpy, unless the caller chose otherwise. Grading multiplies small
# matrices, which one thread does as fast; OpenBLAS's other threads only start and spin. In a
# `grader grade` they cost about 0.1 s of CPU, taken from the core the student's worker runs
# on, and with one thread a product is summed in the same order on every machine.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_variable, "1")
