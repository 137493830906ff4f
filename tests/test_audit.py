"""`grader audit NAME` through the real command line, on a toy assignment in a temp folder
(hw1's audit runs once, in test_mutants.py): the exit status, the table and the problems it
names, and the usage errors of a mutants.py that cannot be graded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.audit.ignoring import FLAVOURS, RAISES, SHAPED, ignoring_source
from grader.audit.verdicts import comparable, first_difference
from grading_helpers import run_grader
from test_second_assignment import HW0_CHECKS, make_hw0

BUILD = '''
from grader.authoring.checks import property_holds


def build(ref):
    checks = [
        shape_and_dtype("square", vectors(), ref.square, ("y",)),
        agreement("square", "matches x * x", vectors(), ref.square, ("y",), weight=3),
        raises("square", "rejects a negative scale", negative_scales(), max_examples=3),
        agreement("cube", "matches x ** 3", vectors(), ref.cube, ("y",)),
    ]
    misconceptions = [Misconception("doubled", "doubled instead of squared", "x**2 is x * x, not 2 * x.",
                                    "square", lambda x, scale=1.0: 2 * scale * x)]
    return checks, misconceptions
'''
CHECKS = HW0_CHECKS[:HW0_CHECKS.index("\ndef build(")] + BUILD  # test_second_assignment's recipes, more checks

NEVER_FAILS = '''
    checks.append(property_holds("square", "returns something", vectors(), lambda got, case: None))
'''

REFERENCE = '''
def square(x, scale=1.0):
    """y = scale * x * x."""
    # BEGIN SOLUTION
    if scale < 0:
        raise ValueError("scale must be non-negative")
    return scale * x * x
    # END SOLUTION


def cube(x):
    """y = x ** 3."""
    # BEGIN SOLUTION
    return x * _SQUARE(x)
    # END SOLUTION


_SQUARE = square  # an alias: the audit's call graph does not see that cube calls square
'''

MUTANTS = '''
from grader.authoring.mutants import Mutant

MUTANTS = [
    Mutant("square-doubled", "square", "Doubles instead of squaring.",
           "    return scale * x * x", "    return 2 * scale * x", misconception="doubled"),
    Mutant("square-no-check", "square", "Accepts a negative scale.",
           "    if scale < 0:\\n        raise ValueError(\\"scale must be non-negative\\")\\n", ""),
    Mutant("cube-x-squared", "cube", "Returns x * x.", "    return x * _SQUARE(x)", "    return x * x"),
]
'''

SURVIVOR = '''
MUTANTS.append(Mutant("square-reordered", "square", "Multiplies in another order.",
                      "    return scale * x * x", "    return x * scale * x"))
'''


def make_toy(root, checks=CHECKS, mutants=MUTANTS, reference=REFERENCE):
    """test_second_assignment's hw0 under `root`, with a second function (cube), more checks and a mutants.py."""
    assignments = make_hw0(root)
    config = json.loads((assignments / "hw0" / "assignment.json").read_text())
    (assignments / "hw0" / "assignment.json").write_text(json.dumps({**config, "points": {"square": 10, "cube": 5}}))
    (assignments / "hw0" / "checks.py").write_text(checks)
    (root / "solutions" / "hw0" / "hw0.py").write_text(reference)
    if mutants is not None:
        (assignments / "hw0" / "mutants.py").write_text(mutants)
    return assignments


def audit(assignments, *extra):
    return run_grader("--assignments", assignments, "audit", "hw0", "--jobs", "2", *extra)


def square_rows(stdout: str) -> list[str]:
    block = stdout.split("\nsquare: ", 1)[1].split("\n\n", 1)[0]
    return block.splitlines()


