"""Homework 2 -- Bob's submission (demo: partly wrong)."""

# # Homework 2 — parallel sequence models
#
# The lecture ended with the trouble with RNNs: we have to compute `h_{t-1}` before `h_t`,
# so there is no way to parallelise them — unless the RNN is linear. It promised, for the
# next class, how to parallelise attention, multi-head attention and position embeddings.
# This homework is that class:
#
# * **Part A** — a linear RNN (`f(x) = x`) computed in parallel with a prefix scan, the key
#   insight of state-space models, and the same RNN seen as a convolution;
# * **Part B** — multi-head attention: every position and every head at once, with matrix
#   products, and its gradients;
# * **Part C** — position information: sinusoidal position embeddings, rotary embeddings, and
#   the loss of a one-layer attention language model.
#
# The conventions of homework 1 hold. Every function takes and returns numpy arrays of float64.
# Leading batch dimensions `...` (zero, one or more) are allowed everywhere and must be
# preserved. Vectors are rows, so the lecture's `W_c c_t` (a matrix times a column vector) is
# `c_t @ W_c.T` here. `*_backward` returns the gradients of the scalar
# `L = sum(upstream * output)` with respect to each input it names, each with that input's
# shape; weight gradients are summed over every batch position and time step.
#
# This module must stand on its own: you may copy your own homework 1 code into it (a stable
# softmax, for instance), but not import `hw1`.

import numpy as np

# ## Part A — a linear RNN, computed in parallel
#
# With `f(x) = x` the RNN composition becomes
#
#     h_t = W_h h_{t-1} + W_c c_t
#
# Each step is an **affine map** `h -> M h + b` with `M = W_h` and `b = W_c c_t`. Applying
# `(M_1, b_1)` and then `(M_2, b_2)` is again an affine map:
#
#     M_2 (M_1 h + b_1) + b_2 = (M_2 M_1) h + (M_2 b_1 + b_2)
#
# and composing maps is **associative**: `(f3 ∘ f2) ∘ f1 = f3 ∘ (f2 ∘ f1)`. So the
# compositions of the first `1, 2, …, T` maps (a *prefix scan*) can be computed in
# `ceil(log2 T)` rounds, each round composing all pairs at once, instead of `T` steps one
# after the other. The state after `t + 1` words is the composition of the first `t + 1`
# maps applied to `h0`: `h = P_t h0 + q_t`. This is the idea behind state-space models
# (S4, Mamba): keep the recurrence linear, and training runs in parallel over the sequence.
#
# Unrolling the recurrence gives a third view, a **convolution** of the inputs with the
# kernel `K[k] = W_h^k W_c`:
#
#     h_3 = W_h^3 h0 + W_h^2 W_c c_1 + W_h W_c c_2 + W_c c_3


def linear_rnn_forward(h0, C, W_h, W_c):
    """Run the linear RNN  h_t = W_h h_{t-1} + W_c c_t  one step at a time.

    Args:
        h0: initial hidden state, shape (..., d_h); a single (d_h,) state is shared
            by every sequence in the batch.
        C: input vectors c_1 .. c_T, shape (..., T, d_c).
        W_h: recurrent weights, shape (d_h, d_h).
        W_c: input weights, shape (d_h, d_c).

    Returns:
        H, shape (..., T, d_h): H[..., t, :] is the state after reading C[..., t, :].
        h0 itself is not included.
    """
    T = C.shape[-2]
    batch = np.broadcast_shapes(h0.shape[:-1], C.shape[:-2])
    H = np.zeros(batch + (T, W_h.shape[0]))  # (..., T, d_h)
    h = h0
    for t in range(T):
        h = h @ W_h.T + C[..., t, :] @ W_c.T  # (..., d_h), like rnn_step without the tanh
        H[..., t, :] = h
    return H


def compose_affine(first, second):
    """The affine map "apply `first`, then `second`":  (M_2 M_1, M_2 b_1 + b_2).

    Each argument is a pair (M_i, b_i) standing for the map h -> M_i h + b_i, and
        M_2 (M_1 h + b_1) + b_2 = (M_2 M_1) h + (M_2 b_1 + b_2).
    The order matters: M_2 M_1 is not M_1 M_2.

    Args:
        first: (M_1, b_1) with shapes (..., d, d) and (..., d), applied first.
        second: (M_2, b_2) with shapes (..., d, d) and (..., d), applied second.
            The batch dimensions of all four arrays broadcast together.

    Returns:
        (M, b) with shapes (..., d, d) and (..., d), where `...` is the broadcast of the
        batch dimensions of all four arrays.
    """
    M_1, b_1 = first
    M_2, b_2 = second
    M = M_2 @ M_1  # (..., d, d)
    b = (M_2 @ b_1[..., :, None])[..., :, 0] + b_2  # (..., d)
    batch = np.broadcast_shapes(M.shape[:-2], b.shape[:-1])
    M = np.broadcast_to(M, batch + M.shape[-2:]).copy()
    b = np.broadcast_to(b, batch + b.shape[-1:]).copy()
    return M, b


