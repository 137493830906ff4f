# hw2.py -- Homework 2 (linear RNN as a scan, multi-head attention, positions)
#
# Same habit as in homework 1: I think about one vector at a time, exactly like the
# formulas in the lecture (column vectors, W @ h). So most functions below loop over
# every batch position with np.ndindex, and then over time steps, heads or feature pairs.

import math

import numpy as np


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def _as_float(x):
    return np.asarray(x, dtype=np.float64)


def _softmax_vector(row):
    """Stable softmax of a single 1-D vector (no -inf in it here)."""
    e = np.exp(row - row.max())
    return e / e.sum()


def _log_softmax_vector(row):
    """Stable log-softmax of a single 1-D vector."""
    shifted = row - row.max()
    total = 0.0
    for v in shifted:
        total += math.exp(v)
    return shifted - math.log(total)


def _frequency(i, d):
    """w_i = 10000 ** (-2i / d)."""
    return 10000.0 ** (-2 * i / d)


def _check_heads(n_heads, *sizes):
    for size in sizes:
        if size % n_heads != 0:
            raise ValueError("n_heads = %d does not divide the feature size %d" % (n_heads, size))


def _check_even(d):
    if d % 2 != 0:
        raise ValueError("the feature size d = %d must be even (features come in pairs)" % d)


# ---------------------------------------------------------------------------
# Part A -- a linear RNN, computed in parallel
# ---------------------------------------------------------------------------

def linear_rnn_forward(h0, C, W_h, W_c):
    h0 = _as_float(h0)
    C = _as_float(C)
    T = C.shape[-2]
    d_h = W_h.shape[0]

    batch = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    h0_all = np.broadcast_to(h0, batch + (h0.shape[-1],))
    C_all = np.broadcast_to(C, batch + C.shape[-2:])

    H = np.zeros(batch + (T, d_h))
    for idx in np.ndindex(*batch):
        h = h0_all[idx]
        for t in range(T):
            h = W_h @ h + W_c @ C_all[idx][t]   # no nonlinearity this time
            H[idx + (t,)] = h
    return H


def compose_affine(first, second):
    M_1, b_1 = _as_float(first[0]), _as_float(first[1])
    M_2, b_2 = _as_float(second[0]), _as_float(second[1])

    batch = np.broadcast_shapes(M_1.shape[:-2], b_1.shape[:-1], M_2.shape[:-2], b_2.shape[:-1])
    M1_all = np.broadcast_to(M_1, batch + M_1.shape[-2:])
    b1_all = np.broadcast_to(b_1, batch + b_1.shape[-1:])
    M2_all = np.broadcast_to(M_2, batch + M_2.shape[-2:])
    b2_all = np.broadcast_to(b_2, batch + b_2.shape[-1:])

    M = np.zeros(batch + (M_2.shape[-2], M_1.shape[-1]))
    b = np.zeros(batch + (M_2.shape[-2],))
    for idx in np.ndindex(*batch):
        # second(first(h)) = M_2 (M_1 h + b_1) + b_2
        M[idx] = M2_all[idx] @ M1_all[idx]
        b[idx] = M2_all[idx] @ b1_all[idx] + b2_all[idx]
    return M, b


def prefix_scan(M, b):
    # Hillis-Steele, written out: in the round with step `shift`, position t (for t >= shift)
    # puts the block that ends at t - shift in front of its own block. The new values are
    # computed from the old ones only, so every round reads `P_old` and writes `P_new`.
    M = _as_float(M)
    b = _as_float(b)
    T = M.shape[-3]
    P = M.copy()
    q = b.copy()
    shift = 1
    while shift < T:
        P_old = P.copy()
        q_old = q.copy()
        for idx in np.ndindex(*M.shape[:-3]):
            for t in range(shift, T):
                s = t - shift
                P[idx + (t,)] = P_old[idx + (t,)] @ P_old[idx + (s,)]
                q[idx + (t,)] = P_old[idx + (t,)] @ q_old[idx + (s,)] + q_old[idx + (t,)]
        shift *= 2
    return P, q


