"""Notebook submissions are graded like .py ones: real nbformat files, graded through the CLI.

They are notebooks of the small assignment of `grader new tiny` (the `tiny` fixture; its template
has a notebook too): the subject here is reading notebooks, not hw1's checks.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from grading_helpers import assert_valid_results, function_scores, grade_file, grade_many
from notebooks import (filled_template, jupyterlab_metadata, partly_done_notebook, tiny_partly_done_module,
                       tiny_partly_done_notebook, write)
from conftest import REPO

from grader.grading.notebook import neutralise_ipython, read_notebook_cells

code, markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell


def test_the_template_notebook_filled_in_with_the_reference_earns_full_marks_and_unfilled_earns_zero(tiny, tmp_path):
    filled = write(filled_template(homework=tiny), tmp_path / "filled.ipynb")
    unfilled = tmp_path / "unfilled.ipynb"
    unfilled.write_bytes((tiny.template / "tiny.ipynb").read_bytes())
    graded = grade_many([filled, unfilled], tmp_path, homework=tiny)
    for outcome in graded.values():
        assert outcome["returncode"] == 0, outcome["stderr"]
        assert_valid_results(outcome["results"], tiny)
    assert graded[filled]["results"]["score"] == 10.0
    assert graded[unfilled]["results"]["score"] == 0.0
    # each unfilled function is said to be not implemented once, naming where it raised, not once per check
    cells = nbformat.read(unfilled, as_version=4).cells
    for function in ("normalize", "normalize_backward"):
        cell = next(i for i, c in enumerate(cells, start=1) if f"def {function}(" in c.source)
        stub = f"{function} is not implemented: it raised NotImplementedError (unfilled.ipynb cell {cell}, line"
        assert graded[unfilled]["feedback"].count(stub) == 1, stub


def test_a_notebook_and_a_py_file_with_the_same_code_earn_the_same_scores(tiny, tmp_path):
    notebook = write(tiny_partly_done_notebook(tiny), tmp_path / "partly_done.ipynb")
    module = tmp_path / "partly_done.py"
    module.write_text(tiny_partly_done_module(tiny))
    graded = grade_many([notebook, module], tmp_path, homework=tiny)
    from_notebook, from_module = graded[notebook]["results"], graded[module]["results"]
    assert from_notebook["score"] == from_module["score"]
    assert function_scores(from_notebook) == function_scores(from_module)
    assert [t["status"] for t in from_notebook["tests"]] == [t["status"] for t in from_module["tests"]]
    scores = function_scores(from_notebook)
    assert 0 < scores["normalize"][0] < 6  # right, but no ValueError for a negative count: one check lost
    failed = [t["name"] for t in from_notebook["tests"] if t["tags"] == ["normalize"] and t["status"] == "failed"]
    assert failed == ["normalize: raises ValueError for a negative entry"]
    assert scores["normalize_backward"] == (0.0, 4.0)  # still a stub


def test_the_bundled_notebook_example_matches_its_py_twin():
    """examples/hw1/dana_notebook.ipynb is what tests/notebooks.py makes (it is not edited by hand)."""
    committed = nbformat.read(REPO / "examples" / "hw1" / "dana_notebook.ipynb", as_version=4)
    made = partly_done_notebook()
    assert [c.source for c in committed.cells] == [c.source for c in made.cells]


def realistic_notebook(homework) -> nbformat.NotebookNode:
    """A right answer as a real notebook holds it: markdown, magics, a shell escape, cell magics,
    a failing scratch cell, plots, a function redefined after a fix, outputs and JupyterLab metadata."""
    notebook = filled_template(homework=homework)
    first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    scratch = [
        markdown("## My scratch work\nNothing here should cost points."),
        code("%load_ext autoreload\n%autoreload 2\n%matplotlib inline\n!pip install --quiet numpy\n"
             "files = !ls\nimport matplotlib.pyplot as plt\nimport seaborn as sns\nfrom IPython.display import display, Markdown"),
        code("%%bash\necho this is not python; exit 1"),
        code("%%time\ndef helper_scale(x):\n    return 2 * x\n"),
        code("display(Markdown('**testing**'))\nget_ipython().run_line_magic('timeit', 'helper_scale(3)')"),
        code("print(undefined_name)"),
        code("x = np.random.randn(4, 4)\nplt.imshow(x)\nplt.title('scores')\nfig, axes = plt.subplots(1, 2)\nfor ax in axes:\n    ax.plot([1, 2])"),
    ]
    notebook.cells[first + 1:first + 1] = scratch
    notebook.cells.insert(first + 1 + len(scratch), code("def normalize(x, axis=-1):\n    return x  # first try, fixed below"))
    return jupyterlab_metadata(notebook)


def test_a_realistic_notebook_with_the_right_code_earns_full_marks_and_names_its_failing_cell(tiny, tmp_path):
    notebook = realistic_notebook(tiny)
    failing = next(i for i, c in enumerate(notebook.cells, start=1) if c.source == "print(undefined_name)")
    first_try = next(i for i, c in enumerate(notebook.cells) if "first try, fixed below" in c.source)
    assert first_try < next(i for i, c in enumerate(notebook.cells) if "def normalize(x, axis=-1):\n    \"\"\"" in c.source)
    outcome = grade_file(write(notebook, tmp_path / "tiny.ipynb"), tmp_path, homework=tiny)
    assert outcome["returncode"] == 0, outcome["stderr"]
    results = outcome["results"]
    assert_valid_results(results, tiny)
    assert results["score"] == 10.0, outcome["feedback"]
    assert (f"tiny.ipynb cell {failing}, line 1: NameError was raised while running the code at the top level: "
            "name 'undefined_name' is not defined") in results["output"]
    assert "Not available when grading: matplotlib, seaborn, IPython" in results["output"]
    assert "it ran" not in outcome["feedback"]  # saved outputs are not the student's output now


@pytest.mark.parametrize("minor", [0, 1, 2, 4])
def test_older_v4_notebooks_without_cell_ids_are_graded(tiny, tmp_path, minor):
    """As Jupyter wrote them before nbformat 4.5: no cell ids, sources as lists of lines."""
    notebook = filled_template(homework=tiny)
    cells = []
    for cell in notebook.cells:
        lines = cell.source.splitlines(keepends=True)
        entry = {"cell_type": cell.cell_type, "metadata": {}, "source": lines}
        if cell.cell_type == "code":
            entry.update(execution_count=None, outputs=[])
        cells.append(entry)
    data = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": minor}
    path = tmp_path / "tiny.ipynb"
    path.write_text(json.dumps(data, indent=1))
    outcome = grade_file(path, tmp_path, homework=tiny)
    assert outcome["returncode"] == 0 and outcome["results"]["score"] == 10.0, outcome["feedback"]


def test_truncated_and_non_notebook_files_score_zero_and_say_why(tiny, tmp_path):
    whole = write(filled_template(homework=tiny), tmp_path / "whole.ipynb").read_text()
    cases = {
        "truncated.ipynb": (whole[: len(whole) // 2], "the file ends too early"),
        "python.ipynb": ("import numpy as np\n\ndef normalize(x, axis=-1):\n    return x / x.sum()\n", "looks like Python source"),
        "empty.ipynb": ("", "the file is empty"),
        "json.ipynb": ('{"name": "not a notebook", "cells": 3}', "it is JSON, but not a notebook"),
        "future.ipynb": ('{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}', "Unsupported nbformat version 5"),
    }
    paths = []
    for name, (text, _) in cases.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    binary = tmp_path / "binary.ipynb"
    binary.write_bytes(b"PK\x03\x04\x00\x00\xff\xfe" * 20)
    graded = grade_many(paths + [binary], tmp_path, homework=tiny)
    for path in paths:
        outcome = graded[path]
        assert outcome["returncode"] == 0, outcome["stderr"]
        assert_valid_results(outcome["results"], tiny)
        assert outcome["results"]["score"] == 0
        assert f"{path.name} is not a valid Jupyter notebook" in outcome["results"]["output"]
        assert cases[path.name][1] in outcome["results"]["output"]
    assert graded[binary]["results"]["score"] == 0 and "binary" in graded[binary]["results"]["output"]


def test_a_notebook_saved_with_a_py_name_is_graded_as_a_notebook(tiny, tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(nbformat.writes(filled_template(homework=tiny)))
    outcome = grade_file(path, tmp_path, homework=tiny)
    assert outcome["results"]["score"] == 10.0
    assert "tiny.py holds a Jupyter notebook, not Python source: it was graded as a notebook." in outcome["results"]["output"]


def test_a_syntax_error_or_a_training_loop_in_one_cell_costs_only_that_cell(tiny, tmp_path):
    notebook = filled_template(homework=tiny)
    cells = notebook.cells
    normalize_cell = next(i for i, c in enumerate(cells) if "def normalize(" in c.source)
    assert normalize_cell < next(i for i, c in enumerate(cells) if "def normalize_backward(" in c.source)
    cells[normalize_cell].source = cells[normalize_cell].source + "\nprint('unclosed'\n"  # a syntax error: normalize is lost
    cells.insert(normalize_cell + 1, code("for epoch in range(10**12):\n    loss = epoch * 0.5\n"))  # a training loop
    outcome = grade_file(write(notebook, tmp_path / "tiny.ipynb"), tmp_path, homework=tiny)
    results = outcome["results"]
    scores = function_scores(results)
    assert scores["normalize"][0] == 0
    assert scores["normalize_backward"] == (4.0, 4.0)  # its cell comes after both: it still ran, and counts
    assert f"tiny.ipynb cell {normalize_cell + 1}, line" in results["output"] and "Python could not read that cell" in results["output"]
    assert f"tiny.ipynb cell {normalize_cell + 2}, line" in results["output"] and "stopped after running for its time limit" in results["output"]


def test_graded_functions_may_plot_but_not_use_other_libraries(tiny, tmp_path):
    notebook = filled_template(homework=tiny)
    for cell in notebook.cells:
        if "def normalize_backward(" in cell.source:  # plots as it works: still right
            cell.source = "import matplotlib.pyplot as plt\n" + cell.source.replace(
                "    p = x / total\n", "    p = x / total\n    plt.plot(p.ravel())\n")
        elif "def normalize(" in cell.source:  # uses scipy: not available when grading
            cell.source = "from scipy.special import softmax\n" + cell.source.replace(
                "def normalize(x, axis=-1):", "def normalize(x, axis=-1):\n    return softmax(np.log(x), axis=axis)\n\ndef unused(x, axis=-1):")
    outcome = grade_file(write(notebook, tmp_path / "tiny.ipynb"), tmp_path, homework=tiny)
    scores = function_scores(outcome["results"])
    assert scores["normalize_backward"] == (4.0, 4.0)
    assert scores["normalize"][0] == 0
    assert "normalize raised ImportError: scipy is not available when grading (scipy.special.softmax was used)" in outcome["feedback"]
    assert "a graded function that uses scipy fails with ImportError" in outcome["results"]["output"]


@pytest.mark.parametrize("source, expected", [
    ("%matplotlib inline\nx = 1", "pass\nx = 1"),
    ("!pip install numpy", "pass"),
    ("  files = !ls\nx = 2", "  pass\nx = 2"),
    ("%%bash\necho hi", None),
    ("%%time\ny = 3", "pass\ny = 3"),
    ("x = 5 % 3\ny = '!'", "x = 5 % 3\ny = '!'"),
])
def test_ipython_syntax_is_neutralised_line_for_line(source, expected):
    assert neutralise_ipython(source) == expected


def test_cells_are_named_by_their_position_among_all_cells():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [markdown("# title"), code("a = 1"), markdown("text"), nbformat.v4.new_raw_cell("raw"), code("b = 2")]
    cells = read_notebook_cells(nbformat.writes(notebook), "hw1.ipynb")
    assert [c.filename for c in cells[1:]] == ["hw1.ipynb cell 2", "hw1.ipynb cell 5"]


def test_scratch_habits_cost_nothing_but_a_shadowed_function_is_named(tiny, tmp_path):
    """Help lines, a numba decorator, a notebook over 5 MiB of saved plots, an indentation slip in a
    scratch cell: all free. Rebinding a graded name to a value costs that function, and says so."""
    notebook = filled_template(homework=tiny)
    for cell in notebook.cells:
        if "def normalize_backward(" in cell.source:
            cell.source = cell.source.replace("def normalize_backward(", "@numba.njit(cache=True)\ndef normalize_backward(")
    first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    plots = code("np.einsum?\n??normalize\nimport numba\nimport matplotlib.pyplot as plt")
    plots.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "A" * (6 << 20)})]
    notebook.cells.insert(first + 1, plots)
    notebook.cells.append(code("for i in range(3):\nprint(i)"))  # IndentationError
    notebook.cells.append(code("x = np.array([[1.0, 2.0]])\nnormalize = normalize(x)\nprint(normalize)"))
    path = write(notebook, tmp_path / "tiny.ipynb")
    assert path.stat().st_size > 6 << 20
    outcome = grade_file(path, tmp_path, homework=tiny)
    results = outcome["results"]
    scores = function_scores(results)
    assert scores["normalize_backward"] == (4.0, 4.0)
    assert scores["normalize"][0] == 0
    assert ("not run: tiny.ipynb binds normalize to a ndarray, not a function: a later line or cell assigns to that name "
            "(say `normalize = normalize(...)`)") in outcome["feedback"]
    last = len(notebook.cells)
    assert f"tiny.ipynb cell {last - 1}, line 2: IndentationError: expected an indented block" in results["output"]
    assert "Python could not read that cell" in results["output"]


def test_a_notebook_over_the_size_limit_says_to_clear_its_outputs(tiny, tmp_path):
    from grader.grading.submission import MAX_NOTEBOOK_BYTES

    path = tmp_path / "tiny.ipynb"
    data = json.loads(nbformat.writes(filled_template(homework=tiny)))
    data["metadata"]["padding"] = "A" * (MAX_NOTEBOOK_BYTES + 10)
    path.write_text(json.dumps(data))
    outcome = grade_file(path, tmp_path, homework=tiny)
    assert outcome["results"]["score"] == 0
    assert "over the limit of 64.0 MiB: clear its outputs" in outcome["results"]["output"]
