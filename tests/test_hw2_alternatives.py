"""Homework 2's alternative solutions and demo students, compared with the reference in plain numpy.

No grading here: each file is imported (or, for Dana's notebook, its code cells are run) and
every function is called on a handful of random inputs per function, the same for everyone:
batch dimensions (), (k,), (j, k), a shared h0, causal and not, several head counts, large
magnitudes and the contract's ValueErrors. The three alternatives in tests/submissions/hw2/correct/
and Alice must agree with the reference on all twelve functions; Bob must differ on exactly the
functions his four bugs touch; Carol must not compile; Dana's notebook must hold exactly the
functions she finished.
"""

from __future__ import annotations

import contextlib
import io
import sys
import types
from dataclasses import dataclass, field

import nbformat
import numpy as np
import pytest

from grader.authoring.gradcheck import relative_error
from grader.grading.notebook import read_notebook_cells

from conftest import REPO, load_module

ALTERNATIVES = REPO / "tests" / "submissions" / "hw2" / "correct"
EXAMPLES = REPO / "examples" / "hw2"
TOLERANCE = 1e-9  # relative, over the whole array: the grader allows about 1e-6

FUNCTIONS = ("linear_rnn_forward", "compose_affine", "prefix_scan", "linear_rnn_scan", "linear_rnn_kernel",
             "split_heads", "merge_heads", "multi_head_attention", "multi_head_attention_backward",
             "sinusoidal_positions", "rotary", "transformer_lm_loss")

# Bob's four bugs, and the function each one shows in (transformer_lm_loss calls his position table).
BOBS_WRONG_FUNCTIONS = {
    "linear_rnn_scan",  # returns q_t: forgets P_t h0
    "linear_rnn_kernel",  # K[k] = W_h^(k+1) W_c: one power too many
    "sinusoidal_positions",  # cos in the even columns, sin in the odd ones
    "transformer_lm_loss",  # ... through his sinusoidal_positions
    "rotary",  # pairs feature i with i + d/2 (the half-split layout), not 2i with 2i+1
}
CAROLS_SYNTAX_ERROR_LINE = 90  # an unmatched ')' in multi_head_attention
DANAS_STUBS = {"prefix_scan", "linear_rnn_scan", "multi_head_attention_backward", "rotary", "transformer_lm_loss"}
DANAS_UNSTABLE = {"multi_head_attention"}  # no max shift before exp: nan at large magnitudes