def linear_rnn_scan(h0, C, W_h, W_c):
    h0 = _as_float(h0)
    C = _as_float(C)
    T = C.shape[-2]
    d_h = W_h.shape[0]

    # the maps of the C batch: (W_h, W_c c_t) for every t
    C_batch = C.shape[:-2]
    M = np.zeros(C_batch + (T, d_h, d_h))
    b = np.zeros(C_batch + (T, d_h))
    for idx in np.ndindex(*C_batch):
        for t in range(T):
            M[idx + (t,)] = W_h
            b[idx + (t,)] = W_c @ C[idx + (t,)]
    P, q = prefix_scan(M, b)

    batch = np.broadcast_shapes(h0.shape[:-1], C_batch)
    h0_all = np.broadcast_to(h0, batch + (h0.shape[-1],))
    P_all = np.broadcast_to(P, batch + P.shape[-3:])
    q_all = np.broadcast_to(q, batch + q.shape[-2:])
    H = np.zeros(batch + (T, d_h))
    for idx in np.ndindex(*batch):
        for t in range(T):
            H[idx + (t,)] = P_all[idx + (t,)] @ h0_all[idx] + q_all[idx + (t,)]
    return H


def linear_rnn_kernel(W_h, W_c, T):
    W_h = _as_float(W_h)
    W_c = _as_float(W_c)
    K = np.zeros((T,) + W_c.shape)
    power = np.eye(W_h.shape[0])          # W_h^0
    for k in range(T):
        K[k] = power @ W_c
        power = W_h @ power               # W_h^(k+1)
    return K


# ---------------------------------------------------------------------------
# Part B -- multi-head attention
# ---------------------------------------------------------------------------

def split_heads(X, n_heads):
    X = np.asarray(X)
    d = X.shape[-1]
    _check_heads(n_heads, d)
    d_head = d // n_heads
    batch = X.shape[:-2]
    T = X.shape[-2]
    out = np.zeros(batch + (n_heads, T, d_head), dtype=X.dtype)
    for idx in np.ndindex(*batch):
        for h in range(n_heads):
            for t in range(T):
                out[idx + (h, t)] = X[idx + (t,)][h * d_head:(h + 1) * d_head]
    return out


def merge_heads(X):
    X = np.asarray(X)
    n_heads, T, d_head = X.shape[-3:]
    batch = X.shape[:-3]
    out = np.zeros(batch + (T, n_heads * d_head), dtype=X.dtype)
    for idx in np.ndindex(*batch):
        for h in range(n_heads):
            for t in range(T):
                out[idx + (t,)][h * d_head:(h + 1) * d_head] = X[idx + (h, t)]
    return out


def _project(C, W):
    """Every position's W c_t: (..., T, d_c) -> (..., T, d_out)."""
    out = np.zeros(C.shape[:-1] + (W.shape[0],))
    for idx in np.ndindex(*C.shape[:-1]):
        out[idx] = W @ C[idx]
    return out


def _attention_heads(C, W_q, W_k, W_v, n_heads, causal):
    """Q, K, V split into heads, and the weights A of every head (all (..., n_heads, T, .))."""
    d_k = W_q.shape[0]
    Q = split_heads(_project(C, W_q), n_heads)
    K = split_heads(_project(C, W_k), n_heads)
    V = split_heads(_project(C, W_v), n_heads)
    scale = 1.0 / math.sqrt(d_k / n_heads)    # the size of one head's queries

    batch = C.shape[:-2]
    T = C.shape[-2]
    A = np.zeros(batch + (n_heads, T, T))
    for idx in np.ndindex(*batch):
        for h in range(n_heads):
            q_seq = Q[idx + (h,)]
            k_seq = K[idx + (h,)]
            for i in range(T):
                # with a causal mask, position i only sees j = 0..i; the rest stay 0
                n_visible = i + 1 if causal else T
                scores = (k_seq[:n_visible] @ q_seq[i]) * scale
                A[idx + (h, i, slice(0, n_visible))] = _softmax_vector(scores)
    return Q, K, V, A


def multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    C = _as_float(C)
    _check_heads(n_heads, W_q.shape[0], W_v.shape[0])
    Q, K, V, A = _attention_heads(C, W_q, W_k, W_v, n_heads, causal)

    batch = C.shape[:-2]
    T = C.shape[-2]
    heads_out = np.zeros(V.shape)               # (..., n_heads, T, d_v / n_heads)
    for idx in np.ndindex(*batch):
        for h in range(n_heads):
            for i in range(T):
                # o_i = sum_j A_ij v_j for this head
                heads_out[idx + (h, i)] = A[idx + (h, i)] @ V[idx + (h,)]
    O = merge_heads(heads_out)                  # (..., T, d_v)
    H = _project(O, W_o)                        # h_t = W_o o_t
    return H, A


