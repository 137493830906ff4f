"""The grader's layers, read from its imports (every import of every module under grader/,
those inside functions too): a lower layer never imports a higher one, nothing but the sandbox's
worker process (which starts it) names the worker's module and no module imports it, no module
outside the sandbox imports the worker's own machinery (stand-ins, capabilities, Landlock,
seccomp), and the worker imports nothing but worker-side modules, the standard library and
numpy (it runs with `python -I` inside the sandbox, with only those on its path).

The checker is tried on a small package with one violation of each kind, so that a rule that
stopped finding anything would fail here too."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO

# Lowest first. Layers in one tuple are siblings: neither imports the other.
ORDER = (
    ("base",),  # errors, writing, points, model: what every layer shares
    ("sandbox",),  # the worker, the wire, the isolation layers, the trusted handle (process, loader, calls)
    ("authoring",),  # what an assignment's checks are written with
    ("grading",),  # one submission: assignment, submission, checks, points
    ("report",),  # pure writers of the records in grader/model.py
    ("selfcheck", "classroom"),  # `grader check`; `grader grade-all`
    ("distribute", "audit"),  # release (which writes the self-check's grader.json), Gradescope, GitHub; `grader audit`
    ("cli",),  # the entry points
)
FOLDERS = {"sandbox", "authoring", "grading", "report", "selfcheck", "classroom", "distribute", "audit"}
TOP_LEVEL = {"grader": "base", "grader.errors": "base", "grader.writing": "base", "grader.points": "base",
             "grader.model": "base", "grader.cli": "cli", "grader.__main__": "cli"}
RANK = {layer: rank for rank, siblings in enumerate(ORDER) for layer in siblings}

WORKER = "grader.sandbox.worker"
STARTER = "grader.sandbox.worker_process"  # starts the worker as a process: `python -I -c BOOTSTRAP`
WORKER_SIDE = {"grader", "grader.sandbox", WORKER, "grader.sandbox.wire", "grader.sandbox.standins",
               "grader.sandbox.available_modules", "grader.sandbox.process", "grader.sandbox.capabilities",
               "grader.sandbox.landlock", "grader.sandbox.seccomp"}
# What only the worker (and, for the isolation layers, the sandbox that sets them up) may import.
WORKER_MACHINERY = {WORKER, "grader.sandbox.standins", "grader.sandbox.capabilities", "grader.sandbox.landlock",
                    "grader.sandbox.seccomp"}
WORKER_LIBRARIES = set(sys.stdlib_module_names) | {"numpy"}


@dataclass(frozen=True)
class Module:
    """What one module imports: grader modules (resolved to the module, not the package, for
    `from grader.sandbox import wire`), the top-level names of other packages, and the string
    constants it holds that are not docstrings."""

    name: str
    imports: frozenset[str]
    libraries: frozenset[str]
    strings: frozenset[str]


def parse_package(root: Path) -> dict[str, Module]:
    """Every module of the package at `root` (a folder named like the package), by dotted name."""
    package = root.name
    paths = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    modules = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imports, libraries = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[:len(here.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [(base, alias.name) for alias in node.names]
            else:
                continue
            for base, member in targets:
                if base != package and not base.startswith(package + "."):
                    libraries.add(base.split(".")[0])
                elif member is not None and f"{base}.{member}" in paths:
                    imports.add(f"{base}.{member}")
                else:
                    imports.add(base)
        docstrings = {id(body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and (body := node.body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)}
        strings = {node.value for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}
        modules[name] = Module(name, frozenset(imports), frozenset(libraries), frozenset(strings))
    return modules


def layer_of(name: str) -> str | None:
    if name in TOP_LEVEL:
        return TOP_LEVEL[name]
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FOLDERS else None


def layer_violations(modules: dict[str, Module]) -> list[str]:
    """A module in no layer, and every import of a higher layer or of a sibling."""
    found = [f"{name} is in no layer" for name in modules if layer_of(name) is None]
    for module in modules.values():
        here = layer_of(module.name)
        for imported in sorted(module.imports):
            there = layer_of(imported)
            if here is None or there is None or here == there:
                continue
            if RANK[there] >= RANK[here]:
                found.append(f"{module.name} ({here}) imports {imported} ({there})")
    return found


def worker_reference_violations(modules: dict[str, Module]) -> list[str]:
    """Every import of the worker's module, and every mention of it outside the module that starts it."""
    found = [f"{module.name} imports {WORKER}" for module in modules.values() if WORKER in module.imports]
    found += [f"{module.name} names {WORKER}" for module in modules.values()
              if module.name not in (STARTER, WORKER) and any(WORKER in text for text in module.strings)]
    return found


def machinery_violations(modules: dict[str, Module]) -> list[str]:
    """Every import of the worker's machinery (other than the worker itself, see above) by a
    module outside the sandbox: what the trusted side needs to know of it lives elsewhere."""
    return [f"{module.name} imports {imported}" for module in modules.values() if layer_of(module.name) != "sandbox"
            for imported in sorted(module.imports & (WORKER_MACHINERY - {WORKER}))]


