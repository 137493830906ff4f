"""The worker process: calls cross as data, and a hang or a crash costs only the calls it hits.

What a limit stopped is read from what the sandbox reports (a timeout's message, the cells it
stopped), not from a stopwatch: the machine running the tests may be loaded.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from grader.model import Cell
from grader.sandbox.calls import StudentAbort, StudentRaised
from grader.sandbox.handle import StudentModule
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.wire import Opaque, WireError
from grading_helpers import available_levels
from test_layering import WORKER_SIDE

SOURCE = '''
import numpy as np
import os, sys, time
print("imported")

def double(x):
    return 2 * x

def pair(x):
    return x, x.sum()

def hang(x):
    while True:
        pass

def sleepy(x):
    time.sleep(60)

def die(x):
    os._exit(7)

def leave(x):
    sys.exit(0)

def interrupt(x):
    raise KeyboardInterrupt

def bad(x):
    return {"score": 100}

def opaque(x):
    return {"score", 100}

def grads(x):
    return {"dW": 2 * x, "db": (x.sum(), x[:1])}

def scale(params, by=1.0):
    return {name: value * by for name, value in params.items()}

def many(x):
    return tuple(x + i for i in range(40))

def int_keys(x):
    return {1: x}

def shout(x):
    print("x" * 100000)
    return x

def check_value(x):
    if x.shape[0] > 2:
        raise ValueError("too long")
    return x
'''
LIMITS = SandboxLimits(call_seconds=1.0, load_seconds=5.0, output_bytes=1000)


@pytest.fixture
def module():
    with StudentModule("hw1", [Cell(SOURCE, "hw1.py")], LIMITS) as student:
        report = student.load()
        assert report.failure is None and report.errors == []
        yield student


def test_calls_return_plain_values(module):
    np.testing.assert_array_equal(module.call("double", np.arange(3.0)), [0.0, 2.0, 4.0])
    x, total = module.call("pair", np.ones(4))
    assert isinstance(x, np.ndarray) and float(total) == 4.0
    assert module.call("bad", np.ones(1)) == {"score": 100}  # a dict crosses as one: the check says it is not an array
    assert module.call("opaque", np.ones(1)) == Opaque("set of dtype object")


def test_dicts_of_arrays_and_long_tuples_cross_both_ways(module):
    got = module.call("grads", np.arange(3.0))
    assert list(got) == ["dW", "db"] and float(got["db"][0]) == 3.0
    np.testing.assert_array_equal(got["dW"], [0.0, 2.0, 4.0])
    scaled = module.call("scale", {"W_h": np.ones(2), "b": np.zeros(1)}, by=3.0)
    assert list(scaled) == ["W_h", "b"]
    np.testing.assert_array_equal(scaled["W_h"], [3.0, 3.0])
    long = module.call("many", np.zeros(1))  # 40 arrays in one answer
    assert isinstance(long, tuple) and len(long) == 40 and float(long[39][0]) == 39.0
    assert module.call("int_keys", np.ones(1)) == Opaque("dict that cannot cross (a key of type int, not str)")
    with pytest.raises(WireError, match=r"the arguments of a call of scale cannot be sent to the worker \(dict: a key of "
                                        r"type int, not str\)"):
        module.call("scale", {1: np.ones(1)})  # an assignment's case that cannot cross: said before any call
    np.testing.assert_array_equal(module.call("double", np.ones(1)), [2.0])
    assert module.restarts == 0


def test_student_exceptions_are_data_with_the_line(module):
    with pytest.raises(StudentRaised) as raised:
        module.call("check_value", np.ones(5))
    assert raised.value.type_name == "ValueError" and raised.value.message == "too long"
    line = SOURCE.splitlines().index('        raise ValueError("too long")') + 1
    assert raised.value.where == {"file": "hw1.py", "line": line}
    for name, kind in (("leave", "SystemExit"), ("interrupt", "KeyboardInterrupt")):
        with pytest.raises(StudentRaised, match=kind):
            module.call(name, np.ones(1))
    np.testing.assert_array_equal(module.call("double", np.ones(1)), [2.0])  # the same worker goes on
    assert module.restarts == 0


@pytest.mark.parametrize("name, reason", [("hang", "did not return within 1 s"), ("sleepy", "did not return within 1 s"),
                                          ("die", "died while running die (exit status 7)")])
def test_a_hang_or_crash_costs_only_its_call(module, name, reason):
    with pytest.raises(StudentAbort, match=reason.replace("(", r"\(").replace(")", r"\)")):
        module.call(name, np.ones(1))  # sleepy would sleep 60 s: stopped at the call's 1 s
    np.testing.assert_array_equal(module.call("double", np.ones(2)), [2.0, 2.0])  # a fresh worker
    assert module.restarts == 1


def test_missing_function_is_reported(module):
    with pytest.raises(StudentAbort, match="hw1 does not define softmax"):
        module.call("softmax", np.ones(1))


def test_output_is_captured_and_bounded(module):
    module.call("shout", np.ones(1))
    module.close()
    text = module.output.text()
    assert text.startswith("imported\n")
    assert "more bytes not shown" in text and len(text) < 1200


def test_pipelined_calls_answer_in_order(module):
    module.send_calls("double", [((np.full(2, float(i)),), {}) for i in range(5)])
    for i in range(5):
        np.testing.assert_array_equal(module.next_answer(), [2.0 * i, 2.0 * i])


def test_abandoned_answers_are_discarded_before_the_next_call(module):
    module.send_calls("double", [((np.ones(1),), {}) for _ in range(3)])
    module.next_answer()
    np.testing.assert_array_equal(module.call("double", np.full(1, 5.0)), [10.0])


def test_calls_sent_unclaimed_are_answered_once_claimed_and_counted_then(module):
    """The next check's calls, sent before it asks for them, are its answers when it sends the
    very same message, and count as calls made only then."""
    from grader.sandbox.calls import request_bytes

    first = [((np.full(2, float(i)),), {}) for i in range(3)]
    second = [((np.full(1, 10.0 + i),), {}) for i in range(2)]
    module.send_calls("double", first)
    assert module.send_unclaimed("double", second, request_bytes("double", second))
    assert module.calls == 3  # the unclaimed two are not calls made yet
    for i in range(3):
        np.testing.assert_array_equal(module.next_answer(), [2.0 * i, 2.0 * i])
    assert module.send_ahead("double", second, request_bytes("double", second))  # claimed: not sent again
    assert module.calls == 5
    assert [module.next_answer().tolist() for _ in range(2)] == [[20.0], [22.0]]
    np.testing.assert_array_equal(module.call("double", np.full(1, 4.0)), [8.0])  # nothing left in the channel


def test_calls_sent_unclaimed_and_never_claimed_are_dropped_before_any_other_call(module):
    from grader.sandbox.calls import request_bytes

    unclaimed = [((np.full(1, 1.0 + i),), {}) for i in range(4)]
    assert module.send_unclaimed("double", unclaimed, request_bytes("double", unclaimed))
    np.testing.assert_array_equal(module.call("pair", np.full(2, 3.0))[0], [3.0, 3.0])  # not an answer of double
    other = [((np.full(1, 7.0),), {})]  # a different message of the same function claims nothing
    assert module.send_unclaimed("double", unclaimed, request_bytes("double", unclaimed))
    module.send_calls("double", other)
    np.testing.assert_array_equal(module.next_answer(), [14.0])
    assert module.calls == 2


def test_calls_sent_unclaimed_to_a_worker_that_was_stopped_are_sent_again(module):
    from grader.sandbox.calls import request_bytes

    calls = [((np.full(1, 2.0),), {})]
    assert module.send_unclaimed("double", calls, request_bytes("double", calls))
    with pytest.raises(StudentAbort):
        module.call("die", np.ones(1))  # drops the unclaimed answer first, then the worker dies
    assert module.send_unclaimed("double", calls, request_bytes("double", calls)) is False  # no worker running
    module.send_calls("double", calls, request_bytes("double", calls))  # a fresh worker is asked
    np.testing.assert_array_equal(module.next_answer(), [4.0])
    assert module.restarts == 1
    assert module.send_unclaimed("double", calls, request_bytes("double", calls))
    module.workers.stop()  # the worker those calls went to is gone before they are claimed
    module.send_calls("double", calls, request_bytes("double", calls))  # not claimed from it: asked again
    np.testing.assert_array_equal(module.next_answer(), [4.0])
    assert module.restarts == 2


@pytest.mark.parametrize("source, failure, kind", [
    ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n", "took longer than 1.5 s", "time"),
    ("import os\nos._exit(0)\n", "the worker died while running the submission", "died"),
])
def test_a_submission_that_hangs_or_dies_at_import_is_broken_not_retried(source, failure, kind):
    with StudentModule("hw1", [Cell(source, "hw1.py")], SandboxLimits(load_seconds=1.0, cell_seconds=0.5)) as student:
        report = student.load()
        assert failure in report.failure and report.failure_kind == kind
        for _ in range(3):
            with pytest.raises(StudentAbort, match=failure.split(" (")[0]):
                student.call("double", np.ones(1))
        assert student.restarts == 0


def test_a_grader_that_comes_late_to_the_load_still_gets_what_the_worker_reported():
    """The grader starts the worker, then loads the checks; on a crowded machine that may take
    longer than the load budget. The worker's answers, sent in time, still count."""
    source = SOURCE + "\nwhile True:\n    pass\n"  # stopped after cell_seconds: what came before counts
    with StudentModule("hw1", [Cell(source, "hw1.py")], SandboxLimits(load_seconds=1.0, cell_seconds=0.5)) as student:
        student.start()
        time.sleep(3.0)  # past the whole load budget (1 s + 0.5 s for the cell)
        report = student.finish_load()
        assert not report.failure and "double" in report.defined
        assert [error["type"] for error in report.errors] == ["CellTimeout"]
        assert student.call("double", np.ones(2)).tolist() == [2.0, 2.0]


