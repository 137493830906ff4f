"""Loading an assignment validates its configuration and reports mistakes with the file to fix."""

from __future__ import annotations

import json
import shutil

import pytest

from grader.grading.assignment import load_assignment
from grader.errors import UsageError

from conftest import REPO

CONTRACT_POINTS = {
    "rnn_step": 8, "rnn_forward": 8, "rnn_step_backward": 8, "rnn_backward": 10, "softmax": 6,
    "softmax_backward": 6, "qkv": 4, "attention_weights": 8, "self_attention": 6,
    "self_attention_backward": 10, "log_softmax": 4, "nll_loss": 8, "nll_loss_backward": 6,
    "lm_inputs_and_targets": 3, "rnn_lm_loss": 5,
}


def test_hw1_has_the_contract_default_points():
    assignment = load_assignment("hw1", REPO / "assignments")
    assert dict(assignment.points) == CONTRACT_POINTS
    assert list(assignment.points) == list(CONTRACT_POINTS)
    assert assignment.max_score == 100.0
    assert assignment.reference == REPO / "solutions" / "hw1" / "hw1.py"


@pytest.fixture
def assignments_copy(tmp_path):
    """A writable copy of assignments/ and solutions/, to break the configuration in."""
    shutil.copytree(REPO / "assignments", tmp_path / "assignments")
    shutil.copytree(REPO / "solutions", tmp_path / "solutions")
    return tmp_path / "assignments"


def rewrite(assignments_dir, **changes):
    path = assignments_dir / "hw1" / "assignment.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize(
    "points, message",
    [
        ({"rnn_step": 0}, "must be a positive number"),
        ({"rnn_step": -3}, "must be a positive number"),
        ({"rnn_step": "8"}, "must be a positive number"),
        ({"rnn_step": True}, "must be a positive number"),
        ({"rnn_step": 1.333}, "must be a whole number of hundredths"),
        ({"transformer": 5}, "'transformer', which hw1.py does not define"),
        ([], "'points' must map function names to points"),
    ],
)
def test_invalid_points_are_rejected(assignments_copy, points, message):
    rewrite(assignments_copy, points=points)
    with pytest.raises(UsageError, match=message):
        load_assignment("hw1", assignments_copy)


def test_missing_reference_and_bad_json_are_rejected(assignments_copy):
    rewrite(assignments_copy, reference="../../solutions/hw1/missing.py")
    with pytest.raises(UsageError, match="missing.py does not exist"):
        load_assignment("hw1", assignments_copy)
    (assignments_copy / "hw1" / "assignment.json").write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_assignment("hw1", assignments_copy)
