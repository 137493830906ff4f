"""`grader similarity`: which submissions of a class have code that is suspiciously alike.

The method is MOSS's (and Dolos's), on what grading reads of each submission
(grader.grading.submission.load_submission: a .py file, a notebook's code cells in order, the
file a folder holds; never a link, a special file or a file over the size limit). Student code
is never run, imported or compiled: it is only read by the standard `tokenize` module.

1. Each submission becomes a sequence of normalised tokens (grader/classroom/code_tokens.py):
   names, numbers and strings are abstracted, comments, blank lines and docstrings dropped,
   keywords, operators and attribute names (`np.einsum`) kept. Renaming variables, rewriting
   comments and re-wrapping lines change nothing.
2. Every k-gram (`kgram` consecutive tokens) is hashed, and winnowing keeps the smallest hash of
   every `window` consecutive ones (grader/classroom/winnowing.py): the submission's fingerprints,
   each with its position, hence the lines it spans. A passage of `kgram + window - 1` tokens or
   more that two submissions share always gives a shared fingerprint; reordering functions only
   loses the few k-grams that straddle a function's edge.
3. What is not evidence is ignored: any fingerprint that is a k-gram of the template students
   start from (student_template/NAME/MODULE.py and .ipynb), and any found (as a k-gram anywhere in
   the submission) in more than `common_share` of the submissions compared: what everyone writes
   (a conversion to float64 at the top of every function, the graded functions' signatures) says nothing about two of
   them. A fingerprint that only two submissions have is never ignored as common, however small
   the class: that is exactly the evidence sought.
4. Pairs are counted through an inverted index (fingerprint -> the submissions that have it),
   never by comparing texts two by two: each fingerprint adds one to every pair of the
   submissions holding it (fingerprints held by the same submissions are counted together).
5. A pair's score is `shared / min(|A|, |B|)`: of the smaller submission's fingerprints (those not
   ignored), the share the other has too. The smaller one, not the union (Jaccard): a student who
   handed in five functions, all copied from a classmate's complete homework of fifteen, scores
   near 1, where Jaccard would give about a third, diluted by the code they did not take. A pair is
   reported when it scores at least `min_score` and shares at least `min_shared` fingerprints
   (a submission with little code of its own cannot score 1.0 on two or three common lines), at
   most `max_pairs` of them, highest first, ties in the class's order of names.

Defaults (grader.model.SimilaritySettings): k-grams of 20 tokens, about one line of numpy code
(`h_t = np.tanh(h_prev @ W_h.T + c_t @ W_c.T)` is 18), and a window of 10, so any shared passage of
29 tokens (two lines or so) is seen: on the independent right answers to homework 1 in the tests
(loops, einsum, vectorised, the reference) pairs score 0.08 to 0.12 with nothing ignored as common,
and copies 0.95 and more. A fingerprint in more than half the class is what the class writes,
not what two students share. Reported from 0.3: a third of one submission's own code found in
another is worth a look.

A high score is a reason to look at the two submissions side by side, never a verdict: students
may share a source everyone was allowed to use, or have written the obvious code.

What cannot be compared is skipped with a one-line reason, never a crash: whatever
load_submission refuses (a link, a binary file, a corrupt notebook, a file over the size limit),
a file tokenize cannot read, one with no code or too little for a k-gram, one over MAX_TOKENS
tokens or MAX_LINES lines. A notebook cell tokenize cannot read is left out, with a note.
"""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import multiprocessing
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from grader.classroom.code_tokens import CodeTokens, TokenizeFailure, TooManyTokens, normalised_tokens, split_lines
from grader.classroom.roster import Student
from grader.classroom.winnowing import kgram_hashes, symbol_ids, winnow
from grader.errors import UsageError
from grader.grading.notebook import PRELUDE
from grader.grading.submission import load_submission
from grader.model import Assignment, CodeListing, Passage, SimilarityReport, SimilarPair, SimilaritySettings

