"""Homework 1 -- Bob's submission (demo: partly wrong)."""

# # Homework 1 — language models from three ideas
#
# The lecture builds a language model from three ideas, and so does this homework:
#
# * **Part A** — the recurrent composition `h_t = f(W_h h_{t-1} + W_c c_t)` and its gradients;
# * **Part B** — query/key/value self-attention, where `h_3 = 0.3 v_1 + 0.5 v_2 + 0.2 v_3`;
# * **Part C** — the averaged negative log-likelihood of the ground-truth next word.
#
# Every function takes and returns numpy arrays of float64. Leading batch dimensions `...`
# (zero, one or more) are allowed everywhere and must be preserved. Vectors are rows, so
# the lecture's `W_c c_t` (a matrix times a column vector) is `c_t @ W_c.T` here.
#
# Every `*_backward` function returns the gradients of the scalar
# `L = sum(upstream * output)` with respect to each input it names, each with that input's
# shape. Gradients of weight matrices are summed over every batch position and time step.

import numpy as np

# ## Part A — recurrent composition
#
# An RNN reads a sentence one word at a time. After reading the word vector `c_t`
# (size `d_c`) it holds a **hidden state** `h_t` (size `d_h`) that summarises the prefix:
#
#     h_t = f(W_h h_{t-1} + W_c c_t)
#
# `W_h` is a `d_h × d_h` matrix, `W_c` is `d_h × d_c`, and `f` is an element-wise
# nonlinearity: `tanh(x)` or `ReLU(x) = max(0, x)`. `h` and `c` need not have the same size.
#
# Training needs the gradients too. With `a_t = W_h h_{t-1} + W_c c_t` and
# `h_t = f(a_t)`, the chain rule gives `dL/da_t = dL/dh_t * f'(a_t)`, where
# `tanh'(a) = 1 - tanh(a)^2` and `ReLU'(a) = 1 if a > 0 else 0` (0 at a = 0).
# Back-propagation through time walks the sequence backwards, adding the gradient that
# flows into `h_{t-1}` from step `t` to the gradient that `h_{t-1}` receives directly.


