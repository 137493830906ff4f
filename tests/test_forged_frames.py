"""Student code that writes its own frames on the answer channel gets nothing for them, and
never makes the grader fail: every malformed message is the student's broken answer."""

from __future__ import annotations

import nbformat

from conftest import REFERENCE_PATH
from grading_helpers import assert_valid_results, function_scores, grade_many

# Finds the answer channel as any student could (the worker's command line names its
# descriptors; the sandbox may hide /proc, not sys.argv) and writes a frame on it: 8
# big-endian length bytes, then the payload.
FORGE = '''
import json as _json, os as _os, struct as _struct, sys as _sys

def _answer_fd():
    return _json.loads(_sys.argv[-1])["fds"][1]

def _forge(payload):
    _os.write(_answer_fd(), _struct.pack(">Q", len(payload)) + payload)
'''

DEEP = 'b"[" * 100000 + b"]" * 100000'
HUGE = 'b"9" * 5000'

# Forged load reports, written while the submission's top-level code runs.
AT_IMPORT = {
    "cell_out_of_range": '_forge(_json.dumps({"op": "loaded", "errors": [{"type": "X", "message": "m", "cell": 10**6, '
                         '"where": None}], "defined": [], "standins": [], "not_functions": {}, "arrays": 0}).encode())',
    "huge_line_number": '_forge(b\'{"op": "loaded", "errors": [{"type": "X", "message": "m", "cell": 0, '
                        f'"where": {{"file": "x", "line": \' + {HUGE} + b\'}}}}], "arrays": 0}}\')',
    "deep_errors": f'_forge(b\'{{"op": "loaded", "errors": \' + {DEEP} + b\', "arrays": 0}}\')',
}

# Functions without callers in the reference, each forging a malformed answer instead of returning.
IN_FUNCTIONS = '''
def rnn_lm_loss(*args, **kwargs):
    _forge(b'{"status": "ok", "value": {"t": "json", "v": ' + %s + b'}, "arrays": 0}')
    return 0.0

def nll_loss_backward(*args, **kwargs):
    _forge(%s)
    return args[0]

def self_attention(*args, **kwargs):
    _forge(b'{"status": "raised", "type": {"a": 1}, "message": "m", "where": {"file": "hw1.py", "line": "7"}, "arrays": 0}')
    return args[0], args[0]

def self_attention_backward(*args, **kwargs):
    _forge(b'{"status": "ok", "value": {"t": "dict", "items": [[7, {"t": "json", "v": 1}]]}, "arrays": 0}')
    return args[0], args[0], args[0], args[0]

def rnn_backward(*args, **kwargs):
    leaf = {"t": "json", "v": 1}
    for _ in range(5):
        leaf = {"t": "dict", "items": [["k", leaf]]}
    _forge(_json.dumps({"status": "ok", "value": leaf, "arrays": 0}).encode())
    return args[0], args[0], args[0], args[0]
''' % (HUGE, DEEP)
ATTACKED = {"rnn_lm_loss", "nll_loss_backward", "self_attention", "self_attention_backward", "rnn_backward"}


def test_forged_frames_are_the_students_broken_answers_never_a_grader_fault(tmp_path):
    reference = REFERENCE_PATH.read_text(encoding="utf-8")
    paths = []
    for name, attack in AT_IMPORT.items():
        paths.append(tmp_path / f"{name}.py")
        paths[-1].write_text(reference + FORGE + attack + "\n", encoding="utf-8")
    in_functions = tmp_path / "in_functions.py"
    in_functions.write_text(reference + FORGE + IN_FUNCTIONS, encoding="utf-8")
    notebook = tmp_path / "forging_cell.ipynb"
    cells = [reference, FORGE + AT_IMPORT["cell_out_of_range"], "x = 1\n"]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), str(notebook))

    graded = grade_many([*paths, in_functions, notebook], tmp_path)

    for path, outcome in graded.items():
        assert outcome["returncode"] == 0, (path.name, outcome["stderr"][-2000:])
        assert "Traceback" not in outcome["stderr"]
        assert_valid_results(outcome["results"])
    for path in paths:  # a forged load report: the load fails, with the reason, and earns nothing
        results = graded[path]["results"]
        assert results["score"] == 0.0
        assert "it sent the grader an invalid message" in results["output"], path.name
    scores = function_scores(graded[in_functions]["results"])
    assert {name for name, (score, points) in scores.items() if score < points} == ATTACKED
    assert all(scores[name][0] == 0.0 for name in ATTACKED)
    reasons = "\n".join(t["output"] for t in graded[in_functions]["results"]["tests"])
    assert "returned something that cannot be graded (invalid message header: an integer of 5000 digits)" in reasons
    assert "returned something that cannot be graded (invalid message header: nested deeper than" in reasons
    assert "self_attention returned something that cannot be graded" in reasons
    assert "self_attention_backward returned something that cannot be graded (a dict key that is not a string (int))" in reasons
    assert "rnn_backward returned something that cannot be graded (a value nested deeper than 4 levels)" in reasons
    forging_cell = graded[notebook]["results"]  # the cell that forged is skipped; the others count
    assert forging_cell["score"] == 100.0
    assert "forging_cell.ipynb cell 2: this cell could not be run to its end (it sent the grader an invalid message" \
        in forging_cell["output"]
