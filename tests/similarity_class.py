"""A class to test `grader similarity` on, made from real homework 1 code of this repository.

Independent right answers (tests/submissions/correct/: loops, einsum, chatty; the reference
solution), students who handed in the untouched template (.py and .ipynb), and copies disguised
the usual ways: an exact copy, renamed variables, reordered functions, rewritten comments and
docstrings, all three at once, a copy as a notebook, a copy with a notebook cell tokenize cannot
read, a copy with a syntax error. Then files that cannot be compared: binary junk, NUL bytes,
a string never closed, a bad dedent, a symbolic link, a corrupt notebook, a file over the size
limit, one with too many tokens, an empty file, a folder with nothing to grade.

`FAMILIES` says which students share code: every pair inside a family is a copy, every pair
across families (and any pair with a template student) is independent work.
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import tokenize
from pathlib import Path

import nbformat

from conftest import REFERENCE_PATH, REPO

CORRECT = REPO / "tests" / "submissions" / "correct"
TEMPLATE = REPO / "student_template" / "hw1"
MALLORY = "=cmd <i>mallory & co"  # an exact copy, named to test escaping in CSV and HTML

FAMILIES = {
    "loops": ("loops", MALLORY, "loops_syntax_error"),
    "einsum": ("einsum", "einsum_renamed", "einsum_notebook"),
    "chatty": ("chatty", "chatty_reordered", "chatty_broken_cell"),
    "reference": ("reference", "reference_comments", "reference_disguised"),
}
TEMPLATE_STUDENTS = ("template_py", "template_nb")
# student -> a fragment of the reason it is skipped
SKIPPED = {
    "binary_junk": "not UTF-8 text",
    "nul_bytes": "NUL bytes",
    "unterminated": "cannot be read as Python tokens: EOF in multi-line string",
    "bad_dedent": "cannot be read as Python tokens: unindent does not match any outer indentation level",
    "link_to_loops": "symbolic link",
    "corrupt_notebook": "not a valid Jupyter notebook",
    "huge": "over the limit",
    "too_many_tokens": "has more than 50,000 tokens",
    "empty": "holds no code",
    "nothing_to_grade": "holds neither hw1.py nor hw1.ipynb",
}
LONG_LINE = "# " + "a_very_long_unbroken_comment_" * 12  # wraps on the side-by-side page, never widens it


def make_class(folder: Path) -> Path:
    """Write the class into `folder` (created); returns it."""
    folder.mkdir(parents=True)
    loops, einsum = (CORRECT / "loops.py").read_text(), (CORRECT / "einsum.py").read_text()
    chatty, reference = (CORRECT / "chatty.py").read_text(), REFERENCE_PATH.read_text()
    graded = set(_graded_functions(reference))
    files = {
        "loops.py": loops, "einsum.py": einsum, "chatty.py": chatty, "reference.py": reference,
        "template_py.py": (TEMPLATE / "hw1.py").read_text(),
        "template_nb.ipynb": (TEMPLATE / "hw1.ipynb").read_text(),
        f"{MALLORY}.py": loops,
        "loops_syntax_error.py": loops.replace("\ndef ", f"\n{LONG_LINE}\ndef oops():\n    for in range(3):\n        pass\n\ndef ", 1),
        "einsum_renamed.py": rename_variables(einsum, keep=graded),
        "einsum_notebook.ipynb": as_notebook(top_level_chunks(einsum)),
        "chatty_reordered.py": reorder_functions(chatty),
        "chatty_broken_cell.ipynb": as_notebook(top_level_chunks(reorder_functions(chatty)) + ['"""never closed\n']),
        "reference_comments.py": rewrite_comments(reference),
        "reference_disguised.py": rewrite_comments(reorder_functions(rename_variables(reference, keep=graded))),
        "nul_bytes.py": "import numpy as np\n\x00\x00\n",
        "unterminated.py": loops + '\n"""a docstring never closed\n',
        "bad_dedent.py": "def f(x):\n        y = x\n    return y\n",
        "corrupt_notebook.ipynb": '{"cells": [',
        "too_many_tokens.py": "x = [" + "1, " * 60_000 + "]\n",
        "empty.py": "",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "binary_junk.py").write_bytes(bytes(range(128, 256)) * 64)
    (folder / "huge.py").write_text("# padding\n" * 600_000, encoding="utf-8")  # 6 MB, over the 5 MiB limit
    os.symlink(folder / "loops.py", folder / "link_to_loops.py")
    (folder / "nothing_to_grade").mkdir()
    (folder / "nothing_to_grade" / "notes.txt").write_text("I ran out of time\n", encoding="utf-8")
    return folder


