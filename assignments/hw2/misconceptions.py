"""Known mistakes in homework 2, each reproduced so that a matching answer can be named.

Each entry is the function as a student who holds the misconception writes it. When a
check fails, the grader runs the failing case through these; if one gives the student's
answer, the feedback names it and explains the fix. The same label may name one mistake in
several functions (composition in the wrong order in compose_affine and in prefix_scan).
"""

from __future__ import annotations

import numpy as np

from grader.authoring import Misconception


def _broadcast_together(M: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, b) both given the broadcast of their batch dimensions, as compose_affine returns them."""
    batch = np.broadcast_shapes(M.shape[:-2], b.shape[:-1])
    return np.array(np.broadcast_to(M, batch + M.shape[-2:])), np.array(np.broadcast_to(b, batch + b.shape[-1:]))


def _frequencies(d: int) -> np.ndarray:
    """w_i = 10000 ** (-2i / d), i = 0 .. d/2 - 1."""
    return 10000.0 ** (-2.0 * np.arange(d // 2) / d)


def build(ref) -> list[Misconception]:
    """The misconceptions, given the reference module `ref` (trusted, in the grader's process)."""

    # --- Part A: the linear RNN -------------------------------------------------------------
    def forward_h0_included(h0, C, W_h, W_c):
        H = ref.linear_rnn_forward(h0, C, W_h, W_c)  # (..., T, d_h)
        first = np.broadcast_to(h0, H.shape[:-2] + h0.shape[-1:])[..., None, :]
        return np.concatenate([first, H[..., :-1, :]], axis=-2)

    def forward_transposed_W_h(h0, C, W_h, W_c):
        return ref.linear_rnn_forward(h0, C, W_h.T, W_c)

    def forward_state_not_carried(h0, C, W_h, W_c):
        steps = [h0 @ W_h.T + C[..., t, :] @ W_c.T for t in range(C.shape[-2])]
        return np.stack(np.broadcast_arrays(*steps), axis=-2)

    def forward_with_tanh(h0, C, W_h, W_c):
        h, states = h0, []
        for t in range(C.shape[-2]):
            h = np.tanh(h @ W_h.T + C[..., t, :] @ W_c.T)
            states.append(h)
        return np.stack(np.broadcast_arrays(*states), axis=-2)

    def compose_wrong_order(first, second):
        return ref.compose_affine(second, first)

    def compose_M_wrong_order(first, second):
        (M_1, b_1), (M_2, b_2) = first, second
        return _broadcast_together(M_1 @ M_2, (M_2 @ b_1[..., None])[..., 0] + b_2)

    def compose_b_2_dropped(first, second):
        (M_1, b_1), (M_2, _) = first, second
        return _broadcast_together(M_2 @ M_1, (M_2 @ b_1[..., None])[..., 0])

    def compose_b_1_not_mapped(first, second):
        (M_1, b_1), (M_2, b_2) = first, second
        return _broadcast_together(M_2 @ M_1, b_1 + b_2)

    def compose_b_1_as_row(first, second):
        (M_1, b_1), (M_2, b_2) = first, second
        return _broadcast_together(M_2 @ M_1, (b_1[..., None, :] @ M_2)[..., 0, :] + b_2)

    def compose_not_broadcast(first, second):
        (M_1, b_1), (M_2, b_2) = first, second
        return M_2 @ M_1, (M_2 @ b_1[..., None])[..., 0] + b_2

    def hillis_steele(M, b, compose, rounds=None):
        """The reference's scan with another composition or another number of rounds."""
        T = M.shape[-3]
        P, q = M.copy(), b.copy()
        shift, done = 1, 0
        while (shift < T) if rounds is None else (done < rounds):
            P_tail, q_tail = compose((P[..., :-shift, :, :], q[..., :-shift, :]), (P[..., shift:, :, :], q[..., shift:, :]))
            P = np.concatenate([P[..., :shift, :, :], P_tail], axis=-3)
            q = np.concatenate([q[..., :shift, :], q_tail], axis=-2)
            shift, done = 2 * shift, done + 1
        return P, q

    def scan_wrong_order(M, b):
        return hillis_steele(M, b, lambda earlier, later: ref.compose_affine(later, earlier))

    def scan_exclusive(M, b):
        P, q = ref.prefix_scan(M, b)
        identity = np.broadcast_to(np.eye(M.shape[-1]), P[..., :1, :, :].shape)
        return (np.concatenate([identity, P[..., :-1, :, :]], axis=-3),
                np.concatenate([np.zeros_like(q[..., :1, :]), q[..., :-1, :]], axis=-2))

    def scan_floor_rounds(M, b):
        return hillis_steele(M, b, ref.compose_affine, rounds=int(np.log2(M.shape[-3])))

    def scan_in_place(M, b):
        P, q = M.copy(), b.copy()
        T, shift = M.shape[-3], 1
        while shift < T:
            for t in range(shift, T):
                P[..., t, :, :], q[..., t, :] = ref.compose_affine((P[..., t - shift, :, :], q[..., t - shift, :]),
                                                                   (P[..., t, :, :], q[..., t, :]))
            shift *= 2
        return P, q

    def scan_without_h0(h0, C, W_h, W_c):
        return ref.linear_rnn_forward(np.zeros(h0.shape), C, W_h, W_c)

    def scan_h0_one_step(h0, C, W_h, W_c):
        return ref.linear_rnn_forward(np.zeros(h0.shape), C, W_h, W_c) + (h0 @ W_h.T)[..., None, :]

    def scan_P_transposed(h0, C, W_h, W_c):
        b = C @ W_c.T
        P, q = ref.prefix_scan(np.broadcast_to(W_h, b.shape[:-1] + W_h.shape), b)
        return (h0[..., None, None, :] @ P)[..., 0, :] + q

    def kernel_off_by_one(W_h, W_c, T):
        return ref.linear_rnn_kernel(W_h, W_h @ W_c, T)

    def kernel_elementwise_power(W_h, W_c, T):
        return np.stack([W_c] + [(W_h ** k) @ W_c for k in range(1, T)])

    def kernel_transposed(W_h, W_c, T):
        return ref.linear_rnn_kernel(W_h.T, W_c, T)

    def kernel_reversed(W_h, W_c, T):
        return ref.linear_rnn_kernel(W_h, W_c, T)[::-1]

    # --- Part B: heads and multi-head attention -----------------------------------------
    def split_interleaved(X, n_heads):
        d = X.shape[-1]
        if d % n_heads:
            raise ValueError("n_heads must divide d")
        return np.moveaxis(X.reshape(X.shape[:-1] + (d // n_heads, n_heads)), -1, -3)

    def split_reshape_only(X, n_heads):
        d = X.shape[-1]
        if d % n_heads:
            raise ValueError("n_heads must divide d")
        return X.reshape(X.shape[:-2] + (n_heads, X.shape[-2], d // n_heads))

    def merge_reshape_only(X):
        n_heads, T, d_head = X.shape[-3:]
        return X.reshape(X.shape[:-3] + (T, n_heads * d_head))

    def merge_interleaved(X):
        n_heads, T, d_head = X.shape[-3:]
        return np.moveaxis(X, -3, -1).reshape(X.shape[:-3] + (T, n_heads * d_head))

    def merge_along_time(X):
        return np.concatenate([X[..., h, :, :] for h in range(X.shape[-3])], axis=-2)

    def attention(C, W_q, W_k, W_v, W_o, n_heads, causal=True, *, scale=None, mask=True, keep_diagonal=True,
                  axis=-1, stable=True, project=True, transpose_W_o=True):
        """Multi-head attention with one step done another way; returns (H, A)."""
        d_k = W_q.shape[0]
        Q, K, V = (ref.split_heads(C @ W.T, n_heads) for W in (W_q, W_k, W_v))
        scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k / n_heads if scale is None else scale)
        if causal and mask:
            T = scores.shape[-1]
            scores = np.where(np.triu(np.ones((T, T), dtype=bool), k=1 if keep_diagonal else 0), -np.inf, scores)
        e = np.exp(scores - np.max(scores, axis=axis, keepdims=True) if stable else scores)
        A = e / np.sum(e, axis=axis, keepdims=True)
        O = ref.merge_heads(A @ V)
        return (O @ (W_o.T if transpose_W_o else W_o) if project else O), A

    def attention_with(**change):
        def mistaken(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
            return attention(C, W_q, W_k, W_v, W_o, n_heads, causal, **change)
        return mistaken

    def attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True, *, scale=None, mask=True,
                           full_jacobian=True, dK_transposed=True, dW_o_transposed=False, value_path=True):
        """The reference's backward pass with one step done another way."""
        _, A = ref.multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal and mask)
        Q, K, V = (ref.split_heads(C @ W.T, n_heads) for W in (W_q, W_k, W_v))
        O = ref.merge_heads(A @ V)
        factor = 1.0 if scale == "none" else 1.0 / np.sqrt(W_q.shape[0] / n_heads if scale is None else scale)
        dO = ref.split_heads(dH @ W_o, n_heads)
        dA = dO @ np.swapaxes(V, -1, -2)
        dS = (A * (dA - np.sum(dA * A, axis=-1, keepdims=True)) if full_jacobian else A * dA) * factor
        dQ = ref.merge_heads(dS @ K)
        dK = ref.merge_heads((np.swapaxes(dS, -1, -2) if dK_transposed else dS) @ Q)
        dV = ref.merge_heads(np.swapaxes(A, -1, -2) @ dO)
        dC = dQ @ W_q + dK @ W_k + (dV @ W_v if value_path else 0.0)
        rows = C.reshape(-1, C.shape[-1])
        dW_q, dW_k, dW_v = (g.reshape(-1, g.shape[-1]).T @ rows for g in (dQ, dK, dV))
        dH_rows, O_rows = dH.reshape(-1, dH.shape[-1]), O.reshape(-1, O.shape[-1])
        dW_o = O_rows.T @ dH_rows if dW_o_transposed else dH_rows.T @ O_rows
        return dC, dW_q, dW_k, dW_v, dW_o

    def backward_with(**change):
        def mistaken(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
            return attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal, **change)
        return mistaken

    def backward_full_d_k(dH, C, W_q, W_k, W_v, W_o, n_heads, causal=True):
        return attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal, scale=W_q.shape[0])

    def attention_full_d_k(C, W_q, W_k, W_v, W_o, n_heads, causal=True):
        return attention(C, W_q, W_k, W_v, W_o, n_heads, causal, scale=W_q.shape[0])

    # --- Part C: positions ----------------------------------------------------------------
    def positions_table(T, d, *, first=0, frequencies=_frequencies, half_split=False, swapped=False):
        angles = np.arange(first, first + T)[:, None] * frequencies(d)[None, :]
        sin, cos = (np.cos(angles), np.sin(angles)) if swapped else (np.sin(angles), np.cos(angles))
        if half_split:
            return np.concatenate([sin, cos], axis=-1)
        P = np.empty((T, d))
        P[:, 0::2], P[:, 1::2] = sin, cos
        return P

    def table_with(**change):
        def mistaken(T, d):
            if d % 2:
                raise ValueError("d must be even")
            return positions_table(T, d, **change)
        return mistaken

    def rotary_half_split(X, positions):
        half = X.shape[-1] // 2
        angles = np.asarray(positions)[:, None] * _frequencies(X.shape[-1])[None, :]
        x_1, x_2 = X[..., :half], X[..., half:]
        return np.concatenate([x_1 * np.cos(angles) - x_2 * np.sin(angles), x_1 * np.sin(angles) + x_2 * np.cos(angles)],
                              axis=-1)

    def rotary_backwards(X, positions):
        return ref.rotary(X, -np.asarray(positions))

    def rotary_second_swapped(X, positions):
        angles = np.asarray(positions)[:, None] * _frequencies(X.shape[-1])[None, :]
        rotated = ref.rotary(X, positions)
        rotated[..., 1::2] = X[..., 0::2] * np.cos(angles) + X[..., 1::2] * np.sin(angles)
        return rotated

    def rotary_row_index(X, positions):
        return ref.rotary(X, np.arange(X.shape[-2]))

    def lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id, *, first_position=0, add_positions=True,
                causal=True, embed="inputs", average="counted", stable=True, transpose_W_out=True):
        """transformer_lm_loss with one step done another way."""
        inputs, targets = token_ids[..., :-1], token_ids[..., 1:]
        mask = targets != pad_id
        if not mask.any():
            raise ValueError("no position counts")
        T, d_c = inputs.shape[-1], E.shape[-1]
        X = E[inputs if embed == "inputs" else targets]
        if add_positions:
            X = X + ref.sinusoidal_positions(T + first_position, d_c)[first_position:]
        H, _ = ref.multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=causal)
        logits = H @ (W_out.T if transpose_W_out else W_out)
        if stable:
            shifted = logits - np.max(logits, axis=-1, keepdims=True)
            log_p = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
        else:
            log_p = np.log(np.exp(logits) / np.sum(np.exp(logits), axis=-1, keepdims=True))
        losses = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
        if average == "all":
            return float(np.mean(losses))
        counted = np.where(mask, losses, 0.0).sum()
        return float(counted if average == "sum" else counted / mask.sum())

    def loss_with(**change):
        def mistaken(token_ids, E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id):
            return lm_loss(np.asarray(token_ids), E, W_q, W_k, W_v, W_o, W_out, n_heads, pad_id, **change)
        return mistaken

    M = Misconception
    TRANSPOSED = ("With row vectors, the lecture's W h is h @ W.T: check which side each matrix multiplies from, "
                  "and that the one you use is not transposed.")
    ORDER = ("'first, then second' is the map h -> M_2 (M_1 h + b_1) + b_2 = (M_2 M_1) h + (M_2 b_1 + b_2): "
             "the map applied later multiplies from the left.")
    HEAD_SCALE = ("Each head's queries have d_k / n_heads features, so its scores are divided by "
                  "sqrt(d_k / n_heads), not sqrt(d_k).")
    INTERLEAVED = ("Head h holds a contiguous block of features, [h*d/n_heads, (h+1)*d/n_heads): reshape the last "
                   "axis to (n_heads, d / n_heads), in that order, not to (d / n_heads, n_heads).")
    RESHAPE_ONLY = ("A reshape keeps the order of the entries, so it cannot move the head axis past T: reshape the "
                    "features, then swap the head and time axes (np.swapaxes), or the reverse for merge_heads.")
    NO_MASK = "With causal=True set the scores of positions j > i to -inf before the softmax, in every head."
    SIN_COS = "Even features take the sine and odd ones the cosine: P[t, 2i] = sin(t w_i), P[t, 2i+1] = cos(t w_i)."
    HALF_SPLIT = ("The pairs are adjacent features (x_2i, x_2i+1), as in the contract, not the first and second "
                  "halves of the vector (x_i, x_i+d/2) that some libraries use.")
    FROM_ONE = "The first position is t = 0 (its row is sin 0 = 0, cos 0 = 1 in every pair), not t = 1."
    FREQUENCY = "The frequencies are w_i = 10000 ** (-2i / d) for i = 0 .. d/2 - 1: the angle is t * w_i."
    return [
        M("h0_included", "h0 included in H (and the last state dropped)",
          "H[..., t, :] is the state after reading C[..., t, :]: update h_t first, then store it; h0 is not one of them.",
          "linear_rnn_forward", forward_h0_included),
        M("transposed_weight", "transposed W_h", TRANSPOSED, "linear_rnn_forward", forward_transposed_W_h),
        M("state_not_carried", "state not carried",
          "Each step must start from the previous step's h_t, not from h0 again.", "linear_rnn_forward",
          forward_state_not_carried),
        M("nonlinearity_kept", "tanh applied",
          "This RNN is linear, f(x) = x: h_t = W_h h_{t-1} + W_c c_t, with no tanh (that is what makes it parallel).",
          "linear_rnn_forward", forward_with_tanh),
        M("composition_order", "maps composed in the wrong order", ORDER, "compose_affine", compose_wrong_order),
        M("composition_order", "M_1 M_2 instead of M_2 M_1", ORDER, "compose_affine", compose_M_wrong_order),
        M("affine_offset", "b_2 not added",
          "The second map adds its own offset after applying M_2: b = M_2 b_1 + b_2.", "compose_affine", compose_b_2_dropped),
        M("affine_offset", "M_2 not applied to b_1",
          "The first map's offset b_1 goes through the second map too: b = M_2 b_1 + b_2, not b_1 + b_2.",
          "compose_affine", compose_b_1_not_mapped),
        M("transposed_weight", "b_1 multiplied as a row vector (M_2^T b_1)",
          "M_2 b_1 treats b_1 as a column: (M_2 @ b_1[..., None])[..., 0], or b_1 @ M_2^T with rows; b_1 @ M_2 is "
          "M_2^T b_1.", "compose_affine", compose_b_1_as_row),
        M("batch_not_broadcast", "results without the batch dimensions of all four arrays",
          "Both M and b carry the broadcast of the batch dimensions of M_1, b_1, M_2 and b_2 "
          "(np.broadcast_shapes, then np.broadcast_to).", "compose_affine", compose_not_broadcast),
        M("composition_order", "blocks composed in the wrong order",
          "In each round the block ending at t - shift comes earlier in the sequence, so it is applied first: "
          "compose_affine(earlier, later).", "prefix_scan", scan_wrong_order),
        M("exclusive_scan", "exclusive instead of inclusive scan",
          "Prefix t includes map t itself: P_t = M_t ... M_0 (so P_0 = M_0), not the maps before t.",
          "prefix_scan", scan_exclusive),
        M("scan_rounds", "one round too few (floor of log2 T)",
          "After the round with shift s, position t holds the maps t - 2s + 1 .. t: keep doubling while shift < T, "
          "ceil(log2 T) rounds.", "prefix_scan", scan_floor_rounds),
        M("scan_in_place", "blocks updated in place within a round",
          "Every block of a round must be composed from the previous round's blocks: compute them all from the old "
          "arrays (one vectorised compose_affine call) before replacing any.", "prefix_scan", scan_in_place),
        M("forgot_initial_state", "P_t h0 forgotten",
          "q_t is the state reached from h0 = 0; the state from h0 is h_t = P_t h0 + q_t.", "linear_rnn_scan",
          scan_without_h0),
        M("forgot_initial_state", "h0 advanced by one step only",
          "h0 goes through every map up to t: h_t = P_t h0 + q_t with P_t = W_h^(t+1), not W_h h0 + q_t.",
          "linear_rnn_scan", scan_h0_one_step),
        M("transposed_weight", "P_t^T h0 instead of P_t h0",
          "P_t h0 treats h0 as a column: (P @ h0[..., None, :, None])[..., 0]; h0 @ P is P^T h0.",
          "linear_rnn_scan", scan_P_transposed),
        M("transposed_weight", "transposed W_h", TRANSPOSED, "linear_rnn_scan", forward_transposed_W_h),
        M("kernel_off_by_one", "kernel off by one power",
          "K[k] = W_h^k W_c starts with K[0] = W_c (an input read at this very step goes through W_c only).",
          "linear_rnn_kernel", kernel_off_by_one),
        M("elementwise_power", "element-wise power instead of matrix power",
          "W_h ** k raises each entry to the power k; the matrix power is W_h @ W_h @ ... (np.linalg.matrix_power), "
          "or multiply the previous entry by W_h.", "linear_rnn_kernel", kernel_elementwise_power),
        M("transposed_weight", "transposed W_h", TRANSPOSED, "linear_rnn_kernel", kernel_transposed),
        M("kernel_reversed", "kernel in reverse order",
          "K[k] is for an input read k steps ago: K[0] = W_c, K[1] = W_h W_c, ... (the convolution flips it, not the "
          "kernel).", "linear_rnn_kernel", kernel_reversed),
        M("interleaved_heads", "interleaved heads", INTERLEAVED, "split_heads", split_interleaved),
        M("reshape_without_transpose", "reshaped across positions", RESHAPE_ONLY, "split_heads", split_reshape_only),
        M("reshape_without_transpose", "reshaped across positions", RESHAPE_ONLY, "merge_heads", merge_reshape_only),
        M("interleaved_heads", "interleaved heads", INTERLEAVED, "merge_heads", merge_interleaved),
        M("merge_axis", "heads stacked along time",
          "The heads go side by side along the features: the result is (..., T, n_heads * d_head), not "
          "(..., n_heads * T, d_head).", "merge_heads", merge_along_time),
        M("head_scale", "scores scaled by sqrt(d_k) instead of sqrt(d_k / n_heads)", HEAD_SCALE,
          "multi_head_attention", attention_full_d_k),
        M("missing_scaling", "missing 1/sqrt(d_k / n_heads) scaling", "Scores are Q_h K_h^T / sqrt(d_k / n_heads), the size of each head's queries.",
          "multi_head_attention", attention_with(scale=1.0)),
        M("output_projection", "W_o not applied",
          "After merging the heads, mix them with the output projection: H = merge_heads(A V) @ W_o.T.",
          "multi_head_attention", attention_with(project=False)),
        M("transposed_weight", "W_o not transposed", TRANSPOSED, "multi_head_attention",
          attention_with(transpose_W_o=False)),
        M("no_causal_mask", "no causal mask", NO_MASK, "multi_head_attention", attention_with(mask=False)),
        M("no_causal_mask", "causal mask also hides the diagonal",
          "Position i may attend to itself: mask j > i (np.triu(..., k=1)), not j >= i.", "multi_head_attention",
          attention_with(keep_diagonal=False)),
        M("wrong_softmax_axis", "softmax over the wrong axis",
          "Each row i (a query) is a distribution over the keys j: softmax over the last axis.",
          "multi_head_attention", attention_with(axis=-2)),
        M("no_max_subtraction", "no max-subtraction",
          "exp overflows for scores around 1e3; subtract each row's maximum first (softmax is unchanged by a shift).",
          "multi_head_attention", attention_with(stable=False)),
        M("missing_scaling", "missing 1/sqrt(d_k / n_heads) in the backward pass",
          "S = Q_h K_h^T / sqrt(d_k / n_heads), so dQ and dK carry that factor too.", "multi_head_attention_backward",
          backward_with(scale="none")),
        M("head_scale", "backward scaled by sqrt(d_k) instead of sqrt(d_k / n_heads)", HEAD_SCALE,
          "multi_head_attention_backward", backward_full_d_k),
        M("softmax_backward_missing_term", "softmax backward missing a term",
          "dS = A * (dA - sum(dA * A, axis=-1, keepdims=True)), not A * dA: each score moves the whole row.",
          "multi_head_attention_backward", backward_with(full_jacobian=False)),
        M("transposed_weight", "dW_o transposed",
          "H = O W_o^T, so dW_o = dH^T O (shape (d_o, d_v)), summed over every batch position and time step.",
          "multi_head_attention_backward", backward_with(dW_o_transposed=True)),
        M("transposed_weight", "dK from dS instead of dS^T",
          "S = Q K^T: dQ = dS K, but dK = dS^T Q (key j collects the gradients of column j).",
          "multi_head_attention_backward", backward_with(dK_transposed=False)),
        M("gradient_path_missing", "dC misses the path through the values",
          "C reaches H through the queries, the keys and the values: dC = dQ W_q + dK W_k + dV W_v.",
          "multi_head_attention_backward", backward_with(value_path=False)),
        M("no_causal_mask", "causal mask ignored in the backward pass",
          "Recompute A with the same causal mask as the forward pass.", "multi_head_attention_backward",
          backward_with(mask=False)),
        M("sin_cos_swapped", "sin and cos swapped", SIN_COS, "sinusoidal_positions", table_with(swapped=True)),
        M("positions_from_one", "positions start at 1", FROM_ONE, "sinusoidal_positions", table_with(first=1)),
        M("half_split", "sines and cosines in two halves", SIN_COS + " Each pair (sin, cos) is two adjacent features, not one feature in each half.",
          "sinusoidal_positions", table_with(half_split=True)),
        M("wrong_frequency", "frequencies 10000 ** (-i / d)", FREQUENCY, "sinusoidal_positions",
          table_with(frequencies=lambda d: 10000.0 ** (-np.arange(d // 2) / d))),
        M("wrong_frequency", "angle t * 10000 ** (2i / d) instead of t / 10000 ** (2i / d)", FREQUENCY,
          "sinusoidal_positions", table_with(frequencies=lambda d: 10000.0 ** (2.0 * np.arange(d // 2) / d))),
        M("half_split", "half-split rotary convention", HALF_SPLIT, "rotary", rotary_half_split),
        M("rotation_direction", "rotated by -m w_i",
          "R(a) turns (x, y) to (x cos a - y sin a, x sin a + y cos a): the sine enters with a minus sign in the "
          "first component.", "rotary", rotary_backwards),
        M("sin_cos_swapped", "sin and cos swapped in the second component",
          "The second component is x_2i sin + x_2i+1 cos (the first is x_2i cos - x_2i+1 sin).", "rotary",
          rotary_second_swapped),
        M("positions_ignored", "row index used instead of positions[t]",
          "Row t is turned by positions[t] * w_i, whatever t is: use the positions given.", "rotary", rotary_row_index),
        M("padding_counted", "padding counted",
          "Average over the counted positions only (mask = targets != pad_id), in the sum and in the count.",
          "transformer_lm_loss", loss_with(average="all")),
        M("sum_instead_of_mean", "sum instead of mean", "The loss is the average over counted positions.",
          "transformer_lm_loss", loss_with(average="sum")),
        M("positions_missing", "positions not added",
          "Attention ignores word order: add sinusoidal_positions(T, d_c) to the embeddings E[inputs].",
          "transformer_lm_loss", loss_with(add_positions=False)),
        M("positions_from_one", "positions start at 1", FROM_ONE, "transformer_lm_loss", loss_with(first_position=1)),
        M("no_causal_mask", "attention not causal",
          "A language model must not see the word it predicts: multi_head_attention(..., causal=True).",
          "transformer_lm_loss", loss_with(causal=False)),
        M("off_by_one_shift", "targets embedded instead of inputs",
          "Embed the inputs (ids[:, :-1]); the targets (ids[:, 1:]) are what the model predicts.",
          "transformer_lm_loss", loss_with(embed="targets")),
        M("no_max_subtraction", "log of a naive softmax",
          "log(softmax(logits)) overflows or underflows for logits around 1e3; use logits - m - log(sum(exp(logits - m))) "
          "with m the maximum of each row.", "transformer_lm_loss", loss_with(stable=False)),
        M("transposed_weight", "W_out not transposed", TRANSPOSED, "transformer_lm_loss",
          loss_with(transpose_W_out=False)),
        M("transposed_weight", "shapes do not line up",
          "A matrix product failed: check each weight's orientation (row vectors: x @ W.T) and which axis you sum over.",
          None, None, r"matmul|not aligned|shapes .* mismatch|could not be broadcast|size of array|einstein sum"),
    ]