def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    """One step of the RNN composition  h_t = f(W_h h_{t-1} + W_c c_t).

    Args:
        h_prev: previous hidden state h_{t-1}, shape (..., d_h).
        c_t: input vector c_t, shape (..., d_c).
        W_h: recurrent weights, shape (d_h, d_h).
        W_c: input weights, shape (d_h, d_c).
        nonlinearity: "tanh" or "relu" (f(x) = max(0, x)).

    Returns:
        h_t, shape (..., d_h).

    Raises:
        ValueError: if `nonlinearity` is neither "tanh" nor "relu".
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}")
    a_t = h_prev @ W_h.T + c_t @ W_c.T  # (..., d_h)
    if nonlinearity == "tanh":
        return np.tanh(a_t)  # (..., d_h)
    return np.maximum(a_t, 0.0)  # (..., d_h)


def rnn_forward(h0, C, W_h, W_c, nonlinearity="tanh"):
    """Run the RNN over a whole sequence: H[..., t, :] = h_{t+1}.

    Args:
        h0: initial hidden state, shape (..., d_h); a single (d_h,) state is shared
            by every sequence in the batch.
        C: input vectors c_1 .. c_T, shape (..., T, d_c).
        W_h: recurrent weights, shape (d_h, d_h).
        W_c: input weights, shape (d_h, d_c).
        nonlinearity: "tanh" or "relu".

    Returns:
        H, shape (..., T, d_h): H[..., t, :] is the state after reading C[..., t, :].
        h0 itself is not included.
    """
    T = C.shape[-2]
    d_h = W_h.shape[0]
    batch_shape = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    H = np.empty(batch_shape + (T, d_h))  # (..., T, d_h)
    h_t = h0  # (..., d_h)
    for t in range(T):
        h_t = rnn_step(h_t, C[..., t, :], W_h, W_c, nonlinearity)  # (..., d_h)
        H[..., t, :] = h_t
    return H


def rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    """Gradients of one RNN step, for L = sum(dh_t * rnn_step(h_prev, c_t, W_h, W_c)).

    With a_t = W_h h_{t-1} + W_c c_t and da_t = dh_t * f'(a_t):
        dh_prev = W_h^T da_t,   dc_t = W_c^T da_t,
        dW_h = sum over the batch of da_t h_{t-1}^T,   dW_c = sum of da_t c_t^T.

    Args:
        dh_t: upstream gradient dL/dh_t, shape (..., d_h).
        h_prev: previous hidden state h_{t-1}, shape (..., d_h).
        c_t: input vector c_t, shape (..., d_c).
        W_h: recurrent weights, shape (d_h, d_h).
        W_c: input weights, shape (d_h, d_c).
        nonlinearity: "tanh" or "relu"; ReLU's derivative at 0 is taken to be 0.

    Returns:
        (dh_prev, dc_t, dW_h, dW_c) with shapes (..., d_h), (..., d_c), (d_h, d_h), (d_h, d_c).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}")
    a_t = h_prev @ W_h.T + c_t @ W_c.T  # (..., d_h)
    if nonlinearity == "tanh":
        da_t = dh_t  # (..., d_h)
    else:
        da_t = dh_t * (a_t > 0)  # (..., d_h)
    dh_prev = da_t @ W_h  # (..., d_h)
    dc_t = da_t @ W_c  # (..., d_c)
    # Each batch position adds its outer product da_t h_{t-1}^T; with every position as one
    # row of a matrix, that sum is a single matrix product.
    d_h, d_c = W_c.shape
    da_rows = da_t.reshape(-1, d_h)  # (N, d_h), N = number of batch positions
    dW_h = da_rows.T @ h_prev.reshape(-1, d_h)  # (d_h, d_h)
    dW_c = da_rows.T @ c_t.reshape(-1, d_c)  # (d_h, d_c)
    return dh_prev, dc_t, dW_h, dW_c


def rnn_backward(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
    """Back-propagation through time, for L = sum(dH * rnn_forward(h0, C, W_h, W_c)).

    The state h_t receives gradient from the loss directly (dH[..., t-1, :]) and from the
    next step through h_{t+1} = f(W_h h_t + ...); walk t = T .. 1 and add both.

    Args:
        dH: upstream gradient dL/dH, shape (..., T, d_h).
        h0: initial hidden state, shape (..., d_h) (or (d_h,), shared by the batch).
        C: input vectors, shape (..., T, d_c).
        W_h: recurrent weights, shape (d_h, d_h).
        W_c: input weights, shape (d_h, d_c).
        nonlinearity: "tanh" or "relu".

    Returns:
        (dh0, dC, dW_h, dW_c) with the shapes of h0, C, W_h and W_c.
    """
    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)  # (..., T, d_h)
    T = C.shape[-2]
    dC = np.zeros(H.shape[:-1] + C.shape[-1:])  # (..., T, d_c)
    dW_h = np.zeros_like(W_h, dtype=np.float64)  # (d_h, d_h)
    dW_c = np.zeros_like(W_c, dtype=np.float64)  # (d_h, d_c)
    dh_next = np.zeros(H.shape[:-2] + H.shape[-1:])  # (..., d_h): gradient from step t+1
    for t in reversed(range(T)):
        h_prev = H[..., t - 1, :] if t > 0 else np.broadcast_to(h0, dh_next.shape)  # (..., d_h)
        dh_t = dH[..., t, :] + dh_next  # (..., d_h)
        dh_next, dC[..., t, :], dW_h_t, dW_c_t = rnn_step_backward(
            dh_t, h_prev, C[..., t, :], W_h, W_c, nonlinearity
        )
        dW_h += dW_h_t
        dW_c += dW_c_t
    # A shared h0 of shape (d_h,) collects the gradient of every sequence in the batch.
    dh0 = dh_next.sum(axis=tuple(range(dh_next.ndim - np.ndim(h0))))  # shape of h0
    dC = dC.sum(axis=tuple(range(dC.ndim - np.ndim(C))))  # shape of C
    return dh0, dC, dW_h, dW_c


