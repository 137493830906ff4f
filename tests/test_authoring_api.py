"""The public authoring API (grader.authoring): its declared surface, the Check each method
builds, the traps it closes (a recipe without a seed, cases that are not cases), plain
hypothesis strategies as cases, gradient input transforms, and checks that call another of
the student's functions. Unit tests on a small fake reference; the CLI on a tiny assignment."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest
from hypothesis import Phase, given, seed, settings
from hypothesis import strategies as st

import grader.authoring as authoring
from grader.authoring import Assignment, Case, Check, CheckFailure, recipe, seeds, variants
from grader.authoring.checks import GRADIENT_ERROR_FLOOR, GRADIENT_TOLERANCE
from grader.errors import UsageError
from grader.grading.assignment import load_assignment, load_checks, load_reference
from grader.sandbox.calls import StudentRaised

from conftest import REPO
from grading_helpers import run_grader

PUBLIC = ["Assignment", "Function", "Case", "Check", "CheckFailure", "expected", "recipe", "seeds", "normal", "batch_shapes",
          "distinct_sizes", "variants", "rows_are_distributions", "causal_zeros", "as_float_array", "compare_array",
          "outputs_match", "numerical_gradient", "relative_error", "Misconception", "Mutant"]


# --- the declared surface -------------------------------------------------------------------

def test_all_is_exactly_the_public_api():
    assert authoring.__all__ == PUBLIC


def test_every_public_name_is_importable_and_documented():
    namespace: dict = {}
    exec("from grader.authoring import *", namespace)
    for name in PUBLIC:
        value = namespace[name]
        assert value is getattr(authoring, name)
        assert (value.__doc__ or "").strip(), f"{name} has no docstring"
    with pytest.raises(AttributeError, match="no attribute 'agreement'"):
        authoring.agreement  # noqa: B018 - the engine's kinds are not the public surface


def test_the_package_imports_its_names_only_when_used():
    """The students' self-check imports grader.authoring.diagnosis: that must not load hypothesis."""
    probe = "import sys, grader.authoring, grader.authoring.diagnosis; print('hypothesis' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == "False", completed.stderr


# --- a fake reference and a fake student -----------------------------------------------------

def _reference():
    ref = types.ModuleType("fake_reference")

    def scale(x, factor=2.0):
        return factor * x

    def scale_backward(dy, x, factor=2.0):
        return factor * dy

    def halves(x):
        return x / 2, x / 2

    def total(x, w):
        return float(np.sum(w * x))

    def total_backward(x, w):
        return w.copy(), x.copy()

    for function in (scale, scale_backward, halves, total, total_backward):
        setattr(ref, function.__name__, function)
    return ref


@recipe
def vectors(draw, size: int | None = None):
    n, rng_seed = size or draw(st.integers(1, 5)), draw(seeds())
    x = np.random.default_rng(rng_seed).standard_normal(n)
    return Case((x,), {}, f"n={n}")


@recipe
def backward_cases(draw):
    case = draw(vectors())
    dy = np.random.default_rng(draw(seeds())).standard_normal(case.args[0].shape)
    return Case((dy,) + case.args, {}, case.summary)


@recipe
def pairs(draw):
    n, rng_seed = draw(st.integers(1, 5)), draw(seeds())
    x, w = np.random.default_rng(rng_seed).standard_normal((2, n))
    return Case((x, w), {}, f"n={n}")


def cases_of(source, count: int = 6) -> list[Case]:
    """`count` cases of a recipe or strategy, as hypothesis draws them with a fixed seed."""
    found: list[Case] = []

    @seed(7)
    @settings(max_examples=count, database=None, phases=[Phase.generate])
    @given(variants(source, 1))
    def collect(group):
        found.extend(group)

    collect()
    return found


