"""Student text is never compiled, and never parsed without bounds, in the grader's own process
(issue "Scores that cannot be gamed", item 5): files made to blow up json.loads (RecursionError)
or compile() (MemoryError, RecursionError) are graded 0 with their reason, through the real CLI.
"""

from __future__ import annotations

import time

from grading_helpers import assert_valid_results, grade_many

from grader.grading.notebook import MAX_JSON_DEPTH, json_shape, looks_like_python, parse_json

HOSTILE_FILES = {
    # name: (content, what the feedback says)
    "nested.ipynb": ("[" * 100_000 + "]" * 100_000,
                     "nested.ipynb is not a valid Jupyter notebook: its JSON nests lists or objects 100000 levels deep"),
    "minus.ipynb": ("-" * 1_000_000 + "1\n",  # compile(): MemoryError
                    "minus.ipynb is not a valid Jupyter notebook: it is not JSON"),
    "long_sum.ipynb": ("x = 1" + " + 1" * 300_000 + "\n",  # compile(): RecursionError; it does look like Python
                       "long_sum.ipynb is not a valid Jupyter notebook: it is not JSON; it looks like Python source"),
    "nested_dicts.py": ('{"a": ' * 100_000 + "1" + "}" * 100_000 + "\n",  # not a notebook saved as .py: Python, compiled in the sandbox
                        "nested_dicts.py, line 1: SyntaxError: too many nested parentheses"),
}


def test_files_that_blow_up_the_parsers_are_graded_zero_with_their_reason(tmp_path):
    paths = []
    for name, (content, _) in HOSTILE_FILES.items():
        (tmp_path / name).write_text(content)
        paths.append(tmp_path / name)
    graded = grade_many(paths, tmp_path)
    for path in paths:
        outcome = graded[path]
        assert outcome["returncode"] == 0, (path.name, outcome["stderr"][-2000:])
        assert "Traceback" not in outcome["stderr"]
        assert_valid_results(outcome["results"])
        assert outcome["results"]["score"] == 0
        reason = HOSTILE_FILES[path.name][1]
        assert reason in outcome["results"]["output"] and reason in outcome["feedback"]


def test_json_shape_counts_brackets_outside_strings_only():
    assert json_shape('{"a": "[[{{", "b": [[1], {"c": "\\"]]"}]}') == (3, 4)
    assert json_shape('"just a string"') == (0, 0)
    assert json_shape("[" * 5 + "]" * 5) == (5, 5)


def test_parse_json_accepts_the_deepest_allowed_nesting_and_refuses_one_more():
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    try:
        parse_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    except Exception as error:
        assert f"{MAX_JSON_DEPTH + 1} levels deep" in str(error)
    else:
        raise AssertionError("one level too deep was parsed")


def test_the_json_scan_is_fast_on_a_large_hostile_file():
    text = "[]," * (8 << 20)  # 24 MiB, 8 million lists: json.loads would build them all
    started = time.process_time()  # this process's CPU time: not lengthened by other work on a loaded machine
    assert json_shape(text) == (1, 8 << 20)
    assert time.process_time() - started < 5


def test_python_is_recognised_without_compiling_it():
    assert looks_like_python("# my homework\n\nimport numpy as np\n")
    assert looks_like_python('"""Homework 1."""\nfrom numpy import exp\n')
    assert looks_like_python("W_h[0, 1] = 3\n")
    assert not looks_like_python("-" * 1_000_000 + "1")
    assert not looks_like_python("hello, this is my homework\n")