def test_errors_at_import_are_reported_per_cell_and_later_cells_still_run():
    cells = [Cell("def a(x):\n    return x\nraise SystemExit(3)\n", "nb cell 1"), Cell("def b(x):\n    return x\n", "nb cell 2"),
             Cell("def c(:\n", "nb cell 3")]
    with StudentModule("hw1", cells, LIMITS) as student:
        report = student.load()
        assert [(e["cell"], e["type"], e["where"]) for e in report.errors] == [
            (0, "SystemExit", {"file": "nb cell 1", "line": 3}), (2, "SyntaxError", {"file": "nb cell 3", "line": 1})]
        assert {"a", "b"} <= set(report.defined) and "c" not in report.defined


def test_no_process_is_left_behind():
    with StudentModule("hw1", [Cell(SOURCE + "\nimport subprocess\nsubprocess.Popen(['sleep', '30'])\n", "hw1.py")], LIMITS) as student:
        student.load()
        student.call("double", np.ones(1))
        worker_pid = student.workers.current.process.pid
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(worker_pid, 0)  # the whole process group, the `sleep` child included, is gone


def test_the_worker_never_imports_the_grader_side():
    """What tests/test_layering.py reads from the imports, seen in a running worker: of the
    grader, only the worker-side modules are loaded; nothing of hypothesis, the reference or the checks."""
    source = ("import sys\n"
              f"WORKER_SIDE = {sorted(WORKER_SIDE)!r}\n"
              "def count(x):\n"
              "    private = ('hypothesis', '_grader_reference', '_grader_assignment', 'grader')\n"
              "    return sum(1 for name in sys.modules if name.startswith(private) and name not in WORKER_SIDE)\n"
              "def count_worker_side(x):\n"
              "    return sum(1 for name in sys.modules if name in WORKER_SIDE)\n")
    with StudentModule("hw1", [Cell(source, "hw1.py")], LIMITS) as student:
        student.load()
        assert float(student.call("count", np.ones(1))) == 0.0
        assert float(student.call("count_worker_side", np.ones(1))) == len(WORKER_SIDE)  # the names are right


