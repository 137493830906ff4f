"""`grader grade-all`: a whole class, in parallel, resumable, with nothing lost. Real CLI runs.

The classes are of the small assignment of `grader new tiny` (the `tiny` fixture), with a
student of every kind (tests/class_folders.py): the subject here is the batch, not hw1's checks.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from class_folders import make_class
from conftest import REPO
from grading_helpers import Homework, assert_valid_results, run_grader

FUNCTIONS = ["normalize", "normalize_backward"]  # tiny's, in the gradebook's order
SLOW_SECONDS = 2  # top-level code of a slow student: under its limit of 3 s, so it still earns full marks


def grade_all(homework: Homework, folder: Path, out: Path, *extra: str, timeout: float = 600,
              tmp: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TMPDIR": str(tmp)} if tmp else None
    return run_grader(*homework.option(), "grade-all", homework.name, folder, "--out", out, *extra, timeout=timeout,
                      env=env)


def add_slow_students(folder: Path, homework: Homework, count: int = 2) -> None:
    """`count` right answers whose top-level code sleeps SLOW_SECONDS, named to be graded last:
    a run interrupted after the first students is still mid-way, however fast the others grade."""
    for index in range(count):
        (folder / f"z-slow-{index}.py").write_text(
            homework.reference.read_text() + f"\nimport time\ntime.sleep({SLOW_SECONDS})\n")


def gradebook(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def records(out: Path) -> dict[str, dict]:
    return {path.parent.name: json.loads(path.read_text()) for path in out.glob("*/record.json")}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, tiny):
    """One class of every kind of submission, graded once with two jobs; shared by the tests below."""
    root = tmp_path_factory.mktemp("class")
    folder, out = root / "submissions", root / "out"
    students = make_class(folder, 16, tiny)
    (folder / ".DS_Store").write_bytes(b"\0\1")  # not a student
    (folder / "s016-reference.ipynb").write_text((folder / "s005-notebook.ipynb").read_text())  # s016-reference twice
    (folder / "s016-reference.py").write_text(tiny.reference.read_text())
    (folder / "s017-empty-folder").mkdir()
    completed = grade_all(tiny, folder, out, "--jobs", "2")
    return folder, out, students, completed


def test_every_student_gets_a_row_and_their_files(graded_class, tiny):
    folder, out, students, completed = graded_class
    assert completed.returncode == 0, completed.stderr
    rows = gradebook(out)
    names = [row["student"] for row in rows]
    expected = set(students) | {"s016-reference", "s016-reference.py", "s017-empty-folder"}
    assert set(names) == expected and len(names) == len(expected)
    assert names == sorted(names)
    assert list(rows[0]) == ["student", "score", "max_score", *FUNCTIONS, "notes"]
    for row in rows:
        assert float(row["max_score"]) == 10.0
        assert abs(float(row["score"]) - sum(float(row[f]) for f in FUNCTIONS)) < 1e-3
        student = out / row["student"]
        results = json.loads((student / "results.json").read_text())
        assert_valid_results(results, tiny)
        assert abs(results["score"] - float(row["score"])) < 1e-3
        assert (student / "feedback.md").read_text().startswith("# Feedback: tiny")
        assert (student / "feedback.html").read_text().startswith("<!DOCTYPE html>")
    assert "grading 19 of 19" in completed.stderr and "ETA" in completed.stderr  # the progress bar


def test_scores_are_what_grading_one_at_a_time_gives(graded_class, tiny):
    folder, out, students, _ = graded_class
    by_name = {row["student"]: row for row in gradebook(out)}
    for name, (kind, _) in students.items():
        score = float(by_name[name]["score"])
        if kind == "correct":
            assert score == 10.0, name
        elif kind == "broken":
            assert score == 0.0 and by_name[name]["notes"], name
        elif kind == "buggy":
            assert 0 < score < 10, name
    assert float(by_name["s017-empty-folder"]["score"]) == 0
    assert "the folder holds neither tiny.py nor tiny.ipynb" in by_name["s017-empty-folder"]["notes"]
    assert float(by_name["s016-reference"]["score"]) == float(by_name["s016-reference.py"]["score"]) == 10.0
    single = run_grader(*tiny.option(), "grade", "tiny", folder / "s001-partly-done.ipynb", "--results-json",
                        out.parent / "single.json", "--quiet")
    assert single.returncode == 0
    assert json.loads((out.parent / "single.json").read_text())["score"] == pytest.approx(float(by_name["s001-partly-done"]["score"]))


def test_a_name_shared_by_two_entries_is_reported(graded_class):
    _, _, _, completed = graded_class
    warning = ("s016-reference.py: s016-reference.ipynb is already named 's016-reference', "
               "so this one is named 's016-reference.py'; both are graded")
    assert completed.stderr.count(warning) == 1
    assert completed.stderr.index(warning) < completed.stderr.index("grading 19 of 19")  # before grading


def test_summary_html_is_self_contained_and_says_what_instructors_need(graded_class):
    _, out, _, _ = graded_class
    page = (out / "summary.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "http://", "https://", "<link", "@import", "src="):
        assert forbidden not in page
    assert page.count("<svg") == 2  # the histogram and the per-function chart
    assert "19 students" in page
    for function in FUNCTIONS:
        assert f"<code>{function}</code>" in page
    assert "Most common misconceptions" in page and "normalised along the last axis" in page
    assert "s004-syntax-error" in page.split("could not be graded as a whole")[1].split("Slowest")[0]
    assert "Slowest submissions" in page and 'href="./s000-reference/feedback.html"' in page


def test_student_text_is_escaped_in_html(graded_class):
    _, out, students, _ = graded_class
    pages = [p.read_text() for p in out.glob("*/feedback.html")]
    assert len(pages) == 19 and all("<script" not in page for page in pages)
    hostile = next(name for name, (_, label) in students.items() if label == "fake-results-everywhere")
    page = (out / hostile / "feedback.html").read_text()
    assert "&#34;output&#34;: &#34;HOSTILE&#34;" in page  # what it printed, as text


def test_a_second_run_reuses_everything_and_a_changed_file_is_regraded(graded_class, tiny, tmp_path):
    folder, out, students, _ = graded_class
    before = {name: (out / name / "record.json").read_bytes() for name in records(out)}
    again = grade_all(tiny, folder, out, "--jobs", "2")
    assert again.returncode == 0
    assert f"graded 0, reused {len(before)} unchanged" in again.stdout
    assert {name: (out / name / "record.json").read_bytes() for name in before} == before
    changed = folder / "s002-loops.py"
    original = changed.read_text()
    try:
        changed.write_text(original.replace("def normalize_backward(", "def normalize_backward_unused(", 1))
        third = grade_all(tiny, folder, out, "--jobs", "2")
        assert f"graded 1, reused {len(before) - 1} unchanged" in third.stdout
        row = {r["student"]: r for r in gradebook(out)}["s002-loops"]
        assert float(row["normalize_backward"]) == 0 and float(row["normalize"]) == 6
    finally:
        changed.write_text(original)


def test_records_say_how_far_each_submission_loaded_and_an_older_record_is_regraded(graded_class, tiny):
    folder, out, _, _ = graded_class
    statuses = {name: record["load_status"] for name, record in records(out).items()}
    assert statuses["s000-reference"] == "loaded"
    assert statuses["s004-syntax-error"] == "partial"  # its top-level code raised: no function defined
    assert statuses["s017-empty-folder"] == "unreadable"  # nothing to grade in it
    assert set(statuses.values()) <= {"loaded", "partial", "not_run", "unreadable"}
    # A record written by an earlier version of the grader, without the field, is graded again, not reused.
    assert grade_all(tiny, folder, out, "--jobs", "2").returncode == 0  # every record up to date (earlier tests change files)
    path = out / "s000-reference" / "record.json"
    older = {key: value for key, value in json.loads(path.read_text()).items() if key != "load_status"}
    path.write_text(json.dumps(older))
    again = grade_all(tiny, folder, out, "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert f"graded 1, reused {len(statuses) - 1} unchanged" in again.stdout
    assert json.loads(path.read_text())["load_status"] == "loaded"


def _as_in_a_terminal() -> None:
    """Ctrl-C's default action, which a terminal gives its commands: pytest run in the background
    of a shell without job control would hand down SIGINT ignored, and the grader would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_grade_all(homework: Homework, folder: Path, out: Path, tmp: Path) -> subprocess.Popen:
    """`grader grade-all` with 2 jobs, in a session of its own (to be signalled as a group), text output,
    its scratch folders under `tmp`."""
    return subprocess.Popen([sys.executable, "-m", "grader", *homework.option(), "grade-all", homework.name, str(folder),
                             "--out", str(out), "--jobs", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "TMPDIR": str(tmp)}, preexec_fn=_as_in_a_terminal)


