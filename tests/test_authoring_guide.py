"""docs/authoring.md: every code sample in it runs, in order, in one temporary folder, as a reader
following the guide would run it.

Each fenced block follows a marker line `<!-- sample: ACTION [PATH] -->` saying what to do with it:

    run [status=N]   a console session: each `$ ` line runs in bash, with `grader` being this
                     checkout's (`python -m grader`), and must exit with N (0 by default; one
                     status per command as `status=0,2,0`); the
                     lines shown under it must appear in its output (stdout and stderr), in
                     order; `...` in a shown line stands for any text, and lines left out
                     are fine, so the guide shows only the lines that matter
    file PATH        the block is the whole file PATH: written
    append PATH      the block is added at the end of PATH
    replace PATH     each top-level function of the block replaces the one of that name in PATH
    excerpt PATH     the block appears, as it is, in PATH (the guide shows a file `grader new` wrote)
    python           run as lines of checks.py's build(ref) would run: `ref` is the reference
                     module, `c` the cases module, `hw = Assignment(ref)`; the checks declared
                     must load (their cases are tried as `grader checks` tries them)
    not run yet      a sample of a command not in this version yet (none is left: the test fails on one)
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from conftest import REPO

GUIDE = REPO / "docs" / "authoring.md"
ACTIONS = ("not run yet", "run", "file", "append", "replace", "excerpt", "python")
MARKER = re.compile(r"^<!-- sample: (?P<action>%s)(?: (?P<argument>\S+))? -->$" % "|".join(ACTIONS))
FENCE = re.compile(r"^```(?P<language>\w*)$")


@dataclass(frozen=True)
class Sample:
    action: str
    argument: str | None
    language: str
    text: str
    line: int  # of the block's first line in the guide, for failure messages

    @property
    def where(self) -> str:
        return f"docs/authoring.md:{self.line}"


def samples(text: str) -> list[Sample]:
    """Every fenced block of `text` with its marker; a block without one is an error."""
    lines = text.splitlines()
    found, index = [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i] == "```")
        marker = MARKER.match(lines[index - 1]) if index else None
        assert marker, (f"docs/authoring.md:{index + 1}: a code block without a `<!-- sample: ACTION -->` line above it "
                        f"(ACTION one of {', '.join(ACTIONS)})")
        found.append(Sample(marker["action"], marker["argument"], fence["language"],
                            "\n".join(lines[index + 1:end]) + "\n", index + 2))
        index = end + 1
    return found


# --- the actions -------------------------------------------------------------------------------

def shown_lines_appear(shown: list[str], output: str) -> str | None:
    """None when every shown line (`...` matching any text) appears in `output`, in order; else the first missing."""
    actual = [line.rstrip() for line in output.splitlines()]
    position = 0
    for line in shown:
        if line.strip() == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in line.rstrip().split("...")) + r"\Z")
        while position < len(actual) and not pattern.match(actual[position]):
            position += 1
        if position == len(actual):
            return line
        position += 1
    return None


def commands(sample: Sample) -> list[tuple[str, list[str]]]:
    """The console sample's commands, each with the output lines shown under it."""
    found: list[tuple[str, list[str]]] = []
    for line in sample.text.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            assert found, f"{sample.where}: output before the first `$ ` command"
            found[-1][1].append(line)
    return found


def run_console(sample: Sample, work: Path, env: dict) -> None:
    steps = commands(sample)
    statuses = [int(status) for status in (sample.argument or "status=0").removeprefix("status=").split(",")]
    statuses = statuses * len(steps) if len(statuses) == 1 else statuses
    assert len(statuses) == len(steps), f"{sample.where}: {len(statuses)} statuses for {len(steps)} commands"
    for (command, shown), status in zip(steps, statuses):
        completed = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                                   timeout=300)
        output = completed.stdout + completed.stderr
        assert completed.returncode == status, f"{sample.where}: `{command}` exited {completed.returncode}:\n{output}"
        missing = shown_lines_appear(shown, output)
        assert missing is None, f"{sample.where}: `{command}` did not print\n  {missing}\nbut:\n{output}"


