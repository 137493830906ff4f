"""Homework 1 -- Carol's submission (demo: a syntax error)."""
# hw1.py -- Homework 1 (RNN, self-attention, NLL)
#
# I found it easiest to think about one vector at a time, exactly like the
# formulas in the lecture (column vectors, W @ h), so most functions below loop
# over every batch position with np.ndindex and then over time / rows.

import math

import numpy as np


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def _check_nonlinearity(nonlinearity):
    if nonlinearity != "tanh" and nonlinearity != "relu":
        raise ValueError("unknown nonlinearity: %r (use 'tanh' or 'relu')" % (nonlinearity,))


def _f(a, nonlinearity):
    """Apply the nonlinearity to one pre-activation vector a."""
    if nonlinearity == "tanh":
        return np.tanh(a)
    out = a.copy()
    for i in range(out.shape[0]):
        if out[i] < 0:
            out[i] = 0.0
    return out


def _f_prime(a, nonlinearity):
    """Derivative of the nonlinearity at a (ReLU'(0) is 0)."""
    if nonlinearity == "tanh":
        t = np.tanh(a)
        return 1.0 - t * t
    d = np.zeros_like(a)
    for i in range(a.shape[0]):
        if a[i] > 0:
            d[i] = 1.0
    return d


def _sum_to_shape(g, shape):
    """Undo broadcasting: add up g so that it has the given shape."""
    shape = tuple(shape)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax in range(len(shape)):
        if shape[ax] == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g


def _softmax_vector(row):
    """Stable softmax of a single 1-D vector."""
    m = row.max()
    if not math.isfinite(m):
        m = 0.0
    e = np.exp(row - m)
    return e / e.sum()


def _log_softmax_vector(row):
    """Stable log-softmax of a single 1-D vector."""
    m = row.max()
    if not math.isfinite(m):
        m = 0.0
    shifted = row - m
    total = 0.0
    for v in shifted:
        total += math.exp(v)
    return shifted - math.log(total)


# ---------------------------------------------------------------------------
# Part A -- recurrent composition
# ---------------------------------------------------------------------------

def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    _check_nonlinearity(nonlinearity)
    h_prev = np.asarray(h_prev, dtype=np.float64)
    c_t = np.asarray(c_t, dtype=np.float64)
    d_h = W_h.shape[0]

    batch = np.broadcast_shapes(h_prev.shape[:-1], c_t.shape[:-1])
    h_all = np.broadcast_to(h_prev, batch + (h_prev.shape[-1],))
    c_all = np.broadcast_to(c_t, batch + (c_t.shape[-1],))

    h_new = np.zeros(batch + (d_h,))
    for idx in np.ndindex(*batch):
        a = W_h @ h_all[idx] + W_c @ c_all[idx]
        h_new[idx] = _f(a, nonlinearity)
    return h_new


def rnn_forward(h0, C, W_h, W_c, nonlinearity="tanh"):
    _check_nonlinearity(nonlinearity)
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    T = C.shape[-2]
    d_h = W_h.shape[0]

    batch = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    h0_all = np.broadcast_to(h0, batch + (h0.shape[-1],))
    C_all = np.broadcast_to(C, batch + C.shape[-2:])

    H = np.zeros(batch + (T, d_h))
    for idx in np.ndindex(*batch):
        h = h0_all[idx]
        for t in range(T):
            a = W_h @ h + W_c @ C_all[idx][t]
            h = _f(a, nonlinearity)
            H[idx + (t,)] = h
    return H


def rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    _check_nonlinearity(nonlinearity)
    dh_t = np.asarray(dh_t, dtype=np.float64)
    h_prev = np.asarray(h_prev, dtype=np.float64)
    c_t = np.asarray(c_t, dtype=np.float64)

    batch = np.broadcast_shapes(dh_t.shape[:-1], h_prev.shape[:-1], c_t.shape[:-1])
    dh_all = np.broadcast_to(dh_t, batch + (dh_t.shape[-1],))
    h_all = np.broadcast_to(h_prev, batch + (h_prev.shape[-1],))
    c_all = np.broadcast_to(c_t, batch + (c_t.shape[-1],))

    dh_prev = np.zeros(batch + (h_prev.shape[-1],))
    dc_t = np.zeros(batch + (c_t.shape[-1],))
    dW_h = np.zeros(W_h.shape)
    dW_c = np.zeros(W_c.shape)

    for idx in np.ndindex(*batch):
        h = h_all[idx]
        c = c_all[idx]
        a = W_h @ h + W_c @ c
        da = dh_all[idx] * _f_prime(a, nonlinearity)
        dh_prev[idx] = W_h.T @ da
        dc_t[idx] = W_c.T @ da
        dW_h += np.outer(da, h)
        dW_c += np.outer(da, c)

    return dh_prev, dc_t, dW_h, dW_c


