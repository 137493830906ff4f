"""Student code that writes its own frames on the answer channel gets nothing for them, and
never makes the grader fail: every malformed message is the student's broken answer. The
submissions are the reference of the small assignment of `grader new tiny` (the `tiny` fixture)
with attacks added."""

from __future__ import annotations

import nbformat

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

# Forged answers, each written by a graded function instead of returning: (the forging code, what
# the grader says of that function's answer).
DEEP_VALUE = '''leaf = {"t": "json", "v": 1}
    for _ in range(5):
        leaf = {"t": "dict", "items": [["k", leaf]]}
    _forge(_json.dumps({"status": "ok", "value": leaf, "arrays": 0}).encode())'''
IN_FUNCTIONS = {
    "huge_integer": ("_forge(b'{\"status\": \"ok\", \"value\": {\"t\": \"json\", \"v\": ' + %s + b'}, \"arrays\": 0}')" % HUGE,
                     "returned something that cannot be graded (invalid message header: an integer of 5000 digits)"),
    "deep_header": (f"_forge({DEEP})", "returned something that cannot be graded (invalid message header: nested deeper than"),
    "raised_with_a_dict_type": ("_forge(b'{\"status\": \"raised\", \"type\": {\"a\": 1}, \"message\": \"m\", "
                                "\"where\": {\"file\": \"tiny.py\", \"line\": \"7\"}, \"arrays\": 0}')",
                                "{function} returned something that cannot be graded"),
    "int_dict_key": ("_forge(b'{\"status\": \"ok\", \"value\": {\"t\": \"dict\", \"items\": [[7, {\"t\": \"json\", \"v\": 1}]]}, "
                     "\"arrays\": 0}')",
                     "{function} returned something that cannot be graded (a dict key that is not a string (int))"),
    "deep_value": (DEEP_VALUE, "{function} returned something that cannot be graded (a value nested deeper than 4 levels)"),
}
# tiny has two functions, and neither calls the other: each file has them forge one answer each
# (the last file only normalize's; normalize_backward stays honest there).
ATTACKS = [{"normalize": "huge_integer", "normalize_backward": "deep_header"},
           {"normalize": "raised_with_a_dict_type", "normalize_backward": "int_dict_key"},
           {"normalize": "deep_value"}]
SIGNATURES = {"normalize": "normalize(x, axis=-1)", "normalize_backward": "normalize_backward(dp, x, axis=-1)"}


def forging_functions(attacks: dict[str, str]) -> str:
    """Definitions of the functions of `attacks` that forge their answer, then return something."""
    return "".join(f"\ndef {SIGNATURES[function]}:\n    {IN_FUNCTIONS[attack][0]}\n    return x\n"
                   for function, attack in attacks.items())


def test_forged_frames_are_the_students_broken_answers_never_a_grader_fault(tiny, tmp_path):
    reference = tiny.reference.read_text(encoding="utf-8")
    paths = []
    for name, attack in AT_IMPORT.items():
        paths.append(tmp_path / f"{name}.py")
        paths[-1].write_text(reference + FORGE + attack + "\n", encoding="utf-8")
    in_functions = [tmp_path / f"in_functions_{index}.py" for index in range(len(ATTACKS))]
    for path, attacks in zip(in_functions, ATTACKS):
        path.write_text(reference + FORGE + forging_functions(attacks), encoding="utf-8")
    notebook = tmp_path / "forging_cell.ipynb"
    cells = [reference, FORGE + AT_IMPORT["cell_out_of_range"], "x = 1\n"]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), str(notebook))

    graded = grade_many([*paths, *in_functions, notebook], tmp_path, homework=tiny)

    for path, outcome in graded.items():
        assert outcome["returncode"] == 0, (path.name, outcome["stderr"][-2000:])
        assert "Traceback" not in outcome["stderr"]
        assert_valid_results(outcome["results"], tiny)
    for path in paths:  # a forged load report: the load fails, with the reason, and earns nothing
        results = graded[path]["results"]
        assert results["score"] == 0.0
        assert "it sent the grader an invalid message" in results["output"], path.name
    assert sorted(attack for attacks in ATTACKS for attack in attacks.values()) == sorted(IN_FUNCTIONS)  # each once
    for path, attacks in zip(in_functions, ATTACKS):
        results = graded[path]["results"]
        scores = function_scores(results)
        assert {name for name, (score, points) in scores.items() if score < points} == set(attacks), path.name
        assert all(scores[name][0] == 0.0 for name in attacks)
        for function, attack in attacks.items():
            reasons = "\n".join(t["output"] for t in results["tests"] if t["tags"] == [function])
            assert IN_FUNCTIONS[attack][1].format(function=function) in reasons, (path.name, function, reasons)
    forging_cell = graded[notebook]["results"]  # the cell that forged is skipped; the others count
    assert forging_cell["score"] == 10.0
    assert "forging_cell.ipynb cell 2: this cell could not be run to its end (it sent the grader an invalid message" \
        in forging_cell["output"]
