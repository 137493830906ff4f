"""The isolation warning: one clear sentence per missing layer, printed once per command, saying
whether grading is still contained and the command that adds the layer. The commands grade the
small assignment of `grader new tiny` (the `tiny` fixture): what they print, not hw1, is the subject."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from grading_helpers import run_grader

from grader.sandbox import isolation
from grader.sandbox.isolation_warnings import BWRAP_NO_NAMESPACES, BWRAP_NOT_INSTALLED, Found, missing_layers

NESTED_PARENTHESES = re.compile(r"\([^()]*\(")


def assert_plain(sentence: str) -> None:
    """One sentence, in words a new instructor reads: no "uid", no nested parentheses, no full stop inside."""
    assert "uid" not in sentence and not NESTED_PARENTHESES.search(sentence), sentence
    assert ". " not in sentence and "\n" not in sentence, sentence


def every_machine():
    for linux, root, bwrap, landlock, seccomp, capabilities, own_user in itertools.product([True, False], repeat=7):
        if not linux and (bwrap or landlock or seccomp or capabilities):
            continue  # off Linux there is none of them
        if own_user and not root:
            continue  # only a root grader hands the worker a user of its own
        if root and bwrap and not own_user:
            continue  # bubblewrap always gives a root grader's worker a user of its own
        yield Found(linux=linux, root=root, bwrap_problem=None if bwrap else BWRAP_NOT_INSTALLED, landlock=landlock,
                    seccomp=seccomp, capabilities=capabilities, own_user=own_user, unreadable="/root")


def machine_id(found: Found) -> str:
    names = ("linux", "root", "bwrap", "landlock", "seccomp", "capabilities", "own_user")
    return "-".join(name if getattr(found, name) else f"no_{name}" for name in names)


@pytest.mark.parametrize("found", list(every_machine()), ids=machine_id)
def test_every_sentence_is_plain_and_the_verdict_is_that_of_the_whole_run(found):
    layers, sentences = missing_layers(found)
    assert len(layers) >= len(sentences)
    if not layers:
        return
    text = "\n".join(sentences)
    for sentence in sentences:
        assert_plain(sentence)
    if found.contained:
        assert "not contained" not in text and all("so grading is still contained" in s for s in sentences)
    else:
        assert "still contained" not in text and "so grading is not contained" in text


def found(**changes) -> Found:
    """This project's machine as root with every layer, changed by `changes`."""
    base = dict(linux=True, root=True, bwrap_problem=None, landlock=True, seccomp=True, capabilities=True,
                own_user=True, unreadable=None)
    return Found(**{**base, **changes})


@pytest.mark.parametrize("machine, layer, fragments", [
    (found(bwrap_problem=BWRAP_NOT_INSTALLED, own_user=False, unreadable="/root"), "bwrap",
     ["bubblewrap is not installed: student code runs without a private view of the filesystem",
      "but Landlock still confines what it can read and write", "so grading is still contained",
      "; install it with: apt-get install bubblewrap"]),
    (found(bwrap_problem=BWRAP_NO_NAMESPACES, bwrap_detail="bwrap: No permissions to create a new namespace"), "bwrap",
     ["bubblewrap cannot create its namespaces here (bwrap: No permissions to create a new namespace): student code",
      "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"]),
    (found(landlock=False), "landlock",
     ["Landlock is not available in this kernel", "bubblewrap's private filesystem view still holds no hidden file",
      "so grading is still contained", "Linux 5.13 or later", "there is no package to install"]),
    (found(landlock=False, bwrap_problem=BWRAP_NOT_INSTALLED, own_user=False), "landlock",
     ["with no bubblewrap either nothing confines what it can read and write", "so grading is not contained"]),
    (found(seccomp=False), "seccomp",
     ["libseccomp is not installed", "bubblewrap still gives it no network", "so grading is still contained",
      "; install it with: apt-get install libseccomp2"]),
    (found(seccomp=False, root=False, own_user=False, bwrap_problem=BWRAP_NOT_INSTALLED), "seccomp",
     ["without bubblewrap nothing else stops all of that, so grading is not contained"]),
    (found(bwrap_problem=BWRAP_NOT_INSTALLED, own_user=False, unreadable="/root"), "uid",
     ["student code runs as root (without root's capabilities), not as a user of its own",
      "because other users cannot read /root, where the Python interpreter, numpy or the grader are",
      "Landlock still keeps it from root's files and seccomp from the grader, so grading is still contained",
      "install bubblewrap (apt-get install bubblewrap)", "/usr/bin/python3 outside /root"]),
    (found(bwrap_problem=BWRAP_NOT_INSTALLED, own_user=False, landlock=False), "uid",
     ["with no Landlock it can read and write root's files, so grading is not contained"]),
])
def test_each_layer_says_what_is_lost_what_still_holds_and_how_to_add_it(machine, layer, fragments):
    layers, sentences = missing_layers(machine)
    sentence = sentences[layers.index(layer)]
    for fragment in fragments:
        assert fragment in sentence, (fragment, sentence)
    assert_plain(sentence)