def multi_head_attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    C = _as_float(C)
    dH = _as_float(dH)
    _check_heads(n_heads, W_q.shape[0], W_v.shape[0])
    Q, K, V, A = _attention_heads(C, W_q, W_k, W_v, n_heads, causal)
    scale = 1.0 / math.sqrt(W_q.shape[0] / n_heads)
    batch = C.shape[:-2]
    T = C.shape[-2]

    dC = np.zeros(C.shape)
    dW_q = np.zeros(W_q.shape)
    dW_k = np.zeros(W_k.shape)
    dW_v = np.zeros(W_v.shape)
    dW_o = np.zeros(W_o.shape)

    for idx in np.ndindex(*batch):
        # forward once more for this sequence: the heads' outputs side by side
        heads_out = np.zeros(V[idx].shape)
        for h in range(n_heads):
            heads_out[h] = A[idx + (h,)] @ V[idx + (h,)]
        O = merge_heads(heads_out)              # (T, d_v)

        # h_t = W_o o_t
        dO = np.zeros(O.shape)
        for t in range(T):
            dW_o += np.outer(dH[idx + (t,)], O[t])
            dO[t] = W_o.T @ dH[idx + (t,)]
        dO_heads = split_heads(dO, n_heads)     # (n_heads, T, d_head_v)

        dQ_heads = np.zeros(Q[idx].shape)
        dK_heads = np.zeros(K[idx].shape)
        dV_heads = np.zeros(V[idx].shape)
        for h in range(n_heads):
            a = A[idx + (h,)]
            q = Q[idx + (h,)]
            k = K[idx + (h,)]
            v = V[idx + (h,)]
            for i in range(T):
                # o_i = sum_j a_ij v_j: every v_j receives a_ij do_i
                dA_i = v @ dO_heads[h, i]
                dV_heads[h] += np.outer(a[i], dO_heads[h, i])
                # softmax backward for row i, then the scaling of the scores
                dS_i = a[i] * (dA_i - np.dot(dA_i, a[i])) * scale
                # score_ij = q_i . k_j * scale
                dQ_heads[h, i] += dS_i @ k
                dK_heads[h] += np.outer(dS_i, q[i])

        dQ = merge_heads(dQ_heads)
        dK = merge_heads(dK_heads)
        dV = merge_heads(dV_heads)
        for t in range(T):
            c = C[idx + (t,)]
            dC[idx + (t,)] = W_q.T @ dQ[t] + W_k.T @ dK[t] + W_v.T @ dV[t]
            dW_q += np.outer(dQ[t], c)
            dW_k += np.outer(dK[t], c)
            dW_v += np.outer(dV[t], c)

    return dC, dW_q, dW_k, dW_v, dW_o


# ---------------------------------------------------------------------------
# Part C -- position information
# ---------------------------------------------------------------------------

def sinusoidal_positions(T, d):
    _check_even(d)
    P = np.zeros((T, d))
    for t in range(T):
        for i in range(d // 2):
            angle = t * _frequency(i, d)
            P[t, 2 * i] = math.sin(angle)
            P[t, 2 * i + 1] = math.cos(angle)
    return P


def rotary(X, positions):
    X = _as_float(X)
    d = X.shape[-1]
    _check_even(d)
    positions = np.asarray(positions)
    T = X.shape[-2]
    out = np.zeros(X.shape)
    for t in range(T):
        for i in range(d // 2):
            angle = positions[t] * _frequency(i, d)
            cos, sin = math.cos(angle), math.sin(angle)
            for idx in np.ndindex(*X.shape[:-2]):
                x_even = X[idx + (t, 2 * i)]
                x_odd = X[idx + (t, 2 * i + 1)]
                out[idx + (t, 2 * i)] = x_even * cos - x_odd * sin
                out[idx + (t, 2 * i + 1)] = x_even * sin + x_odd * cos
    return out


def transformer_lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id):
    ids = np.asarray(token_ids)
    E = _as_float(E)
    lead = ids.shape[:-1]
    T = ids.shape[-1] - 1

    count = 0
    for idx in np.ndindex(*lead):
        for t in range(T):
            if ids[idx + (t + 1,)] != pad_id:
                count += 1
    if count == 0:
        raise ValueError("transformer_lm_loss: every target is padding, nothing to average")

    # embed every input word and add its position
    P = sinusoidal_positions(T, E.shape[1])
    X = np.zeros(lead + (T, E.shape[1]))
    for idx in np.ndindex(*lead):
        for t in range(T):
            X[idx + (t,)] = E[ids[idx + (t,)]] + P[t]

    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True)

    total = 0.0
    for idx in np.ndindex(*lead):
        for t in range(T):
            target = ids[idx + (t + 1,)]
            if target == pad_id:
                continue
            log_p = _log_softmax_vector(W_out @ H[idx + (t,)])
            total -= log_p[target]
    return float(total / count)