def as_student(function):
    """`function` called as the sandbox calls a student's: an exception arrives as StudentRaised."""
    def student(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception as error:
            raise StudentRaised(type(error).__name__, str(error), None) from None
    return student


def failure(check: Check, function, case: Case, others: dict | None = None) -> str | None:
    """None if `check` passes `function` on `case`, else its failure message."""
    student = as_student(function)
    try:
        if check.uses:
            check.verify(student, case, {name: as_student(f) for name, f in (others or {}).items()})
        else:
            check.verify(student, case)
    except CheckFailure as error:
        return error.message
    return None


def failures(check: Check, function, others: dict | None = None) -> list[str]:
    return [message for case in cases_of(check.cases) if (message := failure(check, function, case, others))]


# --- each method builds the right Check ------------------------------------------------------

def test_each_method_builds_a_check_of_its_function_with_its_options_in_declaration_order():
    hw = Assignment(_reference())
    scale = hw.function("scale", outputs="y", cases=vectors())
    built = [
        scale.shapes(max_examples=7),
        scale.agrees("matches", weight=3, visibility="after_due_date"),
        scale.holds("is finite", lambda y, case: None),
        scale.raises("rejects", cases=vectors(size=2), exception="TypeError", max_examples=5),
        scale.check("custom", lambda student, case: None, evidence=True, weight=2),
    ]
    assert hw.checks() == built and scale.outputs == ("y",)
    fields = [(c.function, c.description, c.weight, c.max_examples, c.visibility, c.evidence, c.single_call) for c in built]
    assert fields == [
        ("scale", "output shapes and dtypes", 1.0, 7, "visible", False, True),
        ("scale", "matches", 3.0, 50, "after_due_date", True, True),
        ("scale", "is finite", 1.0, 50, "visible", False, True),
        ("scale", "rejects", 1.0, 5, "visible", False, True),
        ("scale", "custom", 2.0, 50, "visible", True, False),
    ]
    assert built[0].cases is scale.cases and built[3].cases is not scale.cases


def test_shapes_and_agrees_compare_with_the_reference_of_the_declared_name():
    hw = Assignment(_reference())
    scale = hw.function("scale", outputs="y", cases=vectors())
    shapes, agrees = scale.shapes(), scale.agrees("matches")
    assert failures(agrees, lambda x, factor=2.0: 2 * x) == []
    assert any("y: max |Δ|" in m for m in failures(agrees, lambda x, factor=2.0: 3 * x))
    assert failures(shapes, lambda x, factor=2.0: 3 * x) == []  # the right shape, whatever the values
    assert any("expected shape" in m for m in failures(shapes, lambda x, factor=2.0: x[:1, None]))


def test_holds_passes_the_named_output_or_the_checked_tuple():
    hw = Assignment(_reference())
    halves = hw.function("halves", outputs=("first", "second"), cases=vectors())
    seen = []
    on_second = halves.holds("second is finite", lambda value, case: seen.append(value) or None, output="second")
    whole = halves.holds("halves add up",
                         lambda got, case: None if np.allclose(got[0] + got[1], case.args[0]) else "no")
    x = np.arange(3.0)
    assert failure(on_second, lambda x: (x, 7 * x), Case((x,))) is None and np.array_equal(seen[-1], 7 * x)
    assert failure(whole, lambda x: (x / 2, x / 2), Case((x,))) is None
    assert failure(whole, lambda x: (x, x), Case((x,))) == "no"
    assert failure(whole, lambda x: x, Case((x,))) == "expected a tuple (first, second), got an array of shape (3,)"


def test_raises_passes_only_when_the_named_exception_is_raised():
    def strict(x, factor=2.0):
        raise ValueError("no")

    check = Assignment(_reference()).function("scale", outputs="y", cases=vectors()).raises("rejects", cases=vectors())
    case = Case((np.ones(2),))
    assert failure(check, strict, case) is None
    assert failure(check, lambda x, factor=2.0: x, case).startswith("expected ValueError, but it returned")
    wrong_error = failure(check, lambda x, factor=2.0: x["key"], case)
    assert wrong_error.startswith("expected ValueError, but it raised IndexError")


def test_gradient_by_default_takes_the_upstream_first_and_names_the_forward_arguments():
    hw = Assignment(_reference())
    back = hw.function("scale_backward", outputs="dx", cases=backward_cases())
    check = back.gradient("agrees with finite differences of scale", of="scale", wrt=("x",), max_examples=9)
    assert (check.function, check.evidence, check.single_call, check.max_examples) == ("scale_backward", True, True, 9)
    assert failures(check, lambda dy, x, factor=2.0: factor * dy) == []
    wrong = failures(check, lambda dy, x, factor=2.0: dy)
    assert wrong and all(m.startswith("dx: relative error") for m in wrong)


def test_gradient_of_a_loss_with_an_input_transform_and_several_arguments():
    hw = Assignment(_reference())
    back = hw.function("total_backward", outputs=("dx", "dw"), cases=pairs())
    check = back.gradient("agrees with finite differences of total", of="total", wrt=("x", "w"),
                          inputs=lambda x, w: (1.0, (x, w), {}))
    assert failures(check, lambda x, w: (w.copy(), x.copy())) == []
    wrong = failures(check, lambda x, w: (w.copy(), w.copy()))
    assert wrong and all(m.startswith("dw: relative error") for m in wrong)


@pytest.mark.parametrize("declare, message", [
    (lambda hw: hw.function("missing", outputs="y", cases=vectors()), "defines no function of that name"),
    (lambda hw: [hw.function("scale", outputs="y", cases=vectors()) for _ in range(2)], "declared twice"),
    (lambda hw: hw.function("scale", outputs=(), cases=vectors()), "outputs must name each output"),
    (lambda hw: hw.function("scale_backward", outputs="dx", cases=backward_cases()).gradient(
        "d", of="scale", wrt=("z",)), "scale has no positional argument of that name (its arguments: x, factor)"),
    (lambda hw: hw.function("scale_backward", outputs="dx", cases=backward_cases()).gradient(
        "d", of="scale", wrt=("x", "factor")), "one for each"),
    (lambda hw: hw.function("scale_backward", outputs="dx", cases=backward_cases()).gradient(
        "d", of="nothing", wrt=("x",)), "defines no function"),
    (lambda hw: hw.function("scale_backward", outputs="dx", cases=backward_cases()).gradient(
        "d", of="halves", wrt=("x",), output="third"), "declare halves first"),
    (lambda hw: hw.function("halves", outputs=("a", "b"), cases=vectors()).holds(
        "p", lambda v, c: None, output="c"), "halves has no output 'c'"),
    (lambda hw: hw.function("halves", outputs=("a", "b"), cases=vectors()).unchanged_when(
        "u", lambda case: case.args, says="nothing"), "compares one output"),
])
def test_declaration_mistakes_are_usage_errors_that_say_what_to_change(declare, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        declare(Assignment(_reference()))


@recipe
def half_weighted(draw):
    """(x, w) with w = 0 at even positions: x there must not change sum(w * x)."""
    n, rng_seed = draw(st.integers(2, 5)), draw(seeds())
    x, w = np.random.default_rng(rng_seed).standard_normal((2, n))
    w[::2] = 0.0
    return Case((x, w), {}, f"n={n}")


def test_unchanged_when_catches_a_dependence_and_an_answer_that_ignores_its_inputs():
    hw = Assignment(_reference())
    total = hw.function("total", outputs="loss", cases=half_weighted())

    def uncounted_x_moved(case):
        x, w = case.args
        return np.where(w == 0, x + 1.0, x), w

    def every_x_moved(case):
        x, w = case.args
        return x + 1.0, w

    check = total.unchanged_when("depends on x where w counts only", uncounted_x_moved, says="changing x where w is 0",
                                 changed_when=every_x_moved, changed_says="changing every x")
    assert (check.evidence, check.single_call) == (False, False)
    assert failures(check, lambda x, w: float(np.sum(w * x))) == []
    constant = failures(check, lambda x, w: 0.5)
    assert constant and all(m == "loss: changing every x did not change the loss" for m in constant)
    unweighted = failures(check, lambda x, w: float(np.sum(x)))
    assert unweighted and all(m.startswith("loss after changing x where w is 0: ") for m in unweighted)


# --- checks that use another of the student's functions --------------------------------------

def test_equals_your_calls_the_declared_other_function_only():
    hw = Assignment(_reference())
    check = hw.function("scale", outputs="y", cases=vectors()).equals_your("halves", "equals your halves, doubled")
    assert (check.uses, check.evidence, check.single_call) == (("halves",), False, False)
    same = lambda x, factor=2.0: 2 * x  # noqa: E731
    assert failures(check, same, {"halves": lambda x, factor=2.0: 2 * x}) == []
    assert all(m.endswith("(against your halves)") for m in failures(check, same, {"halves": lambda x, factor=2.0: x}))


def test_a_raw_check_with_uses_gets_the_others_as_a_mapping():
    seen = {}

    def verify(student, case, others):
        seen.update(others)
        if not np.allclose(student(*case.args), others["halves"](*case.args)[0] * 4):
            raise CheckFailure("not four halves")

    check = Assignment(_reference()).function("scale", outputs="y", cases=vectors()).check(
        "is four halves", verify, uses=["halves"])
    assert check.uses == ("halves",)
    assert failure(check, lambda x: 2 * x, Case((np.ones(2),)), {"halves": lambda x: (x / 2, x / 2)}) is None
    assert list(seen) == ["halves"]


# --- the gradient transform replaces hw1's hand-written check --------------------------------

def _hand_written_softmax_backward_check(ref):
    """hw1's check before the API (assignments/hw1/checks.py, issue 14), kept as the oracle."""
    from grader.authoring.compare import as_float_array
    from grader.authoring.gradcheck import numerical_gradient, relative_error

    def verify(student, case: Case):
        dA, A = case.args
        axis = case.kwargs["axis"]
        got = student(dA, A, axis=axis)
        array, problem = as_float_array("dx", got)
        if problem:
            raise CheckFailure(problem, got)
        if array.shape != A.shape:
            raise CheckFailure(f"dx: expected shape {A.shape}, got {array.shape}", got)
        x = np.log(A)  # softmax(log A) = A, so x = log A is an input that gives A
        numeric = numerical_gradient(lambda: float(np.sum(dA * ref.softmax(x, axis=axis))), x)
        error = relative_error(array, numeric, floor=GRADIENT_ERROR_FLOOR)
        if not error < GRADIENT_TOLERANCE:
            raise CheckFailure(f"dx: relative error {error:.2g} against finite differences (needs < {GRADIENT_TOLERANCE:g})", got)

    return verify


@pytest.fixture(scope="module")
def hw1():
    assignment = load_assignment("hw1", REPO / "assignments")
    ref = load_reference(assignment)
    checks, _ = load_checks(assignment, ref)
    return ref, {check.name: check for check in checks}


def test_the_softmax_backward_gradient_check_is_the_hand_written_one(hw1):
    ref, checks = hw1
    check = checks["softmax_backward: agrees with finite differences of softmax"]
    old = _hand_written_softmax_backward_check(ref)
    answers = {
        "reference": ref.softmax_backward,
        "forgets the sum term": lambda dA, A, axis=-1: A * dA,
        "sums over the wrong axis": lambda dA, A, axis=-1: A * (dA - np.sum(dA * A, axis=-1, keepdims=True)),
        "transposed": lambda dA, A, axis=-1: ref.softmax_backward(dA, A, axis).T,
    }
    failed = {}
    for name, answer in answers.items():
        for case in cases_of(check.cases, 12):
            new_message = failure(check, answer, case)
            try:
                old(as_student(answer), case)
                old_message = None
            except CheckFailure as error:
                old_message = error.message
            assert new_message == old_message, (name, case.summary)
            failed[name] = failed.get(name, 0) + (new_message is not None)
    assert failed["reference"] == 0 and failed["forgets the sum term"] > 0 and failed["sums over the wrong axis"] > 0


# --- cases: plain strategies, and the traps closed at load time ------------------------------

@st.composite
def plain_vectors(draw):
    """A plain hypothesis strategy of Cases: no recipe, no seed, each case drawn on its own."""
    values = draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=4))
    return Case((np.asarray(values),), {}, f"n={len(values)}")


