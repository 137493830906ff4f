"""The student template is derived from the reference, reproducibly, without leaking solutions."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.grading.assignment import load_assignment
from grader.distribute.release import render_template
from grader.grading.solution_blocks import find_solution_blocks

from conftest import REPO, load_module

PARTS = {
    "hw1": ["## Part A — recurrent composition", "## Part B — self-attention",
            "## Part C — averaged negative log-likelihood"],
    "hw2": ["## Part A — a linear RNN, computed in parallel", "## Part B — multi-head attention",
            "## Part C — position information"],
}


class Homework:
    """One homework's names and paths: its template folder, its reference, its functions in order."""

    def __init__(self, name: str):
        self.name = name
        self.assignment = load_assignment(name, REPO / "assignments")
        self.template = REPO / "student_template" / name
        self.reference = self.assignment.reference
        self.functions = list(self.assignment.points)
        self.parts = PARTS[name]

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(scope="module", params=sorted(PARTS))
def homework(request) -> Homework:
    return Homework(request.param)


@pytest.fixture
def assignment(homework):
    return homework.assignment


def test_committed_template_matches_what_release_produces_now(homework):
    rendered = render_template(homework.assignment)
    assert sorted(rendered) == sorted(p.name for p in homework.template.iterdir() if p.is_file())
    for name, text in rendered.items():
        assert (homework.template / name).read_bytes() == text.encode("utf-8"), (
            f"student_template/{homework.name}/{name} has drifted: run `grader release {homework.name}` and commit the result"
        )


def test_release_command_reproduces_the_template_byte_for_byte(homework, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "release", homework.name, "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    for committed in homework.template.iterdir():
        assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), committed.name


def solution_lines(homework):
    """Every line inside a solution block of the reference that holds code (not just brackets), stripped."""
    source = homework.reference.read_text()
    lines = {line.strip() for block in find_solution_blocks(source) for line in block.lines}
    return {line for line in lines if any(character.isalnum() for character in line)}


def test_the_reference_has_one_solution_block_per_function(homework):
    blocks = find_solution_blocks(homework.reference.read_text())
    assert [block.function for block in blocks] == homework.functions


@pytest.mark.parametrize("suffix", [".py", ".ipynb", "README.md", "test_public.py", "grader.json"])
def test_no_solution_line_appears_in_the_template(homework, suffix):
    name = f"{homework.name}{suffix}" if suffix.startswith(".") else suffix
    path = homework.template / name
    if name.endswith(".json"):
        text = path.read_text()
        leaked = {line for line in solution_lines(homework) if len(line) > 12 and line in text}
        assert not leaked, f"solution lines found in {name}: {sorted(leaked)[:5]}"
        return
    if name.endswith(".ipynb"):
        notebook = nbformat.read(path, as_version=4)
        template_lines = {line.strip() for cell in notebook.cells for line in cell.source.splitlines()}
    else:
        template_lines = {line.strip() for line in path.read_text().splitlines()}
    leaked = solution_lines(homework) & template_lines
    assert not leaked, f"solution lines found in {name}: {sorted(leaked)[:5]}"


def test_template_keeps_every_signature_and_docstring(homework):
    reference = ast.parse(homework.reference.read_text())
    template = ast.parse((homework.template / f"{homework.name}.py").read_text())

    def functions(tree):
        return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}

    reference_functions, template_functions = functions(reference), functions(template)
    assert list(template_functions) == homework.functions
    for name, node in reference_functions.items():
        stub = template_functions[name]
        assert ast.dump(stub.args) == ast.dump(node.args), name
        assert ast.get_docstring(stub) == ast.get_docstring(node), name
    imports = [ast.dump(node) for node in template.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imports == [ast.dump(node) for node in reference.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_every_stub_raises_not_implemented_error_with_a_todo(homework):
    stubs = load_module(homework.template / f"{homework.name}.py", f"{homework.name}_template")
    for name in homework.functions:
        with pytest.raises(NotImplementedError, match=name):
            getattr(stubs, name)(*([None] * 10)[: getattr(stubs, name).__code__.co_argcount])
    assert (homework.template / f"{homework.name}.py").read_text().count("# TODO: ") == len(homework.functions)


def test_notebook_has_a_markdown_cell_per_part_and_a_code_cell_per_function(homework):
    notebook = nbformat.read(homework.template / f"{homework.name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    headings = [cell.source.splitlines()[0] for cell in notebook.cells if cell.cell_type == "markdown"]
    assert [h for h in headings if h.startswith("## Part")] == homework.parts
    defined = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            defined += [node.name for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
            assert cell.outputs == [] and cell.execution_count is None
    assert defined == homework.functions
    code_cells_defining_functions = [c for c in notebook.cells if c.cell_type == "code" and "def " in c.source]
    assert len(code_cells_defining_functions) == len(homework.functions)


def test_notebook_code_cells_run_and_define_the_stubs(homework):
    notebook = nbformat.read(homework.template / f"{homework.name}.ipynb", as_version=4)
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<cell>", "exec"), namespace)
    for name in homework.functions:
        function = namespace[name]
        with pytest.raises(NotImplementedError):
            function(*([None] * function.__code__.co_argcount))


def test_handout_lists_every_function_with_its_points(homework, assignment):
    handout = (homework.template / "README.md").read_text()
    for function, points in assignment.points.items():
        assert f"| `{function}` | {points:g} |" in handout
    assert "{{" not in handout


def run_public_tests(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )


def test_public_tests_fail_on_the_stubs_and_pass_on_the_reference(homework, tmp_path):
    stubs = tmp_path / "stubs"
    shutil.copytree(homework.template, stubs)
    on_stubs = run_public_tests(stubs)
    assert on_stubs.returncode == 1, on_stubs.stdout[-2000:]
    summary = on_stubs.stdout.strip().splitlines()[-1]
    assert " failed" in summary and " passed" not in summary, summary  # every public test fails

    solved = tmp_path / "solved"
    shutil.copytree(homework.template, solved)
    shutil.copy(homework.reference, solved / f"{homework.name}.py")
    on_reference = run_public_tests(solved)
    assert on_reference.returncode == 0, on_reference.stdout[-2000:]
    assert " passed" in on_reference.stdout and " failed" not in on_reference.stdout


def test_grader_json_gives_check_the_module_points_hints_and_error_hints_only(homework, assignment):
    import json

    from grader.grading.assignment import function_hints

    data = json.loads((homework.template / "grader.json").read_text())
    assert data["module"] == data["assignment"] == homework.name and data["public_tests"] == "test_public.py"
    assert [(f["name"], f["points"]) for f in data["functions"]] == list(assignment.points.items())
    assert {f["name"]: f["hint"] for f in data["functions"]} == function_hints(assignment)
    assert all(f["hint"] for f in data["functions"])
    assert data["error_hints"] and all(set(h) == {"title", "explanation", "function", "pattern"} for h in data["error_hints"])
    assert set(data) == {"about", "assignment", "module", "public_tests", "functions", "error_hints"}