MAX_TOKENS = 50_000  # homework 1's reference has about 1,800 (docstrings dropped), loops.py 3,900
MAX_LINES = 20_000  # and 485 lines
PARALLEL_FROM = 100  # a smaller class is read faster here than job processes start
PAIR_CHUNK = 1 << 22  # pairs counted per numpy call
OCCURRENCES_PAIRED = 4  # a fingerprint repeated more often in each of two files: occurrences paired in order


@dataclass(frozen=True)
class _Code:
    """One submission, read: its listing, normalised tokens, and what was left out of it."""

    listing: CodeListing
    tokens: CodeTokens
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Compared:
    """One submission as compared (what a job process sends back, without the tokens themselves):
    its listing and notes; the lines token i spans, `first_lines[i]` to `last_lines[i]` (int32,
    shape (n,)); its fingerprints, `hashes[j]` the k-gram at token `positions[j]` (uint64 and
    int64, shape (f,), positions ascending, repeats included); `kgrams`, every distinct k-gram
    hash, sorted; `distinct`, every distinct fingerprint, sorted."""

    listing: CodeListing
    notes: tuple[str, ...]
    first_lines: np.ndarray
    last_lines: np.ndarray
    hashes: np.ndarray
    positions: np.ndarray
    kgrams: np.ndarray
    distinct: np.ndarray


def check_settings(settings: SimilaritySettings) -> None:
    """Raises UsageError, naming the option, when a setting is out of its range."""
    if not 5 <= settings.kgram <= 200:
        raise UsageError(f"--kgram must be between 5 and 200 tokens (got {settings.kgram})")
    if not 1 <= settings.window <= 200:
        raise UsageError(f"--window must be between 1 and 200 k-grams (got {settings.window})")
    if not 0 < settings.common_share <= 1:
        raise UsageError(f"--common must be a share of the class above 0 and at most 1 (got {settings.common_share:g})")
    if not 0 <= settings.min_score <= 1:
        raise UsageError(f"--min-score must be between 0 and 1 (got {settings.min_score:g})")
    if settings.max_pairs < 1:
        raise UsageError(f"--max-pairs must be at least 1 (got {settings.max_pairs})")
    if settings.min_shared < 1:
        raise UsageError(f"the minimum of shared fingerprints must be at least 1 (got {settings.min_shared})")


def compare_class(assignment: Assignment, students: Sequence[Student], settings: SimilaritySettings,
                  jobs: int = 1) -> SimilarityReport:
    """The similarity report of `students` (a class's roster, in its order) for `assignment`;
    submissions are read and fingerprinted in `jobs` processes when the class is large
    (PARALLEL_FROM students or more), else here."""
    check_settings(settings)
    entries = [(student.name, str(student.path)) for student in students]
    if jobs > 1 and len(entries) >= PARALLEL_FROM:
        chunks = [entries[start::jobs * 4] for start in range(jobs * 4)]  # interleaved: equal work per chunk
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            done = pool.map(compare_entries, itertools.repeat(assignment.module), itertools.repeat(settings), chunks)
            by_name = {name: result for chunk, results in zip(chunks, done) for (name, _), result in zip(chunk, results)}
        results = [by_name[name] for name, _ in entries]
    else:
        results = compare_entries(assignment.module, settings, entries)
    compared: dict[str, _Compared] = {}
    skipped: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    for (name, _), result in zip(entries, results):
        if isinstance(result, str):
            skipped.append((name, result))
        else:
            compared[name] = result
            notes.extend((name, note) for note in result.notes)
    names = list(compared)
    prints = list(compared.values())
    template_files, template = template_kgrams(assignment, settings.kgram)

    # how many submissions hold each k-gram anywhere (not only where winnowing kept it)
    all_kgrams = np.concatenate([p.kgrams for p in prints]) if prints else np.zeros(0, np.uint64)
    known, holders = np.unique(all_kgrams, return_counts=True)
    limit = max(2, int(settings.common_share * len(names) + 1e-9))
    kept: list[np.ndarray] = []
    as_template: list[np.ndarray] = []
    as_common: list[np.ndarray] = []
    for p in prints:
        distinct = p.distinct
        in_template = np.isin(distinct, template, assume_unique=True)
        common = (holders[np.searchsorted(known, distinct)] > limit) & ~in_template
        kept.append(distinct[~in_template & ~common])
        as_template.append(distinct[in_template])
        as_common.append(distinct[common])

    shared = shared_counts(kept, len(names))
    sizes = np.array([len(k) for k in kept], dtype=np.int64)
    ranked = rank_pairs(shared, sizes, settings)
    pairs = []
    for a, b in ranked[:settings.max_pairs]:
        common_hashes = np.intersect1d(kept[a], kept[b], assume_unique=True)
        pairs.append(SimilarPair(
            a=names[a], b=names[b], score=float(shared[a, b] / min(sizes[a], sizes[b])), shared=int(shared[a, b]),
            a_fingerprints=int(sizes[a]), b_fingerprints=int(sizes[b]),
            passages=shared_passages(common_hashes, prints[a], prints[b], settings)))
    shown = {name for pair in pairs for name in (pair.a, pair.b)}
    return SimilarityReport(
        assignment=assignment.name, title=assignment.title, settings=settings, compared=len(names),
        skipped=tuple(skipped), notes=tuple(notes), template=template_files, template_kgrams=len(template),
        template_ignored=_distinct(as_template), common_limit=limit, common_ignored=_distinct(as_common),
        evidence=_distinct(kept), no_own_code=tuple(name for name, k in zip(names, kept) if len(k) == 0),
        pairs=tuple(pairs), pairs_not_shown=max(0, len(ranked) - settings.max_pairs),
        listings={name: compared[name].listing for name in names if name in shown})


