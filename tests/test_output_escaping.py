"""Item 9: student text reaches every report escaped for its medium. Real CLI runs.

A submission (the reference, with `normalize` raising, its code printing, and its top level
raising) puts the same hostile text everywhere it can: terminal escape sequences, a one-byte
CSI, a carriage return, a bidi override, a lone surrogate, U+FFFE, and Markdown that would
forge our score line, a heading, an HTML comment and a row of our table. Its file name holds
backticks, a newline and a heading of its own. The assignment is the small one of `grader new
tiny` (the `tiny` fixture): reports, not hw1, are the subject.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from grading_helpers import Homework, run_grader

FORGED = "\n# Score: 10 / 10\n**Score: 10 / 10**\n<!--\n| normalize | 6 | 6 | ✓ |\n```\n~~~\n[link](javascript:alert(1))\n"
HOSTILE = "boom\x1b[2J\x1b]0;pwned\x07\x9b31m\rhidden" + FORGED + "\u202eevil"
HOSTILE_RAISED = HOSTILE + "\ud800\ufffe"  # a lone surrogate crosses the wire in a message, not in printed bytes
HOSTILE_NAME = "evil```\n# Score: 10 | x\x1b[31m.py"
FUNCTIONS = 2


def hostile_submission(homework: Homework, path: Path) -> Path:
    source = homework.reference.read_text()
    source += f"\n\ndef normalize(x, axis=-1):\n    raise ValueError({HOSTILE_RAISED!r})\n"
    source += f"\nprint({HOSTILE!r})\n\nraise RuntimeError({HOSTILE_RAISED!r})\n"
    path.write_text(source, encoding="utf-8")
    return path


def unsafe_characters(text: str) -> set[str]:
    """Control, surrogate and bidi characters other than newline and tab."""
    return {c for c in text if c not in "\n\t" and (unicodedata.category(c) in ("Cc", "Cs") or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")}


def markdown_outside_code(text: str) -> list[str]:
    """The lines of `text` that CommonMark renders as Markdown, not as code: fenced blocks removed
    (a fence closes on a line of at least as many backticks, or when a line leaves the list item
    the fence is indented into), and code spans removed from the rest."""
    outside, fence, indent = [], None, 0
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        depth = len(line) - len(stripped)
        if fence is not None:
            if stripped.strip() and depth < indent:
                fence = None  # the list item ended, and the fenced block with it
            elif re.fullmatch(r"`{%d,}\s*" % len(fence), stripped) and depth <= indent + 3:
                fence = None
                continue
            else:
                continue
        opening = re.match(r"(`{3,})[^`]*$", stripped)
        if opening:
            fence, indent = opening.group(1), depth
            continue
        outside.append(re.sub(r"(`+)(?:(?!\1).)+?\1", "", line))  # drop code spans
    return outside


def test_hostile_text_is_escaped_in_terminal_junit_results_and_feedback(tiny, tmp_path):
    submission = hostile_submission(tiny, tmp_path / HOSTILE_NAME)
    results, feedback, junit = tmp_path / "results.json", tmp_path / "feedback.md", tmp_path / "junit.xml"
    completed = run_grader(*tiny.option(), "grade", "tiny", submission, "--results-json", results, "--feedback", feedback,
                           "--junit-xml", junit)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(results.read_text())
    assert data["score"] < 10 and any("boom" in t["output"] for t in data["tests"])

    # Terminal: no control character but newline and tab; the title is one line, the table follows it.
    assert unsafe_characters(completed.stdout) == set(), unsafe_characters(completed.stdout)
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("tiny — evil```\\n# Score: 10") and lines[1].startswith("function")
    assert "\\x1b[2J" in completed.stdout and unsafe_characters(completed.stderr) == set()

    # JUnit: well-formed, and its texts hold no control character but newline and tab.
    root = ET.parse(junit).getroot()
    texts = [root.get("name", "")] + [v for e in root.iter() for v in [e.text or "", *e.attrib.values()]]
    assert any("boom" in t for t in texts) and unsafe_characters("".join(texts)) == set()

    # results.json: plain text for Gradescope, without control characters.
    assert (data["output_format"], data["test_output_format"], data["test_name_format"]) == ("text", "text", "text")
    outputs = data["output"] + "".join(t["output"] + t["name"] for t in data["tests"])
    assert "boom" in data["output"] and unsafe_characters(outputs) == set()

    # feedback.md: the student's text is code; our title, score, headings and table are the only structure.
    text = feedback.read_text(encoding="utf-8")
    assert text.count("boom") >= 3  # the note, the failed checks, the printed output: all shown
    outside = markdown_outside_code(text)
    headings = [line for line in outside if line.lstrip().startswith("#")]
    assert headings == ["# Feedback: tiny, ", "## Before grading", "## Per function", "## What to fix", "### ",
                        "## What your code printed"], headings
    assert [line for line in outside if "Score" in line] == [f"**Score: {round(data['score'], 2):g} / 10**"]
    rows = [line for line in outside if line.lstrip().startswith("|")]
    assert len(rows) == 2 + FUNCTIONS and rows[2].startswith("|  | ") and rows[2].count("|") == 5
    assert not any(marker in line for line in outside for marker in ("<!--", "](", "~~~", "\x1b"))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.hrefs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [value for name, value in attrs if name == "href"]


def test_class_names_are_text_in_the_gradebook_and_paths_in_summary_links(tiny, tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    names = ['=HYPERLINK("evil.example","x")', "-1", "@SUM(1)", "+cmd", "javascript:alert(1)",
             '"><script>alert(1)<', "alice"]
    for name in names:
        (folder / f"{name}.py").write_text(f'raise ValueError({"=1+2 <script>" + HOSTILE!r})\n')
    completed = run_grader(*tiny.option(), "grade-all", "tiny", folder, "--out", out, "--jobs", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr

    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert len(body) == len(names)
    for row in body:
        student, numbers, notes = row[0], row[1:-1], row[-1]
        assert all(float(n) >= 0 for n in numbers)  # our numbers stay numbers
        for cell in (student, notes):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert unsafe_characters(cell) == set()
    students = sorted(row[0] for row in body)
    assert students == sorted("'" + n if n[0] in "=+-@" else n for n in names)

    page = (out / "summary.html").read_text(encoding="utf-8")
    links = _Links()
    links.feed(page)
    assert "script" not in links.tags
    student_links = [href for href in links.hrefs if href.endswith("/feedback.html")]
    assert len(student_links) >= len(names)
    assert all(href.startswith("./") and ":" not in href and '"' not in href for href in student_links), student_links
    for name in names:
        feedback_page = _Links()
        feedback_page.feed((out / name / "feedback.html").read_text(encoding="utf-8"))
        assert "script" not in feedback_page.tags


def test_plain_text_escapes_exactly_the_control_surrogate_and_invisible_formatting_characters():
    from grader.report.escaping import _INVISIBLE_FORMATTING, plain_text

    # every Cc and Cs character is in the Basic Multilingual Plane; a few others of the other planes too
    assert plain_text("\r") == "\n"  # a line end, as \r\n is
    for code in [*range(0x10000), 0x1F600, 0xE0001, 0x10FFFF]:
        char = chr(code)
        if char != "\r":
            unsafe = (unicodedata.category(char) in ("Cc", "Cs") or char in _INVISIBLE_FORMATTING) and char not in "\n\t"
            assert (plain_text(char) != char) == unsafe, hex(code)