@pytest.mark.parametrize("level", available_levels())
def test_numpy_submodules_import_lazily_inside_every_level(level):
    """Regression: under bubblewrap, directories made for the bind mounts were private to root,
    so a worker that had dropped to its own uid could not import numpy.testing lazily (seen when
    the virtual environment lived under /tmp)."""
    from grader.sandbox.isolation import choose

    confinement = choose(level)
    source = "import numpy as np\ndef lazy(x):\n    return float(np.testing.assert_allclose is not None) + np.fft.fft(x).real.sum() * 0 + np.linalg.norm(x) * 0\n"
    with StudentModule("hw1", [Cell(source, "hw1.py")], LIMITS, confinement) as student:
        assert student.load().errors == []
        assert float(student.call("lazy", np.ones(4))) == 1.0


def test_long_top_level_code_is_stopped_and_what_it_defined_still_counts():
    cells = [Cell("def a(x):\n    return x\nwhile True:\n    pass\n", "nb cell 1"),
             Cell("def b(x):\n    try:\n        return x\n    finally:\n        pass\n" "try:\n    while True:\n        pass\n"
                  "except BaseException:\n    while True:\n        pass\n", "nb cell 2"),
             Cell("def c(x):\n    return 2 * x\n", "nb cell 3")]
    with StudentModule("hw1", cells, SandboxLimits(cell_seconds=0.5)) as student:
        report = student.load()
        assert [(e["cell"], e["type"]) for e in report.errors] == [(0, "CellTimeout"), (1, "CellTimeout")]
        assert {"a", "b", "c"} <= set(report.defined)
        np.testing.assert_array_equal(student.call("c", np.ones(2)), [2.0, 2.0])