def test_a_sound_assignment_passes(tmp_path):
    completed = audit(make_toy(tmp_path, reference=REFERENCE.replace("_SQUARE(x)", "square(x)"),
                               mutants=MUTANTS.replace("_SQUARE(x)", "square(x)")))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    assert out.rstrip().endswith("audit of hw0 passed")
    for line in ("ok    the reference earns full marks: 15 / 15", "ok    the stubs `grader release` writes earn 0",
                 "ok    every check fails on at least one mutant or input-ignoring answer"):
        assert line in out
    assert "8 answers that ignore their inputs earn 0" in out
    assert "Problems" not in out
    rows = square_rows(out)
    assert rows[0] == "2 mutants"  # square's block: the legend, the heading, a row per check
    assert rows[1].split() == ["1", "doubled", "2", "no-check"]
    agreement_row = next(row for row in rows if row.endswith("matches x * x"))
    assert agreement_row.split()[:3] == ["1/2", "x", "."]  # caught the doubled square, not the missing check
    raises_row = next(row for row in rows if row.endswith("rejects a negative scale"))
    assert raises_row.split()[:3] == ["1/2", ".", "x"]
    cube_rows = out.split("\ncube: ", 1)[1].split("\n\n", 1)[0].splitlines()
    assert cube_rows[-1].split()[:3] == ["1/1", "x", "1/2"]  # and the doubled square, which cube calls


def test_a_surviving_mutant_a_leak_and_a_check_that_never_fails_exit_1(tmp_path):
    checks = CHECKS.replace("    return checks, misconceptions", NEVER_FAILS + "    return checks, misconceptions")
    completed = audit(make_toy(tmp_path, checks=checks, mutants=MUTANTS + SURVIVOR))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    out = completed.stdout
    problems = out.split("\nProblems (3):\n", 1)[1].split("\n\n", 1)[0]
    assert "- mutant square-doubled costs points where it should not: cube 5, which does not call square" in problems
    assert "- mutant square-reordered survives: square keeps all its points (Multiplies in another order.)" in problems
    assert "- 'square: returns something' never fails: it cannot tell a wrong answer" in problems
    assert "FAIL  every check fails on at least one mutant or input-ignoring answer" in out
    assert out.rstrip().endswith("audit of hw0 FAILED: 3 problems in 2 of 6 findings")
    never = next(row for row in square_rows(out) if "returns something" in row)
    assert never.split()[:4] == ["0/3", ".", ".", "."] and never.endswith("<- never fails")


USES_SQUARE = '''
    from grader.authoring import Check, CheckFailure

    def cube_is_x_times_your_square(student, case, others):
        (x,) = case.args
        got = student(x)
        if abs(got - x * others["square"](x)).max() > 1e-9:
            raise CheckFailure("cube(x) is not x times your square(x)", got)

    checks.append(Check("cube", "is x times your square", vectors(), cube_is_x_times_your_square, uses=("square",)))
'''


def test_a_check_that_uses_another_function_may_lose_points_when_that_function_is_broken(tmp_path):
    """cube's reference does not call square, but one of cube's checks calls the student's
    square (`uses`): a broken square may cost cube that check, and that is no leak."""
    checks = CHECKS.replace("    return checks, misconceptions", USES_SQUARE + "    return checks, misconceptions")
    reference = REFERENCE.replace("    return x * _SQUARE(x)", "    return x * x * x")
    mutants = MUTANTS.replace('"    return x * _SQUARE(x)", "    return x * x"', '"    return x * x * x", "    return x * x"')
    completed = audit(make_toy(tmp_path, checks=checks, reference=reference, mutants=mutants))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    cube_rows = completed.stdout.split("\ncube: ", 1)[1].split("\n\n", 1)[0].splitlines()
    uses_row = next(row for row in cube_rows if row.endswith("is x times your square"))
    assert uses_row.split()[:3] == ["1/1", "x", "1/2"]  # caught the broken cube, and the doubled square it uses

    without = audit(make_toy(tmp_path / "plain", reference=reference, mutants=mutants))
    assert without.returncode == 0, without.stdout  # without the check, square's mutants cost cube nothing