def test_variants_of_a_plain_strategy_are_drawn_one_by_one():
    groups = []

    @seed(3)
    @settings(max_examples=5, database=None, phases=[Phase.generate])
    @given(variants(plain_vectors(), 4))
    def collect(group):
        groups.append(group)

    collect()
    assert all(len(group) == 4 and all(isinstance(case, Case) for case in group) for group in groups)
    assert any(len({case.args[0].tobytes() for case in group}) > 1 for group in groups)


TINY_REFERENCE = '''
def double(x):
    """y = 2 x."""
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION


def double_fast(x):
    """y = 2 x, computed another way (graded against your double too)."""
    # BEGIN SOLUTION
    return x + x
    # END SOLUTION
'''

TINY_CASES = '''
import numpy as np
from hypothesis import strategies as st

from grader.authoring import Case, recipe, seeds


@recipe
def vectors(draw):
    n, seed = draw(st.integers(1, 5)), draw(seeds())
    return Case((np.random.default_rng(seed).standard_normal(n),), {}, f"n={n}")


@st.composite
def plain_vectors(draw):
    values = draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=4))
    return Case((np.asarray(values),), {}, f"n={len(values)}")


@recipe
def seedless(draw):
    n = draw(st.integers(1, 5))
    return Case((np.ones(n),), {}, f"n={n}")
'''