def test_all_cells_together_get_a_budget_and_later_cells_still_define_their_functions():
    cells = [Cell(f"import time\ndef f{i}(x):\n    return x + {i}\ntime.sleep(0.4)\n", f"nb cell {i}") for i in range(12)]
    limits = SandboxLimits(cell_seconds=0.5, top_level_seconds=1.0, late_cell_seconds=0.05)
    with StudentModule("hw1", cells, limits) as student:
        report = student.load()
        assert {f"f{i}" for i in range(12)} <= set(report.defined)
        stopped = [e["cell"] for e in report.errors if e["type"] == "CellTimeout"]
        # No cell is over its own 0.5 s: each one stopped was stopped by the budget, and once it
        # is spent every later cell is (without it, the sleeps alone take 4.8 s).
        assert stopped and min(stopped) >= 2  # the first cells ran to their end, within the budget
        assert stopped == list(range(min(stopped), 12))
        assert float(student.call("f11", np.array(1.0))) == 12.0


def test_a_cell_that_cannot_be_stopped_is_skipped_and_the_others_still_count():
    cells = [Cell("def a(x):\n    return x\n", "nb cell 1"),
             Cell("def lost(x):\n    return x\nwhile True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n", "nb cell 2"),
             Cell("import os\ndef also_lost(x):\n    return x\nos._exit(3)\n", "nb cell 3"),
             Cell("def c(x):\n    return 2 * x\n", "nb cell 4")]
    with StudentModule("hw1", cells, SandboxLimits(cell_seconds=0.5)) as student:
        report = student.load()
        assert report.failure is None
        assert [(e["cell"], e["type"], e["cause"]) for e in report.errors] == [(1, "CellSkipped", "time"),
                                                                               (2, "CellSkipped", "died")]
        assert "did not stop when interrupted" in report.errors[0]["message"]
        assert "exit status 3" in report.errors[1]["message"]
        assert {"a", "c"} <= set(report.defined) and "lost" not in report.defined and "also_lost" not in report.defined
        np.testing.assert_array_equal(student.call("c", np.ones(2)), [2.0, 2.0])


def test_a_single_file_that_cannot_be_stopped_fails_to_load():
    source = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
    with StudentModule("hw1", [Cell(source, "hw1.py")], SandboxLimits(cell_seconds=0.5)) as student:
        report = student.load()
        # stopped at its cell's limit, not at the whole load limit of 10.5 s (which says "took longer than")
        assert report.failure == "it ran past its time limit (0.5 s) and did not stop when interrupted"
        assert report.failure_kind == "time"


def test_a_graded_name_bound_to_a_value_is_reported_as_not_a_function():
    cells = [Cell("import numpy as np\ndef softmax(x):\n    return x\nsoftmax = softmax(np.ones(3))\n", "nb cell 1")]
    with StudentModule("hw1", cells, LIMITS, expected=["softmax", "qkv"]) as student:
        report = student.load()
        assert report.not_functions == {"softmax": "ndarray"}
        assert "softmax" not in report.defined


def test_a_spare_worker_becomes_the_submissions_first_worker_and_is_used_once():
    from grader.sandbox.isolation import choose
    from grader.sandbox.worker_process import SpareWorker

    confinement = choose("auto")
    spare = SpareWorker(LIMITS, confinement)
    spare_pid, spare_scratch = spare.process.process.pid, spare.scratch.path
    with StudentModule("hw1", [Cell(SOURCE, "hw1.py")], LIMITS, confinement, spare=spare) as student:
        assert not student.load().failure
        assert student.workers.current.process.pid == spare_pid  # no other process was started
        assert spare.process is None  # handed over: it cannot serve another submission
        assert student.call("double", np.ones(2)).tolist() == [2.0, 2.0]
    assert not os.path.exists(spare_scratch)
    with pytest.raises(ProcessLookupError):
        os.killpg(spare_pid, 0)


def test_a_spare_worker_that_does_not_fit_or_died_is_not_used():
    from grader.sandbox.isolation import choose
    from grader.sandbox.worker_process import SpareWorker

    confinement = choose("auto")
    other_limits = SpareWorker(SandboxLimits(call_seconds=0.5), confinement)  # started with other limits
    dead = SpareWorker(LIMITS, confinement)
    os.killpg(dead.process.process.pid, 9)
    dead.process.process.wait()
    for spare in (other_limits, dead):
        pid, scratch = spare.process.process.pid, spare.scratch.path
        with StudentModule("hw1", [Cell(SOURCE, "hw1.py")], LIMITS, confinement, spare=spare) as student:
            assert not student.load().failure
            assert student.workers.current.process.pid != pid
            assert student.call("double", np.ones(1)).tolist() == [2.0]
        assert not os.path.exists(scratch)  # discarded with its folder
    unused = SpareWorker(LIMITS, confinement)
    pid, scratch = unused.process.process.pid, unused.scratch.path
    unused.discard()
    assert not os.path.exists(scratch)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
