"""Benchmark: the cost of grading one submission of each homework, against Otter-Grader and the plain-numpy floor.

Run:  python benchmarks/bench_grade.py [--runs N] [--otter PEERBENCH]

For hw1 and hw2, as whole processes, alternating round by round in one run:
  - `grader grade hwN <reference>` with the case cache written (every grading after an
    assignment version's first);
  - the plain-numpy floor (benchmarks/numpy_floor.py): a script that imports numpy and the
    submission, makes the very calls this grading makes (recorded from a real grading, in this
    run) and compares each answer with np.allclose; no sandbox, no hypothesis, no report;
  - `otter run` of Otter-Grader 7 on its correct notebook of three of these functions (15
    cases), from the team's peer kit (its `bash run_all.sh setup` builds it in $PEERBENCH, by
    default /tmp/peerbench; README, Speed); left out, with a note, where it is not built.
It prints the medians and the ratios (Otter / grader: at least 6; grader / floor: at most 4),
then the first grading of a version (the case cache emptied before each run), the peak memory
of the grader and its worker, `grader check` on the reference against plain pytest on the same
public tests (no sandbox: its yardstick), and the sandbox's start-up and call costs.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
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
FLOOR = REPO / "benchmarks" / "numpy_floor.py"


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one whole process; it must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return wall, usage.ru_maxrss


def record_calls(homework: str, path: Path) -> int:
    """Grade `homework`'s reference in this process and write every call it made, in order, with
    the answer (for numpy_floor.py); the number of calls."""
    sys.path.insert(0, str(REPO))
    from grader.grading.assignment import load_assignment
    from grader.grading.pipeline import grade_submission
    from grader.sandbox.calls import CallChannel, StudentAbort, StudentRaised

    calls, answers = [], []
    send_calls, send_ahead, next_answer = CallChannel.send_calls, CallChannel.send_ahead, CallChannel.next_answer

    def logged_send_calls(self, function, batch, request=None):
        send_calls(self, function, batch, request)
        calls.extend((function, args, kwargs) for args, kwargs in batch)

    def logged_send_ahead(self, function, batch, request=None):
        sent = send_ahead(self, function, batch, request)
        if sent:
            calls.extend((function, args, kwargs) for args, kwargs in batch)
        return sent

    def logged_next_answer(self):
        try:
            value = next_answer(self)
        except StudentRaised as error:
            answers.append(("raised", error.type_name))
            raise
        except StudentAbort:
            answers.append(("aborted", None))
            raise
        answers.append(("ok", value))
        return value

    CallChannel.send_calls, CallChannel.send_ahead, CallChannel.next_answer = logged_send_calls, logged_send_ahead, logged_next_answer
    try:
        assignment = load_assignment(homework, REPO / "assignments")
        report = grade_submission(assignment, REPO / "solutions" / homework / f"{homework}.py")
    finally:
        CallChannel.send_calls, CallChannel.send_ahead, CallChannel.next_answer = send_calls, send_ahead, next_answer
    if report.score != assignment.max_score or len(calls) != len(answers):
        raise SystemExit(f"recording {homework}'s calls: score {report.score}, {len(calls)} calls, {len(answers)} answers")
    with open(path, "wb") as handle:
        pickle.dump([(f, a, k, answer) for (f, a, k), answer in zip(calls, answers)], handle)
    return len(calls)


def otter_command(peerbench: Path) -> tuple[list[str], Path] | None:
    otter, work = peerbench / "otter" / "bin" / "otter", peerbench / "otter-work"
    if not (otter.is_file() and (work / "autograder.zip").is_file() and (work / "rnnhw.ipynb").is_file()):
        return None
    return [str(otter), "run", "--no-logo", "-a", "autograder.zip", "-o", "out", "rnnhw.ipynb"], work


def median(values: list[float]) -> float:
    return statistics.median(values)


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
    parser.add_argument("--record", nargs=2, metavar=("HOMEWORK", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--otter", type=Path, default=Path(os.environ.get("PEERBENCH", Path(tempfile.gettempdir()) / "peerbench")),
                        help="the peer kit's folder (PEERBENCH of ../shared/peers/run_all.sh setup)")
    args = parser.parse_args()
    if args.record:
        print(record_calls(args.record[0], Path(args.record[1])))
        return
    otter = otter_command(args.otter)
    print(f"grade one submission (the reference, whole processes, {args.runs} rounds, {os.cpu_count()} CPUs)")
    if otter is None:
        print(f"  Otter-Grader is not built in {args.otter}: `PEERBENCH={args.otter} bash PEERS/run_all.sh setup`, "
              "PEERS being the team's peer kit (README, Speed), builds it; its column is left out")
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as scratch:
        scratch = Path(scratch)
        env = {**os.environ, "GRADER_CACHE_DIR": str(scratch / "case-cache")}
        figures = {}
        for homework in HOMEWORKS:
            reference = REPO / "solutions" / homework / f"{homework}.py"
            calls_file = scratch / f"{homework}-calls.pickle"
            # in a process of its own (it also writes the case cache): this one stays small, since
            # a child's peak memory counts what it was between fork and exec
            recorded = subprocess.run([sys.executable, __file__, "--record", homework, str(calls_file)], env=env,
                                      capture_output=True, text=True, check=True)
            count = int(recorded.stdout.split()[-1])
            ours = [sys.executable, "-m", "grader", "grade", homework, str(reference), "--results-json",
                    str(scratch / "results.json"), "--quiet"]
            floor = [sys.executable, str(FLOOR), str(calls_file), str(reference)]
            timed(ours, REPO, env), timed(floor, REPO, env)  # warm the file cache; not counted
            walls = {"grader": [], "floor": [], "otter": []}
            peaks = []
            for _ in range(args.runs):
                wall, peak = timed(ours, REPO, env)
                walls["grader"].append(wall)
                peaks.append(peak)
                walls["floor"].append(timed(floor, REPO, env)[0])
                if otter is not None:
                    walls["otter"].append(timed(*otter)[0])
            results = json.loads((scratch / "results.json").read_text())
            cold = []
            for _ in range(max(3, args.runs // 2)):
                shutil.rmtree(scratch / "case-cache", ignore_errors=True)
                cold.append(timed(ours, REPO, env)[0])
            figures[homework] = {name: median(values) for name, values in walls.items() if values}
            extra = results["extra_data"]
            grader_median, floor_median = figures[homework]["grader"], figures[homework]["floor"]
            print(f"{homework}: {count} student calls; score {results['score']:g} / {results['max_score']:g}")
            print(f"  grader grade            {grader_median:.3f} s  (min {min(walls['grader']):.3f}, max {max(walls['grader']):.3f})")
            print(f"  plain-numpy floor       {floor_median:.3f} s  -> grader / floor = {grader_median / floor_median:.2f} (goal <= 4)")
            if otter is not None:
                otter_median = figures[homework]["otter"]
                print(f"  otter run (15 cases)    {otter_median:.3f} s  -> otter / grader = {otter_median / grader_median:.2f} (goal >= 6)")
            print(f"  the first grading       {median(cold):.3f} s  (case cache emptied before each run; the cache saves "
                  f"{median(cold) / grader_median:.2f}x)")
            print(f"  peak memory             grader {max(peaks) / 1024:.0f} MiB, worker {extra['worker_peak_rss_kib'] / 1024:.0f} MiB")
        print(f"hw2 / hw1 time per submission: {figures['hw2']['grader'] / figures['hw1']['grader']:.2f}")
        time_self_check(scratch, args.runs)

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


def time_self_check(scratch: Path, runs: int) -> None:
    """`grader check` on each reference, in a copy of the student's template, against plain pytest
    on the same public tests importing the module directly (no sandbox): its yardstick."""
    print("grader check (the reference in a copy of the template folder)")
    for homework in HOMEWORKS:
        folder = scratch / f"check-{homework}"
        shutil.copytree(REPO / "student_template" / homework, folder)
        shutil.copy(REPO / "solutions" / homework / f"{homework}.py", folder / f"{homework}.py")
        check = [sys.executable, "-m", "grader", "check", f"{homework}.py"]
        plain = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_public.py"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        timed(check, folder, env), timed(plain, folder, env)
        checks, plains = [], []
        for _ in range(runs):
            checks.append(timed(check, folder, env)[0])
            plains.append(timed(plain, folder, env)[0])
        print(f"  {homework}: grader check {median(checks):.3f} s; plain pytest {median(plains):.3f} s "
              f"-> check / pytest = {median(checks) / median(plains):.2f}")


if __name__ == "__main__":
    main()