def worker_imports(modules: dict[str, Module]) -> dict[str, str]:
    """What loading the worker loads: each grader module (parent packages included) and other
    package, with the chain of imports that reaches it."""
    reached = {WORKER: WORKER}
    stack = [WORKER]
    while stack:
        name = stack.pop()
        module = modules.get(name)
        parents = [".".join(name.split(".")[:depth]) for depth in range(1, name.count(".") + 1)]
        for imported in [*parents, *(sorted(module.imports) if module else [])]:
            if imported not in reached:
                reached[imported] = f"{reached[name]} -> {imported}"
                stack.append(imported)
        for library in sorted(module.libraries if module else []):
            reached.setdefault(library, f"{reached[name]} -> {library}")
    return reached


def worker_import_violations(modules: dict[str, Module]) -> list[str]:
    """Every grader module the worker loads that is not worker-side, and every other package
    that is neither the standard library nor numpy."""
    return [f"the worker loads {name}: {chain}" for name, chain in worker_imports(modules).items()
            if (name not in WORKER_SIDE if name.split(".")[0] == "grader" else name not in WORKER_LIBRARIES)]


@pytest.fixture(scope="module")
def grader() -> dict[str, Module]:
    return parse_package(REPO / "grader")


def test_every_module_is_in_a_layer_and_imports_only_lower_layers(grader):
    assert layer_violations(grader) == []
    assert {layer_of(name) for name in grader} == set(RANK)  # every layer has modules: the order means something


def test_only_the_worker_process_names_the_worker_and_no_module_imports_it(grader):
    assert worker_reference_violations(grader) == []
    assert any(WORKER in text for text in grader[STARTER].strings)  # its command line starts it


def test_no_module_outside_the_sandbox_imports_the_worker_machinery(grader):
    assert machinery_violations(grader) == []


def test_the_worker_loads_only_worker_side_modules_the_standard_library_and_numpy(grader):
    assert worker_import_violations(grader) == []
    reached = worker_imports(grader)
    assert {"grader.sandbox.wire", "grader.sandbox.seccomp", "numpy", "ctypes"} <= set(reached)
    assert not set(reached) & {"grader.model", STARTER, "grader.sandbox.handle", "grader.sandbox.messages",
                               "grader.sandbox.isolation", "hypothesis"}


BAD_PACKAGE = {
    "__init__.py": '"""A package that breaks every rule once."""\n',
    "model.py": "from grader.grading import pipeline\n",  # base imports grading
    "stray.py": "",  # in no folder of a layer
    "sandbox/__init__.py": "",
    "sandbox/worker_process.py": 'BOOTSTRAP = "from grader.sandbox.worker import main; main()"\n',
    "sandbox/standins.py": "",
    "sandbox/messages.py": "",
    "sandbox/wire.py": "import numpy\n",
    "sandbox/worker.py": ('"""Started by grader.sandbox.worker_process."""\nimport json\nfrom . import wire\nfrom .messages import *\n\n'
                          "def check():\n    import hypothesis\n"),
    "grading/__init__.py": "",
    "grading/pipeline.py": ("from grader.sandbox import worker, standins\n\n"
                            "def later():\n    from ..classroom import batch\n"),
    "classroom/__init__.py": "",
    "classroom/batch.py": "import grader.selfcheck.check\n",
    "selfcheck/__init__.py": "",
    "selfcheck/check.py": "from grader.model import Misconception\n",
    "report/__init__.py": "",
    "report/terminal.py": '"""Docstrings may say grader.sandbox.worker."""\nCOMMAND = "python -c \'import grader.sandbox.worker\'"\n',
}


def test_the_checker_finds_each_kind_of_violation(tmp_path):
    for relative, text in BAD_PACKAGE.items():
        path = tmp_path / "grader" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    bad = parse_package(tmp_path / "grader")

    assert bad["grader.grading.pipeline"].imports == {WORKER, "grader.sandbox.standins", "grader.classroom.batch"}  # resolved, inside functions too
    assert sorted(layer_violations(bad)) == [
        "grader.classroom.batch (classroom) imports grader.selfcheck.check (selfcheck)",  # a sibling
        "grader.grading.pipeline (grading) imports grader.classroom.batch (classroom)",  # relative, in a function
        "grader.model (base) imports grader.grading.pipeline (grading)",
        "grader.stray is in no layer",
    ]
    assert sorted(worker_reference_violations(bad)) == [
        "grader.grading.pipeline imports grader.sandbox.worker",
        "grader.report.terminal names grader.sandbox.worker",  # a string, not its docstring
    ]
    assert machinery_violations(bad) == ["grader.grading.pipeline imports grader.sandbox.standins"]
    violations = worker_import_violations(bad)
    assert sorted(violation.split(":")[0] for violation in violations) == [
        "the worker loads grader.sandbox.messages", "the worker loads hypothesis"]
    assert "the worker loads grader.sandbox.messages: grader.sandbox.worker -> grader.sandbox.messages" in violations
