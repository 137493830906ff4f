"""`grader check`: the student's self-check, run for real from a copy of the template folder.

The template is that of the small assignment of `grader new tiny` (the `tiny` fixture: 5 public
tests of normalize and normalize_backward), except where hw1's own template is the subject.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from grading_helpers import Homework, run_grader
from notebooks import filled_template, fill_stubs, tiny_partly_done_module, tiny_partly_done_notebook, write

from grader.selfcheck.public_tests import subjects_of_tests

HW1_TEMPLATE = REPO / "student_template" / "hw1"
PUBLIC_TESTS = 5  # tiny's: 3 of normalize, 2 of normalize_backward


def functions(template: Path) -> list[dict]:
    """The graded functions a template's grader.json lists: name, points, hint."""
    return json.loads((template / "grader.json").read_text())["functions"]


@pytest.fixture
def homework(tiny, tmp_path) -> Path:
    """The student's folder: a copy of tiny's template, far from the instructor's assignments/ and solutions/."""
    folder = tmp_path / "my homework"
    shutil.copytree(tiny.template, folder)
    return folder


def check(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return run_grader("check", *args, cwd=folder, timeout=120)


def table(stdout: str, names=("normalize", "normalize_backward")) -> dict[str, str]:
    """function -> its row's 'passed/total mark' cell, from the printed table."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in names and "/" in parts[2]:
            rows[parts[0]] = " ".join(parts[2:])
    return rows


def solved(homework: Homework) -> str:
    """The template module with every stub filled in from the reference."""
    return fill_stubs((homework.template / "tiny.py").read_text(), None, homework.reference)


def test_with_no_arguments_in_the_untouched_template_every_public_test_fails(homework):
    completed = check(homework)
    assert completed.returncode == 1, completed.stderr
    rows = table(completed.stdout)
    assert list(rows) == [f["name"] for f in functions(homework)]
    assert all(row.startswith("0/") and row.endswith("✗") for row in rows.values())
    assert f"0 of {PUBLIC_TESTS} public tests pass." in completed.stdout
    for function in functions(homework):
        assert f"Hint: {function['hint']}" in completed.stdout
    assert "normalize raised NotImplementedError: normalize is not implemented yet" in completed.stdout
    assert completed.stderr == ""


def test_a_notebook_filled_in_with_the_reference_passes_and_exits_zero(tiny, homework):
    write(filled_template(homework=tiny), homework / "tiny.ipynb")
    completed = check(homework, "tiny.ipynb")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"{PUBLIC_TESTS} of {PUBLIC_TESTS} public tests pass." in completed.stdout
    assert all(row.endswith("✓") for row in table(completed.stdout).values())
    assert "good sign, not a guarantee" in completed.stdout


def test_a_partly_done_notebook_gets_a_row_per_function_reasons_and_hints(tiny, homework):
    write(tiny_partly_done_notebook(tiny), homework / "tiny.ipynb")
    completed = check(homework)
    assert completed.returncode == 1
    out = completed.stdout
    rows = table(out)
    assert rows == {"normalize": "2/3 ✗", "normalize_backward": "0/2 ✗"}  # no ValueError for a negative count; a stub
    assert "Checking tiny.ipynb (changed more recently than tiny.py" in out
    # the failed assertion, with the test's own line, and the template's hint
    assert "test_public.py, line 23: with pytest.raises(ValueError):" in out and "Failed: DID NOT RAISE ValueError" in out
    assert "Hint: divide x by its sum along `axis` (keepdims=True keeps the sum broadcastable)." in out
    assert "normalize_backward raised NotImplementedError: normalize_backward is not implemented yet" in out
    # notes on the notebook itself, worded as the grader words them
    assert "NameError was raised while running the code at the top level: name 'A_demo' is not defined" in out
    assert "Not available when grading: matplotlib, tqdm" in out


def test_the_same_code_as_a_py_file_gets_the_same_table(tiny, homework):
    write(tiny_partly_done_notebook(tiny), homework / "tiny.ipynb")
    (homework / "tiny.py").write_text(tiny_partly_done_module(tiny))
    from_notebook = check(homework, "tiny.ipynb")
    from_module = check(homework, "tiny.py")
    assert table(from_notebook.stdout) == table(from_module.stdout) == {"normalize": "2/3 ✗", "normalize_backward": "0/2 ✗"}
    assert from_module.returncode == from_notebook.returncode == 1


def test_with_both_files_the_one_changed_last_is_checked(tiny, homework):
    (homework / "tiny.py").write_text(solved(tiny))
    old = time.time() - 3600
    os.utime(homework / "tiny.ipynb", (old, old))
    completed = check(homework)
    assert completed.returncode == 0, completed.stdout
    assert "Checking tiny.py (changed more recently than tiny.ipynb; to check that one: grader check tiny.ipynb)." in completed.stdout
    os.utime(homework / "tiny.py", (old - 60, old - 60))
    completed = check(homework)
    assert completed.returncode == 1 and "Checking tiny.ipynb" in completed.stdout


def test_a_shape_error_gets_the_graders_hint_for_it(tmp_path):
    """The hint is one of hw1's misconceptions (an error pattern, shipped in grader.json): hw1's template."""
    homework = tmp_path / "my homework"
    shutil.copytree(HW1_TEMPLATE, homework)
    source = fill_stubs((HW1_TEMPLATE / "hw1.py").read_text(), None)
    source = source.replace("c_t @ W_c.T", "c_t @ W_c")  # the lecture's W_c c_t, with row vectors: transposed
    (homework / "hw1.py").write_text(source)
    completed = check(homework, "hw1.py")
    assert completed.returncode == 1
    assert "rnn_step raised ValueError: matmul: Input operand 1 has a mismatch" in completed.stdout
    assert "Likely cause: shapes do not line up." in completed.stdout


def test_a_hanging_function_fails_its_tests_and_the_others_still_pass(tiny, homework):
    source = solved(tiny).replace("def normalize_backward(dp, x, axis=-1):",
                                  "def normalize_backward(dp, x, axis=-1):\n    while True:\n        pass\n\n\n"
                                  "def _normalize_backward(dp, x, axis=-1):")
    (homework / "tiny.py").write_text(source)
    completed = check(homework, "tiny.py")
    rows = table(completed.stdout)
    assert completed.returncode == 1
    assert rows["normalize_backward"] == "0/2 ✗" and "normalize_backward did not return within 2 s" in completed.stdout
    assert rows["normalize"] == "3/3 ✓"


def test_a_corrupt_notebook_fails_every_test_and_says_why(homework):
    (homework / "tiny.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "def normalize(')
    completed = check(homework, "tiny.ipynb")
    assert completed.returncode == 1
    assert "tiny.ipynb is not a valid Jupyter notebook: the file ends too early" in completed.stdout
    assert f"0 of {PUBLIC_TESTS} public tests pass." in completed.stdout


@pytest.mark.parametrize("setup, args, message", [
    (lambda f: (f / "grader.json").unlink(), (), "there is no grader.json in"),
    (lambda f: None, ("nothere.ipynb",), "nothere.ipynb does not exist"),
    (lambda f: (f / "grader.json").write_text("{not json"), (), "grader.json is damaged"),
    (lambda f: [(f / n).unlink() for n in ("tiny.py", "tiny.ipynb")], (),
     "the folder holds neither tiny.py nor tiny.ipynb, nor another .py or .ipynb file to grade (it holds README.md, "
     "grader.json, test_public.py): submit the homework as tiny.py or tiny.ipynb, or pass the file to check: grader check FILE"),
    (lambda f: None, ("README.md",), "README.md is not a .py or .ipynb file: pass your tiny.py or tiny.ipynb (whatever its name), "
                                      "or a folder holding it"),
    (lambda f: (f / "test_public.py").unlink(), (), "the public tests (test_public.py) are not in"),
    (lambda f: None, ("--isolation", "none"), "unknown isolation level 'none'"),
])
def test_usage_errors_exit_2_with_one_line(homework, setup, args, message):
    setup(homework)
    completed = check(homework, *args)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1 and message in completed.stderr


def test_check_runs_the_public_tests_only_never_the_hidden_checks_or_the_reference(tiny, homework):
    """With no assignments/ or solutions/ anywhere near, and no hidden-check machinery imported."""
    write(filled_template(homework=tiny), homework / "tiny.ipynb")
    probe = ("import sys; from grader.cli import main; status = main(['check']); "
             "loaded = [m for m in ('hypothesis', 'grader.grading.checking', 'grader.authoring.checks') if m in sys.modules] + [m for m in sys.modules if m.startswith(('_grader_reference', '_grader_assignment'))]; "
             "print('LOADED', loaded); sys.exit(status)")
    completed = subprocess.run([sys.executable, "-c", probe], cwd=homework, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "LOADED []" in completed.stdout
    assert not (homework / "assignments").exists() and not (homework.parent / "assignments").exists()


def test_student_code_runs_in_the_graders_sandbox(tiny, homework):
    """The student's code cannot read the folder it sits in, just as when it is graded."""
    target = homework / "test_public.py"
    source = solved(tiny)
    source += (f"\n\ntry:\n    open({str(target)!r}).read()\n    SEEN = 'read'\nexcept OSError as error:\n    SEEN = type(error).__name__\n"
               "\n\ndef sandbox_probe():\n    return SEEN\n")
    (homework / "tiny.py").write_text(source)
    target.write_text(target.read_text() + "\n\ndef test_sandbox_probe():\n    assert tiny.sandbox_probe() == 'read'\n")
    completed = check(homework, "tiny.py")
    assert completed.returncode == 1
    assert re.search(r"AssertionError: assert '(FileNotFoundError|PermissionError)' == 'read'", completed.stdout), completed.stdout
    assert f"{PUBLIC_TESTS} of {PUBLIC_TESTS + 1} public tests pass." in completed.stdout


def test_each_public_test_is_about_one_of_the_graded_functions():
    source = (HW1_TEMPLATE / "test_public.py").read_text()
    names = [f["name"] for f in functions(HW1_TEMPLATE)]
    subjects = subjects_of_tests(source, "hw1", names)
    assert len(subjects) == 29
    assert set(subjects.values()) == set(names), "every function has a public test, and every test a function"
    assert subjects["test_rnn_step_backward_by_hand"] == "rnn_step_backward"
    assert subjects["test_rnn_backward_of_one_step_is_rnn_step_backward"] == "rnn_backward"


def test_a_test_named_after_no_function_belongs_to_the_first_function_it_calls():
    source = "import hw1\n\ndef test_something():\n    x = 1\n    hw1.softmax(x)\n    hw1.qkv(x)\n\ndef test_nothing():\n    pass\n"
    assert subjects_of_tests(source, "hw1", ["qkv", "softmax"]) == {"test_something": "softmax", "test_nothing": None}


def test_what_the_code_printed_counts_its_lines_in_good_english(tiny, homework):
    (homework / "tiny.py").write_text('print("hello from the top level")\n' + tiny.reference.read_text())
    completed = check(homework, "tiny.py")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "What your code printed (1 line):" in completed.stdout and "1 lines" not in completed.stdout
    assert "  | hello from the top level" in completed.stdout
