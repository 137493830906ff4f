"""Real notebook files for the tests, made with nbformat the way Jupyter makes them.

`filled_template(functions)` is the student's path through the homework: the template
notebook that `grader release` wrote, with the TODO stub of each named function replaced by
the reference's code for it (the student "fills in the blanks"); the other stubs stay. It is
hw1's template unless a `homework` (grading_helpers.Homework, e.g. the `tiny` fixture) is given.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from conftest import REFERENCE_PATH, REPO
from grader.grading.solution_blocks import find_solution_blocks
from grading_helpers import HW1, Homework

TEMPLATE_NOTEBOOK = REPO / "student_template" / "hw1" / "hw1.ipynb"
_STUB = re.compile(r'^(?P<indent>[ \t]*)# TODO: .*\n[ \t]*raise NotImplementedError\("(?P<function>\w+) is not implemented yet"\)\n?',
                   re.MULTILINE)


def solution_bodies(reference: Path = REFERENCE_PATH) -> dict[str, str]:
    """The code of each function of the reference at `reference`: its solution block's lines."""
    source = reference.read_text(encoding="utf-8")
    return {block.function: "".join(line + "\n" for line in block.lines) for block in find_solution_blocks(source)}


def fill_stubs(source: str, functions: set[str] | None, reference: Path = REFERENCE_PATH) -> str:
    """`source` with the stub of each function in `functions` (None: all) replaced by the code of
    the reference at `reference`."""
    bodies = solution_bodies(reference)

    def fill(match: re.Match) -> str:
        name = match["function"]
        if functions is not None and name not in functions:
            return match[0]
        return bodies[name]

    return _STUB.sub(fill, source)


def filled_template(functions: set[str] | None = None, homework: Homework = HW1) -> nbformat.NotebookNode:
    """The template notebook of `homework` with the named functions (None: all) filled in from its reference."""
    notebook = nbformat.read(homework.template / f"{homework.module}.ipynb", as_version=4)
    filled = copy.deepcopy(notebook)
    for cell in filled.cells:
        if cell.cell_type == "code":
            cell.source = fill_stubs(cell.source, functions, homework.reference)
    return filled