def read_code(student: str, path, module: str, kgram: int) -> _Code | str:
    """`student`'s submission at `path`, read as grading reads it and tokenised; or why it cannot be compared."""
    submission = load_submission(path, module, must_exist=False)
    if submission.problem:
        return submission.problem
    file = submission.graded_file or path.name
    if submission.cells and submission.cells[0] == PRELUDE:  # a notebook: its code cells, each under a header line
        lines: list[str] = []
        parts: list[CodeTokens] = []
        notes: list[str] = []
        for cell in submission.cells[1:]:
            lines.append(f"# %% {cell.filename}")
            try:
                parts.append(normalised_tokens(cell.source, line_offset=len(lines), max_tokens=MAX_TOKENS))
            except TokenizeFailure as failure:
                notes.append(f"{cell.filename} left out: {failure}")
            lines.extend(split_lines(cell.source))
        tokens = CodeTokens(*(tuple(itertools.chain.from_iterable(getattr(part, name) for part in parts))
                              for name in ("symbols", "first_lines", "last_lines")))
        if not tokens.symbols and notes:
            return f"{file}: no code cell could be read ({notes[0]})"
    else:
        source = submission.cells[0].source if submission.cells else ""
        lines, notes = split_lines(source), []
        try:
            tokens = normalised_tokens(source, max_tokens=MAX_TOKENS)
        except TooManyTokens as failure:
            return f"{file} has {failure}"
        except TokenizeFailure as failure:
            return f"{file} cannot be read as Python tokens: {failure}"
    if len(lines) > MAX_LINES:
        return f"{file} has {len(lines):,} lines, over the limit of {MAX_LINES:,} for comparison"
    if len(tokens) > MAX_TOKENS:
        return f"{file} has more than {MAX_TOKENS:,} tokens, far more than any homework"
    if not tokens.symbols:
        return f"{file} holds no code (only comments, docstrings or blank lines)"
    if len(tokens) < kgram:
        return f"{file} is too short to compare: {len(tokens)} tokens, fewer than one k-gram ({kgram})"
    return _Code(CodeListing(student, file, tuple(lines)), tokens, tuple(notes))