def _wait_for_records(out: Path, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list(out.glob("*/record.json"))) < count:
        assert process.poll() is None, "grade-all ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line or environment holds `text` (zombies are already dead)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                stat = (entry / "stat").read_text()
                if stat[stat.rfind(")") + 2] == "Z":
                    continue
                if text.encode() in (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("how", ["kill -9 the grader", "kill -9 every process"])
def test_a_run_killed_mid_way_resumes_with_nothing_lost_and_nothing_graded_twice(tiny, tmp_path, how):
    folder, out = tmp_path / "class", tmp_path / "out"
    make_class(folder, 6, tiny)
    add_slow_students(folder, tiny)
    process = start_grade_all(tiny, folder, out, tmp_path)
    _wait_for_records(out, 3, process)
    if how == "kill -9 the grader":
        os.kill(process.pid, signal.SIGKILL)  # its job processes and their workers must die with it
    else:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    time.sleep(1.0)
    assert _processes_mentioning(str(tmp_path)) == [], "processes outlived the killed run"  # jobs (TMPDIR) and workers
    finished = {name: (out / name / "record.json").read_bytes() for name in records(out)}
    assert 3 <= len(finished) < 8
    assert not (out / "gradebook.csv").exists()
    assert not list(out.rglob(".*.json*")) or all(p.suffix != ".json" for p in out.rglob(".*"))  # no torn files in place
    (tmp_path / "grader-worker-4000000-stale").mkdir()  # as a killed grader leaves it (a pid no process has)

    resumed = grade_all(tiny, folder, out, "--jobs", "2", tmp=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"graded {8 - len(finished)}, reused {len(finished)} unchanged" in resumed.stdout
    assert {name: (out / name / "record.json").read_bytes() for name in finished} == finished  # not graded twice
    assert len(gradebook(out)) == 8 and len(records(out)) == 8
    assert list(tmp_path.glob("grader-worker-*")) == []  # the next run removed what killed runs left


def test_ctrl_c_stops_cleanly_keeps_what_is_done_and_says_how_to_resume(tiny, tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    make_class(folder, 8, tiny)
    add_slow_students(folder, tiny, 4)  # students running when Ctrl-C comes finish: two jobs leave two slow ones at least
    process = start_grade_all(tiny, folder, out, tmp_path)
    _wait_for_records(out, 2, process)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal sends to the whole foreground group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted; every student finished so far is saved" in stderr and "Traceback" not in stderr
    done = records(out)
    assert 2 <= len(done) < 12  # it stopped: the students not started were left for the next run
    assert all((out / name / "feedback.html").is_file() for name in done)
    resumed = grade_all(tiny, folder, out, "--jobs", "2")
    assert f"graded {12 - len(done)}, reused {len(done)} unchanged" in resumed.stdout and len(gradebook(out)) == 12


def test_a_job_process_that_dies_costs_no_student(tiny, tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    make_class(folder, 4, tiny)
    add_slow_students(folder, tiny)
    process = start_grade_all(tiny, folder, out, tmp_path)
    _wait_for_records(out, 1, process)
    jobs = [pid for pid in _processes_mentioning("multiprocessing") if _parent(pid) == process.pid]
    assert jobs, "no job process found"
    os.kill(jobs[0], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    rows = gradebook(out)
    assert len(rows) == 6 and "graded 6, reused 0" in stdout


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


@pytest.mark.parametrize("args, message", [
    (("grade-all", "hw1", "/nonexistent", "--out", "x"), "folder /nonexistent does not exist"),
    (("grade-all", "hw1", "examples/hw1/alice_full_marks.py", "--out", "x"), "is not a folder"),
    (("grade-all", "hw1", "examples/hw1", "--out", "x", "--jobs", "0"), "--jobs must be at least 1"),
    (("grade-all", "hw1", "examples/hw1"), "the following arguments are required: --out"),
    (("grade-all", "hw9", "examples/hw1", "--out", "x"), "unknown assignment 'hw9'"),
    (("grade-all", "hw1", "examples/hw1", "--out", "README.md"), "--out README.md is a file"),
    (("grade-all", "hw1", "examples/hw1", "--out", "examples/hw1"), "--out must not be the submissions folder itself"),
])
def test_usage_errors_exit_2_with_one_line(args, message):
    completed = run_grader(*args)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and message in completed.stderr
    assert not (REPO / "x").exists()


def test_an_output_folder_inside_the_class_folder_is_not_a_student(tiny, tmp_path):
    folder = tmp_path / "class"
    make_class(folder, 2, tiny)
    out = folder / "graded"
    first = grade_all(tiny, folder, out, "--jobs", "1")
    before = {name: record["graded_at"] + str(record["pid"]) for name, record in records(out).items()}
    second = grade_all(tiny, folder, out, "--jobs", "1")
    assert first.returncode == second.returncode == 0
    assert [row["student"] for row in gradebook(out)] == ["s000-reference", "s001-partly-done"]
    assert "graded 0, reused 2 unchanged" in second.stdout
    forced = grade_all(tiny, folder, out, "--jobs", "2", "--force", "--quiet")
    assert forced.returncode == 0 and forced.stdout == "" and forced.stderr == ""
    after = {name: record["graded_at"] + str(record["pid"]) for name, record in records(out).items()}
    assert all(after[name] != before[name] for name in before)  # graded again, by other processes


def test_an_empty_class_gets_an_empty_gradebook_and_a_summary(tiny, tmp_path):
    (tmp_path / "class").mkdir()
    completed = grade_all(tiny, tmp_path / "class", tmp_path / "out")
    assert completed.returncode == 0, completed.stderr
    assert gradebook(tmp_path / "out") == []
    assert "0 students" in (tmp_path / "out" / "summary.html").read_text()


def test_a_broken_link_or_a_pipe_in_the_class_folder_is_a_student_with_a_reason(tiny, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    os.mkfifo(folder / "pipe.py")  # reading it would block: it must not be read
    completed = grade_all(tiny, folder, tmp_path / "out", timeout=120)
    assert completed.returncode == 0, completed.stderr
    rows = {row["student"]: row for row in gradebook(tmp_path / "out")}
    assert rows["dangling"]["notes"] == "Nothing could be graded: dangling.py is a link to nothing."
    assert rows["pipe"]["notes"] == "Nothing could be graded: pipe.py is not a regular file."
    assert float(rows["dangling"]["score"]) == float(rows["pipe"]["score"]) == 0
