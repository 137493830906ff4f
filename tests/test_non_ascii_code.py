"""Any submission within the code limit grades as its code deserves, whatever its script:
accents, CJK and emoji in comments, cells, exception messages and printed output. The code is
that of the small assignment of `grader new tiny` (the `tiny` fixture)."""

from __future__ import annotations

import nbformat

from grader.grading.submission import MAX_CODE_BYTES
from grading_helpers import assert_valid_results, function_scores, grade_many
from notebooks import filled_template, write

ACCENTS = "# " + "éàèùâêîôûç" * 5 + "\n"  # 2 bytes a letter in UTF-8, 6 bytes escaped as \u00e9
SCRIPTS = "# Réseau récurrent : « attention » 注意力机制 🧠🔥 — état caché ✓\n"


def comments(line: str, size: int) -> str:
    """Whole lines of `line`, about `size` bytes of UTF-8 in all."""
    return line * (size // len(line.encode("utf-8")))


def test_files_full_of_non_ascii_comments_up_to_the_limit_earn_full_marks(tiny, tmp_path):
    reference = tiny.reference.read_text(encoding="utf-8")
    accented = tmp_path / "accented.py"  # the 360 KB: over 1 MiB once escaped
    accented.write_text(comments(ACCENTS, 360_000) + reference, encoding="utf-8")
    near_limit = tmp_path / "near_limit.py"
    near_limit.write_text(comments(SCRIPTS, MAX_CODE_BYTES - len(reference.encode()) - 200_000) + reference, encoding="utf-8")
    over_limit = tmp_path / "over_limit.py"
    over_limit.write_text(comments(SCRIPTS, MAX_CODE_BYTES + 1000) + reference, encoding="utf-8")
    notebook = filled_template(homework=tiny)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell("# Devoir 1 — 注意力 🧠"))
    notebook.cells.insert(1, nbformat.v4.new_code_cell(comments(ACCENTS, 400_000) + "naïve = 'ça marche 🎉'\n"))
    notebook.cells.append(nbformat.v4.new_code_cell(comments(SCRIPTS, 100_000) + "print(naïve)\n"))
    accented_notebook = write(notebook, tmp_path / "accented_notebook.ipynb")
    assert 4_500_000 < len(near_limit.read_bytes()) <= MAX_CODE_BYTES < len(over_limit.read_bytes())

    graded = grade_many([accented, near_limit, over_limit, accented_notebook], tmp_path, homework=tiny)

    for path, outcome in graded.items():
        assert outcome["returncode"] == 0, (path.name, outcome["stderr"][-2000:])
        assert_valid_results(outcome["results"], tiny)
    for path in (accented, near_limit, accented_notebook):
        assert graded[path]["results"]["score"] == 10.0, (path.name, graded[path]["results"]["output"][:500])
    assert "ça marche 🎉" in graded[accented_notebook]["feedback"]  # printed, not mangled
    over = graded[over_limit]["results"]
    assert over["score"] == 0.0
    assert "over_limit.py is 5.0 MiB, over the limit of 5.0 MiB for Python source" in over["output"]


def test_non_ascii_exception_messages_reach_the_student_unchanged(tiny, tmp_path):
    """A student's exception message and function names in any script cross the boundary intact."""
    source = tiny.reference.read_text(encoding="utf-8") + (
        "\ndef 注意(x):\n    return x\n"
        "\ndef normalize(x, axis=-1):\n    raise ValueError('形状不对 🙃 — vérifiez l’axe ' + 'é' * 400)\n")
    path = tmp_path / "raises.py"
    path.write_text(source, encoding="utf-8")
    outcome = grade_many([path], tmp_path, homework=tiny)[path]
    assert outcome["returncode"] == 0
    scores = function_scores(outcome["results"])
    assert scores["normalize"][0] == 0.0 and scores["normalize_backward"] == (4.0, 4.0)
    normalize_tests = [t["output"] for t in outcome["results"]["tests"] if t["tags"] == ["normalize"]]
    assert any("raised ValueError: 形状不对 🙃 — vérifiez l’axe éééé" in text for text in normalize_tests)