def prefix_scan(M, b):
    """Inclusive prefix compositions of T affine maps, in ceil(log2 T) parallel rounds.

    Map t is h -> M_t h + b_t. The prefix t is "apply map 0, then map 1, ..., then map t":
        P_t = M_t ... M_1 M_0,    q_t = sum over s <= t of M_t ... M_{s+1} b_s,
    so that applying maps 0 .. t to h gives P_t h + q_t.

    Hillis–Steele scan. Write [s..t] for the composition of maps s to t. Each round, every
    position t >= shift composes the block ending at t - shift (applied first) with the block
    it holds (applied second), all positions at once; `shift` doubles from round to round:

        position:    0       1       2       3       4       5       6       7
        start       [0]     [1]     [2]     [3]     [4]     [5]     [6]     [7]
        shift 1     [0]    [0..1]  [1..2]  [2..3]  [3..4]  [4..5]  [5..6]  [6..7]
        shift 2     [0]    [0..1]  [0..2]  [0..3]  [1..4]  [2..5]  [3..6]  [4..7]
        shift 4     [0]    [0..1]  [0..2]  [0..3]  [0..4]  [0..5]  [0..6]  [0..7]

        position 7:  [6..7] = [6] then [7],  [4..7] = [4..5] then [6..7],  [0..7] = [0..3] then [4..7]

    After the round with shift 2^r, position t holds [max(0, t - 2^(r+1) + 1)..t], so
    ceil(log2 T) rounds reach [0..t] everywhere. Composition is associative, so how the
    blocks were grouped does not matter; its order does: the earlier block is applied first.

    Args:
        M: the T matrices, shape (..., T, d, d).
        b: the T offsets, shape (..., T, d), with the batch dimensions of M.

    Returns:
        (P, q) with the shapes of (M, b): P[..., t, :, :] = P_t and q[..., t, :] = q_t.
        With T = 1 they hold the values of (M, b).
    """
    T = M.shape[-3]
    P, q = M.copy(), b.copy()
    shift = 1
    while shift < T:
        P_new, q_new = P.copy(), q.copy()
        # position t >= shift: the block ending at t - shift, then the block ending at t
        P_new[..., shift:, :, :], q_new[..., shift:, :] = compose_affine(
            (P[..., :-shift, :, :], q[..., :-shift, :]), (P[..., shift:, :, :], q[..., shift:, :]))
        P, q = P_new, q_new
        shift *= 2
    return P, q


def linear_rnn_scan(h0, C, W_h, W_c):
    """The linear RNN's states computed in parallel:  h_t = P_t h0 + q_t  from prefix_scan.

    Step t is the affine map h -> W_h h + W_c c_t, so prefix_scan over the maps
    (W_h, W_c c_t), t = 0 .. T-1, gives every state at once. Same result as
    linear_rnn_forward.

    Args:
        h0: initial hidden state, shape (..., d_h) or (d_h,) (shared by the batch).
        C: input vectors, shape (..., T, d_c).
        W_h: recurrent weights, shape (d_h, d_h).
        W_c: input weights, shape (d_h, d_c).

    Returns:
        H, shape (..., T, d_h), as linear_rnn_forward.
    """
    d_h = W_h.shape[0]
    b = C @ W_c.T  # (..., T, d_h): the offsets W_c c_t
    M = np.broadcast_to(W_h, b.shape[:-1] + (d_h, d_h))  # (..., T, d_h, d_h)
    P, q = prefix_scan(M, b)
    # q_t adds up every step's input up to t, so it is the state h_t
    return q  # (..., T, d_h)


