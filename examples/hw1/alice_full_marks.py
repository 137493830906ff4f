"""Homework 1 -- written with np.einsum wherever a contraction shows up.

Index letters used in the subscripts:
    i, j  -- hidden units (d_h) / output units of a weight matrix
    c     -- input features (d_c)
    k     -- query/key features (d_k),  v -- value features (d_v)
    s, t  -- time steps,  n -- flattened batch position,  w -- vocabulary
"""
import numpy as np

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda a: np.where(a > 0, a, 0.0),
}


def _activation(nonlinearity):
    if not isinstance(nonlinearity, str) or nonlinearity not in ACTIVATIONS:
        raise ValueError(f"nonlinearity should be one of {sorted(ACTIVATIONS)}, got {nonlinearity!r}")
    return ACTIVATIONS[nonlinearity]


def _activation_grad(a, h, nonlinearity):
    """f'(a), written in terms of the output h = f(a) where that is convenient."""
    if nonlinearity == "tanh":
        return 1.0 - h * h
    return (a > 0).astype(np.float64)  # ReLU'(0) = 0


def _rows(x):
    """(..., d) -> (n, d): one row per batch position."""
    return x.reshape(-1, x.shape[-1])


def _reduce_to(grad, shape):
    """Sum a gradient over the axes that broadcasting added to an input of `shape`."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + ax for ax, n in enumerate(shape) if n == 1 and grad.shape[extra + ax] != 1
    )
    return grad.sum(axis=axes).reshape(shape) if axes else grad


def _logsumexp(x, axis):
    """log(sum(exp(x))) along axis (kept as size 1), via a shifted np.logaddexp.reduce."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    shifted = x - m
    return m, shifted, np.logaddexp.reduce(shifted, axis=axis, keepdims=True)


# ------------------------------------------------------------------ Part A

def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    f = _activation(nonlinearity)
    a_t = np.einsum("ij,...j->...i", W_h, h_prev) + np.einsum("ic,...c->...i", W_c, c_t)
    return f(a_t)


def rnn_forward(h0, C, W_h, W_c, nonlinearity="tanh"):
    _activation(nonlinearity)
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    batch = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    # the input part W_c c_t does not depend on the recurrence: do all steps at once
    X = np.einsum("ic,...tc->...ti", W_c, C)
    h = np.broadcast_to(h0, batch + h0.shape[-1:])
    f = _activation(nonlinearity)
    states = []
    for t in range(C.shape[-2]):
        h = f(np.einsum("ij,...j->...i", W_h, h) + X[..., t, :])
        states.append(h)
    if not states:
        return np.zeros(batch + (0, W_h.shape[0]))
    return np.stack(states, axis=-2)


def rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    f = _activation(nonlinearity)
    a_t = np.einsum("ij,...j->...i", W_h, h_prev) + np.einsum("ic,...c->...i", W_c, c_t)
    da = dh_t * _activation_grad(a_t, f(a_t), nonlinearity)
    dh_prev = np.einsum("...i,ij->...j", da, W_h)
    dc_t = np.einsum("...i,ic->...c", da, W_c)
    batch = da.shape[:-1]
    h_rows = _rows(np.broadcast_to(h_prev, batch + h_prev.shape[-1:]))
    c_rows = _rows(np.broadcast_to(c_t, batch + c_t.shape[-1:]))
    dW_h = np.einsum("ni,nj->ij", _rows(da), h_rows)
    dW_c = np.einsum("ni,nc->ic", _rows(da), c_rows)
    return dh_prev, dc_t, dW_h, dW_c


def rnn_backward(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)        # (..., T, d_h)
    batch, T = H.shape[:-2], H.shape[-2]
    # states h_0 .. h_{T-1} that feed each step
    H_prev = np.concatenate([np.broadcast_to(h0, batch + h0.shape[-1:])[..., None, :], H[..., :-1, :]], axis=-2)
    A_pre = np.einsum("ij,...tj->...ti", W_h, H_prev) + np.einsum("ic,...tc->...ti", W_c, C)
    fprime = _activation_grad(A_pre, H, nonlinearity)

    # only the recurrence itself needs a loop: collect dL/da_t for every step
    dA = np.zeros(H.shape)
    carry = np.zeros(batch + H.shape[-1:])
    for t in reversed(range(T)):
        dA[..., t, :] = (dH[..., t, :] + carry) * fprime[..., t, :]
        carry = np.einsum("...i,ij->...j", dA[..., t, :], W_h)

    # ... and everything else is one contraction over batch and time
    dC = np.einsum("...ti,ic->...tc", dA, W_c)
    n_seq = int(np.prod(batch))
    dA_flat = dA.reshape(n_seq, T, -1)
    dW_h = np.einsum("nti,ntj->ij", dA_flat, H_prev.reshape(n_seq, T, -1))
    dW_c = np.einsum("nti,ntc->ic", dA_flat, np.broadcast_to(C, batch + C.shape[-2:]).reshape(n_seq, T, -1))
    return _reduce_to(carry, h0.shape), _reduce_to(dC, C.shape), dW_h, dW_c