def test_off_linux_one_sentence_says_it_all():
    layers, sentences = missing_layers(found(linux=False))
    assert layers == ("bwrap", "landlock", "seccomp", "no capabilities")
    assert len(sentences) == 1 and sentences[0].startswith("this is not Linux") and "not contained" in sentences[0]


# ---- through the real CLI, with bubblewrap off the PATH ----------------------------------------------

@pytest.fixture(scope="module")
def no_bwrap(tmp_path_factory) -> dict[str, str]:
    """An environment whose PATH holds no bubblewrap (the grader runs `sys.executable`, not a name)."""
    empty = tmp_path_factory.mktemp("empty-bin")
    assert shutil.which("bwrap", path=str(empty)) is None
    return {**os.environ, "PATH": str(empty)}


@pytest.fixture(scope="module")
def sentences(no_bwrap) -> list[str]:
    """What `grader isolation` says is missing here without bubblewrap: its lines after the first."""
    completed = run_grader("isolation", env=no_bwrap)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("isolation auto: ") and "bwrap" not in lines[0]
    return lines[1:]


def assert_warned_once(completed: subprocess.CompletedProcess, sentences: list[str]) -> None:
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("grader: warning: ")]
    assert warnings == [f"grader: warning: {sentence}" for sentence in sentences], completed.stderr
    for sentence in sentences:
        assert (completed.stdout + completed.stderr).count(sentence) == 1


def test_the_isolation_command_says_what_bubblewrap_would_add(sentences):
    bwrap = sentences[0]
    assert bwrap.startswith("bubblewrap is not installed: student code runs without a private view of the filesystem")
    assert bwrap.endswith("; install it with: apt-get install bubblewrap")
    contained = isolation.landlock.abi_version() > 0 and isolation.seccomp.available()
    assert ("so grading is still contained" in bwrap) == contained
    for sentence in sentences:
        assert_plain(sentence)


def test_grade_warns_once_with_the_same_sentences(tiny, no_bwrap, sentences):
    completed = run_grader(*tiny.option(), "grade", "tiny", tiny.reference, env=no_bwrap)
    assert completed.returncode == 0, completed.stderr
    assert_warned_once(completed, sentences)
    assert completed.stdout.splitlines()[-1] == run_grader("isolation", env=no_bwrap).stdout.splitlines()[0]


def test_grade_all_warns_once_for_the_class_not_per_student(tiny, no_bwrap, sentences, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice", "bob"):
        shutil.copy(tiny.reference, folder / f"{name}.py")
    completed = run_grader(*tiny.option(), "grade-all", "tiny", folder, "--out", tmp_path / "out", "--jobs", "2",
                           env=no_bwrap)
    assert completed.returncode == 0, completed.stderr
    assert_warned_once(completed, sentences)


def test_check_warns_once(tiny, no_bwrap, sentences, tmp_path):
    shutil.copytree(tiny.template, tmp_path / "tiny")
    completed = run_grader("check", cwd=tmp_path / "tiny", env={**no_bwrap, "PYTHONPATH": str(REPO)})
    assert completed.returncode == 1  # the untouched template fails its public tests
    assert_warned_once(completed, sentences)


def test_the_gradescope_entry_point_warns_once(tiny, no_bwrap, sentences, tmp_path):
    root = tmp_path / "autograder"
    shutil.copytree(tiny.assignments / "tiny", root / "source" / "assignments" / "tiny")
    shutil.copytree(tiny.reference.parent, root / "source" / "solutions" / "tiny")
    (root / "submission").mkdir(parents=True)
    shutil.copy(tiny.reference, root / "submission" / "tiny.py")
    completed = subprocess.run([sys.executable, "-m", "grader.distribute.gradescope", "tiny", str(root)], cwd=REPO, env=no_bwrap,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert_warned_once(completed, sentences)


def test_quiet_grading_prints_no_warning(tiny, no_bwrap):
    completed = run_grader(*tiny.option(), "grade", "tiny", tiny.reference, "--quiet", env=no_bwrap)
    assert completed.returncode == 0 and completed.stdout == completed.stderr == ""