TINY_CHECKS = '''
from grader.authoring import Assignment

from . import cases as c


def build(ref):
    hw = Assignment(ref)
    double = hw.function("double", outputs="y", cases=c.vectors())
    double.agrees("matches 2 x", weight=2, max_examples=12)
    double.agrees("matches 2 x on a plain strategy", cases=c.plain_vectors(), max_examples=12)
    fast = hw.function("double_fast", outputs="y", cases=c.vectors())
    fast.agrees("matches 2 x", max_examples=12)
    fast.equals_your("double", "equals your double", max_examples=12)
    return hw.checks(), []
'''


@pytest.fixture
def tiny(tmp_path):
    """assignments/tiny: two functions, a plain strategy, and a check of one that calls the other."""
    folder, solutions = tmp_path / "assignments" / "tiny", tmp_path / "solutions"
    folder.mkdir(parents=True)
    solutions.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "cases.py").write_text(TINY_CASES)
    (folder / "checks.py").write_text(TINY_CHECKS)
    (solutions / "tiny.py").write_text(TINY_REFERENCE)
    (folder / "assignment.json").write_text(json.dumps({
        "name": "tiny", "title": "Tiny", "module": "tiny", "reference": "../../solutions/tiny.py",
        "public_tests": "../../solutions/test_public.py", "handout": "../../solutions/handout.md",
        "template": "../../template", "points": {"double": 6, "double_fast": 4},
    }))
    return tmp_path


