"""Hypothesis strategies for homework 1's inputs: each draws shapes and a seed, and builds a Case.

Sizes that meet in a matrix product are drawn distinct (d_h != d_c, d_k != d_v != d_c), so a
transposed weight cannot pass by symmetry. Batch dimensions are (), (k,) or (j, k).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.authoring import Case, batch_shapes, distinct_sizes, recipe, seeds

NONLINEARITIES = st.sampled_from(["tanh", "relu"])
TIME_STEPS = st.integers(1, 8)


def summary(batch: tuple, **sizes) -> str:
    """'batch dims (2, 3), T=4, d_h=3, nonlinearity='relu'' — the shape of a case, never its values."""
    parts = [f"batch dims {batch}"] + [f"{name}={value!r}" for name, value in sizes.items()]
    return ", ".join(parts)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- Part A -------------------------------------------------------------------------------

@recipe
def rnn_step_cases(draw, scale: float = 1.0, zero_preactivations: bool = False):
    batch, (d_h, d_c), seed, f = draw(batch_shapes()), draw(distinct_sizes(2)), draw(seeds()), draw(NONLINEARITIES)
    rng = _rng(seed)
    h_prev = scale * rng.standard_normal(batch + (d_h,))
    c_t = scale * rng.standard_normal(batch + (d_c,))
    if zero_preactivations:  # some positions have a_t == 0 exactly
        f = "relu"
        h_prev[..., ::2] = 0.0
        c_t[..., :] = 0.0
    W_h, W_c = rng.standard_normal((d_h, d_h)), rng.standard_normal((d_h, d_c))
    return Case((h_prev, c_t, W_h, W_c), {"nonlinearity": f}, summary(batch, d_h=d_h, d_c=d_c, nonlinearity=f))


@recipe
def rnn_step_backward_cases(draw, zero_preactivations: bool = False):
    step = draw(rnn_step_cases(zero_preactivations=zero_preactivations))
    h_prev = step.args[0]
    seed = draw(seeds())
    dh_t = _rng(seed).standard_normal(h_prev.shape)
    return Case((dh_t,) + step.args, step.kwargs, step.summary)


@recipe
def rnn_forward_cases(draw, shared_h0: bool = False, max_T: int = 8, max_batch: int = 3, scale: float = 1.0):
    """`scale` multiplies h0 and C: at 1e3 the pre-activations are of magnitude 1e3 (tanh saturates)."""
    batch, T = draw(batch_shapes(max_size=max_batch)), draw(st.integers(1, max_T))
    (d_h, d_c), seed, f = draw(distinct_sizes(2)), draw(seeds()), draw(NONLINEARITIES)
    rng = _rng(seed)
    h0 = 0.5 * scale * rng.standard_normal((d_h,) if shared_h0 else batch + (d_h,))
    C = scale * rng.standard_normal(batch + (T, d_c))
    W_h, W_c = 0.7 * rng.standard_normal((d_h, d_h)), rng.standard_normal((d_h, d_c))
    shape_note = {"h0": "shared (d_h,)"} if shared_h0 else {}
    return Case((h0, C, W_h, W_c), {"nonlinearity": f}, summary(batch, T=T, d_h=d_h, d_c=d_c, nonlinearity=f, **shape_note))


@recipe
def rnn_backward_cases(draw, max_T: int = 8, max_batch: int = 3, shared_h0: bool = False):
    forward = draw(rnn_forward_cases(max_T=max_T, max_batch=max_batch, shared_h0=shared_h0))
    h0, C, W_h, W_c = forward.args
    dH = _rng(draw(seeds())).standard_normal(C.shape[:-1] + (W_h.shape[0],))
    return Case((dH, h0, C, W_h, W_c), forward.kwargs, forward.summary)


def unknown_nonlinearity_cases(arity_after: int):
    """Valid arrays with a nonlinearity name the contract does not allow."""
    names = st.sampled_from(["sigmoid", "Tanh", "RELU", "gelu", "", "linear"])

    @recipe
    def build(draw):
        name = draw(names)
        base = draw(rnn_step_backward_cases()) if arity_after == 5 else draw(rnn_step_cases())
        return Case(base.args, {"nonlinearity": name}, f"{base.summary.split(', nonlinearity')[0]}, nonlinearity={name!r}")

    return build()


# --- Part B -------------------------------------------------------------------------------

@recipe
def softmax_cases(draw, scale: float | None = None, with_minus_infinity: bool = False):
    """With `with_minus_infinity`, every slice along the axis has n >= 2 entries and at least
    one -inf beside its largest entry (so that no answer ignoring its input is right)."""
    batch, n, seed = draw(batch_shapes()), draw(st.integers(2 if with_minus_infinity else 1, 8)), draw(seeds())
    magnitude = scale if scale is not None else draw(st.sampled_from([0.1, 1.0, 5.0]))
    use_first_axis = bool(batch) and batch[0] >= (2 if with_minus_infinity else 1) and draw(st.booleans())
    rng = _rng(seed)
    x = magnitude * rng.standard_normal(batch + (n,))
    if scale is not None and scale >= 1e3:
        x += draw(st.sampled_from([1.0, -1.0])) * scale  # all large, same sign: exp overflows or underflows
    axis = 0 if use_first_axis else -1
    if with_minus_infinity and n > 1:
        blocked = rng.random(x.shape) < 0.4
        keep = np.zeros(x.shape, dtype=bool)
        np.put_along_axis(keep, np.argmax(x, axis=axis)[..., None] if axis == -1 else np.argmax(x, axis=0)[None], True, axis=axis)
        np.put_along_axis(blocked, np.argmin(x, axis=axis)[..., None] if axis == -1 else np.argmin(x, axis=0)[None], True, axis=axis)
        x[blocked & ~keep] = -np.inf
    return Case((x,), {"axis": axis}, summary(batch, n=n, axis=axis))


@recipe
def softmax_backward_cases(draw):
    batch, n, seed = draw(batch_shapes()), draw(st.integers(1, 8)), draw(seeds())
    axis = 0 if batch and draw(st.booleans()) else -1
    rng = _rng(seed)
    x = 2.0 * rng.standard_normal(batch + (n,))
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    A = e / e.sum(axis=axis, keepdims=True)
    dA = rng.standard_normal(A.shape)
    return Case((dA, A), {"axis": axis}, summary(batch, n=n, axis=axis))


@recipe
def attention_input_cases(draw, max_T: int = 8, max_batch: int = 3):
    """(C, W_q, W_k, W_v) with d_c, d_k, d_v distinct."""
    batch, T = draw(batch_shapes(max_size=max_batch)), draw(st.integers(1, max_T))
    (d_c, d_k, d_v), seed = draw(distinct_sizes(3)), draw(seeds())
    rng = _rng(seed)
    C = rng.standard_normal(batch + (T, d_c))
    W_q, W_k, W_v = (rng.standard_normal((d, d_c)) for d in (d_k, d_k, d_v))
    return batch, T, (d_c, d_k, d_v), (C, W_q, W_k, W_v)


@recipe
def qkv_cases(draw):
    batch, T, (d_c, d_k, d_v), args = draw(attention_input_cases())
    return Case(args, {}, summary(batch, T=T, d_c=d_c, d_k=d_k, d_v=d_v))


@recipe
def attention_weights_cases(draw, scale: float = 1.0, causal=None):
    batch, T, (d_k, _), seed = draw(batch_shapes()), draw(TIME_STEPS), draw(distinct_sizes(2)), draw(seeds())
    is_causal = draw(st.booleans()) if causal is None else causal
    rng = _rng(seed)
    Q = scale * rng.standard_normal(batch + (T, d_k))
    K = scale * rng.standard_normal(batch + (T, d_k))
    return Case((Q, K), {"causal": is_causal}, summary(batch, T=T, d_k=d_k, causal=is_causal))


@recipe
def self_attention_cases(draw, causal=None, max_T: int = 8, max_batch: int = 3):
    batch, T, (d_c, d_k, d_v), args = draw(attention_input_cases(max_T=max_T, max_batch=max_batch))
    is_causal = draw(st.booleans()) if causal is None else causal
    return Case(args, {"causal": is_causal}, summary(batch, T=T, d_c=d_c, d_k=d_k, d_v=d_v, causal=is_causal))


@recipe
def self_attention_backward_cases(draw, max_T: int = 8, max_batch: int = 3):
    forward = draw(self_attention_cases(max_T=max_T, max_batch=max_batch))
    C, W_q, W_k, W_v = forward.args
    dH = _rng(draw(seeds())).standard_normal(C.shape[:-1] + (W_v.shape[0],))
    return Case((dH,) + forward.args, forward.kwargs, forward.summary)


# --- Part C -------------------------------------------------------------------------------

@recipe
def nll_cases(draw, masked=None, scale: float = 2.0, max_batch: int = 3, max_T: int = 8):
    """(logits, targets, mask) with at least one counted position; mask may be None."""
    batch, T, V, seed = draw(batch_shapes(max_size=max_batch)), draw(st.integers(1, max_T)), draw(st.integers(2, 9)), draw(seeds())
    use_mask = draw(st.booleans()) if masked is None else masked
    rng = _rng(seed)
    logits = scale * rng.standard_normal(batch + (T, V))
    targets = rng.integers(0, V, size=batch + (T,))
    mask = None
    if use_mask:
        mask = rng.random(batch + (T,)) < 0.6
        mask.reshape(-1)[rng.integers(mask.size)] = True
    return Case((logits, targets, mask), {}, summary(batch, T=T, V=V, mask="given" if use_mask else None))


@recipe
def nothing_counts_cases(draw):
    base = draw(nll_cases(masked=True))
    logits, targets, mask = base.args
    return Case((logits, targets, np.zeros_like(mask)), {}, base.summary.replace("mask='given'", "mask=all False"))


@recipe
def token_id_cases(draw, min_length: int = 2, max_B: int = 4, max_length: int = 9, max_V: int = 12):
    """Padded sentences `<bos> w ... <eos> <pad>...`, shape (B, T+1), with their pad id."""
    B, length, V, seed = draw(st.integers(1, max_B)), draw(st.integers(min_length, max_length)), draw(st.integers(5, max_V)), draw(seeds())
    rng = _rng(seed)
    pad_id, bos, eos = rng.permutation(V)[:3]
    ids = np.full((B, length), pad_id, dtype=np.int64)
    words = [w for w in range(V) if w not in (pad_id, bos, eos)]
    for b in range(B):
        n_words = rng.integers(0, length - 1)  # room for <bos> and <eos>
        sentence = [bos] + list(rng.choice(words, size=n_words)) + [eos]
        ids[b, : len(sentence)] = sentence
    return ids, int(pad_id), V, B, length


@recipe
def lm_inputs_cases(draw):
    ids, pad_id, V, B, length = draw(token_id_cases())
    return Case((ids, pad_id), {}, f"B={B}, T+1={length}, pad_id={pad_id}")


@recipe
def rnn_lm_cases(draw, logit_scale: float = 1.0):
    """`logit_scale` multiplies W_out: at 1e3 the logits are of magnitude 1e3 and most targets
    have probabilities far below 1e-12."""
    ids, pad_id, V, B, length = draw(token_id_cases(max_B=3, max_length=7))
    (d_c, d_h), seed, f = draw(distinct_sizes(2)), draw(seeds()), draw(NONLINEARITIES)
    rng = _rng(seed)
    E = rng.standard_normal((V, d_c))
    h0 = 0.5 * rng.standard_normal(d_h)
    W_h, W_c, W_out = 0.7 * rng.standard_normal((d_h, d_h)), rng.standard_normal((d_h, d_c)), logit_scale * rng.standard_normal((V, d_h))
    return Case((ids, E, h0, W_h, W_c, W_out, pad_id), {"nonlinearity": f},
                f"B={B}, T+1={length}, V={V}, d_c={d_c}, d_h={d_h}, nonlinearity={f!r}")