def compare_entries(module: str, settings: SimilaritySettings, entries: Sequence[tuple[str, str]]) -> list[_Compared | str]:
    """Each (student, path) of `entries` read and fingerprinted, or why it cannot be compared
    (the work of a job process)."""
    results: list[_Compared | str] = []
    for student, path in entries:
        try:
            code = read_code(student, Path(path), module, settings.kgram)
        except Exception as error:  # a fault of the grader on one file: that file is skipped, the class still compared
            results.append(f"{Path(path).name} could not be compared (a fault of the grader: {type(error).__name__}: "
                           f"{error}); compare it by hand")
            continue
        if isinstance(code, str):
            results.append(code)
            continue
        hashes = kgram_hashes(symbol_ids(code.tokens.symbols), settings.kgram)
        positions = winnow(hashes, settings.window)
        results.append(_Compared(code.listing, code.notes, np.array(code.tokens.first_lines, dtype=np.int32),
                                 np.array(code.tokens.last_lines, dtype=np.int32), hashes[positions], positions,
                                 np.unique(hashes), np.unique(hashes[positions])))
    return results


def template_kgrams(assignment: Assignment, kgram: int) -> tuple[tuple[str, ...], np.ndarray]:
    """The template files found (as the report names them: `student_template/hw1/hw1.py`) and
    every distinct k-gram hash of their code, sorted (uint64)."""
    found, hashes = [], [np.zeros(0, dtype=np.uint64)]
    for suffix in (".py", ".ipynb"):
        path = assignment.template / f"{assignment.module}{suffix}"
        if not path.is_file():
            continue
        code = read_code("template", path, assignment.module, kgram)
        if isinstance(code, str):
            continue
        found.append(f"{assignment.template.parent.name}/{assignment.template.name}/{path.name}")
        hashes.append(kgram_hashes(symbol_ids(code.tokens.symbols), kgram))
    return tuple(found), np.unique(np.concatenate(hashes))


def shared_counts(kept: Sequence[np.ndarray], n: int) -> np.ndarray:
    """How many fingerprints each pair shares: shape (n, n), float64, filled above the diagonal
    (row < column); `kept[s]` holds submission s's distinct fingerprints (uint64).

    An inverted index: each fingerprint held by m >= 2 submissions adds one to each of their
    m (m - 1) / 2 pairs; fingerprints held by the same submissions are counted as one, with a weight.
    The counts take n * n * 8 bytes: 2 MB for 500 submissions, 200 MB for 5,000.
    """
    counts = np.zeros(n * n, dtype=np.float64)
    if n < 2:
        return counts.reshape(n, n)
    hashes = np.concatenate(kept)
    owners = np.concatenate([np.full(len(k), s, dtype=np.int64) for s, k in enumerate(kept)])
    order = np.argsort(hashes, kind="stable")  # stable: each fingerprint's owners stay in ascending order
    hashes, owners = hashes[order], owners[order]
    _, starts, sizes = np.unique(hashes, return_index=True, return_counts=True)
    groups = Counter(owners[start:start + size].tobytes() for start, size in zip(starts, sizes) if size >= 2)
    codes: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    pending = 0
    for members_bytes, weight in sorted(groups.items()):
        members = np.frombuffer(members_bytes, dtype=np.int64)
        first, second = _pairs_of(len(members))
        codes.append(members[first] * n + members[second])
        weights.append(np.full(len(first), weight, dtype=np.float64))
        pending += len(first)
        if pending >= PAIR_CHUNK:
            counts += np.bincount(np.concatenate(codes), np.concatenate(weights), minlength=n * n)
            codes, weights, pending = [], [], 0
    if codes:
        counts += np.bincount(np.concatenate(codes), np.concatenate(weights), minlength=n * n)
    return counts.reshape(n, n)


