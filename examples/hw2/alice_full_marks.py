"""Homework 2 -- Alice's submission (demo: full marks)."""

# Homework 2: parallel sequence models.
#
# Notes to self
# - rows are vectors, so the lecture's W c_t is c_t @ W.T
# - "..." = any number of batch dimensions in front; never assume there is exactly one
# - a pair (M, b) means the affine map h -> M h + b
# - copied my stable softmax / log-softmax / softmax backward from hw1 (no importing hw1!)

import numpy as np


# ---------------------------------------------------------------- from my hw1

def _softmax(x):
    """Stable softmax over the last axis. Rows may hold -inf (masked), never only -inf."""
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_backward(dA, A):
    """dx = A * (dA - sum_j dA_j A_j), over the last axis."""
    return A * (dA - np.sum(dA * A, axis=-1, keepdims=True))


def _log_softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))


# ---------------------------------------------------------------- Part A

def linear_rnn_forward(h0, C, W_h, W_c):
    """h_t = W_h h_{t-1} + W_c c_t, step by step.  h0: (..., d_h) or (d_h,), C: (..., T, d_c) -> (..., T, d_h)."""
    inputs = C @ W_c.T                                    # (..., T, d_h), all the W_c c_t at once
    T = C.shape[-2]
    batch = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    H = np.zeros(batch + (T, W_h.shape[0]))
    h = h0
    for t in range(T):
        h = h @ W_h.T + inputs[..., t, :]                 # no tanh: that is the whole point
        H[..., t, :] = h
    return H


def compose_affine(first, second):
    """first then second:  M_2 (M_1 h + b_1) + b_2 = (M_2 M_1) h + (M_2 b_1 + b_2)."""
    M_1, b_1 = first
    M_2, b_2 = second
    M = M_2 @ M_1                                         # (..., d, d)
    b = np.einsum("...ij,...j->...i", M_2, b_1) + b_2     # (..., d)
    # M only saw the batch of the matrices and b only that of ... everything: make both agree
    batch = np.broadcast_shapes(M.shape[:-2], b.shape[:-1])
    return np.broadcast_to(M, batch + M.shape[-2:]).copy(), np.broadcast_to(b, batch + b.shape[-1:]).copy()


def prefix_scan(M, b):
    """Inclusive scan of the maps (M_t, b_t) in ceil(log2 T) rounds (Hillis-Steele).

    After the round with step s, slot t holds maps max(0, t-2s+1) .. t composed.  Each round:
    slot t (t >= s) = compose(slot t-s, slot t) -- the earlier block goes FIRST.
    """
    T = M.shape[-3]
    P, q = M.copy(), b.copy()
    s = 1
    while s < T:
        new_P, new_q = P.copy(), q.copy()
        new_P[..., s:, :, :], new_q[..., s:, :] = compose_affine(
            (P[..., :T - s, :, :], q[..., :T - s, :]),       # blocks ending at t - s
            (P[..., s:, :, :], q[..., s:, :]),               # blocks ending at t
        )
        P, q = new_P, new_q
        s *= 2
    return P, q


def linear_rnn_scan(h0, C, W_h, W_c):
    """Same H as linear_rnn_forward, via the scan: h_t = P_t h0 + q_t."""
    b = C @ W_c.T                                          # (..., T, d_h)
    M = np.broadcast_to(W_h, b.shape[:-1] + W_h.shape)     # (..., T, d_h, d_h)
    P, q = prefix_scan(M, b)
    # don't forget the P_t h0 part! (h0 is not zero in general)
    return np.einsum("...tij,...j->...ti", P, h0) + q


def linear_rnn_kernel(W_h, W_c, T):
    """K[k] = W_h^k W_c for k = 0..T-1, shape (T, d_h, d_c).  K[0] = W_c (W_h^0 = I)."""
    K = [W_c]
    for _ in range(T - 1):
        K.append(W_h @ K[-1])
    return np.stack(K).astype(np.float64)


# ---------------------------------------------------------------- Part B