# ## Part B — self-attention
#
# An RNN must compute `h_{t-1}` before `h_t`, and squeezes the whole prefix into one
# vector. Self-attention instead builds each hidden state directly from every word it may
# look at. Each word vector `c_j` gives a **query**, a **key** and a **value**:
#
#     q_j = W_q c_j,    k_j = W_k c_j,    v_j = W_v c_j
#
# Position `i` scores every position `j` by `q_i · k_j / sqrt(d_k)`, turns the scores into
# weights with a softmax, and mixes the values with them. In the lecture,
#
#     h_3 = 0.3 v_1 + 0.5 v_2 + 0.2 v_3
#
# A language model must not peek at the words it predicts, so with a **causal** mask
# position `i` attends only to positions `j <= i` (its weights on later positions are 0).
#
# The softmax `A_i = exp(x_i) / sum_j exp(x_j)` overflows for large inputs; since
# subtracting a constant from every `x_j` leaves `A` unchanged, subtract the maximum first.
# Its backward pass is `dx = A * (dA - sum_j dA_j A_j)`.


def softmax(x, axis=-1):
    """Numerically stable softmax  A_i = exp(x_i) / sum_j exp(x_j)  along `axis`.

    Args:
        x: scores, any shape; entries may be -inf (they get weight 0).
        axis: the axis that sums to 1.

    Returns:
        A, the shape of x: entries in [0, 1] that sum to 1 along `axis`.
    """
    x = np.asarray(x, dtype=np.float64)
    x_max = np.max(x, axis=axis, keepdims=True)
    x_max = np.where(np.isfinite(x_max), x_max, 0.0)  # an all -inf slice must not give -inf - -inf
    e = np.exp(x - x_max)  # every exponent <= 0: no overflow
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_backward(dA, A, axis=-1):
    """Gradient of L = sum(dA * A) with respect to x, where A = softmax(x, axis).

    dx_i = A_i * (dA_i - sum_j dA_j A_j)

    Args:
        dA: upstream gradient dL/dA, shape of A.
        A: the softmax output, any shape.
        axis: the axis the softmax was taken over.

    Returns:
        dx, the shape of A.
    """
    return A * (dA - np.sum(dA * A, axis=axis, keepdims=True))


def qkv(C, W_q, W_k, W_v):
    """Queries, keys and values of every position:  q_t = W_q c_t,  k_t = W_k c_t,  v_t = W_v c_t.

    Args:
        C: input vectors, shape (..., T, d_c).
        W_q: query weights, shape (d_k, d_c).
        W_k: key weights, shape (d_k, d_c).
        W_v: value weights, shape (d_v, d_c).

    Returns:
        (Q, K, V) with shapes (..., T, d_k), (..., T, d_k), (..., T, d_v).
    """
    Q = C @ W_q.T  # (..., T, d_k)
    K = C @ W_k.T  # (..., T, d_k)
    V = C @ W_v.T  # (..., T, d_v)
    return Q, K, V


def attention_weights(Q, K, causal=True):
    """Attention weights  A = softmax(Q K^T / sqrt(d_k))  over the last axis.

    Args:
        Q: queries, shape (..., T, d_k).
        K: keys, shape (..., T, d_k).
        causal: if True, position i attends only to positions j <= i.

    Returns:
        A, shape (..., T, T): row i holds the weights position i gives to every j;
        each row sums to 1, and with `causal` A[..., i, j] == 0 for j > i.
    """
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (..., T, T)
    if causal:
        T_q, T_k = scores.shape[-2:]
        future = np.triu(np.ones((T_q, T_k), dtype=bool), k=1)  # (T, T): True where j > i
        scores = np.where(future, -np.inf, scores)  # (..., T, T)
    return softmax(scores, axis=-1)