@dataclass(frozen=True)
class Case:
    """One call: positional args and keyword args. `compare` picks the outputs to compare (all if None):
    at large magnitudes the attention weights saturate, and dW_q, dW_k become round-off of a
    cancellation (A * (dA - sum dA A)) that no two correct programs share, so only dC, dW_v, dW_o
    are compared there."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    compare: tuple[int, ...] | None = None
    large: bool = False


def attention_weights(rng, batch, T, n_heads, d_c=4, d_o=3, scale=1.0):
    """C and W_q, W_k, W_v, W_o for `n_heads` heads of sizes 2 (queries, keys) and 1 or 2 (values)."""
    d_k, d_v = 2 * n_heads, (1 + n_heads % 2) * n_heads
    return (scale * rng.standard_normal(batch + (T, d_c)), 3 * rng.standard_normal((d_k, d_c)),
            3 * rng.standard_normal((d_k, d_c)), rng.standard_normal((d_v, d_c)), rng.standard_normal((d_o, d_v)))


def lm_batch(rng, B, T, V, pad_id):
    """Token ids (B, T + 1) with at least one counted target."""
    ids = rng.integers(0, V, (B, T + 1))
    ids[0, 1] = (pad_id + 1) % V
    return ids


def make_cases(seed: int = 20) -> dict[str, list[Case]]:
    """A handful of cases per function, the same for every submission."""
    rng = np.random.default_rng(seed)
    n = rng.standard_normal
    cases: dict[str, list[Case]] = {name: [] for name in FUNCTIONS}

    # Part A
    for batch, T, shared in [((), 1, False), ((3,), 5, False), ((2, 3), 16, False), ((3,), 7, True), ((2, 3), 4, True)]:
        d_h, d_c = 3, 2
        h0 = n((d_h,) if shared else batch + (d_h,))
        rnn = (h0, n(batch + (T, d_c)), 0.5 * n((d_h, d_h)), n((d_h, d_c)))
        cases["linear_rnn_forward"].append(Case(rnn))
        cases["linear_rnn_scan"].append(Case(rnn))
    growing = (n((2, 3)), 1e3 * n((12, 2)), 1.5 * n((3, 3)), n((3, 2)))  # large inputs, states that grow
    cases["linear_rnn_forward"].append(Case(growing, large=True))
    cases["linear_rnn_scan"].append(Case(growing, large=True))
    d = 3
    for batch_of in ("M_1", "b_1", "M_2", "b_2", "all", None):
        shapes = {"M_1": (d, d), "b_1": (d,), "M_2": (d, d), "b_2": (d,)}
        for name in shapes:
            if batch_of in (name, "all"):
                shapes[name] = (2, 3) + shapes[name]
        M_1, b_1, M_2, b_2 = (n(shape) for shape in shapes.values())
        cases["compose_affine"].append(Case(((M_1, b_1), (M_2, b_2))))
    for batch, T in [((), 1), ((3,), 2), ((2, 3), 7), ((), 16)]:
        cases["prefix_scan"].append(Case((0.8 * n(batch + (T, d, d)), n(batch + (T, d)))))
    for T in (1, 4, 16):
        cases["linear_rnn_kernel"].append(Case((0.9 * n((3, 3)), n((3, 2)), T)))

    # Part B
    for batch, heads in [((), 1), ((3,), 2), ((2, 3), 3)]:
        cases["split_heads"].append(Case((n(batch + (4, 6)), heads)))
        cases["merge_heads"].append(Case((n(batch + (heads, 4, 2)),)))
    cases["split_heads"].append(Case((n((3, 4, 5)), 2)))  # ValueError: 2 does not divide 5
    for batch, T, heads, causal in [((), 1, 1, True), ((3,), 6, 2, False), ((2, 3), 16, 3, True), ((2,), 9, 4, False)]:
        weights = attention_weights(rng, batch, T, heads)
        cases["multi_head_attention"].append(Case(weights + (heads,), {"causal": causal}))
        cases["multi_head_attention_backward"].append(
            Case((n(batch + (T, 3)),) + weights + (heads,), {"causal": causal}))
    for causal in (True, False):  # scores of magnitude 1e3 and more
        weights = attention_weights(rng, (3,), 8, 2, scale=30.0)
        cases["multi_head_attention"].append(Case(weights + (2,), {"causal": causal}, large=True))
        cases["multi_head_attention_backward"].append(
            Case((n((3, 8, 3)),) + weights + (2,), {"causal": causal}, compare=(0, 3, 4), large=True))
    C, W_q, W_k, W_v, W_o = attention_weights(rng, (3,), 5, 2)
    for bad in ((C, n((5, 4)), n((5, 4)), W_v, W_o, 2),  # 2 heads do not divide d_k = 5
                (C, W_q, W_k, n((3, 4)), n((3, 3)), 2)):  # nor d_v = 3
        cases["multi_head_attention"].append(Case(bad))
        cases["multi_head_attention_backward"].append(Case((n((3, 5, 3)),) + bad))

    # Part C
    for T, d in [(1, 2), (7, 6), (16, 8), (3, 5)]:  # d = 5: ValueError
        cases["sinusoidal_positions"].append(Case((T, d)))
    for batch, positions in [((), [0, 0, 0, 0]), ((3,), [0, 1, 2, 3]), ((2, 3), [5, 99999, 31, 77777])]:
        cases["rotary"].append(Case((n(batch + (4, 6)), np.array(positions)), large=max(positions) > 1000))
    cases["rotary"].append(Case((n((3, 4, 8)), rng.integers(0, 100000, 4)), large=True))
    cases["rotary"].append(Case((n((2, 4, 5)), np.arange(4))))  # ValueError: d = 5 is odd
    V, d_c, pad_id = 7, 4, 0
    for B, T, heads, logit_scale in [(1, 1, 1, 1.0), (3, 6, 2, 1.0), (2, 9, 1, 1.0), (3, 5, 2, 300.0)]:
        ids = lm_batch(rng, B, T, V, pad_id)
        _, W_q, W_k, W_v, W_o = attention_weights(rng, (), 1, heads, d_c=d_c)
        weights = (n((V, d_c)), W_q, W_k, W_v, W_o, logit_scale * n((V, 3)))  # E, ..., W_out
        cases["transformer_lm_loss"].append(Case((ids,) + weights + (heads, pad_id), large=logit_scale > 1))
    all_padding = np.array([[3, 0, 0], [5, 0, 0]])
    cases["transformer_lm_loss"].append(Case((all_padding,) + weights + (2, pad_id)))  # ValueError: nothing counts
    _, W_q, W_k, W_v, W_o = attention_weights(rng, (), 1, 1, d_c=3)
    cases["transformer_lm_loss"].append(  # ValueError: d_c = 3 is odd
        Case((lm_batch(rng, 2, 4, V, pad_id), n((V, 3)), W_q, W_k, W_v, W_o, n((V, 3)), 1, pad_id)))
    return cases


CASES = make_cases()


def outputs(result) -> list[np.ndarray]:
    """A function's result as a list of float64 arrays (a pair is two, a float is one)."""
    parts = result if isinstance(result, tuple) else (result,)
    return [np.asarray(part, dtype=np.float64) for part in parts]