def linear_rnn_kernel(W_h, W_c, T):
    """The linear RNN as a convolution: the kernel  K[k] = W_h^k W_c,  k = 0 .. T-1.

    Unrolling h_t = W_h h_{t-1} + W_c c_t from h0, with H[t] the state after C[t]:

        H[0] = W_h h0 + W_c C[0]
        H[1] = W_h^2 h0 + W_h W_c C[0] + W_c C[1]
        H[2] = W_h^3 h0 + W_h^2 W_c C[0] + W_h W_c C[1] + W_c C[2]
        H[t] = W_h^(t+1) h0 + sum over s <= t of K[t - s] C[s]

    An input read k steps ago reaches the state through K[k]: the same weights at every
    position, a (causal) convolution of the inputs with K.

    Args:
        W_h: recurrent weights, shape (d_h, d_h).
        W_c: input weights, shape (d_h, d_c).
        T: the number of kernel entries, T >= 1.

    Returns:
        K, shape (T, d_h, d_c); K[0] = W_c.
    """
    d_h, d_c = W_c.shape
    K = np.zeros((T, d_h, d_c))  # (T, d_h, d_c)
    A = W_c
    for k in range(T):
        A = W_h @ A  # one more W_h per step back in time
        K[k] = A
    return K


# ## Part B — multi-head attention
#
# Attention parallelises where the RNN cannot: no hidden state depends on the previous one,
# so every position's queries, keys and values, every score `q_i · k_j` and every mix of
# the values is one matrix product over the whole sequence (`Q K^T`, then `A V`), with a
# causal mask so that position `i` attends only to `j <= i`.
#
# One attention distribution per position is one way of looking back. **Multi-head**
# attention runs `n_heads` attentions side by side on slices of the projections: head `h`
# uses features `h*d/n_heads … (h+1)*d/n_heads - 1` of `Q`, `K` and `V`, and scales its
# scores by `sqrt(d_k / n_heads)`, the size of its own queries:
#
#     A_h = softmax(Q_h K_h^T / sqrt(d_k / n_heads))        H = [A_1 V_1, …, A_n V_n] W_o^T
#
# The heads' outputs are put side by side again and mixed by the output projection `W_o`.
# Reshaping `(..., T, d)` to `(..., n_heads, T, d / n_heads)` makes the heads one more batch
# dimension, so all heads are computed by the same matrix products.


def split_heads(X, n_heads):
    """Split the features of every position into n_heads heads.

    Head h holds features [h*d/n_heads, (h+1)*d/n_heads) of each row:
        split_heads(X, n)[..., h, t, :] = X[..., t, h*d/n : (h+1)*d/n].

    Args:
        X: shape (..., T, d).
        n_heads: the number of heads; it must divide d.

    Returns:
        shape (..., n_heads, T, d / n_heads).

    Raises:
        ValueError: if n_heads does not divide d.
    """
    d = X.shape[-1]
    if d % n_heads != 0:
        raise ValueError(f"n_heads = {n_heads} does not divide d = {d}")
    d_head = d // n_heads
    X = X.reshape(X.shape[:-1] + (n_heads, d_head))  # (..., T, n_heads, d_head)
    return np.swapaxes(X, -2, -3)  # (..., n_heads, T, d_head)


def merge_heads(X):
    """Put the heads side by side again: the inverse of split_heads.

    merge_heads(X)[..., t, h*d_head : (h+1)*d_head] = X[..., h, t, :].

    Args:
        X: shape (..., n_heads, T, d_head).

    Returns:
        shape (..., T, n_heads * d_head).
    """
    n_heads, T, d_head = X.shape[-3:]
    X = np.swapaxes(X, -2, -3)  # (..., T, n_heads, d_head)
    return X.reshape(X.shape[:-2] + (n_heads * d_head,))


def multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    """Multi-head self-attention:  H = merge_heads(A_h V_h for every head) W_o^T.

    Q = C W_q^T, K = C W_k^T, V = C W_v^T, each split into heads (split_heads); head h has
        A_h = softmax(Q_h K_h^T / sqrt(d_k / n_heads))
    over the last axis, where with `causal` position i attends only to j <= i.

    Args:
        C: input vectors, shape (..., T, d_c).
        W_q: query weights, shape (d_k, d_c).
        W_k: key weights, shape (d_k, d_c).
        W_v: value weights, shape (d_v, d_c).
        W_o: output weights, shape (d_o, d_v).
        n_heads: the number of heads; it must divide d_k and d_v.
        causal: if True, position i attends only to positions j <= i.

    Returns:
        (H, A) with shapes (..., T, d_o) and (..., n_heads, T, T): A[..., h, i, :] are
        the weights head h gives to every position j from position i (each row sums to 1).

    Raises:
        ValueError: if n_heads does not divide d_k or d_v.
    """
    d_k, d_v = W_q.shape[0], W_v.shape[0]
    if d_k % n_heads != 0 or d_v % n_heads != 0:
        raise ValueError(f"n_heads = {n_heads} must divide d_k = {d_k} and d_v = {d_v}")
    Q = split_heads(C @ W_q.T, n_heads)  # (..., n_heads, T, d_k / n_heads)
    K = split_heads(C @ W_k.T, n_heads)
    V = split_heads(C @ W_v.T, n_heads)
    S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k / n_heads)  # (..., n_heads, T, T)
    if causal:
        T = S.shape[-1]
        S = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, S)
    S = S - S.max(axis=-1, keepdims=True)  # stable softmax, as in hw1
    A = np.exp(S) / np.exp(S).sum(axis=-1, keepdims=True)
    H = merge_heads(A @ V) @ W_o.T  # (..., T, d_o)
    return H, A


