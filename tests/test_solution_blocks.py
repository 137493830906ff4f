"""Finding and stripping solution blocks, including malformed markers."""

import pytest

from grader.errors import UsageError
from grader.distribute.percent_cells import split_cells
from grader.grading.solution_blocks import find_solution_blocks, strip_solutions

SOURCE = '''def f(x):
    """Double x."""
    # BEGIN SOLUTION  TODO: return twice x.
    y = 2 * x
    return y
    # END SOLUTION


def g():
    # BEGIN SOLUTION
    return 1
    # END SOLUTION
'''


def test_blocks_are_found_with_their_function_and_hint():
    blocks = find_solution_blocks(SOURCE)
    assert [(b.function, b.hint, b.first_line, b.last_line) for b in blocks] == [
        ("f", "return twice x.", 3, 6),
        ("g", "implement g.", 10, 12),
    ]
    assert blocks[0].lines == ("    y = 2 * x", "    return y")


def test_stripping_replaces_each_block_by_a_todo_and_a_stub():
    stripped = strip_solutions(SOURCE)
    assert "2 * x" not in stripped and "return 1" not in stripped
    assert '    # TODO: return twice x.\n    raise NotImplementedError("f is not implemented yet")\n' in stripped
    assert '"""Double x."""' in stripped
    namespace = {}
    exec(stripped, namespace)
    with pytest.raises(NotImplementedError, match="g is not implemented yet"):
        namespace["g"]()


@pytest.mark.parametrize(
    "source, message",
    [
        ("# BEGIN SOLUTION\nx = 1\n", ":1: BEGIN SOLUTION is never closed"),
        ("x = 1\n# END SOLUTION\n", ":2: END SOLUTION without a BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", ":2: BEGIN SOLUTION inside the block opened on line 1"),
    ],
)
def test_malformed_markers_are_reported_with_their_line(source, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        find_solution_blocks(source, "ref.py")


def test_percent_cells_split_markdown_and_code():
    cells = split_cells("preamble\n# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nimport numpy\n\n\n# %%\n\n")
    assert [(c.kind, c.source) for c in cells] == [("markdown", "# Title\n\ntext"), ("code", "import numpy")]
