"""Realistic student mistakes in homework 2, each a textual patch to the reference
(solutions/hw2/hw2.py). `grader audit hw2` grades every one and holds that it loses points on
its function, costs nothing on the functions that do not call it, and, when it names a
misconception (a label of misconceptions.py), that the feedback names it as the likely cause.

The comment above each mutant says on which inputs it differs from the reference.
"""

from grader.authoring import Mutant

# Lines of the reference that occur more than once are anchored with a neighbouring line.
_LRF_STEP = "        h_t = h_t @ W_h.T + C[..., t, :] @ W_c.T  # (..., d_h)\n        H[..., t, :] = h_t"
_COMPOSE_M_b = "    M = M_2 @ M_1  # (..., d, d)\n    b = (M_2 @ b_1[..., None])[..., 0] + b_2  # (..., d): M_2 b_1 with b_1 as a column"
_COMPOSE_BROADCAST = (
    "    # Both results carry the batch dimensions of all four arrays.\n"
    "    batch_shape = np.broadcast_shapes(M.shape[:-2], b.shape[:-1])\n"
    "    M = np.array(np.broadcast_to(M, batch_shape + M.shape[-2:]))  # (..., d, d)\n"
    "    b = np.array(np.broadcast_to(b, batch_shape + b.shape[-1:]))  # (..., d)\n"
)
_SCAN_ROUND = (
    "        earlier = (P[..., :-shift, :, :], q[..., :-shift, :])  # the blocks ending at t - shift\n"
    "        later = (P[..., shift:, :, :], q[..., shift:, :])  # the blocks ending at t, for t >= shift\n"
    "        P_tail, q_tail = compose_affine(earlier, later)  # one vectorised call per round\n"
    "        P = np.concatenate([P[..., :shift, :, :], P_tail], axis=-3)  # (..., T, d, d)\n"
    "        q = np.concatenate([q[..., :shift, :], q_tail], axis=-2)  # (..., T, d)\n"
)
_SCAN_P_h0 = "    P_h0 = (P @ h0[..., None, :, None])[..., 0]  # (..., T, d_h): P_t h0, h0 as a column"
_SPLIT_RESHAPE = (
    "    X = X.reshape(X.shape[:-1] + (n_heads, d // n_heads))  # (..., T, n_heads, d / n_heads)\n"
    "    return np.swapaxes(X, -3, -2)  # (..., n_heads, T, d / n_heads)"
)
_SPLIT_CHECK = (
    "    if d % n_heads != 0:\n"
    "        raise ValueError(f\"split_heads: n_heads = {n_heads} must divide the feature size d = {d}\")\n"
)
_MERGE = (
    "    X = np.swapaxes(X, -3, -2)  # (..., T, n_heads, d_head)\n"
    "    return X.reshape(X.shape[:-2] + (n_heads * d_head,))  # (..., T, n_heads * d_head)"
)
_SOFTMAX = (
    "    e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))  # (..., n_heads, T, T)\n"
    "    A = e / np.sum(e, axis=-1, keepdims=True)  # (..., n_heads, T, T)"
)
_MASK = (
    "    if causal:\n"
    "        T = scores.shape[-1]\n"
    "        future = np.triu(np.ones((T, T), dtype=bool), k=1)  # (T, T): True where j > i\n"
    "        scores = np.where(future, -np.inf, scores)  # (..., n_heads, T, T)\n"
)
_DS = "    dS = A * (dA - np.sum(dA * A, axis=-1, keepdims=True)) * scale  # (..., n_heads, T, T); masked entries stay 0"
_TABLE_W = ("    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)  # (d/2,): w_i\n"
            "    angles = np.arange(T)[:, None] * w[None, :]  # (T, d/2): t w_i")
_TABLE_FILL = ("    P[:, 0::2] = np.sin(angles)  # P[t, 2i]\n"
               "    P[:, 1::2] = np.cos(angles)  # P[t, 2i+1]")
_ROTARY_W = ("    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)  # (d/2,): w_i\n"
             "    angles = np.asarray(positions)[:, None] * w[None, :]  # (T, d/2): m w_i")
_ROTARY_FILL = ("    rotated[..., 0::2] = x_even * cos - x_odd * sin\n"
                "    rotated[..., 1::2] = x_even * sin + x_odd * cos")
