#!/usr/bin/env python
# HW1 - NLP
# my approach: flatten all the batch dimensions into one "N" axis, do plain 2-D/3-D
# matrix math, then reshape back at the end. lots of prints so I can see what's going on

import numpy as np

print("hw1: loading my solution... numpy version", np.__version__)

VERBOSE = True
NONLINEARITIES = ["tanh", "relu"]
NEG_INF = -np.inf
SEED = 1234


def show(name, arr):
    """print the shape (and a tiny peek) of an array"""
    arr = np.asarray(arr)
    if VERBOSE:
        if arr.size <= 4:
            print(f"  {name}: shape={arr.shape} values={np.round(arr, 4).tolist()}")
        else:
            print(f"  {name}: shape={arr.shape} mean={arr.mean():.4f}")


def flatten_batch(x, n_keep):
    """turn (..., a, b) into (N, a, b) where n_keep is how many trailing dims to keep.
    returns the flat array and the batch shape so I can undo it later"""
    x = np.asarray(x, dtype=np.float64)
    batch_shape = x.shape[:x.ndim - n_keep]
    N = int(np.prod(batch_shape, dtype=np.int64))
    return x.reshape((N,) + x.shape[x.ndim - n_keep:]), batch_shape


def sum_to_shape(g, shape):
    """gradient of a broadcast input = sum over the broadcast axes"""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g


def check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        print("  bad nonlinearity:", nonlinearity)
        raise ValueError("nonlinearity has to be 'tanh' or 'relu', got " + repr(nonlinearity))


# ========================= PART A =========================

def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    print(f"rnn_step ({nonlinearity})")
    check_nonlinearity(nonlinearity)
    pre = np.matmul(h_prev, W_h.T) + np.matmul(c_t, W_c.T)
    show("pre-activation", pre)
    if nonlinearity == "relu":
        return pre * (pre > 0)
    return np.tanh(pre)


def rnn_forward(h0, C, W_h, W_c, nonlinearity="tanh"):
    print(f"rnn_forward: h0 {np.shape(h0)}, C {np.shape(C)}")
    check_nonlinearity(nonlinearity)
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    batch_shape = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    T, d_c = C.shape[-2:]
    d_h = W_h.shape[0]

    Cf, _ = flatten_batch(np.broadcast_to(C, batch_shape + (T, d_c)), 2)   # (N, T, d_c)
    h, _ = flatten_batch(np.broadcast_to(h0, batch_shape + (d_h,)), 1)    # (N, d_h)
    N = h.shape[0]
    out = np.zeros((N, T, d_h))
    for t in range(T):
        pre = h @ W_h.T + Cf[:, t, :] @ W_c.T
        h = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
        out[:, t, :] = h
    print("  done, T =", T, "N =", N)
    return out.reshape(batch_shape + (T, d_h))


def rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    print("rnn_step_backward")
    check_nonlinearity(nonlinearity)
    d_h, d_c = W_c.shape
    hp, batch_shape = flatten_batch(h_prev, 1)   # (N, d_h)
    ct, _ = flatten_batch(c_t, 1)                # (N, d_c)
    dh, _ = flatten_batch(dh_t, 1)               # (N, d_h)

    pre = hp @ W_h.T + ct @ W_c.T
    if nonlinearity == "tanh":
        deriv = 1 - np.tanh(pre) ** 2
    else:
        deriv = np.where(pre > 0, 1.0, 0.0)   # derivative at exactly 0 -> 0
    dpre = dh * deriv
    show("dpre", dpre)

    dh_prev = (dpre @ W_h).reshape(batch_shape + (d_h,))
    dc = (dpre @ W_c).reshape(batch_shape + (d_c,))
    dW_h = dpre.T @ hp
    dW_c = dpre.T @ ct
    return dh_prev, dc, dW_h, dW_c