def split_heads(X, n_heads):
    """(..., T, d) -> (..., n_heads, T, d/n_heads); head h gets the h-th block of features."""
    *rest, T, d = X.shape
    if d % n_heads:
        raise ValueError(f"can't split d = {d} features into {n_heads} equal heads")
    blocks = X.reshape(*rest, T, n_heads, d // n_heads)   # block h = features h*d/n .. (h+1)*d/n - 1
    return np.swapaxes(blocks, -2, -3)


def merge_heads(X):
    """(..., n_heads, T, d_head) -> (..., T, n_heads * d_head), undoing split_heads."""
    *rest, n_heads, T, d_head = X.shape
    return np.swapaxes(X, -2, -3).reshape(*rest, T, n_heads * d_head)


def _forward_pieces(C, W_q, W_k, W_v, n_heads, causal):
    d_k, d_v = W_q.shape[0], W_v.shape[0]
    if d_k % n_heads or d_v % n_heads:
        raise ValueError(f"n_heads = {n_heads} must divide both d_k = {d_k} and d_v = {d_v}")
    Q = split_heads(C @ W_q.T, n_heads)                   # (..., n, T, d_k/n)
    K = split_heads(C @ W_k.T, n_heads)                   # (..., n, T, d_k/n)
    V = split_heads(C @ W_v.T, n_heads)                   # (..., n, T, d_v/n)
    scale = np.sqrt(d_k / n_heads)                        # per-head size, NOT sqrt(d_k)
    S = Q @ np.swapaxes(K, -1, -2) / scale                # (..., n, T, T)
    if causal:
        T = S.shape[-1]
        S = np.where(np.tri(T, dtype=bool), S, -np.inf)   # keep j <= i only
    A = _softmax(S)
    return Q, K, V, A, scale


def multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    """H = merge_heads(A V) W_o^T  (..., T, d_o), and A (..., n_heads, T, T)."""
    _, _, V, A, _ = _forward_pieces(C, W_q, W_k, W_v, n_heads, causal)
    return merge_heads(A @ V) @ W_o.T, A


def multi_head_attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    """Backprop through H = O W_o^T, O = merge(A V), A = softmax(Q K^T / scale), and the projections."""
    Q, K, V, A, scale = _forward_pieces(C, W_q, W_k, W_v, n_heads, causal)
    O = merge_heads(A @ V)                                 # (..., T, d_v)

    def summed(X, Y):
        """sum over every batch position and time step of X_t^T Y_t (a weight gradient)."""
        return X.reshape(-1, X.shape[-1]).T @ Y.reshape(-1, Y.shape[-1])

    dW_o = summed(dH, O)
    dO = split_heads(dH @ W_o, n_heads)                    # (..., n, T, d_v/n)
    dA = dO @ np.swapaxes(V, -1, -2)                       # (..., n, T, T)
    dV = merge_heads(np.swapaxes(A, -1, -2) @ dO)          # (..., T, d_v)
    dS = _softmax_backward(dA, A) / scale                  # masked entries: A = 0 there, so dS = 0
    dQ = merge_heads(dS @ K)                               # (..., T, d_k)
    dK = merge_heads(np.swapaxes(dS, -1, -2) @ Q)          # (..., T, d_k)
    dC = dQ @ W_q + dK @ W_k + dV @ W_v
    return dC, summed(dQ, C), summed(dK, C), summed(dV, C), dW_o


# ---------------------------------------------------------------- Part C

def _angles(positions, d):
    """angle[t, i] = positions[t] * w_i with w_i = 10000^(-2i/d)."""
    if d % 2:
        raise ValueError(f"d = {d} is odd; sin/cos and rotations need pairs of features")
    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)
    return np.asarray(positions)[:, None] * w[None, :]     # (T, d/2)


def sinusoidal_positions(T, d):
    """P[t, 2i] = sin(t w_i), P[t, 2i+1] = cos(t w_i); positions start at 0."""
    a = _angles(np.arange(T), d)
    P = np.zeros((T, d))
    P[:, ::2] = np.sin(a)
    P[:, 1::2] = np.cos(a)
    return P


def rotary(X, positions):
    """Rotate each ADJACENT pair (x_2i, x_2i+1) of row t by positions[t] * w_i."""
    a = _angles(positions, X.shape[-1])
    cos = np.repeat(np.cos(a), 2, axis=-1)                 # (T, d): c0 c0 c1 c1 ...
    sin = np.repeat(np.sin(a), 2, axis=-1)
    # the partner of each feature, as a rotation by 90 degrees wants it: (-x_2i+1, x_2i)
    partner = np.empty(X.shape)
    partner[..., ::2] = -X[..., 1::2]
    partner[..., 1::2] = X[..., ::2]
    return X * cos + partner * sin


def transformer_lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id):
    """Mean next-word NLL of: embeddings + positions -> causal multi-head attention -> W_out."""
    ids = np.asarray(token_ids)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    mask = targets != pad_id                               # padding targets don't count
    if mask.sum() == 0:
        raise ValueError("no target to predict: every target in the batch is padding")
    X = E[inputs] + sinusoidal_positions(inputs.shape[1], E.shape[1])
    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True)
    log_p = _log_softmax(H @ W_out.T)                      # (B, T, V)
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    return float(nll[mask].mean())
