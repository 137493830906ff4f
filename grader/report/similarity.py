"""The similarity report's files, from a grader.model.SimilarityReport: pure writers.

    pairs.csv              a,b,score: every reported pair, highest first
    similarity.html        the ranked index, the method and its thresholds, what was skipped
    pairs/pair-0001.html   one page per reported pair: the two listings side by side, the
                           passages they share highlighted (named by rank, never by a student's name)

Student names and code are text: Jinja2 autoescapes them (grader/report/html.py's environment),
CSV cells go through `csv_cell`. Nothing depends on the time or the machine: the same report
gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from grader.model import CodeListing, SimilarityReport, SimilarPair
from grader.report.escaping import csv_cell
from grader.report.html import render

INDEX = "similarity.html"
PAIRS_CSV = "pairs.csv"
PAIR_FOLDER = "pairs"
SHOWN_LINE_CHARS = 1000  # a longer line is cut on the page, saying how much was left out
PASSAGE_COLOURS = 6  # highlight classes p0 .. p5, in turn
SUMMARY_PAIRS = 10  # pairs shown in summary.html's section


@dataclass(frozen=True)
class Line:
    """One line of a listing on a pair's page: its number, its text, the passage (1-based) it belongs to, or 0."""

    number: int
    text: str
    passage: int


def pair_page_name(rank: int) -> str:
    """The page of the pair ranked `rank` (1-based), relative to the report's folder."""
    return f"{PAIR_FOLDER}/pair-{rank:04d}.html"


def pairs_csv(report: SimilarityReport) -> str:
    """`a,b,score`, one row per reported pair, highest score first; the score with three decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["a", "b", "score"])
    for pair in report.pairs:
        writer.writerow([csv_cell(pair.a), csv_cell(pair.b), f"{pair.score:.3f}"])
    return buffer.getvalue()


def similarity_files(report: SimilarityReport) -> dict[str, str]:
    """Every file of the report, by path relative to its folder (see the module docstring)."""
    files = {PAIRS_CSV: pairs_csv(report), INDEX: render("similarity.html.j2", r=report, links=_links(report, ""))}
    for rank, pair in enumerate(report.pairs, start=1):
        files[pair_page_name(rank)] = pair_html(report, pair, rank)
    return files


def pair_html(report: SimilarityReport, pair: SimilarPair, rank: int) -> str:
    """The side-by-side page of `pair`, ranked `rank`."""
    a_ranges = [passage.a_spans for passage in pair.passages]
    b_ranges = [passage.b_spans for passage in pair.passages]
    return render("similarity_pair.html.j2", r=report, pair=pair, rank=rank, colours=PASSAGE_COLOURS,
                  a=report.listings[pair.a], b=report.listings[pair.b],
                  a_lines=shown_lines(report.listings[pair.a], a_ranges),
                  b_lines=shown_lines(report.listings[pair.b], b_ranges))


def shown_lines(listing: CodeListing, passages: list[tuple[tuple[int, int], ...]]) -> list[Line]:
    """The listing's lines, each marked with the first passage (1-based) one of whose spans
    (first, last line, inclusive) holds it, 0 for none; a line longer than SHOWN_LINE_CHARS is
    cut, saying by how much."""
    marks = [0] * (len(listing.lines) + 1)
    for index, spans in reversed(list(enumerate(passages, start=1))):
        for first, last in spans:
            for number in range(max(1, first), min(last, len(listing.lines)) + 1):
                marks[number] = index
    lines = []
    for number, text in enumerate(listing.lines, start=1):
        if len(text) > SHOWN_LINE_CHARS:
            text = f"{text[:SHOWN_LINE_CHARS]}… ({len(text) - SHOWN_LINE_CHARS:,} more characters)"
        lines.append(Line(number, text, marks[number]))
    return lines


def summary_section(report: SimilarityReport, folder: str) -> dict:
    """What summary.html's section shows: the report, its first SUMMARY_PAIRS pairs, and links
    into the report's `folder` (relative to summary.html)."""
    return {"r": report, "pairs": report.pairs[:SUMMARY_PAIRS], "links": _links(report, f"{folder}/"),
            "index": f"{folder}/{INDEX}"}


def _links(report: SimilarityReport, prefix: str) -> list[str]:
    return [prefix + pair_page_name(rank) for rank in range(1, len(report.pairs) + 1)]
