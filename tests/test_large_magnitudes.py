"""Item 12: large magnitudes and tiny probabilities, and one tolerance for a function and its callers.

Real student bugs that are right at ordinary magnitudes must lose the stability checks of
rnn_forward, nll_loss_backward and rnn_lm_loss (contract §1, edge cases: large magnitudes);
a right answer that went through float32 must keep its points. Graded through the real CLI,
as one class.
"""

from __future__ import annotations

import json

import pytest

from conftest import REFERENCE_PATH
from grading_helpers import function_scores, run_grader

REFERENCE = REFERENCE_PATH.read_text()

THROUGH_FLOAT32 = '''

def _through_float32(value):
    """`value` with every float array (and float) rounded to float32 and back to float64."""
    if isinstance(value, tuple):
        return tuple(_through_float32(item) for item in value)
    if isinstance(value, float):
        return float(np.float32(value))
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.asarray(value, np.float32).astype(np.float64)
    return value


def _rounded(function):
    def rounded(*args, **kwargs):
        return _through_float32(function(*args, **kwargs))
    return rounded


# every function, and so every call one function makes to another, goes through float32
for _name in [n for n, v in list(globals().items()) if callable(v) and getattr(v, "__module__", None) == __name__
              and not n.startswith("_")]:
    globals()[_name] = _rounded(globals()[_name])
'''

SOFTMAX_IN_FLOAT32 = '''

def softmax(x, axis=-1):
    """The stable softmax, its exponentials and sum in float32."""
    x = np.asarray(x, dtype=np.float64)
    x_max = np.max(x, axis=axis, keepdims=True)
    x_max = np.where(np.isfinite(x_max), x_max, 0.0)
    e = np.exp((x - x_max).astype(np.float32))  # float32 from here on
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(np.float64)
'''


def patched(old: str, new: str) -> str:
    assert REFERENCE.count(old) == 1, old
    return REFERENCE.replace(old, new)


TANH_BY_EXP = patched(
    "        h_t = rnn_step(h_t, C[..., t, :], W_h, W_c, nonlinearity)  # (..., d_h)",
    "        a_t = h_t @ W_h.T + C[..., t, :] @ W_c.T  # (..., d_h)\n"
    "        if nonlinearity == 'tanh':\n"
    "            h_t = (np.exp(2 * a_t) - 1) / (np.exp(2 * a_t) + 1)  # tanh, written with exp\n"
    "        else:\n"
    "            h_t = np.maximum(a_t, 0.0)",
)
NLL_BACKWARD_NAIVE_SOFTMAX = patched(
    "    p = softmax(logits, axis=-1)  # (..., T, V)\n    onehot",
    "    e = np.exp(logits)  # (..., T, V): inf beyond about 709\n    p = e / e.sum(axis=-1, keepdims=True)\n    onehot",
)
LOG_OF_P_PLUS_EPS = patched(
    "    return nll_loss(logits, targets, mask)",
    "    p = softmax(logits, axis=-1)  # (B, T, V)\n"
    "    p_target = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]  # (B, T)\n"
    "    return float(np.where(mask, -np.log(p_target + 1e-15), 0.0).sum() / mask.sum())",
)

SUBMISSIONS = {
    "through-float32": REFERENCE + THROUGH_FLOAT32,
    "softmax-in-float32": REFERENCE + SOFTMAX_IN_FLOAT32,
    "tanh-by-exp": TANH_BY_EXP,
    "nll-backward-naive-softmax": NLL_BACKWARD_NAIVE_SOFTMAX,
    "log-p-plus-eps": LOG_OF_P_PLUS_EPS,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for name, text in SUBMISSIONS.items():
        (folder / f"{name}.py").write_text(text)
    out = tmp_path_factory.mktemp("out")
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr
    results = {name: json.loads((out / name / "results.json").read_text()) for name in SUBMISSIONS}
    assert all(r["extra_data"]["grader_fault"] is None for r in results.values())
    return results


def failed(results: dict) -> list[str]:
    return [t["name"] for t in results["tests"] if t["status"] != "passed"]


def test_every_answer_rounded_through_float32_is_right(graded):
    assert failed(graded["through-float32"]) == []
    assert graded["through-float32"]["score"] == 100.0


def test_a_softmax_in_float32_is_right_in_softmax_and_its_well_conditioned_callers(graded):
    """self_attention_backward is left out: its backward pass multiplies the softmax's float32
    rounding by about 100 (up to 1e-5 of the gradient's scale), beyond a tolerance of about 1e-6."""
    scores = function_scores(graded["softmax-in-float32"])
    for name in ("softmax", "attention_weights", "self_attention", "nll_loss_backward"):
        assert scores[name][0] == scores[name][1], (name, failed(graded["softmax-in-float32"]))


@pytest.mark.parametrize("name, function, check, cause", [
    ("tanh-by-exp", "rnn_forward", "rnn_forward: stays right at large magnitudes (pre-activations of 1e3)",
     "tanh computed with exp overflows"),
    ("nll-backward-naive-softmax", "nll_loss_backward",
     "nll_loss_backward: is finite and right for logits of magnitude 1e3 and more", "no max-subtraction"),
    ("log-p-plus-eps", "rnn_lm_loss",
     "rnn_lm_loss: is finite and right for logits of magnitude 1e3 (target probabilities far below 1e-12)", "log(p + eps)"),
])
def test_a_bug_at_large_magnitudes_loses_the_stability_check_only(graded, name, function, check, cause):
    results = graded[name]
    assert failed(results) == [check]
    lost = {f for f, (score, points) in function_scores(results).items() if score < points}
    assert lost == {function}
    (test,) = [t for t in results["tests"] if t["name"] == check]
    assert test["visibility"] == "after_due_date"
    assert f"Likely cause: {cause}." in test["output"]
