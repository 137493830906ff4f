"""Reports are readable by the course staff: every file the grader writes gets the mode a new
file gets (0666 less the umask, 0644 with the usual umask 022), not the 0600 of a temporary file.
The assignment graded is the small one of `grader new tiny` (the `tiny` fixture)."""

from __future__ import annotations

import os
import shutil
import stat

from grading_helpers import run_grader


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_grade_and_grade_all_write_files_with_the_usual_mode(tiny, tmp_path):
    previous = os.umask(0o022)  # the test's subprocesses inherit it
    try:
        reports = [tmp_path / name for name in ("results.json", "feedback.md", "junit.xml")]
        completed = run_grader(*tiny.option(), "grade", "tiny", tiny.reference, "--results-json", reports[0],
                               "--feedback", reports[1], "--junit-xml", reports[2], "--quiet")
        assert completed.returncode == 0, completed.stderr
        folder = tmp_path / "class"
        folder.mkdir()
        shutil.copy(tiny.reference, folder / "alice.py")
        out = tmp_path / "out"
        completed = run_grader(*tiny.option(), "grade-all", "tiny", folder, "--out", out, "--jobs", "1", "--quiet")
        assert completed.returncode == 0, completed.stderr
    finally:
        os.umask(previous)
    written = reports + [out / "gradebook.csv", out / "summary.html"] + sorted((out / "alice").iterdir())
    assert len(written) == 9
    assert {str(path.relative_to(tmp_path)): oct(_mode(path)) for path in written} == {
        str(path.relative_to(tmp_path)): "0o644" for path in written}


def test_a_file_written_in_parts_replaces_the_old_one_whole_or_not_at_all(tmp_path):
    import pytest

    from grader.writing import writing_atomically

    path = tmp_path / "cache.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with writing_atomically(path, mode=0o600) as handle:
            handle.write(b"new, part one")
            assert path.read_bytes() == b"old"  # a reader meanwhile sees the old file
            raise RuntimeError("the disk is full")
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["cache.bin"]
    with writing_atomically(path, mode=0o600) as handle:
        handle.write(b"new, part one; ")
        handle.write(b"part two")
    assert path.read_bytes() == b"new, part one; part two" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.bin"]