def rnn_backward(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
    _check_nonlinearity(nonlinearity)
    dH = np.asarray(dH, dtype=np.float64)
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    T = C.shape[-2]

    # forward pass again, keeping every pre-activation
    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)
    batch = H.shape[:-2]
    h0_all = np.broadcast_to(h0, batch + (h0.shape[-1],))
    C_all = np.broadcast_to(C, batch + C.shape[-2:])
    dH_all = np.broadcast_to(dH, H.shape)

    dh0_all = np.zeros(batch + (h0.shape[-1],))
    dC_all = np.zeros(batch + C.shape[-2:])
    dW_h = np.zeros(W_h.shape)
    dW_c = np.zeros(W_c.shape)

    for idx in np.ndindex(*batch):
        seq_H = H[idx]
        seq_C = C_all[idx]
        carry = np.zeros(W_h.shape[0])       # gradient coming from step t+1
        for t in range(T - 1, -1, -1):
            h_before = h0_all[idx] if t == 0 else seq_H[t - 1]
            a = W_h @ h_before + W_c @ seq_C[t]
            dh = dH_all[idx][t] + carry
            da = dh * _f_prime(a, nonlinearity)
            dW_h += np.outer(da, h_before)
            dW_c += np.outer(da, seq_C[t])
            dC_all[idx + (t,)] = W_c.T @ da
            carry = W_h.T @ da
        dh0_all[idx] = carry

    # if h0 (or C) was shared across the batch, add up its gradients
    dh0 = _sum_to_shape(dh0_all, h0.shape)
    dC = _sum_to_shape(dC_all, C.shape)
    return dh0, dC, dW_h, dW_c


# ---------------------------------------------------------------------------
# Part B -- self-attention
# ---------------------------------------------------------------------------

def softmax(x, axis=-1)
    x = np.asarray(x, dtype=np.float64)
    # put the softmax axis last so that every "row" is x_last[idx]
    x_last = np.moveaxis(x, axis, -1)
    out = np.zeros(x_last.shape)
    for idx in np.ndindex(*x_last.shape[:-1]):
        out[idx] = _softmax_vector(x_last[idx])
    return np.moveaxis(out, -1, axis)


def softmax_backward(dA, A, axis=-1):
    dA = np.asarray(dA, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    A_last = np.moveaxis(A, axis, -1)
    dA_last = np.moveaxis(dA, axis, -1)
    dx = np.zeros(A_last.shape)
    for idx in np.ndindex(*A_last.shape[:-1]):
        a = A_last[idx]
        g = dA_last[idx]
        dot = float(np.dot(g, a))
        dx[idx] = a * (g - dot)
    return np.moveaxis(dx, -1, axis)


def qkv(C, W_q, W_k, W_v):
    C = np.asarray(C, dtype=np.float64)
    batch = C.shape[:-2]
    T = C.shape[-2]
    Q = np.zeros(batch + (T, W_q.shape[0]))
    K = np.zeros(batch + (T, W_k.shape[0]))
    V = np.zeros(batch + (T, W_v.shape[0]))
    for idx in np.ndindex(*batch):
        for t in range(T):
            c = C[idx + (t,)]
            Q[idx + (t,)] = W_q @ c
            K[idx + (t,)] = W_k @ c
            V[idx + (t,)] = W_v @ c
    return Q, K, V


def attention_weights(Q, K, causal=True):
    Q = np.asarray(Q, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2])
    Q_all = np.broadcast_to(Q, batch + Q.shape[-2:])
    K_all = np.broadcast_to(K, batch + K.shape[-2:])
    T_q = Q.shape[-2]
    T_k = K.shape[-2]
    scale = 1.0 / math.sqrt(Q.shape[-1])

    A = np.zeros(batch + (T_q, T_k))
    for idx in np.ndindex(*batch):
        q_seq = Q_all[idx]
        k_seq = K_all[idx]
        for i in range(T_q):
            # with a causal mask, position i only sees j = 0..i; the rest stay 0
            n_visible = min(i + 1, T_k) if causal else T_k
            scores = np.zeros(n_visible)
            for j in range(n_visible):
                scores[j] = np.dot(q_seq[i], k_seq[j]) * scale
            A[idx + (i, slice(0, n_visible))] = _softmax_vector(scores)
    return A


def self_attention(C, W_q, W_k, W_v, causal=True):
    Q, K, V = qkv(C, W_q, W_k, W_v)
    A = attention_weights(Q, K, causal)
    batch = A.shape[:-2]
    T = A.shape[-2]
    H = np.zeros(batch + (T, V.shape[-1]))
    for idx in np.ndindex(*batch):
        for i in range(T):
            # h_i = sum_j A_ij v_j  (e.g. h_3 = 0.3 v_1 + 0.5 v_2 + 0.2 v_3)
            h = np.zeros(V.shape[-1])
            for j in range(T):
                h += A[idx + (i, j)] * V[idx + (j,)]
            H[idx + (i,)] = h
    return H, A