def grade(tiny, source: str) -> dict[str, tuple[float, str]]:
    """Grade `source` with the tiny assignment through the CLI: each test's (score, output) by name."""
    (tiny / "submission.py").write_text(source)
    results = tiny / "results.json"
    completed = run_grader("--assignments", tiny / "assignments", "grade", "tiny", tiny / "submission.py",
                           "--results-json", results, "--quiet")
    assert completed.returncode == 0, completed.stderr
    tests = json.loads(results.read_text())["tests"]
    assert all(test["tags"] == [test["name"].split(":")[0]] for test in tests)  # scored per function still
    return {test["name"]: (test["score"], test["output"]) for test in tests}


def test_a_check_calls_the_other_function_it_uses_and_a_plain_strategy_grades(tiny):
    right = grade(tiny, "def double(x):\n    return 2 * x\n\ndef double_fast(x):\n    return x * 2\n")
    assert sum(score for score, _ in right.values()) == 10
    wrong_double = grade(tiny, "def double(x):\n    return 3 * x\n\ndef double_fast(x):\n    return x * 2\n")
    assert wrong_double["double: matches 2 x on a plain strategy"][0] == 0
    assert wrong_double["double_fast: matches 2 x"][0] == 2
    score, output = wrong_double["double_fast: equals your double"]
    assert score == 0 and "(against your double)" in output


