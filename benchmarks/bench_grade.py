"""Benchmark: the cost of grading one submission of each homework, and of the sandbox it runs in.

Run:  python benchmarks/bench_grade.py [--runs N]

Prints, for `grader grade hwN <reference>` as a whole process (start-up included), for hw1 and
hw2: the median wall time with the case cache written (as every grading after an assignment's
first) and with it emptied before each run (the first grading of a version, which records the
cases: the yardstick for what the cache saves), the peak memory of the grader process and of
its worker, and the number of student calls made (in all and per function); then the worker's
start-up time and the round-trip cost of one call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
HOMEWORKS = ("hw1", "hw2")


def time_grading(homework: str, runs: int, cold: bool = False) -> dict:
    """Grade `homework`'s reference `runs` times (after one run that is not counted); `cold`
    empties the case cache before each run."""
    walls, peaks, results = [], [], None
    submission = REPO / "solutions" / homework / f"{homework}.py"
    with tempfile.TemporaryDirectory() as scratch:
        out, cache = Path(scratch) / "results.json", Path(scratch) / "case-cache"
        command = [sys.executable, "-m", "grader", "grade", homework, str(submission), "--results-json", str(out), "--quiet"]
        for run in range(runs + 1):  # the first run warms the file cache (and the case cache) and is not counted
            if cold:
                shutil.rmtree(cache, ignore_errors=True)
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=REPO, env={**os.environ, "GRADER_CACHE_DIR": str(cache)})
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise SystemExit(f"grading failed with exit status {process.returncode}")
            if run:
                walls.append(wall)
                peaks.append(usage.ru_maxrss)
        results = json.loads(out.read_text())
    return {"walls": walls, "peak_kib": max(peaks), "results": results}


def time_sandbox(level: str, calls: int = 2000) -> dict:
    sys.path.insert(0, str(REPO))
    from grader.model import Cell
    from grader.sandbox.handle import StudentModule
    from grader.sandbox.isolation import choose

    confinement = choose(level)
    cells = [Cell("def identity(x):\n    return x\n", "hw1.py")]
    starts = []
    for _ in range(7):
        started = time.perf_counter()
        with StudentModule("hw1", cells, confinement=confinement) as module:
            module.load()
            starts.append(time.perf_counter() - started)
    x = np.random.default_rng(0).standard_normal((10, 10))
    with StudentModule("hw1", cells, confinement=confinement) as module:
        module.load()
        started = time.perf_counter()
        for _ in range(calls):
            module.call("identity", x)
        sequential = (time.perf_counter() - started) / calls
        started = time.perf_counter()
        for _ in range(calls // 4):
            module.send_calls("identity", [((x,), {})] * 4)
            for _ in range(4):
                module.next_answer()
        pipelined = (time.perf_counter() - started) / calls
    return {"layers": confinement.describe(), "start": statistics.median(starts), "call": sequential,
            "pipelined_call": pipelined}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"grade one submission (the reference, {args.runs} runs each, whole process, {os.cpu_count()} CPUs)")
    medians = {}
    for homework in HOMEWORKS:
        grading, cold = time_grading(homework, args.runs), time_grading(homework, args.runs, cold=True)
        medians[homework] = statistics.median(grading["walls"])
        extra = grading["results"]["extra_data"]
        per_function = extra["student_calls_per_function"]
        cold_median = statistics.median(cold["walls"])
        print(f"{homework}")
        print(f"  median wall time        {medians[homework]:.2f} s  (min {min(grading['walls']):.2f}, max {max(grading['walls']):.2f})")
        print(f"  the first grading       {cold_median:.2f} s  (the case cache emptied before each run; "
              f"the cache saves {cold_median / medians[homework]:.2f}x)")
        print(f"  peak memory, grader     {grading['peak_kib'] / 1024:.0f} MiB")
        print(f"  peak memory, worker     {extra['worker_peak_rss_kib'] / 1024:.0f} MiB")
        print(f"  student calls           {extra['student_calls']} in all; per function min {min(per_function.values())}, max {max(per_function.values())}")
        print(f"  score                   {grading['results']['score']:g} / {grading['results']['max_score']:g}")
        print(f"  isolation               {grading['results']['extra_data']['isolation']['layers']}")
    print(f"hw2 / hw1 time per submission: {medians['hw2'] / medians['hw1']:.2f}")
    from grader.errors import UsageError

    print("sandbox cost per isolation level (worker start-up: spawn, confine, import numpy, run the submission;")
    print("call: one 10x10 float64 array in and out)")
    print(f"  {'level':9s} {'start-up':>9s} {'call':>9s} {'pipelined':>10s}  layers")
    for level in ("auto", "landlock", "bwrap"):
        try:
            sandbox = time_sandbox(level)
        except UsageError as error:
            print(f"  {level:9s} not available here: {error}")
            continue
        print(f"  {level:9s} {sandbox['start'] * 1000:7.0f} ms {sandbox['call'] * 1000:6.3f} ms {sandbox['pipelined_call'] * 1000:7.3f} ms  "
              f"{sandbox['layers'].split(': ', 1)[1]}")


if __name__ == "__main__":
    main()