def multi_head_attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
    """Gradients of L = sum(dH * H), where (H, A) = multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal).

    With O = merge_heads(A V) (shape (..., T, d_v)) and H = O W_o^T, going backwards:
        dW_o = sum of dH^T O,   dO = dH W_o,   then, head by head (all heads at once),
        dA = dO_h V_h^T,  dV_h = A^T dO_h,  dS = A * (dA - sum_j dA A) / sqrt(d_k / n_heads),
        dQ_h = dS K_h,  dK_h = dS^T Q_h,
    and with dQ, dK, dV the heads merged again,
        dC = dQ W_q + dK W_k + dV W_v,  dW_q = sum of dQ^T C (and likewise dW_k, dW_v).

    Args:
        dH: upstream gradient dL/dH, shape (..., T, d_o).
        C: input vectors, shape (..., T, d_c).
        W_q, W_k: shape (d_k, d_c).  W_v: shape (d_v, d_c).  W_o: shape (d_o, d_v).
        n_heads: as in multi_head_attention.
        causal: as in multi_head_attention.

    Returns:
        (dC, dW_q, dW_k, dW_v, dW_o) with the shapes of C, W_q, W_k, W_v and W_o.
    """
    _, A = multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal)  # (..., n_heads, T, T)
    Q = split_heads(C @ W_q.T, n_heads)
    K = split_heads(C @ W_k.T, n_heads)
    V = split_heads(C @ W_v.T, n_heads)
    O = merge_heads(A @ V)  # (..., T, d_v)
    # H = O W_o^T
    dW_o = dH.reshape(-1, dH.shape[-1]).T @ O.reshape(-1, O.shape[-1])
    dO = split_heads(dH @ W_o, n_heads)
    # O_h = A_h V_h
    dA = dO @ np.swapaxes(V, -1, -2)
    dV = merge_heads(np.swapaxes(A, -1, -2) @ dO)
    # softmax, then the 1 / sqrt(d_k / n_heads)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True)) / np.sqrt(W_q.shape[0] / n_heads)
    dQ = merge_heads(dS @ K)
    dK = merge_heads(np.swapaxes(dS, -1, -2) @ Q)
    dC = dQ @ W_q + dK @ W_k + dV @ W_v
    C_rows = C.reshape(-1, C.shape[-1])
    dW_q = dQ.reshape(-1, dQ.shape[-1]).T @ C_rows
    dW_k = dK.reshape(-1, dK.shape[-1]).T @ C_rows
    dW_v = dV.reshape(-1, dV.shape[-1]).T @ C_rows
    return dC, dW_q, dW_k, dW_v, dW_o


# ## Part C — position information
#
# Attention treats its input as a *set*: permute the words (without a causal mask) and the
# states are permuted the same way. Word order must be put in. Both ways below use the
# frequencies
#
#     w_i = 10000 ** (-2i / d),    i = 0 … d/2 - 1
#
# and treat the `d` features as `d/2` pairs `(x_2i, x_2i+1)`, pair `i` turning at speed `w_i`.
#
# * **Sinusoidal position embeddings** (Vaswani et al., 2017) add a vector to each word
#   vector: `P[t, 2i] = sin(t w_i)`, `P[t, 2i+1] = cos(t w_i)` for positions `t = 0, 1, …`.
#   From one position to the next, every pair turns by the fixed angle `w_i`.
# * **Rotary embeddings** (RoPE) instead rotate the queries and keys: the pair `i` of the
#   vector at position `m` is turned by the angle `m w_i`. A rotation by `m w_i` followed by
#   the dot product with a vector turned by `n w_i` depends only on the difference of the
#   angles, so attention scores depend only on the relative position `m - n`.
#
# With them, a one-layer attention language model is complete: embed the words, add the
# positions, attend (causally: the model must not see the word it predicts), project to the
# vocabulary, and average the negative log-likelihood of the next words, as in homework 1.


