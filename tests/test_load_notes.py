"""What a student reads about their submission's top-level run (grader/grading/load_notes.py):
decided by typed fields (a cell's `in_notebook`, a skipped cell's `cause`), never by the text of a
place or a message, which a file name or a forged message can make say anything."""

from __future__ import annotations

from grader.grading.load_notes import describe_load_error, missing_reason
from grader.model import Cell, LoadReport

NOTEBOOK = [Cell("", "<notebook prelude>"), Cell("x = 1\n", "hw1.ipynb cell 2", in_notebook=True),
            Cell("def f(:\n", "hw1.ipynb cell 3", in_notebook=True), Cell("y = 2\n", "hw1.ipynb cell 4", in_notebook=True)]


def _error(kind: str, message: str, cell: int = 0, line: int | None = None, file: str = "", **more) -> dict:
    return {"type": kind, "message": message, "cell": cell, "where": {"file": file, "line": line} if line else None, **more}


def test_a_notebook_cell_and_a_py_file_named_like_one_get_their_own_notes():
    in_cell = _error("SyntaxError", "invalid syntax", cell=2, line=1, file="hw1.ipynb cell 3")
    assert describe_load_error(in_cell, NOTEBOOK) == ("hw1.ipynb cell 3, line 1: SyntaxError: invalid syntax. Python could "
                                                      "not read that cell, so nothing defined in it could be graded; the "
                                                      "other cells still ran.")
    assert missing_reason("g", "hw1.ipynb", LoadReport(errors=[in_cell]), NOTEBOOK) == (
        "hw1.ipynb does not define g in the code that ran (hw1.ipynb cell 3, line 1 stopped early: SyntaxError: invalid syntax)")
    py = [Cell("def f(:\n", "my cell 3.py")]
    in_file = _error("SyntaxError", "invalid syntax", line=1, file="my cell 3.py")
    assert describe_load_error(in_file, py) == ("my cell 3.py, line 1: SyntaxError: invalid syntax. Python stopped reading "
                                                "the file there, so nothing in it could be graded.")
    assert missing_reason("g", "my cell 3.py", LoadReport(errors=[in_file]), py) == (
        "the file did not load (line 1: SyntaxError: invalid syntax)")
    raised = _error("ValueError", "no", line=1, file="my cell 3.py")
    assert describe_load_error(raised, py).endswith("Functions defined before that point were still graded.")


def test_a_skipped_cell_gets_the_advice_of_its_cause_whatever_its_message_says():
    # The message of an invalid one quotes what the submission sent: it may say "time limit".
    forged = "it sent the grader an invalid message (cell 'time limit longer than' announced where cell 2 was due)"
    advice = {
        "time": " Leave long computations out of what you submit.",
        "died": " Do not end the process (os._exit, os.kill) in what you submit.",
        "invalid_message": "",
    }
    for cause, expected in advice.items():
        note = describe_load_error(_error("CellSkipped", forged, cell=2, cause=cause), NOTEBOOK)
        assert note == (f"hw1.ipynb cell 3: this cell could not be run to its end ({forged}), so the notebook was run "
                        f"again without it: nothing defined in it was graded.{expected}")