def self_attention(C, W_q, W_k, W_v, causal=True):
    """Self-attention: every h_i is a weighted mix of the values,  H = A V.

    Args:
        C: input vectors, shape (..., T, d_c).
        W_q: query weights, shape (d_k, d_c).
        W_k: key weights, shape (d_k, d_c).
        W_v: value weights, shape (d_v, d_c).
        causal: if True, position i attends only to positions j <= i.

    Returns:
        (H, A) with shapes (..., T, d_v) and (..., T, T).
    """
    Q, K, V = qkv(C, W_q, W_k, W_v)  # (..., T, d_k), (..., T, d_k), (..., T, d_v)
    A = attention_weights(Q, K, causal)  # (..., T, T)
    H = A @ V  # (..., T, d_v)
    return H, A


def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):
    """Gradients of L = sum(dH * H), where (H, A) = self_attention(C, W_q, W_k, W_v, causal).

    Going backwards through H = A V, A = softmax(S), S = Q K^T / sqrt(d_k) and the three
    projections:
        dA = dH V^T,  dV = A^T dH,  dS = softmax_backward(dA, A),
        dQ = dS K / sqrt(d_k),  dK = dS^T Q / sqrt(d_k),
        dC = dQ W_q + dK W_k + dV W_v,  dW_q = sum of dQ^T C (and likewise dW_k, dW_v).

    Args:
        dH: upstream gradient dL/dH, shape (..., T, d_v).
        C: input vectors, shape (..., T, d_c).
        W_q, W_k: shape (d_k, d_c).  W_v: shape (d_v, d_c).
        causal: as in self_attention.

    Returns:
        (dC, dW_q, dW_k, dW_v) with the shapes of C, W_q, W_k and W_v.
    """
    Q, K, V = qkv(C, W_q, W_k, W_v)  # (..., T, d_k), (..., T, d_k), (..., T, d_v)
    A = attention_weights(Q, K, causal)  # (..., T, T)
    scale = 1.0 / np.sqrt(Q.shape[-1])
    dA = dH @ np.swapaxes(V, -1, -2)  # (..., T, T)
    dV = np.swapaxes(A, -1, -2) @ dH  # (..., T, d_v)
    dS = softmax_backward(dA, A, axis=-1) * scale  # (..., T, T); masked entries stay 0
    dQ = dS @ K  # (..., T, d_k)
    dK = np.swapaxes(dS, -1, -2) @ Q  # (..., T, d_k)
    dC = dQ @ W_q + dK @ W_k + dV @ W_v  # (..., T, d_c)
    C_rows = C.reshape(-1, C.shape[-1])  # (N, d_c): every batch position and time step is a row
    dW_q = dQ.reshape(-1, dQ.shape[-1]).T @ C_rows  # (d_k, d_c), summed over batch and time
    dW_k = dK.reshape(-1, dK.shape[-1]).T @ C_rows  # (d_k, d_c)
    dW_v = dV.reshape(-1, dV.shape[-1]).T @ C_rows  # (d_v, d_c)
    return dC, dW_q, dW_k, dW_v


# ## Part C — averaged negative log-likelihood
#
# A language model predicts the next word. At each position it produces one score
# (a *logit*) per vocabulary word; a softmax turns them into `p(word | prefix)`. The loss is
# the negative log-probability of the ground-truth next word, averaged over the positions:
#
#     L_1 = -log p(opened | students)
#     L_2 = -log p(their | students opened)
#     L_3 = -log p(books | students opened their)
#     L   = (L_1 + L_2 + L_3) / 3
#
# Sentences in a batch have different lengths, so they are padded; a mask says which
# positions count. `log_softmax(x) = x - max(x) - log(sum(exp(x - max(x))))` is the stable
# way to get log-probabilities. The gradient of the mean NLL with respect to the logits is
# `(softmax(logits) - onehot(target)) / N` at every counted position, and 0 elsewhere.