def sinusoidal_positions(T, d):
    """The sinusoidal position table:  P[t, 2i] = sin(t w_i),  P[t, 2i+1] = cos(t w_i).

    w_i = 10000 ** (-2i / d) for i = 0 .. d/2 - 1, and t = 0 .. T-1 (the first position is 0).

    Args:
        T: the number of positions.
        d: the embedding size; it must be even.

    Returns:
        P, shape (T, d).

    Raises:
        ValueError: if d is odd.
    """
    if d % 2 != 0:
        raise ValueError(f"d = {d} must be even")
    t = np.arange(T)[:, None]  # (T, 1)
    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)  # (d/2,)
    P = np.zeros((T, d))
    P[:, 0::2] = np.cos(t * w)
    P[:, 1::2] = np.sin(t * w)
    return P


def rotary(X, positions):
    """Rotary position embedding: turn each pair (x_2i, x_2i+1) of the row at time t by m w_i.

    With m = positions[t], w_i = 10000 ** (-2i / d) and R(a) the rotation by the angle a,

        (x_2i, x_2i+1) -> R(m w_i) (x_2i, x_2i+1)
                        = (x_2i cos(m w_i) - x_2i+1 sin(m w_i),  x_2i sin(m w_i) + x_2i+1 cos(m w_i)).

    Why the dot product depends only on m - n: for one pair of q (at position m) and of
    k (at position n), since R(a)^T = R(-a) and R(-a) R(b) = R(b - a),

        (R(m w_i) q)^T (R(n w_i) k) = q^T R(m w_i)^T R(n w_i) k = q^T R((n - m) w_i) k,

    and rotary(q, m) · rotary(k, n) is the sum of these over the pairs i.

    Args:
        X: queries or keys, shape (..., T, d); d must be even.
        positions: integer positions m, shape (T,).

    Returns:
        the rotated X, shape (..., T, d). With every position 0, the values of X.

    Raises:
        ValueError: if d is odd.
    """
    d = X.shape[-1]
    if d % 2 != 0:
        raise ValueError(f"d = {d} must be even")
    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)  # (d/2,)
    angles = np.asarray(positions)[:, None] * w  # (T, d/2)
    cos = np.concatenate([np.cos(angles), np.cos(angles)], axis=-1)  # (T, d)
    sin = np.concatenate([np.sin(angles), np.sin(angles)], axis=-1)  # (T, d)
    x1, x2 = X[..., : d // 2], X[..., d // 2 :]
    rotate_half = np.concatenate([-x2, x1], axis=-1)  # (..., T, d)
    return X * cos + rotate_half * sin


def transformer_lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id):
    """Averaged next-word NLL of a one-layer attention language model on a padded batch.

    inputs, targets, mask as hw1's lm_inputs_and_targets (inputs = ids[:, :-1],
    targets = ids[:, 1:], mask = targets != pad_id);
        X = E[inputs] + sinusoidal_positions(T, d_c),
        H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True),
        logits = H W_out^T,
        L = mean over counted positions of -log softmax(logits_t)[target_t].

    Args:
        token_ids: integer ids, shape (B, T + 1): `<bos> w_1 ... w_n <eos>` then padding.
        E: word embeddings, shape (V, d_c); d_c must be even.
        W_q, W_k: shape (d_k, d_c).  W_v: shape (d_v, d_c).  W_o: shape (d_o, d_v).
        W_out: output weights, shape (V, d_o).
        n_heads: the number of heads; it must divide d_k and d_v.
        pad_id: the id of the padding token.

    Returns:
        L as a Python float.

    Raises:
        ValueError: if no position counts, if d_c is odd, or if n_heads does not divide d_k or d_v.
    """
    token_ids = np.asarray(token_ids)
    inputs, targets = token_ids[:, :-1], token_ids[:, 1:]  # (B, T)
    mask = targets != pad_id  # (B, T)
    if not mask.any():
        raise ValueError("every target is padding: nothing to average")
    T = inputs.shape[1]
    X = E[inputs] + sinusoidal_positions(T, E.shape[1])  # (B, T, d_c)
    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True)  # (B, T, d_o)
    logits = H @ W_out.T  # (B, T, V)
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))  # log-softmax
    log_p_target = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # (B, T)
    return float(-(log_p_target * mask).sum() / mask.sum())
