"""Choosing isolation levels: what each level asks for, and what happens when a layer is missing."""

from __future__ import annotations

import pytest

from grader.sandbox import isolation
from grader.errors import UsageError
from grading_helpers import run_grader


@pytest.fixture
def bare_machine(monkeypatch):
    """A machine with neither bubblewrap nor Landlock nor libseccomp."""
    monkeypatch.setattr(isolation, "_bwrap_works", lambda as_root: ("bubblewrap is not installed", ""))
    monkeypatch.setattr(isolation.landlock, "abi_version", lambda: 0)
    monkeypatch.setattr(isolation.seccomp, "available", lambda: False)


def test_auto_on_a_bare_machine_keeps_the_process_layers_and_names_what_is_missing(bare_machine):
    chosen = isolation.choose("auto")
    assert chosen.layers[:2] == ["process", "rlimits"] and not chosen.filesystem_barrier
    assert {"bwrap", "landlock", "seccomp"} <= set(chosen.missing)
    assert chosen.warnings[0].startswith("bubblewrap is not installed: ") and "grading is not contained" in chosen.warnings[0]


@pytest.mark.parametrize("level, message", [
    ("strict", "--isolation strict: no filesystem barrier here"),
    ("bwrap", "--isolation bwrap: bubblewrap is not installed"),
    ("landlock", "--isolation landlock: this kernel has no Landlock"),
    ("paranoid", "unknown isolation level 'paranoid'"),
])
def test_levels_that_cannot_be_had_are_usage_errors(bare_machine, level, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        isolation.choose(level)


def test_strict_with_landlock_only_is_allowed(monkeypatch):
    monkeypatch.setattr(isolation, "_bwrap_works", lambda as_root: ("bubblewrap is not installed", ""))
    chosen = isolation.choose("strict")
    assert chosen.filesystem_barrier == (isolation.landlock.abi_version() > 0)


def test_the_levels_ask_for_their_layers():
    available = {level: isolation.choose(level) for level in ("auto", "landlock", "bwrap")
                 if level == "auto" or _can(level)}
    if "landlock" in available:
        assert not available["landlock"].bwrap and available["landlock"].landlock_abi > 0
    if "bwrap" in available:
        assert available["bwrap"].bwrap and available["bwrap"].landlock_abi == 0 and not available["bwrap"].seccomp


def _can(level: str) -> bool:
    try:
        isolation.choose(level)
        return True
    except UsageError:
        return False


def test_the_isolation_command_reports_the_layers():
    completed = run_grader("isolation")
    assert completed.returncode == 0 and completed.stdout.startswith("isolation auto: process, rlimits")
    assert run_grader("isolation", "--isolation", "paranoid").returncode == 2


def test_the_read_allow_list_never_holds_the_hidden_files():
    from conftest import REPO

    for path in isolation.read_allow_list() + list(isolation.worker_paths()[:2]):
        assert not str(REPO / "solutions").startswith(path.rstrip("/") + "/") or path == "/"
        assert "solutions" not in path and "assignments" not in path
