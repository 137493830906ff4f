"""`grader similarity` and `grade-all --similarity` (grader/classroom/similarity.py, grader/report/similarity.py).

The class is generated from real homework 1 code (tests/similarity_class.py): disguised copies
must rank at the top, independent right answers and the untouched template must not pair up,
and what cannot be compared is skipped with its reason. The report runs through the real CLI;
one pair's page is looked at in headless Chromium at 1280 and 400 px.
"""

from __future__ import annotations

import csv
import html
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO, load_module
from grading_helpers import run_grader
from similarity_class import (CORRECT, FAMILIES, LONG_LINE, MALLORY, SKIPPED, TEMPLATE_STUDENTS, family_pairs, make_class,
                              reorder_functions, top_level_chunks)

from grader.classroom.code_tokens import normalised_tokens
from grader.classroom.winnowing import kgram_hashes, symbol_id, symbol_ids, winnow
from grader.model import SimilaritySettings

DEFAULT = SimilaritySettings()
check_pages = load_module(REPO / "scripts" / "check_pages.py", "check_pages_for_similarity")


def read_pairs(path: Path) -> list[tuple[str, str, float]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["a", "b", "score"]
    unquote = {f"'{MALLORY}": MALLORY}  # csv_cell: a cell that starts like a formula gets a leading '
    return [(unquote.get(a, a), unquote.get(b, b), float(score)) for a, b, score in rows[1:]]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """The generated class, compared three times through the CLI: with every pair (`all`,
    --min-score 0) into `first`, then with the defaults into `first` again (its pages replace
    the longer run's) and into `second`."""
    root = tmp_path_factory.mktemp("similarity")
    folder = make_class(root / "class")
    first, second = root / "first", root / "second"
    everything = run_grader("similarity", "hw1", folder, "--out", first, "--min-score", "0", "--max-pairs", "1000")
    assert everything.returncode == 0, everything.stderr
    all_pairs = read_pairs(first / "pairs.csv")
    all_pages = len(list((first / "pairs").iterdir()))
    completed = [run_grader("similarity", "hw1", folder, "--out", out) for out in (first, second)]
    for run in completed:
        assert run.returncode == 0, run.stderr
    return {"folder": folder, "all": all_pairs, "all_pages": all_pages, "first": first, "second": second,
            "stdout": completed[1].stdout, "stderr": completed[1].stderr}


def test_disguised_copies_rank_at_the_top_and_independent_work_does_not_pair_up(runs):
    reported = read_pairs(runs["second"] / "pairs.csv")
    assert {frozenset((a, b)) for a, b, _ in reported} == family_pairs()  # every copy, nothing else
    assert [score for _, _, score in reported] == sorted((score for _, _, score in reported), reverse=True)
    assert min(score for _, _, score in reported) >= 0.9

    # every pair the class has, with no score threshold: copies above everything else, which stays far below it
    ranking = runs["all"]
    copies = [frozenset((a, b)) in family_pairs() for a, b, _ in ranking]
    assert copies == sorted(copies, reverse=True) and sum(copies) == len(family_pairs())
    independent = [score for (_, _, score), copy in zip(ranking, copies) if not copy]
    assert independent and max(independent) < DEFAULT.min_score / 2
    # the two students who handed in the template have no code of their own: in no pair at all
    assert not {name for a, b, _ in ranking for name in (a, b)} & set(TEMPLATE_STUDENTS)
    index = (runs["second"] / "similarity.html").read_text(encoding="utf-8")
    assert "with no code of their own" in index and all(name in index for name in TEMPLATE_STUDENTS)


def test_what_cannot_be_compared_is_skipped_with_its_reason_printed_and_in_the_report(runs):
    index = html.unescape((runs["second"] / "similarity.html").read_text(encoding="utf-8"))
    printed = [line for line in runs["stderr"].splitlines() if "similarity: skipped" in line]
    assert len(printed) == len(SKIPPED), runs["stderr"]
    for student, reason in SKIPPED.items():
        assert any(f"skipped {student}: " in line and reason in line for line in printed), (student, printed)
        assert f"{student}{reason}" not in index and student in index and reason in index
    # a notebook cell tokenize cannot read is left out, and the rest of the notebook compared
    broken_cell = len(top_level_chunks(reorder_functions((CORRECT / "chatty.py").read_text()))) + 2  # after a markdown cell
    assert f"chatty_broken_cell.ipynb cell {broken_cell} left out: EOF in multi-line string" in index
    # a syntax error tokenize reads through is no reason to skip: that copy is compared (and caught)
    assert "loops_syntax_error" not in SKIPPED and "loops_syntax_error" in runs["stdout"] + index
    assert f"compared {len(sum(FAMILIES.values(), ())) + len(TEMPLATE_STUDENTS)} submissions, " \
           f"skipped {len(SKIPPED)}" in runs["stdout"]


def test_the_report_states_the_method_its_thresholds_and_that_a_score_is_no_verdict(runs):
    index = " ".join(html.unescape((runs["second"] / "similarity.html").read_text(encoding="utf-8")).split())
    for text in ("A high score is a reason to look, not a verdict.", f"k-grams of {DEFAULT.kgram} tokens",
                 f"window of {DEFAULT.window}", "student_template/hw1/hw1.py, student_template/hw1/hw1.ipynb",
                 "ignored as template code", "found in more than 50% of the submissions compared (in more than 7 of 14",
                 "fingerprints left as evidence", "from a score of 0.30 with at least 8 shared fingerprints, at most 100"):
        assert text in index, text
    page = (runs["second"] / "pairs" / "pair-0001.html").read_text(encoding="utf-8")
    assert "A high score is a reason to look, not a verdict." in page
    assert "a high score is a reason to look, not a verdict" in runs["stdout"]


def test_the_same_class_gives_byte_identical_files_and_no_stale_pair_page(runs):
    first, second = tree(runs["first"]), tree(runs["second"])
    assert first == second
    pages = sorted(name for name in second if name.startswith("pairs/"))
    assert pages == [f"pairs/pair-{rank:04d}.html" for rank in range(1, len(family_pairs()) + 1)]
    assert runs["all_pages"] > len(pages)  # the longer run into `first` had more: they were removed


def test_student_names_are_text_in_the_pages_and_the_csv(runs):
    index = (runs["second"] / "similarity.html").read_text(encoding="utf-8")
    assert "=cmd &lt;i&gt;mallory &amp; co" in index and "<i>mallory" not in index
    assert f"'{MALLORY},loops," in (runs["second"] / "pairs.csv").read_text(encoding="utf-8")


def test_a_pair_page_fits_1280_and_400_px_in_chromium_with_its_passages_highlighted(runs, tmp_path):
    try:
        check_pages.find_chromium()
    except check_pages.ChromiumMissing as missing:
        pytest.fail(str(missing), pytrace=False)
    rank = [frozenset((a, b)) for a, b, _ in read_pairs(runs["second"] / "pairs.csv")].index(
        frozenset(("loops", "loops_syntax_error"))) + 1
    page = runs["second"] / "pairs" / f"pair-{rank:04d}.html"
    text = page.read_text(encoding="utf-8")
    assert LONG_LINE in text  # the long unbroken line that must wrap
    highlighted = text.count('class="ln match')
    assert highlighted > 600  # both files, all but the inserted function and what the class shares
    for width in (1280, 400):
        m = check_pages.measure(page, width)
        assert m["innerWidth"] == m["clientWidth"] == width, m
        assert m["scrollWidth"] <= width and m["tooWide"] == [], m
        assert m["highlighted"] == highlighted, m


def test_grade_all_with_similarity_adds_a_section_to_the_summary(tiny_assignment, tmp_path):
    reference = (tiny_assignment.parent / "solutions" / "tiny" / "tiny.py").read_text(encoding="utf-8")
    helper = ("\n\ndef counts_to_rows(counts, width):\n    rows = []\n    for start in range(0, len(counts), width):\n"
              "        row = [float(c) for c in counts[start:start + width]]\n        total = sum(row)\n"
              "        rows.append([c / total for c in row] if total else row)\n    return rows\n")
    students = tmp_path / "class"
    students.mkdir()
    (students / "ann.py").write_text(reference + helper, encoding="utf-8")
    (students / "ben.py").write_text(reference.replace("total", "s") + helper.replace("rows", "out"), encoding="utf-8")
    shutil.copy(tiny_assignment.parent / "student_template" / "tiny" / "tiny.py", students / "cid.py")
    out = tmp_path / "out"
    completed = run_grader("--assignments", tiny_assignment, "grade-all", "tiny", students, "--out", out, "--jobs", "2",
                           "--similarity")
    assert completed.returncode == 0, completed.stderr
    assert read_pairs(out / "similarity" / "pairs.csv") == [("ann", "ben", pytest.approx(1.0))]
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert "<h2>Similar submissions</h2>" in summary and "A high score is a reason to look, not a verdict." in summary
    assert 'href="similarity/pairs/pair-0001.html"' in summary and 'href="similarity/similarity.html"' in summary
    assert (out / "similarity" / "pairs" / "pair-0001.html").is_file()
    assert "similarity: 1 pair reported" in completed.stdout
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"ann", "ben", "cid", "similarity"}