def test_a_check_whose_other_function_is_missing_is_not_run(tiny):
    results = grade(tiny, "def double_fast(x):\n    return x * 2\n")
    score, output = results["double_fast: equals your double"]
    assert score == 0 and "not run: it calls your double, which cannot be called" in output
    assert results["double_fast: matches 2 x"][0] == 2


def test_a_recipe_without_a_seed_stops_grader_checks_with_its_file_and_line(tiny):
    checks = tiny / "assignments" / "tiny" / "checks.py"
    checks.write_text(TINY_CHECKS.replace("cases=c.plain_vectors()", "cases=c.seedless()"))
    completed = run_grader("--assignments", tiny / "assignments", "checks", "tiny")
    cases = tiny / "assignments" / "tiny" / "cases.py"
    line = TINY_CASES.splitlines().index("@recipe", TINY_CASES.splitlines().index("def plain_vectors(draw):")) + 1
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert f"{cases}:{line}: the case recipe seedless draws no seeds()" in completed.stderr
    assert "'double: matches 2 x on a plain strategy'" in completed.stderr


PLAIN = "cases=c.plain_vectors()"
ON_PLAIN = "'double: matches 2 x on a plain strategy'"
SINGLE_CALL_USES = ('    fast.check("calls both", lambda student, case, others: None, uses=("double",), single_call=True)\n'
                    "    return hw.checks(), []")


@pytest.mark.parametrize("replace, expected", [
    ((PLAIN, "cases=c.plain_vectors"), "(call it: cases=name())"),
    ((PLAIN, "cases=c.broken()"), f"building a case for check {ON_PLAIN} raised ZeroDivisionError"),
    ((PLAIN, "cases=c.not_a_case()"), "gave a tuple of 2, not a Case"),
    (('fast.equals_your("double"', 'fast.equals_your("triple"'), "uses 'triple', which is not another graded function"),
    (('fast.equals_your("double"', 'fast.equals_your("double_fast"'), "uses 'double_fast', which is not another"),
    (("    return hw.checks(), []", SINGLE_CALL_USES), "so it calls more than one function: it cannot be single_call"),
])
def test_case_sources_and_uses_are_checked_when_the_assignment_loads(tiny, replace, expected):
    folder = tiny / "assignments" / "tiny"
    (folder / "cases.py").write_text(TINY_CASES + '''

@recipe
def broken(draw):
    return 1 / 0


@recipe
def not_a_case(draw):
    return draw(seeds()), 2
''')
    (folder / "checks.py").write_text(TINY_CHECKS.replace(*replace))
    assignment = load_assignment("tiny", tiny / "assignments")
    with pytest.raises(UsageError) as raised:
        load_fresh_checks(assignment)
    assert expected in str(raised.value) and "\n" not in str(raised.value)


def load_fresh_checks(assignment):
    """load_checks, in this process, of an assignment whose folder changes from test to test
    (load_checks keeps a loaded assignment's package in sys.modules under its name)."""
    def forget():
        for name in [name for name in sys.modules if name.startswith(f"_grader_assignment_{assignment.name}")]:
            del sys.modules[name]

    forget()
    try:
        return load_checks(assignment, load_reference(assignment))
    finally:
        forget()
