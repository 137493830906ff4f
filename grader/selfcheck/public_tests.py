"""Run an assignment's public tests (a pytest file) against the student's sandboxed module.

The tests are the public ones the student has in their template, and run under real pytest in
this process; the student's code runs only in the worker. While the tests run, `import hw1`
gives them a stand-in module whose functions are calls into the worker, so a test calls the
student's function exactly as grading does: same sandbox, same limits, same wire.

Exceptions come back as themselves where possible: a student's ValueError is a ValueError,
so `pytest.raises(ValueError)` works; a timeout or a dead worker is a StudentCallFailed.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from grader.model import PublicTestResult
from grader.sandbox import wire
from grader.sandbox.calls import StudentAbort, StudentRaised
from grader.sandbox.handle import StudentModule

MAX_REASON_LINES = 6
# pytest's own plugins that a run of public tests has no use for: its cache and warnings summary,
# other kinds of tests and reports, and the watch for exceptions raised where no one catches them
# (in __del__ or threads: the student's code runs in the worker, not here), which collects the
# garbage twice at the end, a third of pytest's time on a small file. Those that give fixtures a
# test may ask for (tmp_path, tmpdir, capsys, caplog, monkeypatch, recwarn) and unittest stay.
UNUSED_PLUGINS = ("cacheprovider", "warnings", "doctest", "junitxml", "pastebin", "stepwise", "setuponly", "setupplan",
                  "faulthandler", "threadexception", "unraisableexception")


class StudentCallFailed(Exception):
    """A call of the student's function gave no answer (timeout, dead worker, not defined, not numbers)."""


class StudentError(Exception):
    """The student's function raised an exception that cannot be re-created here as itself."""


@dataclass
class _TestLog:
    """What happened in the student's module during the test that is running."""

    last_call: str | None = None
    returned_none: str | None = None
    errors: list[tuple[BaseException, str]] = field(default_factory=list)


def _rebuilt(error: StudentRaised, text: str) -> Exception:
    """The student's exception as an instance of the same builtin class, or a StudentError."""
    cls = getattr(builtins, error.type_name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, Warning):
        try:
            return cls(text)
        except Exception:  # a builtin exception that needs other arguments (UnicodeDecodeError, ...)
            pass
    return StudentError(text)


def _has_opaque(value: Any) -> str | None:
    if isinstance(value, wire.Opaque):
        return value.type_name
    if isinstance(value, tuple):
        for item in value:
            found = _has_opaque(item)
            if found:
                return found
    return None


