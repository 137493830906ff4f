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

from conftest import REFERENCE_PATH, REPO, load_module

TEMPLATE = REPO / "student_template" / "hw1"
FUNCTIONS = [
    "rnn_step", "rnn_forward", "rnn_step_backward", "rnn_backward",
    "softmax", "softmax_backward", "qkv", "attention_weights", "self_attention", "self_attention_backward",
    "log_softmax", "nll_loss", "nll_loss_backward", "lm_inputs_and_targets", "rnn_lm_loss",
]


@pytest.fixture(scope="module")
def assignment():
    return load_assignment("hw1", REPO / "assignments")


def test_committed_template_matches_what_release_produces_now(assignment):
    rendered = render_template(assignment)
    assert sorted(rendered) == sorted(p.name for p in TEMPLATE.iterdir() if p.is_file())
    for name, text in rendered.items():
        assert (TEMPLATE / name).read_bytes() == text.encode("utf-8"), (
            f"student_template/hw1/{name} has drifted: run `grader release hw1` and commit the result"
        )


def test_release_command_reproduces_the_template_byte_for_byte(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "release", "hw1", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    for committed in TEMPLATE.iterdir():
        assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), committed.name


def solution_lines():
    """Every line inside a solution block of the reference that holds code (not just brackets), stripped."""
    source = REFERENCE_PATH.read_text()
    lines = {line.strip() for block in find_solution_blocks(source) for line in block.lines}
    return {line for line in lines if any(character.isalnum() for character in line)}


def test_the_reference_has_one_solution_block_per_function():
    blocks = find_solution_blocks(REFERENCE_PATH.read_text())
    assert [block.function for block in blocks] == FUNCTIONS


@pytest.mark.parametrize("name", ["hw1.py", "hw1.ipynb", "README.md", "test_public.py", "grader.json"])
def test_no_solution_line_appears_in_the_template(name):
    path = TEMPLATE / name
    if name.endswith(".json"):
        text = path.read_text()
        leaked = {line for line in solution_lines() if len(line) > 12 and line in text}
        assert not leaked, f"solution lines found in {name}: {sorted(leaked)[:5]}"
        return
    if name.endswith(".ipynb"):
        notebook = nbformat.read(path, as_version=4)
        template_lines = {line.strip() for cell in notebook.cells for line in cell.source.splitlines()}
    else:
        template_lines = {line.strip() for line in path.read_text().splitlines()}
    leaked = solution_lines() & template_lines
    assert not leaked, f"solution lines found in {name}: {sorted(leaked)[:5]}"


def test_template_keeps_every_signature_and_docstring():
    reference = ast.parse(REFERENCE_PATH.read_text())
    template = ast.parse((TEMPLATE / "hw1.py").read_text())

    def functions(tree):
        return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}

    reference_functions, template_functions = functions(reference), functions(template)
    assert list(template_functions) == FUNCTIONS
    for name, node in reference_functions.items():
        stub = template_functions[name]
        assert ast.dump(stub.args) == ast.dump(node.args), name
        assert ast.get_docstring(stub) == ast.get_docstring(node), name
    imports = [ast.dump(node) for node in template.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imports == [ast.dump(node) for node in reference.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_every_stub_raises_not_implemented_error_with_a_todo():
    stubs = load_module(TEMPLATE / "hw1.py", "hw1_template")
    for name in FUNCTIONS:
        with pytest.raises(NotImplementedError, match=name):
            getattr(stubs, name)(*([None] * 8)[: getattr(stubs, name).__code__.co_argcount])
    assert (TEMPLATE / "hw1.py").read_text().count("# TODO: ") == len(FUNCTIONS)


def test_notebook_has_a_markdown_cell_per_part_and_a_code_cell_per_function():
    notebook = nbformat.read(TEMPLATE / "hw1.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    headings = [cell.source.splitlines()[0] for cell in notebook.cells if cell.cell_type == "markdown"]
    assert [h for h in headings if h.startswith("## Part")] == [
        "## Part A — recurrent composition", "## Part B — self-attention", "## Part C — averaged negative log-likelihood",
    ]
    defined = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            defined += [node.name for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
            assert cell.outputs == [] and cell.execution_count is None
    assert defined == FUNCTIONS
    code_cells_defining_functions = [c for c in notebook.cells if c.cell_type == "code" and "def " in c.source]
    assert len(code_cells_defining_functions) == len(FUNCTIONS)


def test_notebook_code_cells_run_and_define_the_stubs():
    notebook = nbformat.read(TEMPLATE / "hw1.ipynb", as_version=4)
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<cell>", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["softmax"](None)


def test_handout_lists_every_function_with_its_points(assignment):
    handout = (TEMPLATE / "README.md").read_text()
    for function, points in assignment.points.items():
        assert f"| `{function}` | {points:g} |" in handout
    assert "{{" not in handout


def run_public_tests(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )


def test_public_tests_fail_on_the_stubs_and_pass_on_the_reference(tmp_path):
    stubs = tmp_path / "stubs"
    shutil.copytree(TEMPLATE, stubs)
    on_stubs = run_public_tests(stubs)
    assert on_stubs.returncode == 1, on_stubs.stdout[-2000:]
    summary = on_stubs.stdout.strip().splitlines()[-1]
    assert " failed" in summary and " passed" not in summary, summary  # every public test fails

    solved = tmp_path / "solved"
    shutil.copytree(TEMPLATE, solved)
    shutil.copy(REFERENCE_PATH, solved / "hw1.py")
    on_reference = run_public_tests(solved)
    assert on_reference.returncode == 0, on_reference.stdout[-2000:]
    assert " passed" in on_reference.stdout and " failed" not in on_reference.stdout


def test_grader_json_gives_check_the_module_points_hints_and_error_hints_only(assignment):
    import json

    from grader.grading.assignment import function_hints

    data = json.loads((TEMPLATE / "grader.json").read_text())
    assert data["module"] == "hw1" and data["assignment"] == "hw1" and data["public_tests"] == "test_public.py"
    assert [(f["name"], f["points"]) for f in data["functions"]] == list(assignment.points.items())
    assert {f["name"]: f["hint"] for f in data["functions"]} == function_hints(assignment)
    assert all(f["hint"] for f in data["functions"])
    assert data["error_hints"] and all(set(h) == {"title", "explanation", "function", "pattern"} for h in data["error_hints"])
    assert set(data) == {"about", "assignment", "module", "public_tests", "functions", "error_hints"}