def log_softmax(logits, axis=-1):
    """Numerically stable log-probabilities  log softmax(x) = x - log(sum_j exp(x_j)).

    Args:
        logits: scores, any shape; entries may be -inf.
        axis: the axis over which probabilities sum to 1.

    Returns:
        log-probabilities, the shape of logits.
    """
    x = np.asarray(logits, dtype=np.float64)
    x_max = np.max(x, axis=axis, keepdims=True)
    x_max = np.where(np.isfinite(x_max), x_max, 0.0)
    shifted = x - x_max  # every entry <= 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def nll_loss(logits, targets, mask=None):
    """Mean negative log-likelihood of the targets over the counted positions.

    L = (1 / N) * sum over counted positions of -log p(target), N = number counted.

    Args:
        logits: scores, shape (..., T, V).
        targets: integer ids in [0, V), shape (..., T).
        mask: booleans, shape (..., T), True where the position counts; None counts all.

    Returns:
        L as a Python float.

    Raises:
        ValueError: if no position counts.
    """
    targets = np.asarray(targets)
    mask = np.ones(targets.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    n_counted = int(mask.sum())
    if n_counted == 0:
        raise ValueError("nll_loss: the mask counts no position, so the mean is undefined")
    log_p = log_softmax(logits, axis=-1)  # (..., T, V)
    log_p_target = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # (..., T)
    losses = np.where(mask, -log_p_target, 0.0)  # (..., T); uncounted positions add nothing
    return float(losses.sum())


def nll_loss_backward(logits, targets, mask=None):
    """Gradient of nll_loss(logits, targets, mask) with respect to the logits.

    At a counted position: (softmax(logits) - onehot(target)) / N; elsewhere 0.

    Args:
        logits: scores, shape (..., T, V).
        targets: integer ids in [0, V), shape (..., T).
        mask: booleans, shape (..., T), or None (all count).

    Returns:
        dlogits, shape (..., T, V).

    Raises:
        ValueError: if no position counts.
    """
    targets = np.asarray(targets)
    mask = np.ones(targets.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    n_counted = int(mask.sum())
    if n_counted == 0:
        raise ValueError("nll_loss_backward: the mask counts no position, so the mean is undefined")
    p = softmax(logits, axis=-1)  # (..., T, V)
    onehot = np.zeros_like(p)  # (..., T, V)
    np.put_along_axis(onehot, targets[..., None], 1.0, axis=-1)
    return (p - onehot) * mask[..., None] / n_counted


def lm_inputs_and_targets(token_ids, pad_id):
    """Split padded sentences into the model's inputs and the next words it must predict.

    Each row is `<bos> w_1 ... w_n <eos>` followed by padding. The input at position t is
    ids[t] and its target is the next word ids[t + 1]; padding targets do not count.

    Args:
        token_ids: integer ids, shape (B, T + 1).
        pad_id: the id of the padding token.

    Returns:
        (inputs, targets, mask) of shapes (B, T), (B, T), (B, T):
        inputs = ids[:, :-1], targets = ids[:, 1:], mask = targets != pad_id.
    """
    token_ids = np.asarray(token_ids)
    inputs = token_ids[..., :-1]  # (B, T)
    targets = token_ids[..., 1:]  # (B, T)
    mask = targets != pad_id  # (B, T)
    return inputs, targets, mask


def rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
    """Averaged next-word NLL of an RNN language model on a padded batch.

    c_t = E[input_t],  h_t = f(W_h h_{t-1} + W_c c_t),  logits_t = W_out h_t,
    L = mean over non-padding targets of -log softmax(logits_t)[target_t].

    Args:
        token_ids: integer ids, shape (B, T + 1).
        E: word embeddings, shape (V, d_c).
        h0: initial state, shape (d_h,), shared by every sentence.
        W_h: shape (d_h, d_h).  W_c: shape (d_h, d_c).  W_out: shape (V, d_h).
        pad_id: the id of the padding token.
        nonlinearity: "tanh" or "relu".

    Returns:
        L as a Python float.
    """
    inputs, targets, mask = lm_inputs_and_targets(token_ids, pad_id)  # (B, T) each
    C = E[inputs]  # (B, T, d_c)
    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)  # (B, T, d_h)
    logits = H @ W_out.T  # (B, T, V)
    return nll_loss(logits, targets, mask)