def family_pairs() -> set[frozenset[str]]:
    """Every pair of students that share code: the pairs that must be reported."""
    return {frozenset((a, b)) for members in FAMILIES.values() for a in members for b in members if a < b}


def _graded_functions(source: str) -> list[str]:
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)
            and not node.name.startswith("_")]


def _replace(source: str, replacements: list[tuple[tuple[int, int], tuple[int, int], str]]) -> str:
    """`source` with each (start, end, text) replaced; start and end are tokenize's (row, col)."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    for (start_row, start_col), (end_row, end_col), text in sorted(replacements, reverse=True):
        start, end = offsets[start_row - 1] + start_col, offsets[end_row - 1] + end_col
        source = source[:start] + text + source[end:]
    return source


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


def rename_variables(source: str, keep: set[str]) -> str:
    """`source` with every name it binds (parameters, variables, helper functions) renamed, as a
    student disguising a copy would: not the graded functions (`keep`), not imported modules,
    attributes, builtins, nor names also used as keyword arguments (`axis=axis`)."""
    tree = ast.parse(source)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            bound.add(node.name)
    keywords = {node.arg for node in ast.walk(tree) if isinstance(node, ast.keyword)}
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    renamed = sorted(bound - keep - keywords - imported - set(dir(builtins)))
    new_names = {name: f"my_{index}_{name[::-1].strip('_')}" for index, name in enumerate(renamed)}
    replacements, after_dot = [], False
    for token in _tokens(source):
        if token.type == tokenize.NAME and not after_dot and token.string in new_names:
            replacements.append((token.start, token.end, new_names[token.string]))
        after_dot = token.type == tokenize.OP and token.string == "."
    return _replace(source, replacements)


def top_level_chunks(source: str) -> list[str]:
    """`source` cut before each top-level function (a function's decorators and the comments just
    above it stay with it); the first chunk is what comes before the first function."""
    lines = source.splitlines(keepends=True)
    starts = [min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1 for node in ast.parse(source).body
              if isinstance(node, ast.FunctionDef)]
    cuts = []
    for start in starts:
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        cuts.append(start)
    bounds = [0, *cuts, len(lines)]
    return ["".join(lines[low:high]) for low, high in zip(bounds, bounds[1:]) if lines[low:high]]


def reorder_functions(source: str) -> str:
    """`source` with its top-level functions in reverse order (what precedes the first stays first)."""
    head, *functions = top_level_chunks(source)
    return head + "".join(chunk if chunk.endswith("\n") else chunk + "\n" for chunk in reversed(functions))


def rewrite_comments(source: str) -> str:
    """`source` with every comment and docstring reworded."""
    replacements, count = [], 0
    tokens = _tokens(source)
    for index, token in enumerate(tokens):
        before = tokens[index - 1].type if index else tokenize.NEWLINE
        if token.type == tokenize.COMMENT:
            count += 1
            replacements.append((token.start, token.end, f"# step {count}: as we saw in the tutorial"))
        elif token.type == tokenize.STRING and before in (tokenize.NEWLINE, tokenize.INDENT, tokenize.NL, tokenize.DEDENT) \
                and tokens[index + 1].type == tokenize.NEWLINE:
            count += 1
            replacements.append((token.start, token.end, f'"""Part {count} of my homework."""'))
    return _replace(source, replacements)


def as_notebook(cells: list[str]) -> str:
    """A v4 notebook with a markdown cell, then one code cell per entry of `cells`."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# My homework 1")]
    notebook.cells += [nbformat.v4.new_code_cell(source.rstrip("\n")) for source in cells]
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"
    return nbformat.writes(notebook)

