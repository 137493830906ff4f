"""Hypothesis strategies for homework 2's inputs: each draws shapes and a seed, and builds a Case.

Sizes that meet in a matrix product are drawn distinct where a transposed weight could otherwise
pass by symmetry (d_h != d_c). Batch dimensions are (), (k,) or (j, k). Head counts are 1 to 4,
with heads of 1 to 3 features, so that n_heads divides d_k and d_v. Recurrent matrices are kept
near norm 1 (W_h has spectral norm 0.95; the scan's maps are rotations scaled by 0.8 to 1.2, plus
a little noise), so that every state of a sequence of 40 steps still shows the first input and h0.

The position tables and the ValueError cases of sinusoidal_positions are plain hypothesis
strategies (`@st.composite`): their answers depend only on integers, so there is no seed to vary.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.authoring import Case, batch_shapes, distinct_sizes, recipe, seeds

TIME_STEPS = st.integers(1, 8)
HEAD_COUNTS = st.integers(1, 4)
HEAD_SIZES = st.integers(1, 3)
CONTRACTION = 0.95  # the spectral norm of W_h


def summary(batch: tuple, **sizes) -> str:
    """'batch dims (2, 3), T=4, d_h=3' — the shape of a case, never its values."""
    parts = [f"batch dims {batch}"] + [f"{name}={value!r}" for name, value in sizes.items()]
    return ", ".join(parts)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _recurrent_weights(rng: np.random.Generator, d_h: int, d_c: int) -> tuple[np.ndarray, np.ndarray]:
    """W_h (d_h, d_h) with spectral norm CONTRACTION (not symmetric), W_c (d_h, d_c) standard normal."""
    W_h = rng.standard_normal((d_h, d_h))
    W_h *= CONTRACTION / np.linalg.norm(W_h, 2)
    return W_h, rng.standard_normal((d_h, d_c))


def _maps(rng: np.random.Generator, shape: tuple, d: int) -> np.ndarray:
    """Matrices of shape shape + (d, d) near norm 1: a random rotation times a factor in [0.8, 1.2], plus noise."""
    rotations, _ = np.linalg.qr(rng.standard_normal(shape + (d, d)))
    factors = rng.uniform(0.8, 1.2, shape + (1, 1))
    return factors * rotations + 0.2 * rng.standard_normal(shape + (d, d)) / np.sqrt(d)


# --- Part A -------------------------------------------------------------------------------

@recipe
def linear_rnn_cases(draw, shared_h0: bool = False, min_T: int = 1, max_T: int = 8, max_batch: int = 3):
    """(h0, C, W_h, W_c): h0 of shape (..., d_h), or (d_h,) with `shared_h0`; C of shape (..., T, d_c)."""
    batch, T = draw(batch_shapes(max_size=max_batch)), draw(st.integers(min_T, max_T))
    (d_h, d_c), seed = draw(distinct_sizes(2)), draw(seeds())
    rng = _rng(seed)
    h0 = rng.standard_normal((d_h,) if shared_h0 else batch + (d_h,))
    C = rng.standard_normal(batch + (T, d_c))
    W_h, W_c = _recurrent_weights(rng, d_h, d_c)
    shape_note = {"h0": "shared (d_h,)"} if shared_h0 else {}
    return Case((h0, C, W_h, W_c), {}, summary(batch, T=T, d_h=d_h, d_c=d_c, **shape_note))


def _broadcastable(draw, batch: tuple) -> tuple:
    """A batch shape that broadcasts to `batch`: some of its trailing dimensions, some of them 1."""
    kept = batch[len(batch) - draw(st.integers(0, len(batch))):]
    return tuple(1 if draw(st.booleans()) else size for size in kept)


@recipe
def compose_cases(draw):
    """((M_1, b_1), (M_2, b_2)): M_i of shape (..., d, d), b_i of shape (..., d), the four batch
    shapes different but broadcasting together."""
    batch, d, seed = draw(batch_shapes()), draw(st.integers(1, 4)), draw(seeds())
    shapes = [_broadcastable(draw, batch) for _ in range(4)]
    rng = _rng(seed)
    M_1, M_2 = (_maps(rng, shapes[i], d) for i in (0, 2))
    b_1, b_2 = (rng.standard_normal(shapes[i] + (d,)) for i in (1, 3))
    return Case(((M_1, b_1), (M_2, b_2)), {},
                f"d={d}, batch dims of M_1 {shapes[0]}, b_1 {shapes[1]}, M_2 {shapes[2]}, b_2 {shapes[3]}")


@recipe
def three_maps_cases(draw):
    """((M_1, b_1), (M_2, b_2), (M_3, b_3)) with one batch shape: for associativity."""
    batch, d, seed = draw(batch_shapes()), draw(st.integers(1, 4)), draw(seeds())
    rng = _rng(seed)
    maps = tuple((_maps(rng, batch, d), rng.standard_normal(batch + (d,))) for _ in range(3))
    return Case(maps, {}, summary(batch, d=d))


@recipe
def scan_cases(draw, min_T: int = 1, max_T: int = 10):
    """(M, b): M of shape (..., T, d, d), b of shape (..., T, d)."""
    batch, T, d, seed = draw(batch_shapes()), draw(st.integers(min_T, max_T)), draw(st.integers(1, 4)), draw(seeds())
    rng = _rng(seed)
    M = _maps(rng, batch + (T,), d)
    b = rng.standard_normal(batch + (T, d))
    return Case((M, b), {}, summary(batch, T=T, d=d))


@recipe
def kernel_cases(draw):
    """(W_h, W_c, T): W_h (d_h, d_h), W_c (d_h, d_c), T = 1..8 kernel entries."""
    (d_h, d_c), T, seed = draw(distinct_sizes(2)), draw(TIME_STEPS), draw(seeds())
    W_h, W_c = _recurrent_weights(_rng(seed), d_h, d_c)
    return Case((W_h, W_c, T), {}, f"d_h={d_h}, d_c={d_c}, T={T}")


# --- Part B -------------------------------------------------------------------------------

@recipe
def split_cases(draw):
    """(X, n_heads): X of shape (..., T, n_heads * d_head)."""
    batch, T, n_heads, d_head, seed = (draw(batch_shapes()), draw(st.integers(1, 5)), draw(HEAD_COUNTS),
                                       draw(HEAD_SIZES), draw(seeds()))
    X = _rng(seed).standard_normal(batch + (T, n_heads * d_head))
    return Case((X, n_heads), {}, summary(batch, T=T, d=n_heads * d_head, n_heads=n_heads))


@recipe
def indivisible_split_cases(draw):
    """(X, n_heads) where n_heads (2 to 4) does not divide d: the contract says ValueError."""
    batch, T, n_heads, seed = draw(batch_shapes()), draw(st.integers(1, 5)), draw(st.integers(2, 4)), draw(seeds())
    d = draw(st.sampled_from([size for size in range(1, 12) if size % n_heads]))
    X = _rng(seed).standard_normal(batch + (T, d))
    return Case((X, n_heads), {}, summary(batch, T=T, d=d, n_heads=n_heads))


@recipe
def merge_cases(draw):
    """(X,): X of shape (..., n_heads, T, d_head)."""
    batch, T, n_heads, d_head, seed = (draw(batch_shapes()), draw(st.integers(1, 5)), draw(HEAD_COUNTS),
                                       draw(HEAD_SIZES), draw(seeds()))
    X = _rng(seed).standard_normal(batch + (n_heads, T, d_head))
    return Case((X,), {}, summary(batch, n_heads=n_heads, T=T, d_head=d_head))


@recipe
def attention_cases(draw, causal=None, scale: float = 1.0, max_T: int = 6, max_batch: int = 3,
                    indivisible: bool = False):
    """(C, W_q, W_k, W_v, W_o, n_heads) with `causal`: d_k = n_heads * (1..3), d_v likewise, d_c and d_o 1..6.

    `scale` multiplies C: at 30 the scores q . k / sqrt(d_k / n_heads) are of magnitude 1e3.
    With `indivisible`, n_heads (2 to 4) does not divide d_k or d_v: the contract says ValueError.
    """
    batch, T = draw(batch_shapes(max_size=max_batch)), draw(st.integers(1, max_T))
    n_heads = draw(st.integers(2, 4) if indivisible else HEAD_COUNTS)
    d_k, d_v = n_heads * draw(HEAD_SIZES), n_heads * draw(HEAD_SIZES)
    if indivisible:
        remainder = draw(st.integers(1, n_heads - 1))
        if draw(st.booleans()):
            d_k += remainder
        else:
            d_v += remainder
    d_c, d_o, seed = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(seeds())
    is_causal = draw(st.booleans()) if causal is None else causal
    rng = _rng(seed)
    C = scale * rng.standard_normal(batch + (T, d_c))
    W_q, W_k, W_v = (rng.standard_normal((d, d_c)) for d in (d_k, d_k, d_v))
    W_o = rng.standard_normal((d_o, d_v))
    return Case((C, W_q, W_k, W_v, W_o, n_heads), {"causal": is_causal},
                summary(batch, T=T, d_c=d_c, d_k=d_k, d_v=d_v, d_o=d_o, n_heads=n_heads, causal=is_causal))


@recipe
def attention_backward_cases(draw, max_T: int = 6, max_batch: int = 3, indivisible: bool = False):
    """(dH, C, W_q, W_k, W_v, W_o, n_heads) with `causal`; dH of shape (..., T, d_o)."""
    forward = draw(attention_cases(max_T=max_T, max_batch=max_batch, indivisible=indivisible))
    C, W_o = forward.args[0], forward.args[4]
    dH = _rng(draw(seeds())).standard_normal(C.shape[:-1] + (W_o.shape[0],))
    return Case((dH,) + forward.args, forward.kwargs, forward.summary)


# --- Part C -------------------------------------------------------------------------------

@st.composite
def position_table_cases(draw, min_T: int = 1, odd: bool = False):
    """(T, d): T = min_T..10 positions, d even in 2..12 (odd in 1..11 with `odd`: ValueError)."""
    T, half = draw(st.integers(min_T, 10)), draw(st.integers(1, 6))
    d = 2 * half - 1 if odd else 2 * half
    return Case((T, d), {}, f"T={T}, d={d}")


@recipe
def rotary_cases(draw, max_position: int = 100, zero_positions: bool = False, odd: bool = False):
    """(X, positions): X of shape (..., T, d), d even in 2..8 (odd with `odd`), positions (T,)
    integers in [0, max_position), one of them max_position - 1 when that is large."""
    batch, T, half, seed = draw(batch_shapes()), draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(seeds())
    d = 2 * half - 1 if odd else 2 * half
    rng = _rng(seed)
    X = rng.standard_normal(batch + (T, d))
    positions = np.zeros(T, dtype=np.int64) if zero_positions else rng.integers(0, max_position, size=T)
    if max_position > 1000:
        positions[rng.integers(T)] = max_position - 1
    return Case((X, positions), {}, summary(batch, T=T, d=d, positions=_position_note(max_position, zero_positions)))


def _position_note(max_position: int, zero_positions: bool) -> str:
    return "all 0" if zero_positions else f"in [0, {max_position})"


@recipe
def query_key_cases(draw):
    """(X, positions): X of shape (2, T, d) holding queries X[0] and keys X[1], for the relative-position property."""
    T, half, seed = draw(st.integers(2, 6)), draw(st.integers(1, 4)), draw(seeds())
    rng = _rng(seed)
    X = rng.standard_normal((2, T, 2 * half))
    return Case((X, rng.integers(0, 1000, size=T)), {}, f"queries and keys as X of shape (2, {T}, {2 * half}), "
                                                        "positions in [0, 1000)")


def _token_ids(rng: np.random.Generator, B: int, length: int, V: int) -> tuple[np.ndarray, int]:
    """Padded sentences `<bos> w ... <eos> <pad>...`, shape (B, length), and the pad id."""
    pad_id, bos, eos = rng.permutation(V)[:3]
    ids = np.full((B, length), pad_id, dtype=np.int64)
    words = [w for w in range(V) if w not in (pad_id, bos, eos)]
    for row in range(B):
        n_words = rng.integers(0, length - 1)  # room for <bos> and <eos>
        sentence = [bos] + list(rng.choice(words, size=n_words)) + [eos]
        ids[row, : len(sentence)] = sentence
    return ids, int(pad_id)


@recipe
def transformer_cases(draw, embedding_scale: float = 1.0, odd: bool = False, nothing_counts: bool = False):
    """(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id): token_ids of shape (B, T+1),
    d_c even in 2..6 (odd with `odd`), n_heads 1..3, heads of 1 or 2 features.

    `embedding_scale` multiplies E: at 1e3 the scores and logits are of magnitude 1e3 and more
    (targets with probabilities far below 1e-12). With `nothing_counts`, every target is padding.
    """
    B, length, V = draw(st.integers(1, 3)), draw(st.integers(2, 7)), draw(st.integers(5, 10))
    half, n_heads = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    d_c = 2 * half - 1 if odd else 2 * half
    d_k, d_v, d_o = n_heads * draw(st.integers(1, 2)), n_heads * draw(st.integers(1, 2)), draw(st.integers(1, 5))
    rng = _rng(draw(seeds()))
    ids, pad_id = _token_ids(rng, B, length, V)
    if nothing_counts:
        ids[:, 1:] = pad_id
    E = embedding_scale * rng.standard_normal((V, d_c))
    W_q, W_k, W_v = (rng.standard_normal((d, d_c)) for d in (d_k, d_k, d_v))
    W_o, W_out = rng.standard_normal((d_o, d_v)), rng.standard_normal((V, d_o))
    note = ", every target padding" if nothing_counts else ""
    return Case((ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id), {},
                f"B={B}, T+1={length}, V={V}, d_c={d_c}, d_k={d_k}, d_v={d_v}, d_o={d_o}, n_heads={n_heads}{note}")
