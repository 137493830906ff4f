"""Homework 2 -- written with np.einsum wherever a contraction shows up.

Index letters used in the subscripts:
    i, j  -- hidden units (d_h) / rows of an affine map (d)
    c     -- input features (d_c)
    k     -- query/key features of one head,  v -- value features of one head
    o     -- output features (d_o),  w -- vocabulary
    n     -- heads,  s, t -- time steps (s = the key position, t = the query position)
    r     -- one row per batch position and time step (see _rows)
"""
import numpy as np

BASE = 10000.0


def _frequencies(d):
    """w_i = 10000 ** (-2i / d), i = 0 .. d/2 - 1."""
    if d % 2 != 0:
        raise ValueError(f"the feature size must be even (features are used in pairs), got d = {d}")
    return BASE ** (-2.0 * np.arange(d // 2) / d)


def _rows(x):
    """(..., d) -> (r, d): every batch position and time step as one row, so that an einsum
    whose output drops `r` sums over all of them."""
    return x.reshape(-1, x.shape[-1])


def _check_heads(n_heads, **sizes):
    for name, size in sizes.items():
        if size % n_heads != 0:
            raise ValueError(f"n_heads = {n_heads} must divide {name} = {size}")


def _stable_softmax(scores):
    """Softmax over the last axis; -inf entries get weight 0 (each row has a finite entry)."""
    e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    return e / np.einsum("...s->...", e)[..., None]


def _log_softmax(logits):
    m = np.max(logits, axis=-1, keepdims=True)
    shifted = logits - m
    return shifted - np.log(np.einsum("...w->...", np.exp(shifted)))[..., None]


# ------------------------------------------------------------------ Part A

def linear_rnn_forward(h0, C, W_h, W_c):
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    batch = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    X = np.einsum("ic,...tc->...ti", W_c, C)  # every W_c c_t at once
    h = np.broadcast_to(h0, batch + h0.shape[-1:])
    states = []
    for t in range(C.shape[-2]):
        h = np.einsum("ij,...j->...i", W_h, h) + X[..., t, :]
        states.append(h)
    return np.stack(states, axis=-2)


def compose_affine(first, second):
    (M_1, b_1), (M_2, b_2) = first, second
    M = np.einsum("...ij,...jk->...ik", M_2, M_1)
    b = np.einsum("...ij,...j->...i", M_2, b_1) + b_2
    batch = np.broadcast_shapes(M.shape[:-2], b.shape[:-1])
    return (np.array(np.broadcast_to(M, batch + M.shape[-2:])),
            np.array(np.broadcast_to(b, batch + b.shape[-1:])))


def prefix_scan(M, b):
    # Doubling: each round, every position t composes the block ending at t - shift (first)
    # with its own block (second). Positions t < shift have nothing before them; they compose
    # with the identity map (I, 0), so every round is one compose_affine over all T positions.
    M = np.asarray(M, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    T, d = M.shape[-3], M.shape[-1]
    P, q = M.copy(), b.copy()
    shift = 1
    while shift < T:
        identity_M = np.broadcast_to(np.eye(d), M.shape[:-3] + (shift, d, d))
        identity_b = np.zeros(b.shape[:-2] + (shift, d))
        earlier_M = np.concatenate([identity_M, P[..., :T - shift, :, :]], axis=-3)
        earlier_b = np.concatenate([identity_b, q[..., :T - shift, :]], axis=-2)
        P, q = compose_affine((earlier_M, earlier_b), (P, q))
        shift *= 2
    return P, q


def linear_rnn_scan(h0, C, W_h, W_c):
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    b = np.einsum("ic,...tc->...ti", W_c, C)  # b_t = W_c c_t
    M = np.broadcast_to(W_h, b.shape[:-1] + W_h.shape)  # M_t = W_h
    P, q = prefix_scan(M, b)
    return np.einsum("...tij,...j->...ti", P, h0) + q  # h_t = P_t h0 + q_t


def linear_rnn_kernel(W_h, W_c, T):
    K = [np.asarray(W_c, dtype=np.float64)]
    for _ in range(1, T):
        K.append(np.einsum("ij,jc->ic", W_h, K[-1]))  # W_h^k W_c = W_h (W_h^(k-1) W_c)
    return np.stack(K)


# ------------------------------------------------------------------ Part B

def split_heads(X, n_heads):
    d = X.shape[-1]
    _check_heads(n_heads, d=d)
    X = X.reshape(X.shape[:-1] + (n_heads, d // n_heads))  # (..., t, n, k)
    return np.einsum("...tnk->...ntk", X)


def merge_heads(X):
    n_heads, T, d_head = X.shape[-3:]
    return np.einsum("...ntk->...tnk", X).reshape(X.shape[:-3] + (T, n_heads * d_head))


def _heads(C, W_q, W_k, W_v, n_heads, causal):
    """Queries, keys, values split into heads, and the weights A of every head."""
    _check_heads(n_heads, d_k=W_q.shape[0], d_v=W_v.shape[0])
    Q = split_heads(np.einsum("kc,...tc->...tk", W_q, C), n_heads)
    K = split_heads(np.einsum("kc,...tc->...tk", W_k, C), n_heads)
    V = split_heads(np.einsum("vc,...tc->...tv", W_v, C), n_heads)
    scale = 1.0 / np.sqrt(W_q.shape[0] / n_heads)
    scores = np.einsum("...ntk,...nsk->...nts", Q, K) * scale
    if causal:
        T = scores.shape[-1]
        later = np.arange(T)[None, :] > np.arange(T)[:, None]  # s > t
        scores = np.where(later, -np.inf, scores)
    return Q, K, V, _stable_softmax(scores), scale


def multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    C = np.asarray(C, dtype=np.float64)
    _, _, V, A, _ = _heads(C, W_q, W_k, W_v, n_heads, causal)
    O = merge_heads(np.einsum("...nts,...nsv->...ntv", A, V))
    H = np.einsum("ov,...tv->...to", W_o, O)
    return H, A


def multi_head_attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    C = np.asarray(C, dtype=np.float64)
    dH = np.asarray(dH, dtype=np.float64)
    Q, K, V, A, scale = _heads(C, W_q, W_k, W_v, n_heads, causal)
    O = merge_heads(np.einsum("...nts,...nsv->...ntv", A, V))

    dW_o = np.einsum("ro,rv->ov", _rows(dH), _rows(O))
    dO = split_heads(np.einsum("...to,ov->...tv", dH, W_o), n_heads)
    dA = np.einsum("...ntv,...nsv->...nts", dO, V)
    dV = np.einsum("...nts,...ntv->...nsv", A, dO)
    row_dot = np.einsum("...nts,...nts->...nt", dA, A)[..., None]
    dS = A * (dA - row_dot) * scale  # softmax backward, then the scaling
    dQ = merge_heads(np.einsum("...nts,...nsk->...ntk", dS, K))
    dK = merge_heads(np.einsum("...nts,...ntk->...nsk", dS, Q))
    dV = merge_heads(dV)

    dC = (np.einsum("...tk,kc->...tc", dQ, W_q) + np.einsum("...tk,kc->...tc", dK, W_k)
          + np.einsum("...tv,vc->...tc", dV, W_v))
    dW_q = np.einsum("rk,rc->kc", _rows(dQ), _rows(C))
    dW_k = np.einsum("rk,rc->kc", _rows(dK), _rows(C))
    dW_v = np.einsum("rv,rc->vc", _rows(dV), _rows(C))
    return dC, dW_q, dW_k, dW_v, dW_o


# ------------------------------------------------------------------ Part C

def sinusoidal_positions(T, d):
    angles = np.einsum("t,i->ti", np.arange(T, dtype=np.float64), _frequencies(d))
    P = np.empty((T, d))
    P[:, 0::2] = np.sin(angles)
    P[:, 1::2] = np.cos(angles)
    return P


def rotary(X, positions):
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[-1]
    angles = np.einsum("t,i->ti", np.asarray(positions, dtype=np.float64), _frequencies(d))
    cos, sin = np.cos(angles), np.sin(angles)
    # R[t, i] turns pair i of row t:  [[cos, -sin], [sin, cos]]
    R = np.stack([np.stack([cos, -sin], axis=-1), np.stack([sin, cos], axis=-1)], axis=-2)
    pairs = X.reshape(X.shape[:-1] + (d // 2, 2))  # (..., t, i, 2)
    return np.einsum("tiab,...tib->...tia", R, pairs).reshape(X.shape)


def transformer_lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id):
    ids = np.asarray(token_ids)
    inputs, targets = ids[..., :-1], ids[..., 1:]
    counted = (targets != pad_id).astype(np.float64)
    n_counted = np.einsum("r->", counted.reshape(-1))
    if n_counted == 0:
        raise ValueError("transformer_lm_loss: every target is padding, so there is nothing to average")
    T = inputs.shape[-1]
    X = np.asarray(E, dtype=np.float64)[inputs] + sinusoidal_positions(T, E.shape[-1])
    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True)
    logits = np.einsum("wo,...to->...tw", W_out, H)
    log_p = _log_softmax(logits)
    one_hot = np.arange(logits.shape[-1]) == targets[..., None]  # (..., t, w)
    log_p_target = np.einsum("...tw,...tw->...t", log_p, one_hot.astype(np.float64))
    return float(-np.einsum("r,r->", log_p_target.reshape(-1), counted.reshape(-1)) / n_counted)