def write(notebook: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(notebook, str(path))
    return path


def jupyterlab_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`notebook` with the metadata, execution counts and outputs JupyterLab saves."""
    notebook.metadata = nbformat.from_dict({
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {
            "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
            "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3", "version": "3.11.9",
        },
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2, "version_minor": 0}},
        "toc-autonumbering": True,
    })
    count = 0
    for cell in notebook.cells:
        cell.metadata = nbformat.from_dict({
            "tags": ["student"], "collapsed": False, "scrolled": True,
            "jupyter": {"source_hidden": False, "outputs_hidden": False},
            "execution": {"iopub.execute_input": "2026-11-20T10:00:00.000Z", "shell.execute_reply": "2026-11-20T10:00:01.000Z"},
        }) if cell.cell_type == "code" else nbformat.from_dict({"editable": True, "slideshow": {"slide_type": ""}})
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text="it ran\n"),
                nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
                                                             "text/plain": "<Figure size 640x480 with 1 Axes>"}),
                nbformat.v4.new_output("error", ename="NameError", evalue="name 'x' is not defined",
                                       traceback=["\u001b[0;31mNameError\u001b[0m: name 'x' is not defined"]),
            ]
    return notebook


TEMPLATE_MODULE = REPO / "student_template" / "hw1" / "hw1.py"

# A student halfway through: eight functions written, two of them with a classic bug.
PARTLY_DONE = {"rnn_step", "rnn_forward", "softmax", "qkv", "attention_weights", "log_softmax", "nll_loss",
               "lm_inputs_and_targets"}
PARTLY_DONE_BUGS = [
    ("    x_max = np.max(x, axis=axis, keepdims=True)\n"
     "    x_max = np.where(np.isfinite(x_max), x_max, 0.0)  # an all -inf slice must not give -inf - -inf\n"
     "    e = np.exp(x - x_max)  # every exponent <= 0: no overflow\n",
     "    e = np.exp(x)\n"),  # softmax: no max-subtraction
    ("    return float(losses.sum() / n_counted)\n", "    return float(losses.sum())\n"),  # nll_loss: sum, not mean
]


def with_bugs(source: str) -> str:
    for right, wrong in PARTLY_DONE_BUGS:
        source = source.replace(right, wrong)
    return source


def partly_done_module() -> str:
    """The template hw1.py with PARTLY_DONE filled in and the two bugs: the .py twin of the notebook."""
    return with_bugs(fill_stubs(TEMPLATE_MODULE.read_text(encoding="utf-8"), PARTLY_DONE))


def partly_done_notebook(scratch: bool = True) -> nbformat.NotebookNode:
    """The template notebook with the same code as partly_done_module(), and, with `scratch`,
    what a real notebook also holds (with_scratch, trying out softmax)."""
    notebook = filled_template(PARTLY_DONE)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = with_bugs(cell.source)
    return with_scratch(notebook, "softmax") if scratch else notebook


def with_scratch(notebook: nbformat.NotebookNode, function: str) -> nbformat.NotebookNode:
    """`notebook` with what a real notebook also holds: imports for plotting, magics, a shell
    escape, scratch cells that try out `function` (a function of one array) and plot, one that
    fails, saved outputs and JupyterLab's metadata."""
    new_code = nbformat.v4.new_code_cell
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(first_code + 1, new_code("%matplotlib inline\n!pip install tqdm\nimport matplotlib.pyplot as plt\nfrom tqdm.auto import tqdm"))
    function_cell = next(i for i, c in enumerate(notebook.cells) if f"def {function}(" in c.source)
    notebook.cells.insert(function_cell + 1, new_code(
        f"# trying it out\nx = np.array([[1.0, 2.0, 3.0]])\nprint({function}(x), {function}(x).sum())\n"
        f"plt.imshow({function}(np.random.randn(5, 5)))\nplt.colorbar()"))
    notebook.cells.insert(function_cell + 2, new_code(f"%%timeit\n{function}(np.random.randn(100, 100))"))
    notebook.cells.insert(function_cell + 3, new_code("print(A_demo.shape)  # left over from a deleted cell"))
    notebook.cells.append(new_code(
        "losses = []\nfor step in tqdm(range(3)):\n    losses.append(step)\nfig, ax = plt.subplots()\nax.plot(losses)\nplt.show()"))
    return jupyterlab_metadata(notebook)


# tiny (the `tiny` fixture) halfway: normalize written but without its check for negative counts, a
# classic omission that costs its one check of the ValueError; normalize_backward still a stub.
TINY_PARTLY_DONE_BUG = ('    if np.any(x < 0):\n'
                        '        raise ValueError("normalize takes counts or weights: no entry may be negative")\n', "")


def tiny_partly_done_module(homework: Homework) -> str:
    """tiny's template module with normalize filled in, with the omission above: the .py twin of
    tiny_partly_done_notebook."""
    source = fill_stubs((homework.template / f"{homework.module}.py").read_text(encoding="utf-8"), {"normalize"},
                        homework.reference)
    assert source.count(TINY_PARTLY_DONE_BUG[0]) == 1
    return source.replace(*TINY_PARTLY_DONE_BUG)


def tiny_partly_done_notebook(homework: Homework, scratch: bool = True) -> nbformat.NotebookNode:
    """tiny's template notebook with the code of tiny_partly_done_module(), and, with `scratch`,
    the scratch work of a real notebook (with_scratch, trying out normalize)."""
    notebook = filled_template({"normalize"}, homework)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace(*TINY_PARTLY_DONE_BUG)
    return with_scratch(notebook, "normalize") if scratch else notebook
