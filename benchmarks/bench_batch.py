"""Grading a class: throughput of `grader grade-all` with 1 and 2 jobs, memory, and where the time goes.

    python benchmarks/bench_batch.py [--students 100] [--jobs 1 2]

Generates a class (tests/class_folders.py: per 20 students, 6 right answers in .py, loop,
einsum, notebook and folder form, 8 realistic mistakes, 3 broken files, 3 hostile
submissions), grades it from scratch once per job count as a whole `grader grade-all`
process, and prints submissions per minute, the speed-up, peak memory (the largest single
process of each role, and the whole process tree, sampled every 0.1 s; the memory-bomb
submissions push their worker to its 1 GiB limit), and the time per submission split
into start-up (reading the file, starting the sandboxed worker, running the top-level code),
checking and reporting, from the students' records.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

from class_folders import make_class  # noqa: E402


def tree_rss_kib(root: int) -> tuple[int, dict[str, int]]:
    """The resident memory of `root` and all its descendants, in KiB: in all, and the largest
    single process of each role (grade-all, job, worker)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    roles: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        pid = int(entry.name)
        children.setdefault(parent, []).append(pid)
        roles[pid] = "worker" if b"grader.sandbox.worker" in cmdline else ("bwrap" if cmdline.startswith(b"/usr/bin/bwrap") else "job")
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1])
    roles[root] = "grade-all"
    total, largest, stack = 0, {}, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        role = roles.get(pid, "job")
        largest[role] = max(largest.get(role, 0), rss.get(pid, 0))
        stack.extend(children.get(pid, []))
    return total, largest


def run(folder: Path, out: Path, jobs: int) -> dict:
    command = [sys.executable, "-m", "grader", "grade-all", "hw1", str(folder), "--out", str(out), "--jobs", str(jobs),
               "--force", "--quiet"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, samples, largest = [0], [], {}

    def sample() -> None:
        while process.poll() is None:
            total, by_role = tree_rss_kib(process.pid)
            peak[0] = max(peak[0], total)
            samples.append(total)
            for role, kib in by_role.items():
                largest[role] = max(largest.get(role, 0), kib)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"grade-all exited {process.returncode}: {stderr[-2000:]}")
    records = [json.loads(p.read_text()) for p in out.glob("*/record.json")]
    return {"jobs": jobs, "wall": wall, "students": len(records), "peak_tree_kib": peak[0],
            "median_tree_kib": statistics.median(samples) if samples else 0, "largest": largest, "records": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as temporary:
        root = Path(temporary)
        kinds = make_class(root / "class", args.students)
        mix = {kind: sum(1 for k, _ in kinds.values() if k == kind) for kind in ("correct", "buggy", "broken", "hostile")}
        print(f"class: {args.students} submissions ({', '.join(f'{n} {k}' for k, n in mix.items())})")
        results = []
        for jobs in args.jobs:
            result = run(root / "class", root / f"out-{jobs}", jobs)
            results.append(result)
            per_minute = 60 * result["students"] / result["wall"]
            largest = ", ".join(f"{role} {kib / 1024:.0f}" for role, kib in sorted(result["largest"].items()))
            print(f"jobs {jobs}: {result['wall']:.1f} s for {result['students']} -> {per_minute:.1f} submissions/minute; "
                  f"memory (MiB): whole process tree median {result['median_tree_kib'] / 1024:.0f}, peak "
                  f"{result['peak_tree_kib'] / 1024:.0f}; largest single process by role: {largest}")
        if len(results) >= 2:
            base = results[0]
            for other in results[1:]:
                print(f"speed-up of {other['jobs']} jobs over {base['jobs']}: {base['wall'] / other['wall']:.2f}x")
        records = results[-1]["records"]
        print(f"\ntime per submission ({len(records)} students, jobs {results[-1]['jobs']}), from the records:")
        print(f"{'part':<10} {'median s':>9} {'mean s':>8} {'max s':>7}")
        for part in ("startup", "checking", "reporting", "total"):
            values = [float(r["timings"].get(part, 0.0)) for r in records]
            print(f"{part:<10} {statistics.median(values):>9.3f} {statistics.mean(values):>8.3f} {max(values):>7.2f}")
        by_kind: dict[str, list[float]] = {}
        for record in records:
            kind = kinds.get(record["student"], ("?", ""))[0]
            by_kind.setdefault(kind, []).append(float(record["timings"].get("total", 0.0)))
        print("\nmedian total per kind: " + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in sorted(by_kind.items())))


if __name__ == "__main__":
    main()