def replace_functions(source: str, replacements: str) -> str:
    """`source` with each top-level function of `replacements` (decorators included) in place of
    the one of that name."""
    def span(node: ast.FunctionDef) -> tuple[int, int]:
        return min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1, node.end_lineno

    for new in ast.parse(replacements).body:
        assert isinstance(new, ast.FunctionDef), "replace takes top-level functions only"
        start, end = span(new)
        new_lines = replacements.splitlines()[start:end]
        [old] = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == new.name]
        start, end = span(old)
        lines = source.splitlines()
        source = "\n".join(lines[:start] + new_lines + lines[end:]) + "\n"
    return source


class Session:
    """The namespace of the `python` samples, as inside build(ref) of the guide's assignment:
    `ref`, `c` (its cases module), `hw = Assignment(ref)`, numpy as `np`, hypothesis's strategies
    as `st`, and every name of grader.authoring."""

    def __init__(self, work: Path, name: str):
        import grader.authoring
        from grader.grading.assignment import load_assignment, load_reference
        from hypothesis import strategies as st

        assignment = load_assignment(name, work / "assignments")
        ref = load_reference(assignment)
        self.package = f"_guide_session_{name}"
        spec = importlib.util.spec_from_file_location(self.package, assignment.directory / "__init__.py",
                                                      submodule_search_locations=[str(assignment.directory)])
        sys.modules[self.package] = package = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(package)
        cases = importlib.import_module(f"{self.package}.cases")
        self.hw = grader.authoring.Assignment(ref)
        self.namespace = {name: getattr(grader.authoring, name) for name in grader.authoring.__all__}
        self.namespace.update(np=np, st=st, ref=ref, c=cases, hw=self.hw)

    def run(self, sample: Sample) -> None:
        exec(compile(sample.text, sample.where, "exec"), self.namespace)

    def check_cases(self) -> None:
        """The checks the samples declared load as `grader checks` loads an assignment's."""
        from grader.grading.assignment import check_case_sources

        assert len(self.hw.checks()) > 5
        check_case_sources(self.hw.checks(), Path("docs/authoring.md"))

    def close(self) -> None:
        for name in [name for name in sys.modules if name.startswith(self.package)]:
            del sys.modules[name]


# --- the test ----------------------------------------------------------------------------------

def test_every_code_block_has_a_known_action_and_only_audit_waits():
    found = samples(GUIDE.read_text())
    assert len(found) > 20
    for sample in found:
        takes_path = sample.action in {"file", "append", "replace", "excerpt"}
        assert takes_path == (sample.argument is not None) or sample.action == "run", sample.where
        if sample.action == "run" and sample.argument:
            assert re.fullmatch(r"status=\d+(,\d+)*", sample.argument), sample.where
    waiting = [sample for sample in found if sample.action == "not run yet"]
    assert not waiting, [sample.where for sample in waiting]  # every sample runs


def test_the_guide_names_every_public_name_of_the_authoring_api():
    import grader.authoring

    text = GUIDE.read_text()
    assert [name for name in grader.authoring.__all__ if f"`{name}" not in text] == []


def test_every_sample_of_the_guide_runs_in_order(tmp_path):
    bin_dir, work = tmp_path / "bin", tmp_path / "course"
    bin_dir.mkdir()
    work.mkdir()
    shim = bin_dir / "grader"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m grader \"$@\"\n")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO),
           "COLUMNS": "200"}
    session = None
    try:
        for sample in samples(GUIDE.read_text()):
            path = work / sample.argument if sample.action in {"file", "append", "replace", "excerpt"} else None
            if sample.action == "run":
                run_console(sample, work, env)
            elif sample.action == "file":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(sample.text)
            elif sample.action == "append":
                path.write_text(path.read_text().rstrip("\n") + "\n\n\n" + sample.text)
            elif sample.action == "replace":
                path.write_text(replace_functions(path.read_text(), sample.text))
            elif sample.action == "excerpt":
                assert sample.text in path.read_text(), f"{sample.where}: not as in {sample.argument}"
            elif sample.action == "python":
                session = session or Session(work, "hw3")
                session.run(sample)
        assert session is not None
        session.check_cases()
    finally:
        if session is not None:
            session.close()