def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):
    C = np.asarray(C, dtype=np.float64)
    dH = np.asarray(dH, dtype=np.float64)
    Q, K, V = qkv(C, W_q, W_k, W_v)
    A = attention_weights(Q, K, causal)
    scale = 1.0 / math.sqrt(Q.shape[-1])
    batch = C.shape[:-2]
    T = C.shape[-2]

    dC = np.zeros(C.shape)
    dW_q = np.zeros(W_q.shape)
    dW_k = np.zeros(W_k.shape)
    dW_v = np.zeros(W_v.shape)

    for idx in np.ndindex(*batch):
        a = A[idx]          # (T, T)
        q = Q[idx]
        k = K[idx]
        v = V[idx]
        dh = dH[idx]        # (T, d_v)

        # H = A V
        dA = dh @ v.T
        dV = a.T @ dh

        # softmax backward, one row at a time
        dS = np.zeros((T, T))
        for i in range(T):
            dS[i] = a[i] * (dA[i] - np.dot(dA[i], a[i]))
        dS = dS * scale

        # S = Q K^T * scale
        dQ = np.zeros(q.shape)
        dK = np.zeros(k.shape)
        for i in range(T):
            for j in range(T):
                if dS[i, j] != 0.0:
                    dQ[i] += dS[i, j] * k[j]
                    dK[j] += dS[i, j] * q[i]

        # projections q_t = W_q c_t, etc.
        for t in range(T):
            c = C[idx + (t,)]
            dC[idx + (t,)] = W_q.T @ dQ[t] + W_k.T @ dK[t] + W_v.T @ dV[t]
            dW_q += np.outer(dQ[t], c)
            dW_k += np.outer(dK[t], c)
            dW_v += np.outer(dV[t], c)

    return dC, dW_q, dW_k, dW_v


# ---------------------------------------------------------------------------
# Part C -- negative log-likelihood
# ---------------------------------------------------------------------------

def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=np.float64)
    x_last = np.moveaxis(x, axis, -1)
    out = np.zeros(x_last.shape)
    for idx in np.ndindex(*x_last.shape[:-1]):
        out[idx] = _log_softmax_vector(x_last[idx])
    return np.moveaxis(out, -1, axis)


def _get_mask(targets, mask):
    if mask is None:
        return np.ones(targets.shape, dtype=bool)
    return np.asarray(mask, dtype=bool)


def nll_loss(logits, targets, mask=None):
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    mask = _get_mask(targets, mask)

    total = 0.0
    count = 0
    for idx in np.ndindex(*targets.shape):
        if not mask[idx]:
            continue
        log_p = _log_softmax_vector(logits[idx])
        total -= log_p[targets[idx]]
        count += 1

    if count == 0:
        raise ValueError("nll_loss: no position is counted by the mask")
    return float(total / count)


def nll_loss_backward(logits, targets, mask=None):
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    mask = _get_mask(targets, mask)

    count = 0
    for idx in np.ndindex(*mask.shape):
        if mask[idx]:
            count += 1
    if count == 0:
        raise ValueError("nll_loss_backward: no position is counted by the mask")

    V = logits.shape[-1]
    dlogits = np.zeros(logits.shape)
    for idx in np.ndindex(*targets.shape):
        if not mask[idx]:
            continue
        p = _softmax_vector(logits[idx])
        onehot = np.zeros(V)
        for v in range(V):
            if v == targets[idx]:
                onehot[v] = 1.0
        dlogits[idx] = (p - onehot) / count
    return dlogits


def lm_inputs_and_targets(token_ids, pad_id):
    ids = np.asarray(token_ids)
    lead = ids.shape[:-1]
    T = ids.shape[-1] - 1
    inputs = np.empty(lead + (T,), dtype=ids.dtype)
    targets = np.empty(lead + (T,), dtype=ids.dtype)
    mask = np.empty(lead + (T,), dtype=bool)
    for idx in np.ndindex(*lead):
        for t in range(T):
            inputs[idx + (t,)] = ids[idx + (t,)]
            targets[idx + (t,)] = ids[idx + (t + 1,)]
            mask[idx + (t,)] = ids[idx + (t + 1,)] != pad_id
    return inputs, targets, mask


def rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
    inputs, targets, mask = lm_inputs_and_targets(token_ids, pad_id)
    lead = inputs.shape[:-1]
    T = inputs.shape[-1]

    # look up the embedding of every input word
    C = np.zeros(lead + (T, E.shape[1]))
    for idx in np.ndindex(*lead):
        for t in range(T):
            C[idx + (t,)] = E[inputs[idx + (t,)]]

    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)

    logits = np.zeros(lead + (T, W_out.shape[0]))
    for idx in np.ndindex(*lead):
        for t in range(T):
            logits[idx + (t,)] = W_out @ H[idx + (t,)]

    return nll_loss(logits, targets, mask)