_LM_X = "    X = E[inputs] + sinusoidal_positions(T, E.shape[-1])  # (B, T, d_c)"
_LM_LOG_P = (
    "    shifted = logits - np.max(logits, axis=-1, keepdims=True)  # every entry <= 0\n"
    "    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))  # (B, T, V)"
)

MUTANTS = [
    # ------------------------------------------------------------------ linear_rnn_forward
    # differs whenever T >= 1: H[0] is h0, and every state is one step late
    Mutant(
        id="linear_rnn_forward-h0-included",
        function="linear_rnn_forward",
        description="Stores h_t before updating it: H holds h0 .. h_{T-1} instead of h_1 .. h_T.",
        old=_LRF_STEP,
        new="        H[..., t, :] = h_t\n        h_t = h_t @ W_h.T + C[..., t, :] @ W_c.T  # (..., d_h)",
        misconception="h0_included",
    ),
    # differs whenever d_h >= 2 (W_h is not symmetric)
    Mutant(
        id="linear_rnn_forward-Wh-not-transposed",
        function="linear_rnn_forward",
        description="Multiplies the row vector h_{t-1} by W_h instead of W_h^T.",
        old=_LRF_STEP,
        new="        h_t = h_t @ W_h + C[..., t, :] @ W_c.T  # (..., d_h)\n        H[..., t, :] = h_t",
        misconception="transposed_weight",
    ),
    # raises (matmul shape error): d_c != d_h in every case
    Mutant(
        id="linear_rnn_forward-Wc-not-transposed",
        function="linear_rnn_forward",
        description="Multiplies the row vector c_t by W_c instead of W_c^T.",
        old=_LRF_STEP,
        new="        h_t = h_t @ W_h.T + C[..., t, :] @ W_c  # (..., d_h)\n        H[..., t, :] = h_t",
        misconception="transposed_weight",
    ),
    # differs when T >= 2: every step restarts from h0
    Mutant(
        id="linear_rnn_forward-state-not-carried",
        function="linear_rnn_forward",
        description="Feeds h0 into every step instead of the previous step's state.",
        old=_LRF_STEP,
        new="        h_t = h0 @ W_h.T + C[..., t, :] @ W_c.T  # (..., d_h)\n        H[..., t, :] = h_t",
        misconception="state_not_carried",
    ),
    # differs always: hw1's tanh copied into the linear RNN
    Mutant(
        id="linear_rnn_forward-tanh",
        function="linear_rnn_forward",
        description="Keeps hw1's tanh: h_t = tanh(W_h h_{t-1} + W_c c_t).",
        old=_LRF_STEP,
        new="        h_t = np.tanh(h_t @ W_h.T + C[..., t, :] @ W_c.T)  # (..., d_h)\n        H[..., t, :] = h_t",
        misconception="nonlinearity_kept",
    ),
    # ------------------------------------------------------------------ compose_affine
    # differs whenever d >= 2 (M) or always (b): "second, then first"
    Mutant(
        id="compose_affine-wrong-order",
        function="compose_affine",
        description="Composes the maps in the wrong order: (M_1 M_2, M_1 b_2 + b_1).",
        old=_COMPOSE_M_b,
        new="    M = M_1 @ M_2  # (..., d, d)\n    b = (M_1 @ b_2[..., None])[..., 0] + b_1  # (..., d)",
        misconception="composition_order",
    ),
    # differs whenever d >= 2
    Mutant(
        id="compose_affine-M-wrong-order",
        function="compose_affine",
        description="Multiplies the matrices in reading order, M_1 M_2, with the right offset.",
        old="    M = M_2 @ M_1  # (..., d, d)",
        new="    M = M_1 @ M_2  # (..., d, d)",
        misconception="composition_order",
    ),
    # differs always
    Mutant(
        id="compose_affine-b2-dropped",
        function="compose_affine",
        description="Forgets the second offset: b = M_2 b_1.",
        old="    b = (M_2 @ b_1[..., None])[..., 0] + b_2  # (..., d): M_2 b_1 with b_1 as a column",
        new="    b = (M_2 @ b_1[..., None])[..., 0]  # (..., d)",
        misconception="affine_offset",
    ),
    # differs always
    Mutant(
        id="compose_affine-b1-not-mapped",
        function="compose_affine",
        description="Adds the offsets without sending b_1 through M_2: b = b_1 + b_2.",
        old="    b = (M_2 @ b_1[..., None])[..., 0] + b_2  # (..., d): M_2 b_1 with b_1 as a column",
        new="    b = b_1 + b_2  # (..., d)",
        misconception="affine_offset",
    ),
    # differs whenever d >= 2 (M_2 is not symmetric)
    Mutant(
        id="compose_affine-b1-as-row",
        function="compose_affine",
        description="Multiplies b_1 as a row vector, b_1 @ M_2, which is M_2^T b_1.",
        old="    b = (M_2 @ b_1[..., None])[..., 0] + b_2  # (..., d): M_2 b_1 with b_1 as a column",
        new="    b = (b_1[..., None, :] @ M_2)[..., 0, :] + b_2  # (..., d)",
        misconception="transposed_weight",
    ),
    # differs (in shape) when the offsets have batch dimensions the matrices lack, or the reverse
    Mutant(
        id="compose_affine-not-broadcast",
        function="compose_affine",
        description="Returns M with the matrices' batch dimensions only and b with its own.",
        old=_COMPOSE_BROADCAST,
        new="",
        misconception="batch_not_broadcast",
    ),
    # ------------------------------------------------------------------ prefix_scan
    # differs when T >= 2 and d >= 2 (M), or T >= 2 (q)
    Mutant(
        id="prefix_scan-wrong-order",
        function="prefix_scan",
        description="Composes each round's blocks in the wrong order: the later block applied first.",
        old="        P_tail, q_tail = compose_affine(earlier, later)  # one vectorised call per round",
        new="        P_tail, q_tail = compose_affine(later, earlier)  # one vectorised call per round",
        misconception="composition_order",
    ),
    # differs always: P_0 = I, q_0 = 0, and prefix t stops at map t - 1
    Mutant(
        id="prefix_scan-exclusive",
        function="prefix_scan",
        description="Returns the exclusive scan (maps 0 .. t-1, identity first), as Blelloch's scan gives it.",
        old="        shift *= 2\n    return P, q",
        new=(
            "        shift *= 2\n"
            "    identity = np.broadcast_to(np.eye(M.shape[-1]), P[..., :1, :, :].shape)  # no map applied yet\n"
            "    P = np.concatenate([identity, P[..., :-1, :, :]], axis=-3)  # (..., T, d, d)\n"
            "    q = np.concatenate([np.zeros_like(q[..., :1, :]), q[..., :-1, :]], axis=-2)  # (..., T, d)\n"
            "    return P, q"
        ),
        misconception="exclusive_scan",
    ),
    # differs when T is not a power of 2 (T = 3, 5, 6, 7, 9, ...): the last round is missing
    Mutant(
        id="prefix_scan-floor-log2-rounds",
        function="prefix_scan",
        description="Runs floor(log2 T) rounds instead of ceil(log2 T).",
        old="    while shift < T:",
        new="    for _ in range(int(np.log2(T))):  # one round per doubling",
        misconception="scan_rounds",
    ),
    # differs when T >= 3: the second round reads blocks the first round already grew
    Mutant(
        id="prefix_scan-in-place",
        function="prefix_scan",
        description="Updates the blocks one position at a time, in place, within each round.",
        old=_SCAN_ROUND,
        new=(
            "        for t in range(shift, T):  # one position at a time, in place\n"
            "            P[..., t, :, :], q[..., t, :] = compose_affine((P[..., t - shift, :, :], q[..., t - shift, :]),\n"
            "                                                           (P[..., t, :, :], q[..., t, :]))\n"
        ),
        misconception="scan_in_place",
    ),
    # differs when T >= 4: the blocks overlap once the shift stops doubling
    Mutant(
        id="prefix_scan-shift-plus-one",
        function="prefix_scan",
        description="Grows the shift by one each round instead of doubling it.",
        old="        shift *= 2",
        new="        shift += 1",
    ),
    # ------------------------------------------------------------------ linear_rnn_scan
    # differs always (h0 is never 0)
    Mutant(
        id="linear_rnn_scan-forgot-P-h0",
        function="linear_rnn_scan",
        description="Returns q_t, the states reached from h0 = 0, forgetting P_t h0.",
        old=_SCAN_P_h0 + "\n    return P_h0 + q",
        new="    return q  # (..., T, d_h)",
        misconception="forgot_initial_state",
    ),
    # differs when T >= 2
    Mutant(
        id="linear_rnn_scan-h0-one-step",
        function="linear_rnn_scan",
        description="Adds W_h h0 to every state instead of P_t h0 = W_h^(t+1) h0.",
        old=_SCAN_P_h0,
        new="    P_h0 = (h0 @ W_h.T)[..., None, :]  # (..., 1, d_h)",
        misconception="forgot_initial_state",
    ),
    # differs whenever d_h >= 2 (P_t is not symmetric)
    Mutant(
        id="linear_rnn_scan-P-transposed",
        function="linear_rnn_scan",
        description="Applies P_t to h0 as a row vector, h0 @ P_t, which is P_t^T h0.",
        old=_SCAN_P_h0,
        new="    P_h0 = (h0[..., None, None, :] @ P)[..., 0, :]  # (..., T, d_h)",
        misconception="transposed_weight",
    ),
    # differs when T >= 2 and d_h >= 2
    Mutant(
        id="linear_rnn_scan-Wh-transposed",
        function="linear_rnn_scan",
        description="Scans the maps (W_h^T, W_c c_t).",
        old="    M = np.broadcast_to(W_h, b.shape[:-1] + (d_h, d_h))",
        new="    M = np.broadcast_to(W_h.T, b.shape[:-1] + (d_h, d_h))",
        misconception="transposed_weight",
    ),
    # raises (matmul shape error in the scan): d_c != d_h in every case
    Mutant(
        id="linear_rnn_scan-c-as-offset",
        function="linear_rnn_scan",
        description="Uses c_t itself as the offset b_t, forgetting W_c.",
        old="    b = C @ W_c.T  # (..., T, d_h): b_t = W_c c_t",
        new="    b = C  # (..., T, d_c)",
    ),
    # ------------------------------------------------------------------ linear_rnn_kernel
    # differs always: K[k] = W_h^(k+1) W_c
    Mutant(
        id="linear_rnn_kernel-off-by-one",
        function="linear_rnn_kernel",
        description="Starts the kernel at K[0] = W_h W_c (one power too many).",
        old="    K[0] = W_c\n    for k in range(1, T):",
        new="    K[0] = W_h @ W_c\n    for k in range(1, T):",
        misconception="kernel_off_by_one",
    ),
    # differs when T >= 3 and d_h >= 2: W_h ** k is element-wise
    Mutant(
        id="linear_rnn_kernel-elementwise-power",
        function="linear_rnn_kernel",
        description="Raises W_h to the power k element-wise (W_h ** k) instead of as a matrix.",
        old="        K[k] = W_h @ K[k - 1]  # W_h^k W_c",
        new="        K[k] = (W_h ** k) @ W_c  # W_h^k W_c",
        misconception="elementwise_power",
    ),
    # differs when T >= 2 and d_h >= 2
    Mutant(
        id="linear_rnn_kernel-Wh-transposed",
        function="linear_rnn_kernel",
        description="Multiplies by W_h^T at each power.",
        old="        K[k] = W_h @ K[k - 1]  # W_h^k W_c",
        new="        K[k] = W_h.T @ K[k - 1]  # W_h^k W_c",
        misconception="transposed_weight",
    ),
    # differs when T >= 2: the kernel is flipped, as for the convolution's sum over t - s
    Mutant(
        id="linear_rnn_kernel-reversed",
        function="linear_rnn_kernel",
        description="Returns the kernel from the oldest lag to the newest, K[T-1-k].",
        old="    return K\n",
        new="    return K[::-1]\n",
        misconception="kernel_reversed",
    ),
    # ------------------------------------------------------------------ split_heads
    # differs when n_heads >= 2 and d_head >= 2
    Mutant(
        id="split_heads-interleaved",
        function="split_heads",
        description="Gives head h the features h, h + n_heads, h + 2 n_heads, ... (reshape to (d_head, n_heads)).",
        old=_SPLIT_RESHAPE,
        new=(
            "    X = X.reshape(X.shape[:-1] + (d // n_heads, n_heads))  # (..., T, d / n_heads, n_heads)\n"
            "    return np.moveaxis(X, -1, -3)  # (..., n_heads, T, d / n_heads)"
        ),
        misconception="interleaved_heads",
    ),
    # differs when n_heads >= 2 and T >= 2
    Mutant(
        id="split_heads-reshape-only",
        function="split_heads",
        description="Reshapes (..., T, d) straight to (..., n_heads, T, d / n_heads), mixing positions.",
        old=_SPLIT_RESHAPE,
        new="    return X.reshape(X.shape[:-2] + (n_heads, X.shape[-2], d // n_heads))  # (..., n_heads, T, d / n_heads)",
        misconception="reshape_without_transpose",
    ),
    # differs only when n_heads does not divide d: returns the first n_heads * (d // n_heads) features
    Mutant(
        id="split_heads-slices-unchecked",
        function="split_heads",
        description="Slices d // n_heads features per head without checking that n_heads divides d.",
        old=_SPLIT_CHECK + _SPLIT_RESHAPE,
        new=(
            "    d_head = d // n_heads\n"
            "    heads = [X[..., h * d_head:(h + 1) * d_head] for h in range(n_heads)]  # (..., T, d_head) each\n"
            "    return np.stack(heads, axis=-3)  # (..., n_heads, T, d_head)"
        ),
    ),
    # ------------------------------------------------------------------ merge_heads
    # differs when n_heads >= 2 and T >= 2
    Mutant(
        id="merge_heads-reshape-only",
        function="merge_heads",
        description="Reshapes (..., n_heads, T, d_head) straight to (..., T, n_heads * d_head), mixing positions.",
        old=_MERGE,
        new="    return X.reshape(X.shape[:-3] + (X.shape[-2], n_heads * d_head))  # (..., T, n_heads * d_head)",
        misconception="reshape_without_transpose",
    ),
    # differs when n_heads >= 2 and d_head >= 2
    Mutant(
        id="merge_heads-interleaved",
        function="merge_heads",
        description="Interleaves the heads' features (flattens (d_head, n_heads) instead of (n_heads, d_head)).",
        old=_MERGE,
        new=(
            "    X = np.moveaxis(X, -3, -1)  # (..., T, d_head, n_heads)\n"
            "    return X.reshape(X.shape[:-2] + (n_heads * d_head,))  # (..., T, n_heads * d_head)"
        ),
        misconception="interleaved_heads",
    ),
    # differs (in shape) when n_heads >= 2
    Mutant(
        id="merge_heads-along-time",
        function="merge_heads",
        description="Concatenates the heads along the time axis instead of the features.",
        old=_MERGE,
        new="    return np.concatenate([X[..., h, :, :] for h in range(n_heads)], axis=-2)  # (..., n_heads * T, d_head)",
        misconception="merge_axis",
    ),
    # ------------------------------------------------------------------ multi_head_attention
    # differs when n_heads >= 2 and T >= 2
    Mutant(
        id="multi_head_attention-scale-sqrt-dk",
        function="multi_head_attention",
        description="Scales every head's scores by sqrt(d_k) instead of sqrt(d_k / n_heads).",
        old="    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k / n_heads)  # (..., n_heads, T, T)",
        new="    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (..., n_heads, T, T)",
        misconception="head_scale",
    ),
    # differs always (in shape when d_o != d_v)
    Mutant(
        id="multi_head_attention-no-W_o",
        function="multi_head_attention",
        description="Returns the merged heads without the output projection W_o.",
        old="    H = merge_heads(A @ V) @ W_o.T  # (..., T, d_v) @ (d_v, d_o) -> (..., T, d_o)",
        new="    H = merge_heads(A @ V)  # (..., T, d_v)",
        misconception="output_projection",
    ),
    # raises (matmul shape error) when d_o != d_v, wrong values otherwise
    Mutant(
        id="multi_head_attention-W_o-not-transposed",
        function="multi_head_attention",
        description="Multiplies the merged heads by W_o instead of W_o^T.",
        old="    H = merge_heads(A @ V) @ W_o.T  # (..., T, d_v) @ (d_v, d_o) -> (..., T, d_o)",
        new="    H = merge_heads(A @ V) @ W_o  # (..., T, d_o)",
        misconception="transposed_weight",
    ),
    # differs with causal=True and T >= 2
    Mutant(
        id="multi_head_attention-no-mask",
        function="multi_head_attention",
        description="Ignores causal: every position attends to the whole sequence.",
        old=_MASK,
        new="",
        misconception="no_causal_mask",
    ),
    # differs with causal=True: row 0 is all -inf, so A and H are NaN
    Mutant(
        id="multi_head_attention-mask-hides-diagonal",
        function="multi_head_attention",
        description="Masks j >= i instead of j > i, so a position cannot attend to itself.",
        old="        future = np.triu(np.ones((T, T), dtype=bool), k=1)  # (T, T): True where j > i",
        new="        future = np.triu(np.ones((T, T), dtype=bool), k=0)  # (T, T)",
        misconception="no_causal_mask",
    ),
    # differs when T >= 2
    Mutant(
        id="multi_head_attention-softmax-over-queries",
        function="multi_head_attention",
        description="Takes the softmax over axis -2 (the queries) instead of the keys.",
        old=_SOFTMAX,
        new=(
            "    e = np.exp(scores - np.max(scores, axis=-2, keepdims=True))  # (..., n_heads, T, T)\n"
            "    A = e / np.sum(e, axis=-2, keepdims=True)  # (..., n_heads, T, T)"
        ),
        misconception="wrong_softmax_axis",
    ),
    # differs only for scores of magnitude 1e3 (exp overflows: NaN)
    Mutant(
        id="multi_head_attention-no-max-subtraction",
        function="multi_head_attention",
        description="Exponentiates the scores without subtracting the row's maximum.",
        old=_SOFTMAX,
        new=(
            "    e = np.exp(scores)  # (..., n_heads, T, T)\n"
            "    A = e / np.sum(e, axis=-1, keepdims=True)  # (..., n_heads, T, T)"
        ),
        misconception="no_max_subtraction",
    ),
    # ------------------------------------------------------------------ multi_head_attention_backward
    # differs for dC, dW_q and dW_k whenever T >= 2
    Mutant(
        id="multi_head_attention_backward-no-scale",
        function="multi_head_attention_backward",
        description="Forgets the 1/sqrt(d_k / n_heads) factor in the gradient of the scores.",
        old=_DS,
        new="    dS = A * (dA - np.sum(dA * A, axis=-1, keepdims=True))  # (..., n_heads, T, T)",
        misconception="missing_scaling",
    ),
    # differs when n_heads >= 2 and T >= 2
    Mutant(
        id="multi_head_attention_backward-scale-sqrt-dk",
        function="multi_head_attention_backward",
        description="Scales the gradient of the scores by 1/sqrt(d_k) instead of 1/sqrt(d_k / n_heads).",
        old="    scale = 1.0 / np.sqrt(W_q.shape[0] / n_heads)",
        new="    scale = 1.0 / np.sqrt(W_q.shape[0])",
        misconception="head_scale",
    ),
    # differs whenever T >= 2
    Mutant(
        id="multi_head_attention_backward-softmax-diagonal",
        function="multi_head_attention_backward",
        description="Back-propagates through the softmax with its diagonal only: dS = A * dA.",
        old=_DS,
        new="    dS = A * dA * scale  # (..., n_heads, T, T)",
        misconception="softmax_backward_missing_term",
    ),
    # differs always (in shape when d_o != d_v)
    Mutant(
        id="multi_head_attention_backward-dW_o-transposed",
        function="multi_head_attention_backward",
        description="Returns O^T dH, of shape (d_v, d_o), for dW_o.",
        old="    dW_o = dH.reshape(-1, dH.shape[-1]).T @ O.reshape(-1, O.shape[-1])  # (d_o, d_v)",
        new="    dW_o = O.reshape(-1, O.shape[-1]).T @ dH.reshape(-1, dH.shape[-1])  # (d_v, d_o)",
        misconception="transposed_weight",
    ),
    # differs for dC always
    Mutant(
        id="multi_head_attention_backward-dC-without-values",
        function="multi_head_attention_backward",
        description="Leaves the path through the values out of dC.",
        old="    dC = dQ @ W_q + dK @ W_k + dV @ W_v  # (..., T, d_c)",
        new="    dC = dQ @ W_q + dK @ W_k  # (..., T, d_c)",
        misconception="gradient_path_missing",
    ),
    # differs for dC and dW_k whenever T >= 2
    Mutant(
        id="multi_head_attention_backward-dK-not-transposed",
        function="multi_head_attention_backward",
        description="Computes dK = dS Q instead of dS^T Q.",
        old="    dK = merge_heads(np.swapaxes(dS, -1, -2) @ Q)  # (..., T, d_k)",
        new="    dK = merge_heads(dS @ Q)  # (..., T, d_k)",
        misconception="transposed_weight",
    ),
    # differs with causal=True and T >= 2
    Mutant(
        id="multi_head_attention_backward-no-mask",
        function="multi_head_attention_backward",
        description="Recomputes A without the causal mask in the backward pass.",
        old="    _, A = multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal)  # (..., n_heads, T, T)",
        new="    _, A = multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, False)  # (..., n_heads, T, T)",
        misconception="no_causal_mask",
    ),
    # ------------------------------------------------------------------ sinusoidal_positions
    # differs always
    Mutant(
        id="sinusoidal_positions-sin-cos-swapped",
        function="sinusoidal_positions",
        description="Puts the cosine in the even features and the sine in the odd ones.",
        old=_TABLE_FILL,
        new="    P[:, 0::2] = np.cos(angles)  # P[t, 2i]\n    P[:, 1::2] = np.sin(angles)  # P[t, 2i+1]",
        misconception="sin_cos_swapped",
    ),
    # differs always
    Mutant(
        id="sinusoidal_positions-from-one",
        function="sinusoidal_positions",
        description="Numbers the positions 1 .. T instead of 0 .. T-1.",
        old="    angles = np.arange(T)[:, None] * w[None, :]  # (T, d/2): t w_i",
        new="    angles = np.arange(1, T + 1)[:, None] * w[None, :]  # (T, d/2): t w_i",
        misconception="positions_from_one",
    ),
    # differs when d >= 4 (T >= 1): the sines fill the first half, the cosines the second
    Mutant(
        id="sinusoidal_positions-half-split",
        function="sinusoidal_positions",
        description="Puts all the sines first and all the cosines after them, instead of alternating.",
        old=_TABLE_FILL,
        new="    P[:, :d // 2] = np.sin(angles)  # the first half\n    P[:, d // 2:] = np.cos(angles)  # the second half",
        misconception="half_split",
    ),
    # differs when d >= 4 and T >= 2
    Mutant(
        id="sinusoidal_positions-frequency-without-2",
        function="sinusoidal_positions",
        description="Uses w_i = 10000 ** (-i / d), forgetting the 2.",
        old=_TABLE_W,
        new=(
            "    w = 10000.0 ** (-1.0 * np.arange(d // 2) / d)  # (d/2,): w_i\n"
            "    angles = np.arange(T)[:, None] * w[None, :]  # (T, d/2): t w_i"
        ),
        misconception="wrong_frequency",
    ),
    # differs when d >= 4 and T >= 2
    Mutant(
        id="sinusoidal_positions-frequency-inverted",
        function="sinusoidal_positions",
        description="Multiplies t by 10000 ** (2i / d) instead of dividing by it.",
        old=_TABLE_W,
        new=(
            "    w = 10000.0 ** (2.0 * np.arange(d // 2) / d)  # (d/2,): w_i\n"
            "    angles = np.arange(T)[:, None] * w[None, :]  # (T, d/2): t w_i"
        ),
        misconception="wrong_frequency",
    ),
    # ------------------------------------------------------------------ rotary
    # differs when d >= 4 and a position is not 0
    Mutant(
        id="rotary-half-split",
        function="rotary",
        description="Rotates the pairs (x_i, x_{i+d/2}) of the two halves (GPT-NeoX style) instead of adjacent pairs.",
        old="    x_even, x_odd = X[..., 0::2], X[..., 1::2]  # (..., T, d/2): x_2i and x_2i+1\n"
            "    rotated = np.empty(X.shape)  # (..., T, d)\n" + _ROTARY_FILL,
        new=(
            "    x_1, x_2 = X[..., : d // 2], X[..., d // 2:]  # (..., T, d/2): the two halves\n"
            "    rotated = np.concatenate([x_1 * cos - x_2 * sin, x_1 * sin + x_2 * cos], axis=-1)  # (..., T, d)"
        ),
        misconception="half_split",
    ),
    # differs when a position is not 0
    Mutant(
        id="rotary-backwards",
        function="rotary",
        description="Rotates by -m w_i: the sine's sign is swapped in both components.",
        old=_ROTARY_FILL,
        new="    rotated[..., 0::2] = x_even * cos + x_odd * sin\n    rotated[..., 1::2] = -x_even * sin + x_odd * cos",
        misconception="rotation_direction",
    ),
    # differs when a position is not 0
    Mutant(
        id="rotary-second-component-swapped",
        function="rotary",
        description="Writes the second component as x_2i cos + x_2i+1 sin.",
        old=_ROTARY_FILL,
        new="    rotated[..., 0::2] = x_even * cos - x_odd * sin\n    rotated[..., 1::2] = x_even * cos + x_odd * sin",
        misconception="sin_cos_swapped",
    ),
    # differs whenever positions[t] != t
    Mutant(
        id="rotary-row-index",
        function="rotary",
        description="Turns row t by t w_i, ignoring the positions given.",
        old=_ROTARY_W,
        new=(
            "    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)  # (d/2,): w_i\n"
            "    angles = np.arange(X.shape[-2])[:, None] * w[None, :]  # (T, d/2): t w_i"
        ),
        misconception="positions_ignored",
    ),
    # differs at large positions (angles of 1e4 and more lose their fractional part in float32)
    Mutant(
        id="rotary-float32-angles",
        function="rotary",
        description="Computes the angles in float32, as a GPU implementation would.",
        old="    cos, sin = np.cos(angles), np.sin(angles)  # (T, d/2) each",
        new="    angles = angles.astype(np.float32)  # (T, d/2)\n    cos, sin = np.cos(angles), np.sin(angles)  # (T, d/2) each",
    ),
    # ------------------------------------------------------------------ transformer_lm_loss
    # differs when some target is padding
    Mutant(
        id="transformer_lm_loss-padding-counted",
        function="transformer_lm_loss",
        description="Averages -log p(target) over every position, padding included.",
        old="    losses = np.where(mask, -log_p_target, 0.0)  # (B, T); padding adds nothing\n"
            "    return float(losses.sum() / n_counted)",
        new="    return float(np.mean(-log_p_target))",
        misconception="padding_counted",
    ),
    # differs unless exactly one position counts
    Mutant(
        id="transformer_lm_loss-sum",
        function="transformer_lm_loss",
        description="Returns the sum of the per-word losses instead of their mean.",
        old="    return float(losses.sum() / n_counted)",
        new="    return float(losses.sum())",
        misconception="sum_instead_of_mean",
    ),
    # differs always
    Mutant(
        id="transformer_lm_loss-no-positions",
        function="transformer_lm_loss",
        description="Feeds the word embeddings to attention without adding the positions.",
        old=_LM_X,
        new="    X = E[inputs]  # (B, T, d_c)",
        misconception="positions_missing",
    ),
    # differs always
    Mutant(
        id="transformer_lm_loss-positions-from-one",
        function="transformer_lm_loss",
        description="Adds the positions 1 .. T instead of 0 .. T-1.",
        old=_LM_X,
        new="    X = E[inputs] + sinusoidal_positions(T + 1, E.shape[-1])[1:]  # (B, T, d_c)",
        misconception="positions_from_one",
    ),
    # differs when T >= 2
    Mutant(
        id="transformer_lm_loss-not-causal",
        function="transformer_lm_loss",
        description="Runs attention with causal=False: each position sees the word it predicts.",
        old="    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True)  # (B, T, d_o)",
        new="    H, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False)  # (B, T, d_o)",
        misconception="no_causal_mask",
    ),
    # differs always
    Mutant(
        id="transformer_lm_loss-targets-embedded",
        function="transformer_lm_loss",
        description="Embeds the targets instead of the inputs.",
        old=_LM_X,
        new="    X = E[targets] + sinusoidal_positions(T, E.shape[-1])  # (B, T, d_c)",
        misconception="off_by_one_shift",
    ),
    # differs only for logits of magnitude 1e3 (exp overflows or a probability underflows to 0)
    Mutant(
        id="transformer_lm_loss-naive-log-softmax",
        function="transformer_lm_loss",
        description="Takes the log of a softmax computed without subtracting the maximum.",
        old=_LM_LOG_P,
        new=(
            "    p = np.exp(logits) / np.sum(np.exp(logits), axis=-1, keepdims=True)  # (B, T, V)\n"
            "    log_p = np.log(p)  # (B, T, V)"
        ),
        misconception="no_max_subtraction",
    ),
    # raises (matmul shape error) unless d_o == V
    Mutant(
        id="transformer_lm_loss-W_out-not-transposed",
        function="transformer_lm_loss",
        description="Multiplies H by W_out instead of W_out^T.",
        old="    logits = H @ W_out.T  # (B, T, V)",
        new="    logits = H @ W_out  # (B, T, V)",
        misconception="transposed_weight",
    ),
    # differs only when no position counts: returns NaN (0 / 0) instead of raising
    Mutant(
        id="transformer_lm_loss-no-count-check",
        function="transformer_lm_loss",
        description="Does not check that some position counts, and divides by zero.",
        old="    if n_counted == 0:\n"
            "        raise ValueError(\"transformer_lm_loss: every target is padding, so the mean is undefined\")\n",
        new="",
    ),
]