@functools.lru_cache(maxsize=256)
def _pairs_of(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j), i < j, of m items, as two index arrays."""
    return np.triu_indices(m, 1)


def rank_pairs(shared: np.ndarray, sizes: np.ndarray, settings: SimilaritySettings) -> list[tuple[int, int]]:
    """The pairs (a, b), a < b, that meet the thresholds, highest score first, ties in order of (a, b)."""
    n = len(sizes)
    flat = np.flatnonzero(shared.reshape(-1) >= settings.min_shared)
    first, second = flat // n, flat % n
    if not len(flat):
        return []
    scores = shared.reshape(-1)[flat] / np.minimum(sizes[first], sizes[second])
    meets = scores >= settings.min_score - 1e-12
    first, second, scores = first[meets], second[meets], scores[meets]
    order = np.lexsort((second, first, -scores))
    return [(int(first[i]), int(second[i])) for i in order]


def shared_passages(common: np.ndarray, a: _Compared, b: _Compared, settings: SimilaritySettings) -> tuple[Passage, ...]:
    """The passages of `a` and `b` that hold their `common` fingerprints, in order of `a`'s lines.

    Each shared fingerprint's occurrences are matched (position in a, position in b); matches
    that follow one another in both files, about as far apart in each, make one passage, whose
    lines run from its first k-gram's first token to its last k-gram's last token.
    """
    where_a, where_b = _occurrences(a, common), _occurrences(b, common)
    matches = []
    for value in sorted(where_a):
        in_a, in_b = where_a[value], where_b[value]
        if len(in_a) * len(in_b) <= OCCURRENCES_PAIRED ** 2:
            matches.extend((pa, pb) for pa in in_a for pb in in_b)
        else:
            matches.extend(zip(in_a, in_b))
    gap, drift = 2 * (settings.kgram + settings.window), settings.kgram
    chains: list[list[tuple[int, int]]] = []
    open_chains: list[list[tuple[int, int]]] = []
    for pa, pb in sorted(matches):
        open_chains = [chain for chain in open_chains if pa - chain[-1][0] <= gap]
        fits = [chain for chain in open_chains if 0 < pa - chain[-1][0] and 0 < pb - chain[-1][1] <= gap
                and abs((pb - pa) - (chain[-1][1] - chain[-1][0])) <= drift]
        if fits:
            min(fits, key=lambda chain: abs((pb - pa) - (chain[-1][1] - chain[-1][0]))).append((pa, pb))
        else:
            chains.append([(pa, pb)])
            open_chains.append(chains[-1])
    passages = []
    for chain in chains:
        a_spans = _spans([_lines(a, pa, settings.kgram) for pa, _ in chain])
        b_spans = _spans([_lines(b, pb, settings.kgram) for _, pb in chain])
        passages.append(Passage(a_lines=(a_spans[0][0], a_spans[-1][1]), b_lines=(b_spans[0][0], b_spans[-1][1]),
                                fingerprints=len(chain), a_spans=a_spans, b_spans=b_spans))
    return tuple(sorted(_outermost(passages), key=lambda p: (p.a_lines, p.b_lines)))


def _outermost(passages: list[Passage]) -> list[Passage]:
    """`passages` without those inside a larger one in both files (a line repeated in one file
    matches the other's twice: once in the passage it belongs to, once elsewhere)."""
    def inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
        return outer[0] <= inner[0] and inner[1] <= outer[1]

    by_size = sorted(passages, key=lambda p: (-p.fingerprints, p.a_lines, p.b_lines))
    kept: list[Passage] = []
    for passage in by_size:
        if not any(inside(passage.a_lines, other.a_lines) and inside(passage.b_lines, other.b_lines) for other in kept):
            kept.append(passage)
    return kept


def _occurrences(prints: _Compared, common: np.ndarray) -> dict[int, list[int]]:
    """Where each of the `common` hashes occurs in `prints`: hash -> its positions, ascending."""
    found: dict[int, list[int]] = {}
    mask = np.isin(prints.hashes, common)
    for value, position in zip(prints.hashes[mask].tolist(), prints.positions[mask].tolist()):
        found.setdefault(value, []).append(position)
    return found


def _lines(code: _Compared, position: int, kgram: int) -> tuple[int, int]:
    """The lines (first, last) the k-gram at `position` spans."""
    return int(code.first_lines[position]), int(code.last_lines[min(position + kgram, len(code.last_lines)) - 1])


def _spans(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """`ranges` of lines (first, last), merged where they overlap or touch, in order."""
    merged: list[list[int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple((first, last) for first, last in merged)


def _distinct(arrays: Sequence[np.ndarray]) -> int:
    return len(np.unique(np.concatenate(arrays))) if arrays else 0
