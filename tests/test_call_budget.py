"""A function that answers every call slowly, just under the call limit, costs only itself: all
calls of one function share `function_seconds`, so it cannot use up the submission's call time
and starve the functions graded after it."""

from __future__ import annotations

from conftest import REFERENCE_PATH
from grader.sandbox import SandboxLimits
from grading_helpers import CONTRACT_POINTS, function_scores, grade_file

SLOW_FIRST_FUNCTION = '''
import sys as _sys, time as _time
_honest_rnn_step = rnn_step
def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    if nonlinearity in ("tanh", "relu") and _sys._getframe(1).f_globals is not globals():  # the grader's calls only
        _time.sleep(0.5)
    return _honest_rnn_step(h_prev, c_t, W_h, W_c, nonlinearity)
'''


def test_a_slow_function_spends_its_own_budget_and_the_rest_keep_their_points(tmp_path):
    limits = SandboxLimits()
    assert limits.function_seconds * 3 < limits.calls_seconds  # one slow function leaves room for the rest
    path = tmp_path / "slow_rnn_step.py"
    path.write_text(REFERENCE_PATH.read_text() + SLOW_FIRST_FUNCTION)
    run = grade_file(path, tmp_path)
    assert run["returncode"] == 0, run["stderr"]
    results = run["results"]
    scores = function_scores(results)
    untouched = set(CONTRACT_POINTS) - {"rnn_step"}  # its callers call it without the delay
    assert {name for name in untouched if scores[name][0] < scores[name][1]} == set()
    assert scores["rnn_step"][0] < scores["rnn_step"][1]
    messages = "\n".join(test["output"] for test in results["tests"] if test["tags"] == ["rnn_step"])
    assert f"the calls of rnn_step together took longer than {limits.function_seconds:g} s" in messages
    # rnn_step's calls stopped at its own budget, not the submission's
    assert results["extra_data"]["timings"]["checking"] < limits.function_seconds * 2