def proxy_module(name: str, module: StudentModule, log: _TestLog, missing: dict[str, str]) -> types.ModuleType:
    """A module whose attributes call the student's functions in the worker; `missing` maps a
    function that cannot be called to the reason."""
    proxy = types.ModuleType(name, f"The student's {name}, running in the grader's sandbox.")

    def function(function_name: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            log.last_call = function_name
            if function_name in missing:
                failed = StudentCallFailed(missing[function_name])
                log.errors.append((failed, missing[function_name]))
                raise failed
            try:
                value = module.call(function_name, *args, **kwargs)
            except StudentRaised as error:
                text = f"{function_name} raised {error.type_name}: {error.message}{error.place}"
                rebuilt = _rebuilt(error, text)
                log.errors.append((rebuilt, f"{error.type_name}: {error.message}"))
                raise rebuilt from None
            except StudentAbort as abort:
                failed = StudentCallFailed(abort.reason)
                log.errors.append((failed, abort.reason))
                raise failed from None
            opaque = _has_opaque(value)
            if opaque:
                failed = StudentCallFailed(f"{function_name} returned a {opaque}, which is not numbers")
                log.errors.append((failed, str(failed)))
                raise failed
            if value is None:
                log.returned_none = function_name
            return value

        call.__name__ = call.__qualname__ = function_name
        return call

    def __getattr__(attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        made = function(attribute)
        setattr(proxy, attribute, made)
        return made

    proxy.__getattr__ = __getattr__  # type: ignore[attr-defined]
    return proxy


def subjects_of_tests(test_source: str, module_name: str, functions: Sequence[str]) -> dict[str, str | None]:
    """The function each test function of `test_source` is about.

    A test is about the function whose name its own name starts with, after `test_` (the
    longest such name: test_rnn_step_backward_... is about rnn_step_backward); failing that,
    the first of `functions` it calls.
    """
    tree = ast.parse(test_source)
    subjects: dict[str, str | None] = {}
    known = sorted(functions, key=len, reverse=True)
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
            continue
        stem = node.name[len("test_"):] if node.name.startswith("test_") else node.name
        named = [f for f in known if stem == f or stem.startswith(f + "_")]
        if named:
            subjects[node.name] = named[0]
            continue
        called = [n for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                  and n.value.id == module_name and n.attr in functions]
        called += [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in functions]
        called.sort(key=lambda n: (n.lineno, n.col_offset))
        subjects[node.name] = (called[0].attr if isinstance(called[0], ast.Attribute) else called[0].id) if called else None
    return subjects


class _Collector:
    """A pytest plugin that keeps one PublicTestResult per test."""

    def __init__(self, log: _TestLog, subjects: dict[str, str | None], tests_file: Path) -> None:
        self.log, self.subjects, self.tests_file = log, subjects, tests_file
        self.results: dict[str, PublicTestResult] = {}
        self.collection_errors: list[str] = []

    def pytest_runtest_setup(self, item) -> None:
        self.log.last_call, self.log.returned_none, self.log.errors = None, None, []

    def pytest_runtest_makereport(self, item, call) -> None:
        base = item.name.split("[")[0]
        result = self.results.setdefault(item.name, PublicTestResult(item.name, self.subjects.get(base)))
        if call.excinfo is None or result.failure is not None:
            return
        if call.excinfo.errisinstance(_skip_exception()):
            result.failure = f"skipped: {call.excinfo.value}"
            return
        result.failure, result.student_error = self._reason(call.excinfo)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.collection_errors.append(_first_lines(str(report.longrepr), MAX_REASON_LINES))

    def _reason(self, excinfo) -> tuple[str, str | None]:
        error = excinfo.value
        for raised, text in self.log.errors:
            if raised is error or error.__context__ is raised or error.__cause__ is raised:
                return str(raised), text
        crash = _first_lines(excinfo.exconly(), MAX_REASON_LINES)
        entry = _test_entry(excinfo, self.tests_file)
        if entry is not None:
            statement = str(entry.statement).strip().splitlines()
            crash = f"{self.tests_file.name}, line {entry.lineno + 1}: {statement[0] if statement else ''}\n{crash}"
        if self.log.returned_none and not isinstance(error, AssertionError):
            crash = f"{self.log.returned_none} returned None (is a `return` missing?)\n{crash}"
        return crash, None


def _skip_exception() -> type:
    import pytest

    return pytest.skip.Exception


def _test_entry(excinfo, tests_file: Path):
    """The last traceback entry in the tests file: the line of the test that failed."""
    found = None
    for entry in excinfo.traceback:
        if Path(str(entry.path)).name == tests_file.name:
            found = entry
    return found


def _first_lines(text: str, count: int) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    shown = "\n".join(lines[:count])
    return shown + ("\n…" if len(lines) > count else "")


def run_public_tests(tests_file: Path, module_name: str, module: StudentModule, functions: Sequence[str],
                     missing: dict[str, str] | None = None) -> tuple[list[PublicTestResult], list[str]]:
    """Run `tests_file` under pytest with `import module_name` bound to the student's sandboxed
    module; the result of every test, and the errors that stopped tests from being collected.
    `missing` maps a function that cannot be called to the reason (it is not defined)."""
    import pytest

    log = _TestLog()
    source = tests_file.read_text(encoding="utf-8")
    try:
        subjects = subjects_of_tests(source, module_name, functions)
    except SyntaxError as error:
        return [], [f"{tests_file.name}, line {error.lineno}: SyntaxError: {error.msg}"]
    collector = _Collector(log, subjects, tests_file)
    saved_module = sys.modules.get(module_name)
    saved_environ = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    sys.modules[module_name] = proxy_module(module_name, module, log, dict(missing or {}))
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the student's other pytest plugins stay out of it
    arguments = [str(tests_file), "-qq", "-c", os.devnull, "--rootdir", str(tests_file.parent), "--import-mode=importlib"]
    for plugin in UNUSED_PLUGINS:
        arguments += ["-p", f"no:{plugin}"]
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pytest's own report is not shown: ours is
            status = pytest.main(arguments, plugins=[collector])
        if int(status) in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            collector.collection_errors.append(f"pytest stopped with {pytest.ExitCode(int(status)).name}")
    finally:
        if saved_module is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = saved_module
        if saved_environ is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved_environ
    return list(collector.results.values()), collector.collection_errors
