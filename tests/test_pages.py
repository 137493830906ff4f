"""summary.html and feedback.html fit a phone and a desktop: headless Chromium at 400 and 1280 px.

The pages come from the real CLI (`grader grade-all`) on a small class: two examples and a
student with a very long file name whose code raises a long unbroken error, and whose
feedback names a likely cause. They are measured by scripts/check_pages.py (the script the
README names), run as a person runs it. Without Chromium these tests fail, saying what to
install: a page check that cannot run must not pass.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, load_module
from grading_helpers import run_grader

from grader.model import Cause, CheckResult, Report
from grader.report.html import feedback_html

SCRIPT = REPO / "scripts" / "check_pages.py"
check_pages = load_module(SCRIPT, "check_pages")
LONG_NAME = "zoe_" + "with_a_very_long_file_name_" * 3 + "final_v3"
WIDTHS = (1280, 400)


def require_chromium() -> None:
    try:
        check_pages.find_chromium()
    except check_pages.ChromiumMissing as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """summary.html of the class and the long-named student's feedback.html, from `grader grade-all`."""
    root = tmp_path_factory.mktemp("pages")
    students, out = root / "class", root / "out"
    students.mkdir()
    for name in ("alice_full_marks.py", "bob_partly_wrong.py"):
        shutil.copy(REPO / "examples" / "hw1" / name, students / name)
    (students / f"{LONG_NAME}.py").write_text(
        check_pages.long_error_submission(REPO / "examples" / "hw1" / "bob_partly_wrong.py"), encoding="utf-8")
    completed = run_grader("grade-all", "hw1", students, "--out", out, "--jobs", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr
    return {"summary": out / "summary.html", "feedback": out / LONG_NAME / "feedback.html"}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def processes_mentioning(text: str) -> list[str]:
    """The command lines of running processes that contain `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and text in command:
            found.append(command)
    return found


def test_both_pages_fit_400_and_1280_px_in_chromium_and_the_script_leaves_nothing_behind(pages, tmp_path):
    require_chromium()
    feedback_text = pages["feedback"].read_text(encoding="utf-8")
    assert "could_not_open_/home/student/" in feedback_text and "x" * 160 in feedback_text  # the long error line
    assert LONG_NAME in pages["summary"].read_text(encoding="utf-8")  # the long-named student

    shots = tmp_path / "shots"
    scratch = Path(tempfile.mkdtemp(prefix="pages-"))  # short: Chromium's sockets live under it
    try:
        completed = subprocess.run([sys.executable, str(SCRIPT), str(pages["summary"]), str(pages["feedback"]),
                                    "--shots", str(shots), "--json"], cwd=REPO, capture_output=True, text=True,
                                   timeout=600, env={**os.environ, "TMPDIR": str(scratch)})
        # Chromium ran with its profile, HOME and TMPDIR under TMPDIR: all gone, and no process left.
        assert list(scratch.iterdir()) == []
        assert processes_mentioning(str(scratch)) == []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    measured = {(Path(m["page"]).name, m["width"]): m for m in json.loads(completed.stdout)}
    assert set(measured) == {(page.name, width) for page in pages.values() for width in WIDTHS}

    for (page, width), m in measured.items():
        where = f"{page} at {width} px: {m}"
        assert m["innerWidth"] == m["clientWidth"] == width, where  # measured at exactly that width
        assert m["scrollWidth"] <= m["innerWidth"], where  # no sideways scrolling
        assert m["tooWide"] == [], where  # no table, chart or text past the right edge
        assert png_size(Path(m["screenshot"]))[0] == width, where
    assert all(measured["feedback.html", width]["likelyCauses"] >= 1 for width in WIDTHS)


def test_the_measure_sees_a_page_that_scrolls_sideways(tmp_path):
    """The check can fail: a table with a long unbroken name, as the pages had before, scrolls at 400 px."""
    require_chromium()
    page = tmp_path / "wide.html"
    page.write_text(f"<!DOCTYPE html><html><body><table><tr><td>{'long_name_' * 60}</td></tr></table></body></html>")
    m = check_pages.measure(page, 400)
    assert m["innerWidth"] == 400 and m["scrollWidth"] > 1000 and "table" in m["tooWide"], m
    assert check_pages.scrolls_sideways(m)


def test_without_chromium_the_script_says_what_to_install(tmp_path):
    completed = subprocess.run([sys.executable, str(SCRIPT), str(SCRIPT)], cwd=REPO, capture_output=True, text=True,
                               timeout=60, env={**os.environ, "PATH": str(tmp_path)})
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "apt-get install chromium" in completed.stderr


def _report(detail: str, causes: tuple[Cause, ...]) -> Report:
    message = "\n".join([detail, *(f"{cause.label}: {cause.text}" for cause in causes)])
    failed = CheckResult(function="softmax", name="softmax: matches the reference", score=0.0, max_score=2.0,
                         passed=False, message=message, visibility="visible",
                         misconceptions=tuple(cause.text.split(".")[0] for cause in causes[:1]), causes=causes)
    return Report(assignment="hw1", submission="s.py", results=(failed,), notes=(), student_output="",
                  execution_time=0.1, function_points={"softmax": 2.0})


def test_the_likely_cause_is_its_own_highlighted_element_with_the_message_wording():
    page = feedback_html(_report("Failed on n=2: max |Δ| = 0.5 at [1]", (
        Cause("Likely cause", "the axis is ignored. Pass axis to max and sum."),
        Cause("Or perhaps", "no max subtracted. Subtract the maximum first."))))
    assert "<pre>Failed on n=2: max |Δ| = 0.5 at [1]</pre>" in page
    assert ('<p class="cause likely-cause"><strong>Likely cause:</strong> the axis is ignored. '
            "Pass axis to max and sum.</p>") in page
    assert '<p class="cause"><strong>Or perhaps:</strong> no max subtracted. Subtract the maximum first.</p>' in page


def test_causes_come_from_the_result_not_from_what_a_student_wrote():
    # A student's error message that imitates a cause stays in the detail: only the result's causes are causes.
    forged = "Failed: softmax raised ValueError: boom\nLikely cause: nothing. You deserve full marks."
    page = feedback_html(_report(forged, ()))
    assert "<pre>Failed: softmax raised ValueError: boom\nLikely cause: nothing. You deserve full marks.</pre>" in page
    assert 'class="cause' not in page
    page = feedback_html(_report(forged, (Cause("Likely cause", "sum instead of mean. Divide."),)))
    assert "<pre>Failed: softmax raised ValueError: boom\nLikely cause: nothing. You deserve full marks.</pre>" in page
    assert page.count('class="cause') == 1
    assert '<p class="cause likely-cause"><strong>Likely cause:</strong> sum instead of mean. Divide.</p>' in page
