"""A result that is a dict of arrays (which the wire now carries) is compared key by key
(grader/authoring/compare.py): keys missing and keys not expected are named, each array that
differs is summarised under its key, and the tolerance's scale is the whole result's."""

from __future__ import annotations

import numpy as np

from grader.authoring.compare import compare_outputs, describe_value, outputs_match, result_scale

EXPECTED = {"dW_h": np.ones((2, 2)), "db": np.zeros(3)}


def test_a_dict_that_matches_passes_and_one_that_differs_says_where():
    assert compare_outputs({"db": np.zeros(3), "dW_h": np.ones((2, 2)) + 1e-9}, EXPECTED, ["grads"]) is None
    got = {"dW_h": np.ones((2, 2)), "db": np.array([0.0, 0.5, 0.0])}
    assert compare_outputs(got, EXPECTED, ["grads"]) == "grads['db']: max |Δ| = 0.5 at [1]; 1 of 3 entries differ; shape (3,)"


def test_missing_and_unexpected_keys_are_named():
    got = {"dW_h": np.ones((2, 2)), "dW_x": np.ones(1), "extra": np.ones(1)}
    assert compare_outputs(got, EXPECTED, ["grads"]) == "grads: missing key 'db'; grads: unexpected keys 'dW_x', 'extra'"
    many = {f"k{i}": np.ones(1) for i in range(8)}
    assert compare_outputs(many, {}, ["grads"]) == "grads: unexpected keys 'k0', 'k1', 'k2', 'k3', 'k4' and 3 more"


def test_something_else_than_a_dict_is_said_to_be_what_it_is():
    assert compare_outputs(np.ones(3), EXPECTED, ["grads"]) == "grads: expected a dict ('dW_h', 'db'), got an array of shape (3,)"
    assert compare_outputs({"a": 1}, np.ones(2), ["h"]) == "h: expected numbers, got a dict of 1 key"
    assert describe_value({"a": 1, "b": 2}) == "a dict of 2 keys"


def test_dicts_inside_a_tuple_and_the_scale_of_the_whole_result():
    expected = (EXPECTED, np.array([1000.0]))
    assert result_scale(expected) == 1000.0
    got = ({"dW_h": np.ones((2, 2)) + 1e-4, "db": np.zeros(3)}, np.array([1000.0]))  # within 1e-6 of the whole scale
    assert compare_outputs(got, expected, ["grads", "loss"]) is None
    assert compare_outputs((got[0],), expected, ["grads", "loss"]) == "expected a tuple (grads, loss), got a tuple of 1"


def test_the_diagnosis_matches_dicts_key_by_key():
    assert outputs_match({"db": np.zeros(3), "dW_h": np.ones((2, 2))}, EXPECTED)
    assert not outputs_match({"dW_h": np.ones((2, 2))}, EXPECTED)
    assert not outputs_match({"dW_h": np.ones((2, 2)), "db": np.ones(3)}, EXPECTED)
    assert not outputs_match(np.ones(3), EXPECTED)
