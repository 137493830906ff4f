"""Unit tests of the pure parts: points, shares, comparison, case variants and the gradebook.

No sandbox and no grading here: each test runs in milliseconds, so that a mistake in one of
these is found here, by name, and not only as a changed score in an end-to-end test.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.authoring.compare import compare_array, compare_outputs, outputs_match, result_scale
from grader.authoring.strategies import SEEDS, batch_shapes, distinct_sizes, recipe, variants
from grader.grading.scoring import check_points
from grader.points import format_points, points_phrase, to_units, total
from grader.report.gradebook import gradebook_csv


# --- points ---------------------------------------------------------------------------------

@pytest.mark.parametrize("points, text", [(14, "14"), (14.0001, "14"), (2.5, "2.5"), (1.14, "1.14"), (1.146, "1.15"),
                                          (0, "0"), (-0.0, "0"), (38.2857, "38.29"), (99.999, "100")])
def test_a_score_is_printed_with_two_decimals_at_most_and_no_trailing_zeros(points, text):
    assert format_points(points) == text


def test_a_count_of_points_agrees_with_its_noun():
    assert [points_phrase(p) for p in (1, 1.0, 0.5, 8)] == ["1 point", "1 point", "0.5 points", "8 points"]


def test_totals_are_added_in_hundredths_without_float_drift():
    assert sum([1.14] * 7) != 7.98  # what floats do
    assert total([1.14] * 7) == 7.98 and to_units(total([0.1] * 10)) == 100


# --- shares of a function's points ------------------------------------------------------------

@dataclass(frozen=True)
class _Check:
    function: str
    weight: float = 1.0


@given(points=st.integers(1, 2000).map(lambda units: units / 100),
       weights=st.lists(st.sampled_from([1, 2, 3, 0.5]), min_size=1, max_size=9))
@settings(max_examples=200)
def test_shares_are_whole_hundredths_that_add_up_to_the_function_points(points, weights):
    checks = [_Check("f", w) for w in weights] + [_Check("g")]
    shares = check_points(checks, {"f": points, "g": 1})
    f_shares = shares[:-1]
    assert all(abs(s * 100 - round(s * 100)) < 1e-9 for s in f_shares)
    assert total(f_shares) == points and shares[-1] == 1
    # each share is within a hundredth of the exact proportional share
    exact = [points * w / sum(weights) for w in weights]
    assert all(abs(s - e) < 0.01 + 1e-9 for s, e in zip(f_shares, exact))


def test_eight_points_over_seven_equal_checks():
    shares = check_points([_Check("f")] * 7, {"f": 8})
    assert sorted(shares, reverse=True) == [1.15] * 2 + [1.14] * 5


# --- comparison -------------------------------------------------------------------------------

def test_the_tolerance_is_relative_plus_absolute_on_the_results_scale():
    expected = np.array([1000.0, 0.0])
    assert result_scale(expected) == 1000.0
    # |Δ| <= 1e-6·|e| + 1e-6·1000: 1e-3 + 1e-3 at the first entry, 1e-3 at the second
    assert compare_array("x", expected + [1.9e-3, 0.9e-3], expected) is None
    assert "max |Δ| = 0.0011 at [1]" in compare_array("x", expected + [0, 1.1e-3], expected)


def test_float32_rounding_passes_and_a_real_difference_does_not():
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((4, 5))
    assert compare_array("A", expected.astype(np.float32), expected) is None
    problem = compare_array("A", expected + np.eye(4, 5) * 1e-3, expected)
    assert problem.startswith("A: max |Δ| = 0.001 at [0, 0]; 4 of 20 entries differ; shape (4, 5)")


@pytest.mark.parametrize("got, message", [
    (np.zeros(3), "x: expected shape (2,), got (3,)"),
    ("text", "x: expected numbers, got a string"),
    (None, "x: expected numbers, got None"),
    (np.array([np.nan, 0.0]), "x: NaN at [0] where a finite value was expected"),
])
def test_a_wrong_answer_is_summarised_in_one_line(got, message):
    problem = compare_array("x", got, np.zeros(2))
    assert problem.startswith(message) and "\n" not in problem


def test_infinities_where_expected_are_right_and_tuples_compare_output_by_output():
    assert compare_array("log_p", np.array([-np.inf, 0.0]), np.array([-np.inf, 0.0])) is None
    expected = (np.ones(2), np.zeros(3))
    assert compare_outputs((np.ones(2), np.zeros(3)), expected, ("H", "A")) is None
    assert compare_outputs(np.ones(2), expected, ("H", "A")) == "expected a tuple (H, A), got an array of shape (2,)"
    assert compare_outputs((np.ones(2), np.ones(3)), expected, ("H", "A")).startswith("A: max |Δ| = 1")
    assert outputs_match(expected, (np.ones(2), np.zeros(3))) and not outputs_match(expected, (np.ones(2),))


SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -3.5, 1e-9, 2e5, -7e300, np.nan, np.inf, -np.inf])


@settings(max_examples=300)
@given(st.lists(st.tuples(SPECIAL, SPECIAL, st.sampled_from([0.0, 1e-12, 1e-7, 1e-3])), min_size=1, max_size=6))
def test_an_array_matches_exactly_when_every_entry_is_close_as_numpy_says(entries):
    """compare_array's fast path (one test for a right answer) agrees with np.isclose on the
    whole result's scale, NaN matching NaN and an infinity the same infinity, whatever the mix."""
    expected = np.array([e for e, _, _ in entries])
    got = np.array([g if g != g or abs(g) == np.inf else e + nudge * max(1.0, abs(e)) if e == e and abs(e) != np.inf else g
                    for e, g, nudge in entries])
    scale = result_scale(expected)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(got, expected, rtol=1e-6, atol=1e-6 * scale, equal_nan=True).all()
    assert (compare_array("x", got, expected) is None) == bool(close)


