# %% [markdown]
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

# %%
import numpy as np

# %% [markdown]
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


# %%
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
    # TODO: compute a_t = W_h h_{t-1} + W_c c_t, then apply f.
    raise NotImplementedError("rnn_step is not implemented yet")


# %%
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
    # TODO: loop over time, carrying the state from one rnn_step to the next.
    raise NotImplementedError("rnn_forward is not implemented yet")


# %%
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
    # TODO: recompute a_t, multiply dh_t by f'(a_t), then apply the chain rule.
    raise NotImplementedError("rnn_step_backward is not implemented yet")


# %%
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
    # TODO: run the forward pass, then walk back through time with rnn_step_backward.
    raise NotImplementedError("rnn_backward is not implemented yet")


# %% [markdown]
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


# %%
def softmax(x, axis=-1):
    """Numerically stable softmax  A_i = exp(x_i) / sum_j exp(x_j)  along `axis`.

    Args:
        x: scores, any shape; entries may be -inf (they get weight 0).
        axis: the axis that sums to 1.

    Returns:
        A, the shape of x: entries in [0, 1] that sum to 1 along `axis`.
    """
    # TODO: subtract the maximum along `axis` before exponentiating.
    raise NotImplementedError("softmax is not implemented yet")


# %%
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
    # TODO: apply dx = A * (dA - sum(dA * A)) along `axis`.
    raise NotImplementedError("softmax_backward is not implemented yet")


# %%
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
    # TODO: project C with each weight matrix (row vectors: C @ W.T).
    raise NotImplementedError("qkv is not implemented yet")


# %%
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
    # TODO: scale the scores, set future positions to -inf when causal, softmax.
    raise NotImplementedError("attention_weights is not implemented yet")


# %%
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
    # TODO: combine qkv, attention_weights and a weighted sum of the values.
    raise NotImplementedError("self_attention is not implemented yet")


# %%
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
    # TODO: redo the forward pass, then apply the chain rule from H back to C.
    raise NotImplementedError("self_attention_backward is not implemented yet")


# %% [markdown]
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


# %%
def log_softmax(logits, axis=-1):
    """Numerically stable log-probabilities  log softmax(x) = x - log(sum_j exp(x_j)).

    Args:
        logits: scores, any shape; entries may be -inf.
        axis: the axis over which probabilities sum to 1.

    Returns:
        log-probabilities, the shape of logits.
    """
    # TODO: subtract the maximum, then subtract the log of the sum of exponentials.
    raise NotImplementedError("log_softmax is not implemented yet")


# %%
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
    # TODO: pick -log p(target) at each position, average over the counted ones.
    raise NotImplementedError("nll_loss is not implemented yet")


# %%
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
    # TODO: softmax minus one-hot targets, zero where masked, divided by N.
    raise NotImplementedError("nll_loss_backward is not implemented yet")


# %%
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
    # TODO: shift by one position and mask the padding targets.
    raise NotImplementedError("lm_inputs_and_targets is not implemented yet")


# %%
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
    # TODO: embed the inputs, run rnn_forward, project to logits, nll_loss.
    raise NotImplementedError("rnn_lm_loss is not implemented yet")
