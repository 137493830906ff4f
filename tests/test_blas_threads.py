"""Every grader process computes with one BLAS thread, as its sandboxed workers do, unless the
caller chose otherwise (grader/__init__.py): OpenBLAS's other threads only spin on the small
products grading makes, on the core the student's worker needs."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SHOW = ("import grader, numpy, os\n"
        "numpy.ones((64, 64)) @ numpy.ones((64, 64))\n"
        "threads = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('Threads:'))\n"
        "print(threads, *(os.environ.get(v) for v in %r))\n" % (VARIABLES,))


def _run(**chosen: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(chosen, PYTHONPATH=str(REPO))
    completed = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.split()


def test_importing_the_grader_first_gives_numpy_one_blas_thread():
    threads, *values = _run()
    assert values == ["1", "1", "1"]
    assert threads == "1"  # the process's only thread: OpenBLAS started none of its own


def test_a_thread_count_the_caller_chose_is_kept():
    threads, openblas, omp, mkl = _run(OPENBLAS_NUM_THREADS="2")
    assert (openblas, omp, mkl) == ("2", "1", "1")
    if (os.cpu_count() or 1) >= 2:
        assert int(threads) >= 2  # OpenBLAS started the threads it was given
