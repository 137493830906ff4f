"""A function no check could grade is said once, with the true reason, in every report.

A file that did not load (carol.py: every function written, and a syntax error) is one line,
naming the line, for all its functions; never "does not define", since its functions are
written. A function left as a stub (raises NotImplementedError) is one line for that function,
not one per check; a function that is really missing still "is not defined", once. results.json
keeps one test per check (contract §3), each with score 0 and that reason. The submissions are
of the small assignment of `grader new tiny` (the `tiny` fixture), whose 7 checks are each a test.
"""

from __future__ import annotations

import json

import pytest

from grading_helpers import run_grader

SLIP = ("def normalize_backward(dp, x, axis=-1):", "def normalize_backward(dp, x, axis=-1)")  # a colon forgotten
STUBBED = ("normalize",)  # it has a check that wants a ValueError
MISSING = "normalize_backward"
CHECKS = 7


def broken(reference: str) -> tuple[str, int]:
    """The reference with SLIP, and the line of the syntax error."""
    assert reference.count(SLIP[0]) == 1
    return reference.replace(*SLIP), reference[: reference.index(SLIP[0])].count("\n") + 1


def not_loaded(line: int) -> str:
    return f"not run: the file did not load (line {line}: SyntaxError: expected ':')"


def with_stubs(source: str, functions) -> str:
    """`source` with the solution block of each of `functions` replaced by a NotImplementedError stub."""
    for name in functions:
        start = source.index("    # BEGIN SOLUTION", source.index(f"def {name}("))
        end = source.index("    # END SOLUTION", start)
        source = source[:start] + f"    raise NotImplementedError(\"{name} is not done yet\")\n" + source[end:]
    return source


def stub_reason(name: str, source: str) -> str:
    line = source[: source.index(f"raise NotImplementedError(\"{name}")].count("\n") + 1
    return f"{name} is not implemented: it raised NotImplementedError (stubs.py, line {line})"


@pytest.fixture(scope="module")
def graded(tmp_path_factory, tiny):
    """carol.py, which does not load, and a file with a stub and a missing function, graded as a class."""
    folder, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("out")
    carol, line = broken(tiny.reference.read_text())
    (folder / "carol.py").write_text(carol)
    stubs = with_stubs(tiny.reference.read_text(), STUBBED)
    (folder / "stubs.py").write_text(stubs.replace(f"def {MISSING}(", f"def {MISSING}_draft("))
    completed = run_grader(*tiny.option(), "grade-all", "tiny", folder, "--out", out, "--jobs", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr

    def read(student):
        return {"results": json.loads((out / student / "results.json").read_text()),
                "md": (out / student / "feedback.md").read_text(), "html": (out / student / "feedback.html").read_text()}

    return {"carol": read("carol"), "stubs": read("stubs"), "source": stubs, "carol_source": carol, "line": line}


def first_line(test: dict) -> str:
    """A test's output without the function's hint, which results.json adds to one failed test per function."""
    return test["output"].splitlines()[0]


def what_to_fix(feedback: str) -> str:
    return feedback.split("What to fix")[1]


def test_a_file_that_did_not_load_is_one_reason_with_its_line_in_every_report(graded):
    carol, line = graded["carol"], graded["line"]
    tests = carol["results"]["tests"]
    assert len(tests) == CHECKS and carol["results"]["score"] == 0
    assert all(test["score"] == 0 and test["status"] == "failed" and first_line(test) == not_loaded(line) for test in tests)
    names = list(dict.fromkeys(test["tags"][0] for test in tests))
    for page in (carol["md"], carol["html"]):
        assert "does not define" not in page
        fix = what_to_fix(page)
        assert fix.count("the file did not load") == 1
        assert all(fix.count(f"<code>{name}</code>" if page is carol["html"] else f"`{name}`") == 1 for name in names)
    assert f"carol.py, line {line}: SyntaxError: expected ':'" in carol["md"]  # the note at the top, with the line


def test_a_stub_is_one_line_for_its_function_and_each_of_its_checks_says_so(graded):
    stubs = graded["stubs"]
    for name in STUBBED:
        reason = stub_reason(name, graded["source"])
        tests = [test for test in stubs["results"]["tests"] if test["tags"] == [name]]
        assert len(tests) == 4
        assert all(test["score"] == 0 and first_line(test) == reason for test in tests)
        for page in (stubs["md"], stubs["html"]):
            assert what_to_fix(page).count(reason) == 1
            assert f"{name} raised NotImplementedError" not in page  # no longer once per check, with a case
    assert "normalize: raises ValueError" not in stubs["md"]


def test_a_missing_function_still_is_not_defined_once(graded):
    stubs = graded["stubs"]
    tests = [test for test in stubs["results"]["tests"] if test["tags"] == [MISSING]]
    assert tests and all(first_line(test) == f"not run: stubs.py does not define {MISSING}" for test in tests)
    assert what_to_fix(stubs["md"]).count(f"stubs.py does not define {MISSING}") == 1


def test_the_terminal_says_it_once_too(graded, tiny, tmp_path):
    path = tmp_path / "carol.py"
    path.write_text(graded["carol_source"])
    carol = run_grader(*tiny.option(), "grade", "tiny", path)
    assert carol.returncode == 0, carol.stderr
    assert carol.stdout.count("the file did not load") == 1
    assert f"  every function ({CHECKS} checks): {not_loaded(graded['line'])}\n" in carol.stdout
    path = tmp_path / "stubs.py"
    path.write_text(graded["source"])
    stubs = run_grader(*tiny.option(), "grade", "tiny", path)
    lines = stubs.stdout.splitlines()
    for name in STUBBED:
        assert sum(1 for line in lines if stub_reason(name, graded["source"]) in line) == 1
        assert not any(line.startswith(f"  {name}: ") for line in lines)
