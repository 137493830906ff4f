# HW2 - NLP
# My approach, as in hw1: flatten all the batch dimensions into one "N" axis, do plain
# 2-D / 3-D / 4-D matrix math on that, then reshape back at the end.
# The prefix scan I wrote the simple way: one map at a time, each prefix built from the one
# before it (T - 1 calls of compose_affine). Same values as the parallel version, just slower.

import numpy as np


def flatten_batch(x, n_keep):
    """(..., a, b) -> (N, a, b), keeping the last n_keep axes; also returns the batch shape."""
    x = np.asarray(x, dtype=np.float64)
    batch_shape = x.shape[:x.ndim - n_keep]
    return x.reshape((-1,) + x.shape[x.ndim - n_keep:]), batch_shape


def unflatten_batch(x, batch_shape, n_keep):
    """(N, a, b) -> batch_shape + (a, b)."""
    return x.reshape(tuple(batch_shape) + x.shape[x.ndim - n_keep:])


def softmax_last(scores):
    """softmax over the last axis, shifting by the row maximum first (no overflow)."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax_last(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def frequencies(d):
    if d % 2 == 1:
        raise ValueError("d = %d is odd, but position features come in (sin, cos) pairs: use an even d" % d)
    i = np.arange(d // 2)
    return 10000.0 ** (-2.0 * i / d)


def check_heads(n_heads, d_k, d_v):
    if d_k % n_heads != 0 or d_v % n_heads != 0:
        raise ValueError("n_heads = %d has to divide d_k = %d and d_v = %d" % (n_heads, d_k, d_v))


# ===================================== Part A =====================================

def linear_rnn_forward(h0, C, W_h, W_c):
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    T, d_c = C.shape[-2:]
    d_h = W_h.shape[0]
    batch_shape = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    h, _ = flatten_batch(np.broadcast_to(h0, batch_shape + (d_h,)), 1)  # (N, d_h)
    Cf, _ = flatten_batch(np.broadcast_to(C, batch_shape + (T, d_c)), 2)  # (N, T, d_c)
    inputs = Cf @ W_c.T  # (N, T, d_h): the W_c c_t part does not depend on h
    H = np.zeros((h.shape[0], T, d_h))
    for t in range(T):
        h = h @ W_h.T + inputs[:, t]
        H[:, t] = h
    return unflatten_batch(H, batch_shape, 2)


def compose_affine(first, second):
    M_1, b_1 = first
    M_2, b_2 = second
    M = np.matmul(M_2, M_1)  # (M_2 M_1)
    b = (M_2 * b_1[..., None, :]).sum(axis=-1) + b_2  # row i of M_2 dotted with b_1, plus b_2
    batch_shape = np.broadcast_shapes(M.shape[:-2], b.shape[:-1])
    M = np.broadcast_to(M, batch_shape + M.shape[-2:]).copy()
    b = np.broadcast_to(b, batch_shape + b.shape[-1:]).copy()
    return M, b


def prefix_scan(M, b):
    # P_0 = M_0, q_0 = b_0; then prefix t = (prefix t-1, then map t). One step per t.
    M = np.asarray(M, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    T = M.shape[-3]
    P = np.zeros(M.shape)
    q = np.zeros(b.shape)
    P[..., 0, :, :] = M[..., 0, :, :]
    q[..., 0, :] = b[..., 0, :]
    for t in range(1, T):
        previous = (P[..., t - 1, :, :], q[..., t - 1, :])
        step = (M[..., t, :, :], b[..., t, :])
        P[..., t, :, :], q[..., t, :] = compose_affine(previous, step)
    return P, q


def linear_rnn_scan(h0, C, W_h, W_c):
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    d_h = W_h.shape[0]
    b = C @ W_c.T  # (..., T, d_h)
    M = np.broadcast_to(W_h, b.shape[:-1] + (d_h, d_h))
    P, q = prefix_scan(M, b)
    P_h0 = (P * h0[..., None, None, :]).sum(axis=-1)  # (..., T, d_h): P_t h0 for every t
    return P_h0 + q


def linear_rnn_kernel(W_h, W_c, T):
    return np.stack([np.linalg.matrix_power(W_h, k) @ W_c for k in range(T)])


# ===================================== Part B =====================================

def split_heads(X, n_heads):
    X = np.asarray(X)
    d = X.shape[-1]
    if d % n_heads != 0:
        raise ValueError("cannot split %d features into %d heads of equal size" % (d, n_heads))
    X = X.reshape(X.shape[:-1] + (n_heads, d // n_heads))  # (..., T, n, d/n)
    return np.moveaxis(X, -2, -3)  # (..., n, T, d/n)


def merge_heads(X):
    X = np.asarray(X)
    n_heads, T, d_head = X.shape[-3:]
    return np.moveaxis(X, -3, -2).reshape(X.shape[:-3] + (T, n_heads * d_head))


def attention_parts(C, W_q, W_k, W_v, n_heads, causal):
    """The flattened forward pass: Q, K, V per head (N, n, T, .), A (N, n, T, T), the batch shape."""
    check_heads(n_heads, W_q.shape[0], W_v.shape[0])
    Cf, batch_shape = flatten_batch(C, 2)  # (N, T, d_c)
    T = Cf.shape[1]
    d_head = W_q.shape[0] // n_heads
    Q = split_heads(Cf @ W_q.T, n_heads)  # (N, n, T, d_head)
    K = split_heads(Cf @ W_k.T, n_heads)
    V = split_heads(Cf @ W_v.T, n_heads)
    scores = (Q / np.sqrt(d_head)) @ K.transpose(0, 1, 3, 2)  # (N, n, T, T)
    if causal:
        upper = np.triu(np.ones((T, T), dtype=bool), 1)  # key after query
        scores[:, :, upper] = -np.inf
    A = softmax_last(scores)
    return Cf, Q, K, V, A, batch_shape


def multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    Cf, Q, K, V, A, batch_shape = attention_parts(C, W_q, W_k, W_v, n_heads, causal)
    O = merge_heads(A @ V)  # (N, T, d_v)
    H = O @ W_o.T  # (N, T, d_o)
    return unflatten_batch(H, batch_shape, 2), unflatten_batch(A, batch_shape, 3)


def multi_head_attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    Cf, Q, K, V, A, batch_shape = attention_parts(C, W_q, W_k, W_v, n_heads, causal)
    dHf, _ = flatten_batch(dH, 2)  # (N, T, d_o)
    d_head = Q.shape[-1]
    O = merge_heads(A @ V)  # (N, T, d_v)

    dW_o = dHf.reshape(-1, dHf.shape[-1]).T @ O.reshape(-1, O.shape[-1])
    dO = split_heads(dHf @ W_o, n_heads)  # (N, n, T, d_v/n)
    dA = dO @ V.transpose(0, 1, 3, 2)  # (N, n, T, T)
    dV = A.transpose(0, 1, 3, 2) @ dO
    dscores = A * (dA - (A * dA).sum(axis=-1, keepdims=True))  # softmax backward
    dQ = (dscores @ K) / np.sqrt(d_head)
    dK = dscores.transpose(0, 1, 3, 2) @ (Q / np.sqrt(d_head))

    dQ, dK, dV = merge_heads(dQ), merge_heads(dK), merge_heads(dV)  # (N, T, .)
    dCf = dQ @ W_q + dK @ W_k + dV @ W_v
    rows_C = Cf.reshape(-1, Cf.shape[-1])
    dW_q = dQ.reshape(-1, dQ.shape[-1]).T @ rows_C
    dW_k = dK.reshape(-1, dK.shape[-1]).T @ rows_C
    dW_v = dV.reshape(-1, dV.shape[-1]).T @ rows_C
    return unflatten_batch(dCf, batch_shape, 2), dW_q, dW_k, dW_v, dW_o


# ===================================== Part C =====================================

def sinusoidal_positions(T, d):
    angles = np.outer(np.arange(T), frequencies(d))  # (T, d/2)
    # interleave: sin, cos, sin, cos, ...
    return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(T, d)


def rotary(X, positions):
    # A pair (x_2i, x_2i+1) is the complex number x_2i + i x_2i+1, and turning it by an
    # angle a is multiplying by e^{ia} = cos a + i sin a.
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[-1]
    angles = np.outer(np.asarray(positions), frequencies(d))  # (T, d/2)
    z = X[..., 0::2] + 1j * X[..., 1::2]  # (..., T, d/2)
    turned = z * (np.cos(angles) + 1j * np.sin(angles))
    out = np.empty(X.shape)
    out[..., 0::2] = turned.real
    out[..., 1::2] = turned.imag
    return out


def transformer_lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id):
    token_ids = np.asarray(token_ids)
    inputs = token_ids[:, :-1]
    targets = token_ids[:, 1:]
    keep = targets != pad_id
    if not keep.any():
        raise ValueError("all targets are padding: no word to predict, so no average loss")
    B, T = inputs.shape
    X = E[inputs] + sinusoidal_positions(T, E.shape[1])
    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True)
    log_p = log_softmax_last(H @ W_out.T)  # (B, T, V)
    rows = log_p.reshape(B * T, -1)
    picked = rows[np.arange(B * T), targets.reshape(-1)]  # log p(target) at every position
    return float(-picked[keep.reshape(-1)].sum() / keep.sum())
