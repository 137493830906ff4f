"""Look at the grader's HTML pages in a real browser: headless Chromium at 1280 and 400 px.

    python scripts/check_pages.py [PAGE.html ...] [--shots DIR] [--json]

For each page and width it writes a screenshot, `DIR/<page>-<width>.png`, for a person to look
at, and measures whether the page scrolls sideways (the page in a frame of that width, read by
a small script of a temporary harness page, printed with --dump-dom): its
`document.documentElement.scrollWidth` against the viewport's width, and which elements (not
clipped by a scrolling box of their own) reach past its right edge.
Without PAGE arguments it grades a small demo class with the real CLI into `DIR/demo-class/`
(examples/hw1's alice and bob, and a student with a very long file name whose code raises a
long unbroken error) and checks its summary.html and that student's feedback.html.

Exit status: 0 when no page scrolls sideways at any width, 1 when one does, 2 when Chromium is
missing (`apt-get install chromium`) or a page does not exist.

Chromium runs with a new, empty profile (and HOME and TMPDIR) in a temporary folder, without
network services, under a timeout; its whole process group is killed and the folder removed
afterwards, so nothing is left behind.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDTHS = (1280, 400)
SCREENSHOT_HEIGHT = 800  # at least; a screenshot is as tall as the page, up to MAX_SCREENSHOT_HEIGHT
MAX_SCREENSHOT_HEIGHT = 12000
TIMEOUT_SECONDS = 60
SHORT_PATH = 40
INSTALL_HINT = "chromium not found: install it with `apt-get install chromium` (Debian) and try again"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)

# The page is measured inside an iframe exactly `width` px wide, in a harness page whose script
# (not the page's: the measured page runs no script, and its Content-Security-Policy, if it ever
# has one, applies to it unchanged) reads the laid-out page through the same-origin `srcdoc`
# frame and writes the numbers into its own DOM, which --dump-dom prints. An iframe because a
# headless Chromium window is never narrower than 500 px, however small --window-size asks
# (--screenshot alone resizes its view to the exact size).
# An element counts as too wide when its right edge passes the viewport and no ancestor of it
# (below <body>) clips or scrolls its overflow: a wide table inside an `overflow-x: auto` box
# is fine, the box itself is what must fit.
HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script>
function measure(frame) {
  var view = frame.contentWindow, doc = frame.contentDocument, root = doc.documentElement, viewport = root.clientWidth;
  function contained(element) {
    for (var a = element.parentElement; a && a !== doc.body; a = a.parentElement) {
      if (view.getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  }
  var tooWide = [];
  doc.body.querySelectorAll("*").forEach(function (element) {
    if (element.getBoundingClientRect().right > viewport + 0.5 && !contained(element)) {
      var name = element.getAttribute("class");
      tooWide.push(element.tagName.toLowerCase() + (name ? "." + name.split(" ").join(".") : ""));
    }
  });
  var metrics = {scrollWidth: root.scrollWidth, scrollHeight: root.scrollHeight, innerWidth: view.innerWidth, clientWidth: viewport,
                 tooWide: tooWide, likelyCauses: doc.querySelectorAll(".likely-cause").length,
                 highlighted: doc.querySelectorAll(".match").length};
  var out = document.createElement("pre");
  out.id = "page-metrics";
  out.textContent = JSON.stringify(metrics);
  document.body.appendChild(out);
}
</script></head>
<body style="margin: 0"><iframe style="width: %(width)dpx; height: 1000px; border: 0" onload="measure(this)" srcdoc="%(page)s"></iframe></body></html>
"""
_METRICS = re.compile(r'<pre id="page-metrics">(.*?)</pre>', re.S)


class ChromiumMissing(RuntimeError):
    """No Chromium on this machine: the checks cannot run (and must not pass silently)."""