@pytest.mark.parametrize("mutants, message", [
    (MUTANTS.replace('"    return x * _SQUARE(x)", "    return x * x"', '"    return x * x * x", "    return x"'),
     "mutant 'cube-x-squared': its `old` text occurs 0 times in the reference, not exactly once"),
    (MUTANTS.replace('"    return x * _SQUARE(x)", "    return x * x"', '"x", "y"'),
     f"mutant 'cube-x-squared': its `old` text occurs {REFERENCE.count('x')} times in the reference, not exactly "
     "once (anchor it with a neighbouring line)"),
    (MUTANTS.replace('Mutant("cube-x-squared", "cube"', 'Mutant("cube-x-squared", "square"'),
     "mutant 'cube-x-squared': its `old` text (line 14 of the reference) is not inside square (lines 2-10)"),
    (MUTANTS.replace('misconception="doubled"', 'misconception="tripled"'),
     "mutant 'square-doubled': names the misconception 'tripled', which the assignment does not know"),
    (MUTANTS.replace('"square-no-check", "square"', '"square-no-check", "sqrt"'),
     "mutant 'square-no-check': edits 'sqrt', which is not a graded function (graded: square, cube)"),
    (MUTANTS.replace('"cube-x-squared"', '"square-doubled"'), "mutant 'square-doubled': another mutant has the same id"),
    (MUTANTS + "MUTANTS.append(None)\n", "MUTANTS[3] is a NoneType, not a Mutant"),
    (MUTANTS.replace("MUTANTS = [", "MUTANTS = [(", 1), "does not load: SyntaxError: "),
])
def test_a_mutant_that_cannot_be_graded_is_a_usage_error_naming_it(tmp_path, mutants, message):
    completed = audit(make_toy(tmp_path, mutants=mutants))
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == "" and len(completed.stderr.splitlines()) == 1
    assert completed.stderr.startswith(f"grader: error: {tmp_path / 'assignments' / 'hw0' / 'mutants.py'}")
    assert message in completed.stderr


def test_an_unknown_assignment_is_a_usage_error(tmp_path):
    completed = audit(make_toy(tmp_path), "--jobs", "0")
    assert completed.returncode == 2 and "--jobs must be at least 1" in completed.stderr
    completed = run_grader("--assignments", tmp_path / "assignments", "audit", "hw9")
    assert completed.returncode == 2 and completed.stderr.startswith("grader: error: unknown assignment 'hw9'")


def test_input_ignoring_answers_keep_the_answers_structure_and_ignore_the_values():
    reference = "import numpy as np\n\ndef f(x, k=1):\n    if k < 0:\n        raise ValueError('k')\n" \
                "    return (np.cumsum(x), float(x.sum()), {'n': x.astype(np.int64)})\n"
    x = np.arange(1.0, 4.0)
    for flavour in SHAPED:
        namespace: dict = {}
        exec(ignoring_source(flavour, reference, ["f"]), namespace)
        first, second = namespace["f"](x), namespace["f"](x + 5)
        array, number, mapping = first
        assert array.shape == (3,) and array.dtype == np.float64 and type(number) is float
        assert mapping["n"].dtype == np.int64
        if flavour != "constant-per-call":  # the one flavour whose answer changes from call to call
            assert np.array_equal(first[0], second[0]) and first[1] == second[1]
        with pytest.raises(ValueError):  # where the reference raises
            namespace["f"](x, k=-1)
    unshaped = {}
    for flavour in set(FLAVOURS) - set(SHAPED):
        namespace = {}
        exec(ignoring_source(flavour, "raise AssertionError('never run')", ["f"]), namespace)
        try:
            unshaped[flavour] = namespace["f"](x)
        except ValueError:
            unshaped[flavour] = "ValueError"
    assert unshaped[RAISES] == "ValueError" and unshaped["zero-scalar"] == 0.0
    assert np.array_equal(unshaped["zeros-like-first-argument"], np.zeros(3))


def test_two_gradings_compare_without_their_timings():
    first = {"score": 1.0, "execution_time": 2.0, "tests": [{"output": "a"}, {"output": "b"}],
             "extra_data": {"timings": {"checking": 1.0}, "student_calls": 7}}
    again = {**first, "execution_time": 3.0, "extra_data": {"timings": {"checking": 2.0}, "student_calls": 7}}
    assert first_difference(comparable(first), comparable(again)) is None
    changed = {**again, "tests": [{"output": "a"}, {"output": "c"}]}
    assert first_difference(comparable(first), comparable(changed)) == "tests[1].output"
    assert first_difference(comparable(first), comparable({**again, "extra_data": {"student_calls": 8}})) == \
        "extra_data.student_calls"
