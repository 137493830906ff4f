"""Homework 2 -- Carol's submission (demo: a syntax error)."""
# hw2.py  --  Carol
#
# Part A: the linear RNN three ways (loop, scan, kernel)
# Part B: multi-head attention (forward + backward)
# Part C: sinusoidal / rotary positions and the LM loss
#
# I test everything in my notebook and paste it here at the end.

import numpy as np


# ========================= Part A =========================

def linear_rnn_forward(h0, C, W_h, W_c):
    T = C.shape[-2]
    out = []
    h = h0
    for t in range(T):
        h = h @ W_h.T + C[..., t, :] @ W_c.T
        out.append(h)
    return np.stack(out, axis=-2)


def compose_affine(first, second):
    M1, b1 = first
    M2, b2 = second
    M = M2 @ M1
    b = np.einsum("...ij,...j->...i", M2, b1) + b2
    shape = np.broadcast_shapes(M.shape[:-2], b.shape[:-1])
    return np.broadcast_to(M, shape + M.shape[-2:]).copy(), np.broadcast_to(b, shape + b.shape[-1:]).copy()


def prefix_scan(M, b):
    T = M.shape[-3]
    P, q = M.copy(), b.copy()
    k = 1
    while k < T:
        left = (P[..., :T - k, :, :], q[..., :T - k, :])
        right = (P[..., k:, :, :], q[..., k:, :])
        newP, newq = compose_affine(left, right)
        P = np.concatenate([P[..., :k, :, :], newP], axis=-3)
        q = np.concatenate([q[..., :k, :], newq], axis=-2)
        k = 2 * k
    return P, q


def linear_rnn_scan(h0, C, W_h, W_c):
    b = C @ W_c.T
    M = np.broadcast_to(W_h, b.shape[:-1] + W_h.shape)
    P, q = prefix_scan(M, b)
    return np.einsum("...tij,...j->...ti", P, h0) + q


def linear_rnn_kernel(W_h, W_c, T):
    K = np.zeros((T,) + W_c.shape)
    K[0] = W_c
    for k in range(1, T):
        K[k] = W_h @ K[k - 1]
    return K


# ========================= Part B =========================

def split_heads(X, n_heads):
    d = X.shape[-1]
    if d % n_heads:
        raise ValueError("n_heads must divide d")
    X = X.reshape(X.shape[:-1] + (n_heads, d // n_heads))
    return np.swapaxes(X, -2, -3)


def merge_heads(X):
    n, T, dh = X.shape[-3:]
    return np.swapaxes(X, -2, -3).reshape(X.shape[:-3] + (T, n * dh))


def multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    d_k = W_q.shape[0]
    if d_k % n_heads or W_v.shape[0] % n_heads:
        raise ValueError("n_heads must divide d_k and d_v")
    Q = split_heads(C @ W_q.T, n_heads)
    K = split_heads(C @ W_k.T, n_heads)
    V = split_heads(C @ W_v.T, n_heads)
    S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k / n_heads)
    if causal:
        T = S.shape[-1]
        S = np.where(np.tril(np.ones((T, T))) == 1, S, -np.inf)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    A = e / e.sum(axis=-1, keepdims=True))
    return merge_heads(A @ V) @ W_o.T, A


def multi_head_attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    _, A = multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal)
    Q = split_heads(C @ W_q.T, n_heads)
    K = split_heads(C @ W_k.T, n_heads)
    V = split_heads(C @ W_v.T, n_heads)
    O = merge_heads(A @ V)
    dW_o = dH.reshape(-1, dH.shape[-1]).T @ O.reshape(-1, O.shape[-1])
    dO = split_heads(dH @ W_o, n_heads)
    dA = dO @ np.swapaxes(V, -1, -2)
    dV = merge_heads(np.swapaxes(A, -1, -2) @ dO)
    dS = A * (dA - np.sum(dA * A, axis=-1, keepdims=True)) / np.sqrt(W_q.shape[0] / n_heads)
    dQ = merge_heads(dS @ K)
    dK = merge_heads(np.swapaxes(dS, -1, -2) @ Q)
    rows = C.reshape(-1, C.shape[-1])
    dC = dQ @ W_q + dK @ W_k + dV @ W_v
    return (dC, dQ.reshape(-1, dQ.shape[-1]).T @ rows, dK.reshape(-1, dK.shape[-1]).T @ rows,
            dV.reshape(-1, dV.shape[-1]).T @ rows, dW_o)


# ========================= Part C =========================

def sinusoidal_positions(T, d):
    if d % 2:
        raise ValueError("d must be even")
    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)
    a = np.arange(T)[:, None] * w
    P = np.zeros((T, d))
    P[:, 0::2] = np.sin(a)
    P[:, 1::2] = np.cos(a)
    return P


def rotary(X, positions):
    d = X.shape[-1]
    if d % 2:
        raise ValueError("d must be even")
    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)
    a = np.asarray(positions)[:, None] * w
    x, y = X[..., 0::2], X[..., 1::2]
    out = np.zeros(X.shape)
    out[..., 0::2] = x * np.cos(a) - y * np.sin(a)
    out[..., 1::2] = x * np.sin(a) + y * np.cos(a)
    return out


def transformer_lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id):
    inputs, targets = token_ids[:, :-1], token_ids[:, 1:]
    mask = targets != pad_id
    if mask.sum() == 0:
        raise ValueError("nothing to predict")
    X = E[inputs] + sinusoidal_positions(inputs.shape[1], E.shape[1])
    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads)
    logits = H @ W_out.T
    logits = logits - logits.max(axis=-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return float(-picked[mask].mean())