def find_chromium() -> str:
    """The path of a Chromium (or Chrome) binary; ChromiumMissing if there is none."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumMissing(INSTALL_HINT)


def _run_chromium(arguments: list[str], timeout: float = TIMEOUT_SECONDS) -> str:
    """Run headless Chromium with `arguments` in a fresh profile; its stdout. The browser and
    every process it started (one process group) are killed, and its profile removed, whatever
    happens."""
    binary = find_chromium()
    base = tempfile.gettempdir()
    if len(base) > SHORT_PATH:  # Chromium's unix sockets go under its TMPDIR, and their paths must be short
        base = "/tmp"
    scratch = Path(tempfile.mkdtemp(prefix="check-pages-chromium-", dir=base))
    profile, home, tmp = scratch / "profile", scratch / "home", scratch / "tmp"
    for folder in (profile, home, tmp):
        folder.mkdir()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache")}
    command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        raise RuntimeError(f"chromium took more than {timeout:g} s: {' '.join(arguments)}") from None
    finally:
        _kill_group(process.pid)
        shutil.rmtree(scratch, ignore_errors=True)
    if process.returncode != 0:
        raise RuntimeError(f"chromium failed (exit {process.returncode}): {stderr.strip()[-500:]}")
    return stdout


def _kill_group(pgid: int) -> None:
    """Kill the process group `pgid` (the browser we started and its helpers) and wait until it is gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def screenshot(page: Path, png: Path, width: int, height: int = SCREENSHOT_HEIGHT) -> Path:
    """A screenshot of the top `height` px of `page` in a window `width` px wide (the whole page
    when `height` is its height)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run_chromium([f"--window-size={width},{height}", f"--screenshot={png.resolve()}", page.resolve().as_uri()])
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot {png}")
    return png


def measure(page: Path, width: int) -> dict:
    """How `page` lays out in a viewport `width` px wide: scrollWidth, innerWidth, clientWidth (the
    viewport without a scroll bar), the elements too wide for it, the number of `.likely-cause`
    elements (feedback) and of `.match` elements (the highlighted lines of a similarity pair's page)."""
    with tempfile.TemporaryDirectory(prefix="check-pages-harness-") as folder:
        harness = Path(folder) / "harness.html"
        text = page.read_text(encoding="utf-8")
        harness.write_text(HARNESS % {"width": width, "page": html.escape(text, quote=True)}, encoding="utf-8")
        dom = _run_chromium([f"--window-size={max(width, 500) + 20},1100", "--dump-dom", harness.as_uri()])
    found = _METRICS.search(dom)
    if not found:
        raise RuntimeError(f"the measuring script did not run on {page}")
    return {"page": str(page), "width": width, **json.loads(html.unescape(found.group(1)))}


def scrolls_sideways(metrics: dict) -> bool:
    """Whether the page is wider than its viewport, or has an element that reaches past it."""
    return metrics["scrollWidth"] > metrics["clientWidth"] or bool(metrics["tooWide"])


def demo_class(folder: Path) -> list[Path]:
    """Grade a small demo class with the real CLI into `folder`; its summary.html and the
    long-named student's feedback.html."""
    students = folder / "class"
    students.mkdir(parents=True)
    examples = REPO / "examples" / "hw1"
    for name in ("alice_full_marks.py", "bob_partly_wrong.py"):
        shutil.copy(examples / name, students / name)
    long_name = "zoe_" + "with_a_very_long_file_name_" * 3 + "final_v3"
    (students / f"{long_name}.py").write_text(long_error_submission(examples / "bob_partly_wrong.py"), encoding="utf-8")
    out = folder / "out"
    completed = subprocess.run([sys.executable, "-m", "grader", "grade-all", "hw1", str(students), "--out", str(out),
                                "--jobs", "2", "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        raise RuntimeError(f"grader grade-all failed: {completed.stderr.strip()}")
    return [out / "summary.html", out / long_name / "feedback.html"]


def long_error_submission(base: Path) -> str:
    """`base`'s code (with its misconceptions, so the feedback names a likely cause) whose
    softmax raises an error with a long unbroken message (a path), as a student's code can."""
    path = "/home/student/projects/nlp-course/homework-one/data/precomputed_softmax_tables/" + "x" * 160 + ".npy"
    return base.read_text(encoding="utf-8") + (
        "\n\ndef softmax(x, axis=-1):\n"
        f"    raise FileNotFoundError({'could_not_open_' + path!r})\n"
    )


def check(pages: list[Path], shots: Path | None, widths=WIDTHS) -> list[dict]:
    """Measure every page at every width, writing screenshots to `shots` (if given)."""
    results = []
    for page in pages:
        for width in widths:
            metrics = measure(page, width)
            if shots is not None:
                stem = f"{page.parent.name[:100]}-{page.stem}" if page.stem == "feedback" else page.stem
                height = min(MAX_SCREENSHOT_HEIGHT, max(SCREENSHOT_HEIGHT, metrics["scrollHeight"]))
                metrics["screenshot"] = str(screenshot(page, shots / f"{stem}-{width}.png", width, height))
            results.append(metrics)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", type=Path, help="HTML pages (default: a demo class graded now)")
    parser.add_argument("--shots", type=Path, default=Path(tempfile.gettempdir()) / "grader-page-shots",
                        help="folder for the screenshots (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    try:
        find_chromium()
        missing = [page for page in args.pages if not page.is_file()]
        if missing:
            print(f"no such page: {missing[0]}", file=sys.stderr)
            return 2
        if not args.pages:
            shutil.rmtree(args.shots / "demo-class", ignore_errors=True)
        pages = args.pages or demo_class(args.shots / "demo-class")
        results = check(pages, args.shots)
    except ChromiumMissing as error:
        print(error, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for m in results:
            verdict = "scrolls sideways" if scrolls_sideways(m) else "fits"
            extra = f"; too wide: {', '.join(m['tooWide'][:5])}" if m["tooWide"] else ""
            print(f"{verdict:16} {m['width']:>5} px  scrollWidth {m['scrollWidth']:>5}  {m['page']}{extra}")
        print(f"screenshots in {args.shots}")
    return 1 if any(scrolls_sideways(m) for m in results) else 0


if __name__ == "__main__":
    sys.exit(main())