def rnn_backward(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
    print("rnn_backward: running forward first")
    h0 = np.asarray(h0, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)
    batch_shape = H.shape[:-2]
    T, d_h = H.shape[-2:]
    d_c = C.shape[-1]

    Hf, _ = flatten_batch(H, 2)                                              # (N, T, d_h)
    Cf, _ = flatten_batch(np.broadcast_to(C, batch_shape + (T, d_c)), 2)     # (N, T, d_c)
    dHf, _ = flatten_batch(np.broadcast_to(dH, H.shape), 2)                  # (N, T, d_h)
    h_init, _ = flatten_batch(np.broadcast_to(h0, batch_shape + (d_h,)), 1)  # (N, d_h)

    dW_h = np.zeros((d_h, d_h))
    dW_c = np.zeros(W_c.shape)
    dCf = np.zeros(Cf.shape)
    dh_next = np.zeros(h_init.shape)

    for t in range(T - 1, -1, -1):
        if t == 0:
            prev = h_init
        else:
            prev = Hf[:, t - 1, :]
        total_dh = dHf[:, t, :] + dh_next
        if nonlinearity == "tanh":
            dpre = total_dh * (1 - Hf[:, t, :] ** 2)   # tanh' = 1 - h^2
        else:
            pre = prev @ W_h.T + Cf[:, t, :] @ W_c.T
            dpre = total_dh * (pre > 0)
        dW_h += dpre.T @ prev
        dW_c += dpre.T @ Cf[:, t, :]
        dCf[:, t, :] = dpre @ W_c
        dh_next = dpre @ W_h

    print("  BPTT finished, |dW_h| =", round(float(np.abs(dW_h).sum()), 4))
    dh0 = sum_to_shape(dh_next.reshape(batch_shape + (d_h,)), h0.shape)
    dC = sum_to_shape(dCf.reshape(batch_shape + (T, d_c)), C.shape)
    return dh0, dC, dW_h, dW_c


# ========================= PART B =========================

def softmax(x, axis=-1):
    print("computing softmax... axis =", axis)
    x = np.asarray(x, dtype=np.float64)
    xm = np.moveaxis(x, axis, -1)
    rows = xm.reshape(-1, xm.shape[-1])            # one softmax per row
    biggest = rows.max(axis=1, keepdims=True)
    biggest[~np.isfinite(biggest)] = 0.0            # avoid -inf - -inf
    ex = np.exp(rows - biggest)
    probs = ex / ex.sum(axis=1, keepdims=True)
    return np.moveaxis(probs.reshape(xm.shape), -1, axis)


def softmax_backward(dA, A, axis=-1):
    print("softmax_backward")
    A = np.asarray(A, dtype=np.float64)
    dA = np.asarray(dA, dtype=np.float64)
    Am = np.moveaxis(A, axis, -1)
    dAm = np.moveaxis(dA, axis, -1)
    A2 = Am.reshape(-1, Am.shape[-1])
    dA2 = dAm.reshape(-1, Am.shape[-1])
    weighted = (A2 * dA2).sum(axis=1, keepdims=True)
    dx = A2 * dA2 - A2 * weighted
    return np.moveaxis(dx.reshape(Am.shape), -1, axis)


def qkv(C, W_q, W_k, W_v):
    Cf, batch_shape = flatten_batch(C, 2)
    N, T, d_c = Cf.shape
    print(f"qkv: N={N} T={T} d_c={d_c}")
    flat = Cf.reshape(N * T, d_c)
    Q = (flat @ W_q.T).reshape(batch_shape + (T, W_q.shape[0]))
    K = (flat @ W_k.T).reshape(batch_shape + (T, W_k.shape[0]))
    V = (flat @ W_v.T).reshape(batch_shape + (T, W_v.shape[0]))
    show("Q", Q)
    return Q, K, V


def attention_weights(Q, K, causal=True):
    print("attention_weights, causal =", causal)
    Q = np.asarray(Q, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    d_k = Q.shape[-1]
    scores = np.matmul(Q, np.swapaxes(K, -2, -1)) / d_k ** 0.5
    if causal:
        Tq, Tk = scores.shape[-2], scores.shape[-1]
        i = np.arange(Tq).reshape(-1, 1)
        j = np.arange(Tk).reshape(1, -1)
        scores = np.where(j > i, NEG_INF, scores)   # no looking into the future
    A = softmax(scores, axis=-1)
    show("A", A)
    return A


def self_attention(C, W_q, W_k, W_v, causal=True):
    print("=== self_attention ===")
    Q, K, V = qkv(C, W_q, W_k, W_v)
    A = attention_weights(Q, K, causal=causal)
    H = np.matmul(A, V)
    show("H", H)
    return H, A


def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):
    print("=== self_attention_backward ===")
    C = np.asarray(C, dtype=np.float64)
    Q, K, V = qkv(C, W_q, W_k, W_v)
    A = attention_weights(Q, K, causal=causal)
    Cf, batch_shape = flatten_batch(C, 2)     # (N, T, d_c)
    Qf, _ = flatten_batch(Q, 2)
    Kf, _ = flatten_batch(K, 2)
    Vf, _ = flatten_batch(V, 2)
    Af, _ = flatten_batch(A, 2)
    dHf, _ = flatten_batch(dH, 2)
    N, T, d_c = Cf.shape

    dAf = dHf @ Vf.transpose(0, 2, 1)
    dVf = Af.transpose(0, 2, 1) @ dHf
    # softmax backward along the last axis (the rows of A)
    dSf = Af * (dAf - (Af * dAf).sum(axis=-1, keepdims=True))
    dSf = dSf / np.sqrt(Q.shape[-1])
    dQf = dSf @ Kf
    dKf = dSf.transpose(0, 2, 1) @ Qf

    rowsC = Cf.reshape(N * T, d_c)
    dQ2 = dQf.reshape(N * T, -1)
    dK2 = dKf.reshape(N * T, -1)
    dV2 = dVf.reshape(N * T, -1)
    dW_q = dQ2.T @ rowsC
    dW_k = dK2.T @ rowsC
    dW_v = dV2.T @ rowsC
    dC = (dQ2 @ W_q + dK2 @ W_k + dV2 @ W_v).reshape(C.shape)
    show("dC", dC)
    return dC, dW_q, dW_k, dW_v


# ========================= PART C =========================

def log_softmax(logits, axis=-1):
    print("computing log_softmax... axis =", axis)
    x = np.asarray(logits, dtype=np.float64)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    z = x - top
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _prep_nll(logits, targets, mask):
    logits = np.asarray(logits, dtype=np.float64)
    V = logits.shape[-1]
    L = logits.reshape(-1, V)                       # (N, V)
    tg = np.asarray(targets).reshape(-1)            # (N,)
    if mask is None:
        m = np.ones(tg.shape[0], dtype=bool)
    else:
        m = np.asarray(mask, dtype=bool).reshape(-1)
    return L, tg, m


def nll_loss(logits, targets, mask=None):
    L, tg, m = _prep_nll(logits, targets, mask)
    print(f"nll_loss: {L.shape[0]} positions, {int(m.sum())} counted")
    if not m.any():
        raise ValueError("nll_loss: nothing to average (mask is all False)")
    logp = log_softmax(L, axis=-1)
    picked = logp[np.arange(L.shape[0]), tg]
    loss = -picked[m].mean()
    print("  loss =", loss)
    return float(loss)


def nll_loss_backward(logits, targets, mask=None):
    L, tg, m = _prep_nll(logits, targets, mask)
    print(f"nll_loss_backward: {int(m.sum())} counted")
    if not m.any():
        raise ValueError("nll_loss_backward: nothing to average (mask is all False)")
    grad = softmax(L, axis=-1)
    grad[np.arange(L.shape[0]), tg] -= 1.0
    grad[~m] = 0.0
    grad /= m.sum()
    return grad.reshape(np.shape(logits))


def lm_inputs_and_targets(token_ids, pad_id):
    token_ids = np.asarray(token_ids)
    print("lm_inputs_and_targets: ids shape", token_ids.shape, "pad =", pad_id)
    x = token_ids[:, :-1]
    y = token_ids[:, 1:]
    return x, y, y != pad_id


def rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
    print("---- rnn_lm_loss ----")
    x, y, m = lm_inputs_and_targets(token_ids, pad_id)
    emb = E[x]
    show("embeddings", emb)
    H = rnn_forward(h0, emb, W_h, W_c, nonlinearity)
    logits = H @ W_out.T
    show("logits", logits)
    return nll_loss(logits, y, m)


# ---------------- quick sanity checks (so I can see it works) ----------------
print("running my little demo:")
rng = np.random.default_rng(SEED)
print("softmax([1, 2, 3]) =", np.round(softmax(np.array([1.0, 2.0, 3.0])), 4))
print("softmax of huge numbers =", softmax(np.array([1000.0, 1000.0, -np.inf])))
demo_ids = np.array([[1, 5, 6, 2, 0], [1, 7, 2, 0, 0]])
demo_E = rng.normal(size=(8, 3))
demo_loss = rnn_lm_loss(demo_ids, demo_E, np.zeros(4), rng.normal(size=(4, 4)) * 0.5,
                        rng.normal(size=(4, 3)) * 0.5, rng.normal(size=(8, 4)), pad_id=0)
print("demo LM loss:", round(demo_loss, 4), "(log 8 would be", round(float(np.log(8)), 4), ")")
print("hw1 loaded OK")
