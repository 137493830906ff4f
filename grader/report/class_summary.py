"""What the instructor's summary.html shows, computed from the students' records.

Everything here is numbers and strings; the chart geometry (bar positions and sizes, in SVG
user units) is computed here too, so the template only places what it is given.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

HISTOGRAM_BINS = 10
TOP_MISCONCEPTIONS = 15
SLOWEST = 10

# Chart sizes, in SVG user units.
HIST_WIDTH, HIST_HEIGHT, HIST_MARGIN = 640, 220, 30
BAR_CHART_WIDTH, BAR_ROW, BAR_LABEL = 640, 26, 190


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label, value, and rectangle."""

    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    text: str = ""


@dataclass
class ClassSummary:
    assignment: str
    title: str
    students: int
    max_score: float
    mean: float
    median: float
    full_marks: int
    histogram: list[Bar] = field(default_factory=list)
    histogram_top: int = 0
    functions: list[dict] = field(default_factory=list)
    function_bars: list[tuple[Bar, Bar]] = field(default_factory=list)
    misconceptions: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    slowest: list[dict] = field(default_factory=list)
    workers: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    run: dict = field(default_factory=dict)
    similarity: dict | None = None  # grader.report.similarity.summary_section, when grade-all ran with --similarity

    @property
    def histogram_size(self) -> tuple[int, int]:
        return HIST_WIDTH, HIST_HEIGHT + HIST_MARGIN

    @property
    def bar_chart_size(self) -> tuple[int, int]:
        return BAR_CHART_WIDTH, BAR_ROW * max(1, len(self.function_bars)) + 24


def summarise(assignment: str, title: str, records: Sequence[dict], points: Mapping[str, float], run: dict,
              similarity: dict | None = None) -> ClassSummary:
    """The class summary of `records` (one per student) for an assignment worth `points` per
    function; with `similarity` (grader.report.similarity.summary_section), its section too."""
    max_score = float(sum(points.values()))
    scores = [float(r["score"]) for r in records]
    summary = ClassSummary(
        assignment=assignment, title=title, students=len(records), max_score=max_score,
        mean=statistics.mean(scores) if scores else 0.0, median=statistics.median(scores) if scores else 0.0,
        full_marks=sum(1 for s in scores if s >= max_score - 1e-9), run=run, similarity=similarity,
    )
    summary.histogram, summary.histogram_top = _histogram(scores, max_score)
    summary.functions = _function_stats(records, points)
    summary.function_bars = _function_bars(summary.functions)
    summary.misconceptions = _misconceptions(records)
    summary.problems = [{"student": r["student"], "submission": r.get("submission", ""), "score": r["score"],
                         "reason": r["notes"][0]} for r in records if r.get("notes") and _is_problem(r)]
    timed = sorted(records, key=lambda r: -float(r.get("timings", {}).get("total", 0.0)))
    summary.slowest = [{"student": r["student"], **{k: float(v) for k, v in r.get("timings", {}).items()}} for r in timed[:SLOWEST]]
    summary.workers = _worker_timings(records)
    summary.rows = [{"student": r["student"], "score": r["score"], "notes": r.get("notes", []),
                     "functions": r.get("functions", {})} for r in records]
    return summary


def _worker_timings(records: Sequence[dict]) -> list[dict]:
    """Per cluster worker (a record's `worker`, set when grade-all ran on a cluster): how many
    students it graded in this run and earlier ones, their total and mean time, slowest first.
    Empty when no record names a worker."""
    by_worker: dict[str, list[float]] = {}
    for record in records:
        if record.get("worker"):
            by_worker.setdefault(str(record["worker"]), []).append(float(record.get("timings", {}).get("total", 0.0)))
    rows = [{"worker": worker, "students": len(times), "total": sum(times), "mean": statistics.mean(times),
             "slowest": max(times)} for worker, times in by_worker.items()]
    return sorted(rows, key=lambda row: (-row["total"], row["worker"]))


def _is_problem(record: dict) -> bool:
    """A submission that could not be graded as a whole: unreadable, did not run, scored 0 with a note
    saying why (a syntax error), or met a fault of the grader."""
    return (record.get("status") == "grader fault" or float(record["score"]) == 0
            or record.get("load_status") in ("unreadable", "not_run"))


def _histogram(scores: list[float], max_score: float) -> tuple[list[Bar], int]:
    counts = [0] * HISTOGRAM_BINS
    for score in scores:
        index = min(HISTOGRAM_BINS - 1, int(HISTOGRAM_BINS * score / max_score)) if max_score > 0 else 0
        counts[index] += 1
    top = max(counts) if counts else 0
    width = HIST_WIDTH / HISTOGRAM_BINS
    bars = []
    for index, count in enumerate(counts):
        low = max_score * index / HISTOGRAM_BINS
        high = max_score * (index + 1) / HISTOGRAM_BINS
        label = f"{low:g}–{high:g}" if index < HISTOGRAM_BINS - 1 else f"{low:g}–{high:g}"
        height = 0.0 if top == 0 else (HIST_HEIGHT - 20) * count / top
        bars.append(Bar(label, count, x=index * width + 2, y=HIST_HEIGHT - height, width=width - 4, height=height,
                        text=str(count) if count else ""))
    return bars, top


def _function_stats(records: Sequence[dict], points: Mapping[str, float]) -> list[dict]:
    stats = []
    for name, worth in points.items():
        got = [float(r.get("functions", {}).get(name, 0.0)) for r in records]
        mean = statistics.mean(got) if got else 0.0
        passed = sum(1 for g in got if g >= worth - 1e-9)
        stats.append({"name": name, "points": worth, "mean": mean, "mean_fraction": mean / worth if worth else 0.0,
                      "pass_rate": passed / len(got) if got else 0.0, "passed": passed})
    return stats


def _function_bars(stats: list[dict]) -> list[tuple[Bar, Bar]]:
    span = BAR_CHART_WIDTH - BAR_LABEL - 50
    bars = []
    for row, stat in enumerate(stats):
        y = row * BAR_ROW + 4
        mean = Bar(stat["name"], stat["mean_fraction"], x=BAR_LABEL, y=y, width=span * stat["mean_fraction"], height=10,
                   text=f"{100 * stat['mean_fraction']:.0f}%")
        passed = Bar(stat["name"], stat["pass_rate"], x=BAR_LABEL, y=y + 11, width=span * stat["pass_rate"], height=10,
                     text=f"{100 * stat['pass_rate']:.0f}%")
        bars.append((mean, passed))
    return bars


def _misconceptions(records: Sequence[dict]) -> list[dict]:
    counts: Counter = Counter()
    for record in records:
        for function, title in {tuple(pair) for pair in record.get("misconceptions", [])}:
            counts[(function, title)] += 1
    total = max(1, len(records))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"function": function, "title": title, "students": count, "share": count / total}
            for (function, title), count in ranked[:TOP_MISCONCEPTIONS]]