def call(function, case: Case):
    """(result, None) or (None, the exception); the inputs are copied, so no call sees another's changes."""
    copied = [np.copy(arg) if isinstance(arg, np.ndarray) else arg for arg in case.args]
    try:
        return function(*copied, **case.kwargs), None
    except Exception as error:  # noqa: BLE001 -- a student's function may raise anything
        return None, error


def disagreement(student_function, reference_function, case: Case) -> str | None:
    """Why the student's answer to `case` is not the reference's, or None when it is."""
    expected, expected_error = call(reference_function, case)
    got, error = call(student_function, case)
    if expected_error is not None:
        assert isinstance(expected_error, ValueError), f"the reference raised {expected_error!r}"
        return None if isinstance(error, ValueError) else f"should raise ValueError, got {error!r}"
    if error is not None:
        return f"raised {type(error).__name__}: {error}"
    if isinstance(expected, tuple) != isinstance(got, tuple) or isinstance(expected, float) != isinstance(got, float):
        return f"returned a {type(got).__name__}, the reference a {type(expected).__name__}"
    expected_parts, got_parts = outputs(expected), outputs(got)
    if len(expected_parts) != len(got_parts):
        return f"returned {len(got_parts)} values, the reference {len(expected_parts)}"
    for index in case.compare if case.compare is not None else range(len(expected_parts)):
        want, have = expected_parts[index], got_parts[index]
        if have.shape != want.shape:
            return f"output {index} has shape {have.shape}, the reference {want.shape}"
        if not np.all(np.isfinite(have)):
            return f"output {index} is not finite"
        error_size = relative_error(have, want)
        if error_size > TOLERANCE:
            return f"output {index} differs: relative error {error_size:.2g}"
    return None


def functions_that_differ(student, reference, *, large: bool = True) -> dict[str, str]:
    """Function name -> the first disagreement, for every function that disagrees on some case."""
    differ = {}
    for name, cases in CASES.items():
        for case in cases:
            if case.large and not large:
                continue
            why = disagreement(getattr(student, name), getattr(reference, name), case)
            if why is not None:
                differ[name] = why
                break
    return differ


@pytest.fixture(scope="module")
def hw2_reference():
    return load_module(REPO / "solutions" / "hw2" / "hw2.py", "hw2_reference_for_alternatives")


def test_the_cases_cover_every_function_and_error(hw2_reference):
    assert set(CASES) == set(FUNCTIONS)
    for name, cases in CASES.items():
        assert len(cases) >= 3, name
    raising = {name for name, cases in CASES.items()
               if any(call(getattr(hw2_reference, name), case)[1] is not None for case in cases)}
    assert raising == {"split_heads", "multi_head_attention", "multi_head_attention_backward",
                       "sinusoidal_positions", "rotary", "transformer_lm_loss"}


