"""Submissions whose every function ignores its inputs' values (contract §1, edge cases).

Each function of homework 1 is written from the contract's signature: it raises the
ValueErrors the contract requires (unknown nonlinearity, no position counts) and returns an
answer of the right shape and dtype, computed from the inputs' shapes alone. The answers
come from one `fill(shape, kind)` per flavour:

- zeros: every array is zeros, every loss 0.0;
- noise-fixed-seed: standard normal noise from the same seed on every call (deterministic);
- noise-per-call: noise seeded by a call counter (a different answer on every call, the
  same sequence on every run);
- fixed-distribution: uniform rows for softmax and attention, a fixed lower-triangular
  causal distribution for causal attention weights, the log of uniform for log_softmax,
  the uniform model's loss log(V) for the losses, ones elsewhere.
"""

from __future__ import annotations

FILLS = {
    "zeros": '''
def fill(shape, kind, **options):
    if kind == "loss":
        return 0.0
    return np.zeros(shape)
''',
    "noise-fixed-seed": '''
def fill(shape, kind, **options):
    rng = np.random.default_rng(1234)  # the same seed on every call
    if kind == "loss":
        return float(abs(rng.standard_normal()))
    return rng.standard_normal(shape)
''',
    "noise-per-call": '''
CALLS = [0]


def fill(shape, kind, **options):
    CALLS[0] += 1
    rng = np.random.default_rng(CALLS[0])  # seeded per call
    if kind == "loss":
        return float(abs(rng.standard_normal()))
    return rng.standard_normal(shape)
''',
    "fixed-distribution": '''
def fill(shape, kind, axis=-1, causal=False, vocabulary=2):
    if kind == "loss":
        return float(np.log(vocabulary))  # the loss of a model that predicts uniformly
    if kind in ("distribution", "log_distribution"):
        n = shape[axis] if shape else 1
        if causal:
            T = shape[-1]
            rows = np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]  # row i uniform over j <= i
            A = np.broadcast_to(rows, shape).copy()
        else:
            A = np.full(shape, 1.0 / n)
        return np.log(A) if kind == "log_distribution" else A
    return np.ones(shape)
''',
}

FUNCTIONS = '''

def _nonlinearity(name):
    if name not in ("tanh", "relu"):
        raise ValueError(f"unknown nonlinearity {name!r}")


def _counted(targets, mask):
    if mask is not None and not np.asarray(mask).any():
        raise ValueError("no position counts")


def _batch(*shapes):
    return np.broadcast_shapes(*shapes)


def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    _nonlinearity(nonlinearity)
    return fill(_batch(h_prev.shape[:-1], c_t.shape[:-1]) + (W_h.shape[0],), "values")


def rnn_forward(h0, C, W_h, W_c, nonlinearity="tanh"):
    _nonlinearity(nonlinearity)
    return fill(_batch(h0.shape[:-1], C.shape[:-2]) + (C.shape[-2], W_h.shape[0]), "values")


def rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    _nonlinearity(nonlinearity)
    return tuple(fill(x.shape, "values") for x in (h_prev, c_t, W_h, W_c))


def rnn_backward(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
    _nonlinearity(nonlinearity)
    return tuple(fill(x.shape, "values") for x in (h0, C, W_h, W_c))


def softmax(x, axis=-1):
    return fill(x.shape, "distribution", axis=axis)


def softmax_backward(dA, A, axis=-1):
    return fill(A.shape, "values")


def qkv(C, W_q, W_k, W_v):
    return tuple(fill(C.shape[:-1] + (W.shape[0],), "values") for W in (W_q, W_k, W_v))


def attention_weights(Q, K, causal=True):
    shape = _batch(Q.shape[:-2], K.shape[:-2]) + (Q.shape[-2], K.shape[-2])
    return fill(shape, "distribution", causal=causal)


def self_attention(C, W_q, W_k, W_v, causal=True):
    A = attention_weights(np.zeros(C.shape[:-1] + (1,)), np.zeros(C.shape[:-1] + (1,)), causal)
    return fill(C.shape[:-1] + (W_v.shape[0],), "values"), A


def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):
    return tuple(fill(x.shape, "values") for x in (C, W_q, W_k, W_v))


def log_softmax(logits, axis=-1):
    return fill(logits.shape, "log_distribution", axis=axis)


def nll_loss(logits, targets, mask=None):
    _counted(targets, mask)
    return fill((), "loss", vocabulary=logits.shape[-1])


def nll_loss_backward(logits, targets, mask=None):
    _counted(targets, mask)
    return fill(logits.shape, "values")


def lm_inputs_and_targets(token_ids, pad_id):
    shape = (token_ids.shape[0], token_ids.shape[1] - 1)
    ids = np.abs(np.asarray(fill(shape, "values"))).astype(np.int64) % 2
    return ids, ids.copy(), ids.astype(bool)


def rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
    _nonlinearity(nonlinearity)
    return fill((), "loss", vocabulary=E.shape[0])
'''

FLAVOURS = tuple(FILLS)


def source(flavour: str) -> str:
    """The text of hw1.py for one flavour of input-ignoring answers."""
    return "import numpy as np\n" + FILLS[flavour] + FUNCTIONS