def test_a_student_named_like_the_report_folder_keeps_a_folder_of_their_own(tiny_assignment, tmp_path):
    from grader.classroom.batch import plan
    from grader.grading.assignment import load_assignment

    students = tmp_path / "class"
    students.mkdir()
    (students / "similarity.py").write_text("x = 1\n", encoding="utf-8")
    batch = plan(load_assignment("tiny", tiny_assignment), students, tmp_path / "out", force=True)
    assert [student.name for student in batch.students] == ["similarity.py"] and batch.warnings


@pytest.mark.parametrize(("options", "message"), [
    (("--kgram", "3"), "--kgram must be between 5 and 200 tokens (got 3)"),
    (("--window", "0"), "--window must be between 1 and 200"),
    (("--common", "0"), "--common must be a share of the class above 0 and at most 1 (got 0)"),
    (("--min-score", "1.5"), "--min-score must be between 0 and 1 (got 1.5)"),
    (("--max-pairs", "0"), "--max-pairs must be at least 1 (got 0)"),
    (("--kgram", "ten"), "argument --kgram: invalid int value: 'ten'"),
])
def test_a_bad_option_is_a_usage_error(options, message, tmp_path, capsys):
    from grader.cli import main

    assert main(["similarity", "hw1", str(tmp_path), "--out", str(tmp_path / "out"), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_missing_folder_or_an_output_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    from grader.cli import main

    completed = run_grader("similarity", "hw1", tmp_path / "nowhere", "--out", tmp_path / "out")  # the real CLI once
    assert completed.returncode == 2 and completed.stderr == f"grader: error: folder {tmp_path / 'nowhere'} does not exist\n"
    (tmp_path / "a_file").write_text("", encoding="utf-8")
    for args, message in ((("similarity", "hw1", tmp_path, "--out", tmp_path / "a_file"), "is a file, not a folder"),
                          (("similarity", "hw1", tmp_path, "--out", tmp_path), "must not be the submissions folder"),
                          (("similarity", "hw1", tmp_path, "--out", tmp_path / "out", "--jobs", "0"), "--jobs must be at least 1"),
                          (("similarity", "hw1", tmp_path), "required: --out")):
        assert main([str(arg) for arg in args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (args, err)


# --- the method ---------------------------------------------------------------------------

SOURCE = '''import numpy as np

def softmax(x, axis=-1):
    """A docstring."""
    # shift for stability
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)   # exponentiate
    return e / e.sum(axis=axis, keepdims=True)
'''


# SOURCE with its names, numbers, comments and docstring changed and its lines wrapped differently
DISGUISED_SOURCE = '''import numpy as numpy_library
def softmax(logits, dim=-2):  # my own
    """Mine."""

    peak = numpy_library.max(logits, axis=dim,
                             keepdims=True)
    ex = numpy_library.exp(logits - peak)
    return ex / ex.sum(axis=dim, keepdims=True)
'''


def test_names_literals_comments_and_docstrings_are_abstracted_but_structure_and_attributes_kept():
    tokens = normalised_tokens(SOURCE)
    assert " ".join(tokens.symbols[:17]) == "import ID as ID NEWLINE def ID ( ID , ID = - NUM ) : NEWLINE"
    assert "max" in tokens.symbols and "exp" in tokens.symbols and "sum" in tokens.symbols  # np.max, e.sum
    assert "STR" not in tokens.symbols and "return" in tokens.symbols  # the docstring is dropped
    assert normalised_tokens(DISGUISED_SOURCE).symbols == tokens.symbols
    lines = dict(zip(tokens.symbols, tokens.first_lines))
    assert lines["return"] == 8 and tokens.first_lines[tokens.symbols.index("max")] == 6


def test_symbol_ids_are_stable_across_runs_not_pythons_randomised_hash():
    assert symbol_id("ID") == 0xB0144334FBC22657  # blake2b: the same in every process and on every machine
    code = "import sys; from grader.classroom.winnowing import symbol_id; print(symbol_id('ID'))"
    outputs = {subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                              env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout.strip() for seed in ("1", "2")}
    assert outputs == {str(symbol_id("ID"))}


@given(st.lists(st.sampled_from("abcdefgh"), min_size=0, max_size=60),
       st.lists(st.sampled_from("abcdefgh"), min_size=0, max_size=60),
       st.lists(st.sampled_from("abcdefgh"), min_size=0, max_size=60),
       st.integers(2, 6), st.integers(1, 6))
def test_winnowing_finds_every_shared_passage_of_k_plus_w_minus_1_tokens(before, shared, after, k, w):
    """Schleimer et al.'s guarantee: a passage of at least k + w - 1 tokens two sequences share gives them
    a common fingerprint; and the fingerprints are the rightmost minima of the windows."""
    first, second = before + shared + after, after + shared + before
    hashes = [kgram_hashes(symbol_ids(tokens), k) for tokens in (first, second)]
    kept = [set(h[winnow(h, w)].tolist()) for h in hashes]
    if len(shared) >= k + w - 1:
        assert kept[0] & kept[1]
    h = hashes[0]
    for start in range(len(h) - w + 1):
        window = h[start:start + w].tolist()
        assert start + max(i for i, value in enumerate(window) if value == min(window)) in winnow(h, w)


def test_job_processes_give_the_same_report_as_one(runs, monkeypatch):
    from grader.classroom import similarity
    from grader.classroom.roster import read_roster
    from grader.grading.assignment import load_assignment

    assignment, students = load_assignment("hw1", REPO / "assignments"), read_roster(runs["folder"]).students
    alone = similarity.compare_class(assignment, students, DEFAULT, jobs=1)
    monkeypatch.setattr(similarity, "PARALLEL_FROM", 1)  # the class is small: make it use job processes all the same
    assert similarity.compare_class(assignment, students, DEFAULT, jobs=2) == alone
    assert len(alone.pairs) == len(family_pairs()) and len(alone.skipped) == len(SKIPPED)