# --- case variants ----------------------------------------------------------------------------

@recipe
def _sizes_and_seed(draw):
    return draw(batch_shapes()), draw(distinct_sizes(2)), draw(SEEDS)


@given(variants(_sizes_and_seed(), 6))
@settings(max_examples=50)
def test_variants_share_their_shapes_and_differ_in_their_seeds(cases):
    assert len(cases) == 6
    assert len({(batch, sizes) for batch, sizes, _ in cases}) == 1
    assert len({seed for _, _, seed in cases}) == 6
    batch, (a, b), _ = cases[0]
    assert a != b and len(batch) <= 2


# --- gradebook --------------------------------------------------------------------------------

def test_the_gradebook_has_a_row_per_student_and_defuses_formulas():
    records = [
        {"student": "=HYPERLINK(1)", "score": 14.0001, "max_score": 100, "functions": {"f": 8, "g": 6.0001}, "notes": []},
        {"student": "bob", "score": 0, "max_score": 100, "functions": {}, "notes": ["line 3: SyntaxError", "-x"]},
    ]
    rows = list(csv.reader(io.StringIO(gradebook_csv(records, {"f": 8, "g": 92}))))
    assert rows[0] == ["student", "score", "max_score", "f", "g", "notes"]
    assert rows[1] == ["'=HYPERLINK(1)", "14", "100", "8", "6", ""]
    assert rows[2] == ["bob", "0", "100", "0", "0", "line 3: SyntaxError | -x"]


def test_a_failure_kept_holds_the_students_exception_without_the_frames_it_went_through():
    """A check's kept failures must not keep its cases alive through the frames of a traceback
    (a grade-all job would hold every replayed case of a failing check until the garbage collector runs)."""
    from grader.authoring.checks import CheckFailure
    from grader.grading.checking import _failed_on
    from grader.sandbox.calls import StudentRaised

    class Raising:
        function, uses = "f", ()

        def __init__(self, wrap: bool):
            self.wrap = wrap

        def verify(self, student, case):
            try:
                student(case)
            except StudentRaised as error:
                if self.wrap:
                    raise CheckFailure("wrapped", raised=error) from None
                raise

    def student(case):
        raise StudentRaised("ValueError", "no", None)

    for wrap in (False, True):
        failed = _failed_on(Raising(wrap), object(), student, {})
        assert failed is not None and failed.raised is not None and failed.raised.type_name == "ValueError"
        assert failed.raised.__traceback__ is None