# ------------------------------------------------------------------ Part B

def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    _, shifted, lse = _logsumexp(x, axis)
    return np.exp(shifted - lse)


def softmax_backward(dA, A, axis=-1):
    # <dA, A> along `axis`, via einsum with that axis moved to the end
    inner = np.einsum("...i,...i->...", np.moveaxis(dA, axis, -1), np.moveaxis(A, axis, -1))
    return A * (dA - np.expand_dims(inner, axis))


def qkv(C, W_q, W_k, W_v):
    # one projection with the three matrices stacked, then split the result
    d_k, d_v = W_q.shape[0], W_v.shape[0]
    W = np.concatenate([W_q, W_k, W_v], axis=0)                # (2 d_k + d_v, d_c)
    P = np.einsum("...tc,pc->...tp", C, W)
    return P[..., :d_k], P[..., d_k:2 * d_k], P[..., 2 * d_k:2 * d_k + d_v]


def attention_weights(Q, K, causal=True):
    d_k = Q.shape[-1]
    S = np.einsum("...sk,...tk->...st", Q, K) / np.sqrt(d_k)
    if causal:
        keep = np.tril(np.ones(S.shape[-2:], dtype=bool))      # j <= i
        S = np.where(keep, S, -np.inf)
    return softmax(S, axis=-1)


def self_attention(C, W_q, W_k, W_v, causal=True):
    Q, K, V = qkv(C, W_q, W_k, W_v)
    A = attention_weights(Q, K, causal)
    H = np.einsum("...st,...tv->...sv", A, V)
    return H, A


def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):
    C = np.asarray(C, dtype=np.float64)
    Q, K, V = qkv(C, W_q, W_k, W_v)
    A = attention_weights(Q, K, causal)
    inv_sqrt = 1.0 / np.sqrt(Q.shape[-1])

    dA = np.einsum("...sv,...tv->...st", dH, V)
    dV = np.einsum("...st,...sv->...tv", A, dH)
    dS = softmax_backward(dA, A, axis=-1) * inv_sqrt
    dQ = np.einsum("...st,...tk->...sk", dS, K)
    dK = np.einsum("...st,...sk->...tk", dS, Q)

    dC = (np.einsum("...tk,kc->...tc", dQ, W_q)
          + np.einsum("...tk,kc->...tc", dK, W_k)
          + np.einsum("...tv,vc->...tc", dV, W_v))
    Cr = _rows(C)
    dW_q = np.einsum("nk,nc->kc", _rows(dQ), Cr)
    dW_k = np.einsum("nk,nc->kc", _rows(dK), Cr)
    dW_v = np.einsum("nv,nc->vc", _rows(dV), Cr)
    return dC, dW_q, dW_k, dW_v


# ------------------------------------------------------------------ Part C

def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=np.float64)
    _, shifted, lse = _logsumexp(x, axis)
    return shifted - lse


def _mask_and_count(targets, mask, who):
    mask = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    n = np.count_nonzero(mask)
    if n == 0:
        raise ValueError(f"{who}: the mask selects no position")
    return mask, n


def nll_loss(logits, targets, mask=None):
    mask, n = _mask_and_count(targets, mask, "nll_loss")
    logits = np.asarray(logits, dtype=np.float64)
    onehot = np.eye(logits.shape[-1], dtype=bool)[np.asarray(targets)]    # (..., T, V)
    logp = log_softmax(logits, axis=-1)
    picked = np.where(onehot, logp, 0.0).sum(axis=-1)                     # log p(target)
    nll = np.where(mask, -picked, 0.0).ravel()                            # 0 where not counted
    return float(np.einsum("n->", nll) / n)


def nll_loss_backward(logits, targets, mask=None):
    mask, n = _mask_and_count(targets, mask, "nll_loss_backward")
    logits = np.asarray(logits, dtype=np.float64)
    onehot = np.eye(logits.shape[-1])[np.asarray(targets)]
    grad = (softmax(logits, axis=-1) - onehot) / n
    return np.where(mask[..., None], grad, 0.0)


def lm_inputs_and_targets(token_ids, pad_id):
    ids = np.asarray(token_ids)
    inputs = np.delete(ids, -1, axis=-1)
    targets = np.delete(ids, 0, axis=-1)
    return inputs, targets, np.not_equal(targets, pad_id)


def rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
    inputs, targets, mask = lm_inputs_and_targets(token_ids, pad_id)
    C = np.take(E, inputs, axis=0)                                         # (B, T, d_c)
    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)                         # (B, T, d_h)
    logits = np.einsum("btj,wj->btw", H, W_out)                            # (B, T, V)
    return nll_loss(logits, targets, mask)