@pytest.mark.parametrize("path", [ALTERNATIVES / "loops.py", ALTERNATIVES / "einsum.py",
                                  ALTERNATIVES / "sequential_scan.py", EXAMPLES / "alice_full_marks.py"],
                         ids=lambda path: path.stem)
def test_a_correct_solution_agrees_with_the_reference_on_every_function(hw2_reference, path):
    student = load_module(path, f"hw2_{path.stem}")
    assert functions_that_differ(student, hw2_reference) == {}


def test_the_sequential_scan_really_takes_one_step_per_map(hw2_reference, monkeypatch):
    student = load_module(ALTERNATIVES / "sequential_scan.py", "hw2_sequential_scan_counted")
    calls = []
    compose = student.compose_affine
    monkeypatch.setattr(student, "compose_affine", lambda first, second: calls.append(1) or compose(first, second))
    M, b = np.random.default_rng(1).standard_normal((2, 9, 3, 3)), np.random.default_rng(2).standard_normal((2, 9, 3))
    student.prefix_scan(M, b)
    assert len(calls) == 8  # T - 1 compositions, not ceil(log2 T) = 4 rounds


def test_bob_differs_exactly_on_the_functions_his_bugs_touch(hw2_reference):
    bob = load_module(EXAMPLES / "bob_partly_wrong.py", "hw2_bob")
    assert set(functions_that_differ(bob, hw2_reference)) == BOBS_WRONG_FUNCTIONS


def test_carol_does_not_compile():
    path = EXAMPLES / "carol_broken.py"
    with pytest.raises(SyntaxError) as raised:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    assert raised.value.lineno == CAROLS_SYNTAX_ERROR_LINE


class _StandIn:
    """Accepts every call, attribute, index and unpacking: what Dana's plots and einops get here."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return self

    def __getitem__(self, index):
        return self

    def __iter__(self):
        return iter([self, self])


def run_notebook_cells(path, monkeypatch) -> tuple[types.SimpleNamespace, list[str]]:
    """Dana's code cells run in order as the grader reads them (magics neutralised, a cell that
    raises is noted and the next still runs); the functions defined, and the cells that raised."""
    for module in ("matplotlib", "matplotlib.pyplot", "einops"):
        stand_in = types.ModuleType(module)
        stand_in.__getattr__ = lambda name: _StandIn()
        stand_in.__path__ = []
        monkeypatch.setitem(sys.modules, module, stand_in)
    namespace: dict = {}
    raised = []
    random_state = np.random.get_state()  # her cells seed numpy's global generator
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            for cell in read_notebook_cells(path.read_text(encoding="utf-8"), path.name):
                try:
                    exec(compile(cell.source, cell.filename, "exec"), namespace)  # noqa: S102 -- our own demo file
                except Exception as error:  # noqa: BLE001
                    raised.append(f"{cell.filename}: {type(error).__name__}")
    finally:
        np.random.set_state(random_state)
    return types.SimpleNamespace(**{name: namespace[name] for name in FUNCTIONS}), raised


def test_dana_notebook_is_a_valid_v4_5_notebook_with_cell_ids():
    notebook = nbformat.reads((EXAMPLES / "dana_notebook.ipynb").read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    ids = [cell["id"] for cell in notebook.cells]
    assert len(set(ids)) == len(ids) == len(notebook.cells)


def test_dana_has_finished_some_functions_and_left_the_others_as_stubs(hw2_reference, monkeypatch):
    dana, raised = run_notebook_cells(EXAMPLES / "dana_notebook.ipynb", monkeypatch)
    stubs = {name for name in FUNCTIONS
             if isinstance(call(getattr(dana, name), CASES[name][0])[1], NotImplementedError)}
    assert stubs == DANAS_STUBS
    assert set(functions_that_differ(dana, hw2_reference, large=False)) == DANAS_STUBS
    with np.errstate(over="ignore", invalid="ignore"):  # her softmax overflows, as it should here
        assert set(functions_that_differ(dana, hw2_reference)) == DANAS_STUBS | DANAS_UNSTABLE
    # her einops check (einops is not installed where she is graded) and a stale cell raise
    assert [note.split(":")[0] for note in raised] == ["dana_notebook.ipynb cell 17", "dana_notebook.ipynb cell 25"]
    assert raised[1].endswith("NameError")
