"""Realistic student mistakes in homework 1, each a textual patch to the reference
(solutions/hw1/hw1.py). `grader audit hw1` grades every one and holds that it loses points on
its function, costs nothing on the functions that do not call it, and, when it names a
misconception (a label of misconceptions.py), that the feedback names it as the likely cause.

The comment above each mutant says on which inputs it differs from the reference.
"""

from grader.authoring import Mutant

# Lines of the reference that occur more than once are anchored with a neighbouring line.
_RNN_STEP_A_T = "    a_t = h_prev @ W_h.T + c_t @ W_c.T  # (..., d_h)\n    if nonlinearity == \"tanh\":\n        return"

MUTANTS = [
    # ------------------------------------------------------------------ rnn_step
    # differs for both nonlinearities: tanh always, relu wherever a pre-activation is negative
    Mutant(
        id="rnn_step-no-nonlinearity",
        function="rnn_step",
        description="Returns the pre-activation W_h h_{t-1} + W_c c_t without applying f.",
        old=(
            "    if nonlinearity == \"tanh\":\n"
            "        return np.tanh(a_t)  # (..., d_h)\n"
            "    return np.maximum(a_t, 0.0)  # (..., d_h)"
        ),
        new="    return a_t  # (..., d_h)",
        misconception="missing_nonlinearity",
    ),
    # differs whenever W_h is not symmetric (any random W_h), even with no batch dimensions
    Mutant(
        id="rnn_step-Wh-not-transposed",
        function="rnn_step",
        description="Multiplies the row vector h_{t-1} by W_h instead of W_h^T.",
        old=_RNN_STEP_A_T,
        new="    a_t = h_prev @ W_h + c_t @ W_c.T  # (..., d_h)\n    if nonlinearity == \"tanh\":\n        return",
        misconception="transposed_weight",
    ),
    # raises (matmul shape error) whenever d_c != d_h; wrong values only if d_c == d_h
    Mutant(
        id="rnn_step-Wc-not-transposed",
        function="rnn_step",
        description="Multiplies the row vector c_t by W_c instead of W_c^T.",
        old=_RNN_STEP_A_T,
        new="    a_t = h_prev @ W_h.T + c_t @ W_c  # (..., d_h)\n    if nonlinearity == \"tanh\":\n        return",
        misconception="transposed_weight",
    ),
    # differs with nonlinearity="relu" wherever a pre-activation is negative
    Mutant(
        id="rnn_step-relu-as-abs",
        function="rnn_step",
        description="Implements ReLU as the absolute value instead of max(0, x).",
        old="    return np.maximum(a_t, 0.0)  # (..., d_h)",
        new="    return np.abs(a_t)  # (..., d_h)",
    ),
    # differs for both nonlinearities (tanh gets ReLU and ReLU gets tanh)
    Mutant(
        id="rnn_step-tanh-relu-swapped",
        function="rnn_step",
        description="Applies tanh when asked for relu and relu when asked for tanh.",
        old="    if nonlinearity == \"tanh\":\n        return np.tanh(a_t)",
        new="    if nonlinearity == \"relu\":\n        return np.tanh(a_t)",
    ),
    # differs only for an unknown nonlinearity name (e.g. "sigmoid"): returns ReLU instead of raising
    Mutant(
        id="rnn_step-no-nonlinearity-check",
        function="rnn_step",
        description="Does not reject an unknown nonlinearity name; anything but 'tanh' silently becomes ReLU.",
        old=(
            "    if nonlinearity not in (\"tanh\", \"relu\"):\n"
            "        raise ValueError(f\"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}\")\n"
            + _RNN_STEP_A_T
        ),
        new=_RNN_STEP_A_T,
    ),
    # ------------------------------------------------------------------ rnn_forward
    # differs when T >= 2 (every step restarts from h0)
    Mutant(
        id="rnn_forward-state-reset-to-h0",
        function="rnn_forward",
        description="Feeds h0 into every step instead of the previous step's state.",
        old="h_t = rnn_step(h_t, C[..., t, :], W_h, W_c, nonlinearity)",
        new="h_t = rnn_step(h0, C[..., t, :], W_h, W_c, nonlinearity)",
        misconception="state_not_carried",
    ),
    # differs for every T (row 0 is h0; the last state is dropped)
    Mutant(
        id="rnn_forward-h0-included",
        function="rnn_forward",
        description="Stores the state before each step, so H starts with h0 and misses the last state.",
        old=(
            "        h_t = rnn_step(h_t, C[..., t, :], W_h, W_c, nonlinearity)  # (..., d_h)\n"
            "        H[..., t, :] = h_t"
        ),
        new=(
            "        H[..., t, :] = h_t\n"
            "        h_t = rnn_step(h_t, C[..., t, :], W_h, W_c, nonlinearity)  # (..., d_h)"
        ),
        misconception="h0_included",
    ),
    # differs when T >= 2 (at t = 0 it reads C[..., -1, :], the last input); identical for T == 1
    Mutant(
        id="rnn_forward-input-off-by-one",
        function="rnn_forward",
        description="Reads the input of the previous position, C[t - 1], at step t.",
        old="h_t = rnn_step(h_t, C[..., t, :], W_h, W_c, nonlinearity)",
        new="h_t = rnn_step(h_t, C[..., t - 1, :], W_h, W_c, nonlinearity)",
    ),
    # differs only with nonlinearity="relu" (always runs tanh)
    Mutant(
        id="rnn_forward-ignores-nonlinearity",
        function="rnn_forward",
        description="Forgets to pass the nonlinearity on to rnn_step, so ReLU networks run tanh.",
        old="h_t = rnn_step(h_t, C[..., t, :], W_h, W_c, nonlinearity)",
        new="h_t = rnn_step(h_t, C[..., t, :], W_h, W_c)",
    ),
    # ------------------------------------------------------------------ rnn_step_backward
    # differs with nonlinearity="tanh" (all four gradients); relu unaffected
    Mutant(
        id="rnn_step_backward-no-tanh-derivative",
        function="rnn_step_backward",
        description="Passes dh_t straight through tanh, forgetting to multiply by 1 - tanh(a_t)^2.",
        old="        da_t = dh_t * (1.0 - np.tanh(a_t) ** 2)  # (..., d_h)",
        new="        da_t = dh_t  # (..., d_h)",
        misconception="missing_tanh_derivative",
    ),
    # differs with nonlinearity="tanh": uses the previous state h_{t-1} instead of h_t = tanh(a_t)
    Mutant(
        id="rnn_step_backward-tanh-derivative-of-h_prev",
        function="rnn_step_backward",
        description="Computes the tanh derivative as 1 - h_{t-1}^2, from the previous state instead of h_t.",
        old="        da_t = dh_t * (1.0 - np.tanh(a_t) ** 2)  # (..., d_h)",
        new="        da_t = dh_t * (1.0 - h_prev ** 2)  # (..., d_h)",
    ),
    # differs with nonlinearity="tanh" wherever a_t != 0
    Mutant(
        id="rnn_step_backward-tanh-derivative-of-a",
        function="rnn_step_backward",
        description="Writes the tanh derivative as 1 - a_t^2 instead of 1 - tanh(a_t)^2.",
        old="        da_t = dh_t * (1.0 - np.tanh(a_t) ** 2)  # (..., d_h)",
        new="        da_t = dh_t * (1.0 - a_t ** 2)  # (..., d_h)",
    ),
    # differs only with nonlinearity="relu" and a pre-activation exactly 0 (e.g. a zero row of both W_h and W_c)
    Mutant(
        id="rnn_step_backward-relu-derivative-one-at-zero",
        function="rnn_step_backward",
        description="Takes ReLU's derivative to be 1 at a_t = 0 (uses a_t >= 0).",
        old="        da_t = dh_t * (a_t > 0)  # (..., d_h)",
        new="        da_t = dh_t * (a_t >= 0)  # (..., d_h)",
        misconception="relu_derivative_at_zero",
    ),
    # differs with nonlinearity="relu" wherever a_t > 0 and a_t != 1
    Mutant(
        id="rnn_step_backward-relu-derivative-is-relu",
        function="rnn_step_backward",
        description="Multiplies by ReLU(a_t) itself instead of its derivative (1 where a_t > 0).",
        old="        da_t = dh_t * (a_t > 0)  # (..., d_h)",
        new="        da_t = dh_t * np.maximum(a_t, 0.0)  # (..., d_h)",
    ),
    # differs in dh_prev whenever W_h is not symmetric and some da_t != 0 (not with ReLU when every a_t <= 0)
    Mutant(
        id="rnn_step_backward-dh_prev-transposed",
        function="rnn_step_backward",
        description="Back-propagates to h_{t-1} with da_t @ W_h.T instead of da_t @ W_h.",
        old="    dh_prev = da_t @ W_h  # (..., d_h)",
        new="    dh_prev = da_t @ W_h.T  # (..., d_h)",
        misconception="transposed_weight",
    ),
    # raises (matmul shape error) whenever d_c != d_h
    Mutant(
        id="rnn_step_backward-dc-transposed",
        function="rnn_step_backward",
        description="Back-propagates to c_t with da_t @ W_c.T instead of da_t @ W_c.",
        old="    dc_t = da_t @ W_c  # (..., d_c)",
        new="    dc_t = da_t @ W_c.T  # (..., d_c)",
        misconception="transposed_weight",
    ),
    # differs only when batch dims are non-empty (dW_h is divided by the number of batch positions)
    Mutant(
        id="rnn_step_backward-dWh-averaged-over-batch",
        function="rnn_step_backward",
        description="Averages dW_h over the batch instead of summing it.",
        old="    dW_h = da_rows.T @ h_prev.reshape(-1, d_h)  # (d_h, d_h)",
        new="    dW_h = da_rows.T @ h_prev.reshape(-1, d_h) / len(da_rows)  # (d_h, d_h)",
        misconception="gradient_not_summed_over_batch",
    ),
    # differs only when batch dims are non-empty (np.outer flattens the batch: wrong shape)
    Mutant(
        id="rnn_step_backward-dWc-np-outer",
        function="rnn_step_backward",
        description="Computes dW_c with np.outer(da_t, c_t), which only works for a single example.",
        old="    dW_c = da_rows.T @ c_t.reshape(-1, d_c)  # (d_h, d_c)",
        new="    dW_c = np.outer(da_t, c_t)  # (d_h, d_c)",
        misconception="gradient_not_summed_over_batch",
    ),
    # differs only when batch dims are non-empty (keeps the last example's outer product only)
    Mutant(
        id="rnn_step_backward-dWc-last-example-only",
        function="rnn_step_backward",
        description="Takes dW_c from the last example of the batch instead of summing over all of them.",
        old="    dW_c = da_rows.T @ c_t.reshape(-1, d_c)  # (d_h, d_c)",
        new="    dW_c = np.outer(da_rows[-1], c_t.reshape(-1, d_c)[-1])  # (d_h, d_c)",
        misconception="gradient_not_summed_over_batch",
    ),
    # differs whenever the (d_h, d_h) outer-product sum is not symmetric (any random input with some da_t != 0)
    Mutant(
        id="rnn_step_backward-dWh-transposed",
        function="rnn_step_backward",
        description="Returns the transpose of dW_h: h_{t-1} da_t^T instead of da_t h_{t-1}^T.",
        old="    dW_h = da_rows.T @ h_prev.reshape(-1, d_h)  # (d_h, d_h)",
        new="    dW_h = h_prev.reshape(-1, d_h).T @ da_rows  # (d_h, d_h)",
    ),
    # differs in dW_c for both nonlinearities (skips f'(a_t) for the weight gradient only)
    Mutant(
        id="rnn_step_backward-dWc-uses-dh",
        function="rnn_step_backward",
        description="Builds dW_c from dh_t instead of da_t, skipping the nonlinearity's derivative there.",
        old="    dW_c = da_rows.T @ c_t.reshape(-1, d_c)  # (d_h, d_c)",
        new="    dW_c = dh_t.reshape(-1, d_h).T @ c_t.reshape(-1, d_c)  # (d_h, d_c)",
    ),
    # ------------------------------------------------------------------ rnn_backward
    # differs when T >= 2 (dh0 and all earlier gradients miss the path through later steps)
    Mutant(
        id="rnn_backward-no-gradient-through-time",
        function="rnn_backward",
        description="Uses only the loss's direct gradient dH[t] at each step and forgets the gradient from step t+1.",
        old="        dh_t = dH[..., t, :] + dh_next  # (..., d_h)",
        new="        dh_t = dH[..., t, :]  # (..., d_h)",
        misconception="no_gradient_through_time",
    ),
    # differs for every T (dW_h and the derivative are computed at the wrong state)
    Mutant(
        id="rnn_backward-uses-h_t-not-h_prev",
        function="rnn_backward",
        description="Passes the state after step t, H[t], where the state before it, h_{t-1}, is needed.",
        old="        h_prev = H[..., t - 1, :] if t > 0 else np.broadcast_to(h0, dh_next.shape)  # (..., d_h)",
        new="        h_prev = H[..., t, :]  # (..., d_h)",
    ),
    # differs for every T (at t = 0, H[-1] is the last state, not h0)
    Mutant(
        id="rnn_backward-first-step-not-h0",
        function="rnn_backward",
        description="Uses H[t - 1] even at t = 0, which wraps around to the last state instead of h0.",
        old="        h_prev = H[..., t - 1, :] if t > 0 else np.broadcast_to(h0, dh_next.shape)  # (..., d_h)",
        new="        h_prev = H[..., t - 1, :]  # (..., d_h)",
    ),
    # differs when T >= 2 (walks forwards in time, so dh_next comes from the wrong step)
    Mutant(
        id="rnn_backward-loops-forward-in-time",
        function="rnn_backward",
        description="Walks t = 1 .. T forwards instead of backwards through time.",
        old="    for t in reversed(range(T)):",
        new="    for t in range(T):",
    ),
    # differs when T >= 2 (only the t = 0 weight gradient survives)
    Mutant(
        id="rnn_backward-dW-overwritten",
        function="rnn_backward",
        description="Overwrites dW_h and dW_c at each step instead of adding the steps' contributions.",
        old="        dW_h += dW_h_t\n        dW_c += dW_c_t",
        new="        dW_h = dW_h_t\n        dW_c = dW_c_t",
    ),
    # differs only when h0 is a shared (d_h,) state and batch dims are non-empty (dh0 has the batch shape)
    Mutant(
        id="rnn_backward-shared-h0-not-summed",
        function="rnn_backward",
        description="Returns one dh0 per sequence instead of summing over the batch when h0 is shared.",
        old="    dh0 = dh_next.sum(axis=tuple(range(dh_next.ndim - np.ndim(h0))))  # shape of h0",
        new="    dh0 = dh_next  # shape of h0",
        misconception="gradient_not_summed_over_batch",
    ),
    # differs only with nonlinearity="relu" (forward uses ReLU, backward uses tanh's derivative)
    Mutant(
        id="rnn_backward-ignores-nonlinearity-in-step",
        function="rnn_backward",
        description="Forgets to pass the nonlinearity to rnn_step_backward, so ReLU gradients use tanh's derivative.",
        old="            dh_t, h_prev, C[..., t, :], W_h, W_c, nonlinearity\n",
        new="            dh_t, h_prev, C[..., t, :], W_h, W_c\n",
    ),
    # ------------------------------------------------------------------ softmax
    # differs for inputs of magnitude >= 1e3 (exp overflows to inf, giving nan)
    Mutant(
        id="softmax-no-max-subtraction",
        function="softmax",
        description="Exponentiates the raw scores without subtracting the maximum, which overflows for large inputs.",
        old="    e = np.exp(x - x_max)  # every exponent <= 0: no overflow",
        new="    e = np.exp(x)",
        misconception="no_max_subtraction",
    ),
    # differs only when `axis` is not the last axis (normalises over the last axis regardless)
    Mutant(
        id="softmax-ignores-axis-argument",
        function="softmax",
        description="Always normalises over the last axis, ignoring the axis argument.",
        old="    return e / np.sum(e, axis=axis, keepdims=True)",
        new="    return e / np.sum(e, axis=-1, keepdims=True)",
        misconception="wrong_softmax_axis",
    ),
    # differs for inputs with >= 2 dims when axis is not 0
    Mutant(
        id="softmax-normalises-axis-0",
        function="softmax",
        description="Normalises over axis 0 (the columns) instead of the requested axis.",
        old="    return e / np.sum(e, axis=axis, keepdims=True)",
        new="    return e / np.sum(e, axis=0, keepdims=True)",
        misconception="wrong_softmax_axis",
    ),
    # differs for inputs with >= 2 dims (normalises over every entry at once)
    Mutant(
        id="softmax-normalises-whole-array",
        function="softmax",
        description="Divides by the sum of every entry of the array, not the sum along the axis.",
        old="    return e / np.sum(e, axis=axis, keepdims=True)",
        new="    return e / np.sum(e)",
        misconception="wrong_softmax_axis",
    ),
    # differs only for >= 2 slices at magnitude 1e4: slices far below the global max underflow to 0/0 = nan
    Mutant(
        id="softmax-subtracts-global-max",
        function="softmax",
        description="Subtracts the maximum of the whole array instead of each slice's maximum.",
        old=(
            "    x_max = np.max(x, axis=axis, keepdims=True)\n"
            "    x_max = np.where(np.isfinite(x_max), x_max, 0.0)  # an all -inf slice"
        ),
        new=(
            "    x_max = np.max(x)\n"
            "    x_max = np.where(np.isfinite(x_max), x_max, 0.0)  # an all -inf slice"
        ),
    ),
    # ------------------------------------------------------------------ softmax_backward
    # differs for any input (drops the - A * sum(dA * A) term)
    Mutant(
        id="softmax_backward-only-diagonal-term",
        function="softmax_backward",
        description="Returns A * dA, forgetting the term - A * sum_j dA_j A_j.",
        old="    return A * (dA - np.sum(dA * A, axis=axis, keepdims=True))",
        new="    return A * dA",
        misconception="softmax_backward_missing_term",
    ),
    # differs for any input (uses the sigmoid-style derivative A (1 - A) on the diagonal only)
    Mutant(
        id="softmax_backward-sigmoid-derivative",
        function="softmax_backward",
        description="Uses A * (1 - A) * dA, the diagonal of the Jacobian only, as if softmax were a sigmoid.",
        old="    return A * (dA - np.sum(dA * A, axis=axis, keepdims=True))",
        new="    return A * (1.0 - A) * dA",
        misconception="softmax_backward_missing_term",
    ),
    # differs for any input (forgets to multiply by A_i)
    Mutant(
        id="softmax_backward-missing-outer-A",
        function="softmax_backward",
        description="Returns dA - sum_j dA_j A_j without the leading factor A_i.",
        old="    return A * (dA - np.sum(dA * A, axis=axis, keepdims=True))",
        new="    return dA - np.sum(dA * A, axis=axis, keepdims=True)",
    ),
    # differs for any input (sums dA_j instead of dA_j A_j)
    Mutant(
        id="softmax_backward-sum-without-A",
        function="softmax_backward",
        description="Subtracts sum_j dA_j instead of the weighted sum sum_j dA_j A_j.",
        old="    return A * (dA - np.sum(dA * A, axis=axis, keepdims=True))",
        new="    return A * (dA - np.sum(dA, axis=axis, keepdims=True))",
    ),
    # differs only when `axis` is not the last axis
    Mutant(
        id="softmax_backward-ignores-axis-argument",
        function="softmax_backward",
        description="Always sums over the last axis, ignoring the axis the softmax was taken over.",
        old="    return A * (dA - np.sum(dA * A, axis=axis, keepdims=True))",
        new="    return A * (dA - np.sum(dA * A, axis=-1, keepdims=True))",
        misconception="wrong_softmax_axis",
    ),
    # ------------------------------------------------------------------ qkv
    # differs for any input (K and V swapped; shapes are wrong when d_k != d_v)
    Mutant(
        id="qkv-key-value-weights-swapped",
        function="qkv",
        description="Uses W_v for the keys and W_k for the values.",
        old="    K = C @ W_k.T  # (..., T, d_k)\n    V = C @ W_v.T  # (..., T, d_v)",
        new="    K = C @ W_v.T  # (..., T, d_k)\n    V = C @ W_k.T  # (..., T, d_v)",
    ),
    # differs for any input (copy-paste: queries equal keys)
    Mutant(
        id="qkv-queries-use-key-weights",
        function="qkv",
        description="Computes the queries with W_k instead of W_q (copy-paste slip).",
        old="    Q = C @ W_q.T  # (..., T, d_k)",
        new="    Q = C @ W_k.T  # (..., T, d_k)",
    ),
    # raises (matmul shape error) whenever d_k != d_c
    Mutant(
        id="qkv-Wq-not-transposed",
        function="qkv",
        description="Multiplies the rows of C by W_q instead of W_q^T.",
        old="    Q = C @ W_q.T  # (..., T, d_k)",
        new="    Q = C @ W_q  # (..., T, d_k)",
        misconception="transposed_weight",
    ),
    # ------------------------------------------------------------------ attention_weights
    # differs whenever d_k > 1
    Mutant(
        id="attention_weights-no-scaling",
        function="attention_weights",
        description="Forgets to divide the scores by sqrt(d_k).",
        old="    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (..., T, T)",
        new="    scores = Q @ np.swapaxes(K, -1, -2)  # (..., T, T)",
        misconception="missing_scaling",
    ),
    # differs whenever d_k > 1
    Mutant(
        id="attention_weights-scales-by-d_k",
        function="attention_weights",
        description="Divides the scores by d_k instead of sqrt(d_k).",
        old="    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (..., T, T)",
        new="    scores = Q @ np.swapaxes(K, -1, -2) / d_k  # (..., T, T)",
    ),
    # differs for any T >= 2 (A = softmax(K Q^T), the transpose of the scores)
    Mutant(
        id="attention_weights-keys-times-queries",
        function="attention_weights",
        description="Computes the scores as K Q^T instead of Q K^T.",
        old="    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (..., T, T)",
        new="    scores = K @ np.swapaxes(Q, -1, -2) / np.sqrt(d_k)  # (..., T, T)",
    ),
    # differs only with causal=True and T >= 2 (np.where's result is thrown away)
    Mutant(
        id="attention_weights-mask-not-assigned",
        function="attention_weights",
        description="Calls np.where to mask the future but never assigns the result, so nothing is masked.",
        old="        scores = np.where(future, -np.inf, scores)  # (..., T, T)",
        new="        np.where(future, -np.inf, scores)  # (..., T, T)",
        misconception="no_causal_mask",
    ),
    # differs only with causal=True (masks the diagonal too; the first row becomes 0/0 = nan)
    Mutant(
        id="attention_weights-mask-includes-diagonal",
        function="attention_weights",
        description="Masks j >= i instead of j > i, so a position may not attend to itself.",
        old="np.triu(np.ones((T_q, T_k), dtype=bool), k=1)",
        new="np.triu(np.ones((T_q, T_k), dtype=bool), k=0)",
    ),
    # differs only with causal=True and T >= 2 (masks the past instead of the future)
    Mutant(
        id="attention_weights-mask-lower-triangle",
        function="attention_weights",
        description="Uses np.tril instead of np.triu, so positions see the future and not the past.",
        old="np.triu(np.ones((T_q, T_k), dtype=bool), k=1)",
        new="np.tril(np.ones((T_q, T_k), dtype=bool), k=-1)",
    ),
    # differs only with causal=True and T >= 2 (masked scores set to 0, which still gets weight)
    Mutant(
        id="attention_weights-mask-with-zero",
        function="attention_weights",
        description="Sets the future scores to 0 instead of -inf, so future positions keep some weight.",
        old="        scores = np.where(future, -np.inf, scores)  # (..., T, T)",
        new="        scores = np.where(future, 0.0, scores)  # (..., T, T)",
    ),
    # differs only with causal=True and T >= 2 (rows no longer sum to 1)
    Mutant(
        id="attention_weights-mask-after-softmax",
        function="attention_weights",
        description="Zeroes the future weights after the softmax without renormalising the rows.",
        old="        scores = np.where(future, -np.inf, scores)  # (..., T, T)\n    return softmax(scores, axis=-1)",
        new="        return np.where(future, 0.0, softmax(scores, axis=-1))  # (..., T, T)\n    return softmax(scores, axis=-1)",
    ),
    # differs for T >= 2 (columns sum to 1 instead of rows)
    Mutant(
        id="attention_weights-softmax-over-queries",
        function="attention_weights",
        description="Takes the softmax over axis -2 (the queries) instead of the last axis (the keys).",
        old="    return softmax(scores, axis=-1)",
        new="    return softmax(scores, axis=-2)",
        misconception="wrong_softmax_axis",
    ),
    # ------------------------------------------------------------------ self_attention
    # differs for any input (mixes the keys; H has d_k columns instead of d_v)
    Mutant(
        id="self_attention-mixes-keys",
        function="self_attention",
        description="Returns A K instead of A V, mixing the keys instead of the values.",
        old="    H = A @ V  # (..., T, d_v)",
        new="    H = A @ K  # (..., T, d_v)",
    ),
    # differs for T >= 2 (uses the transposed weights A^T)
    Mutant(
        id="self_attention-transposed-weights",
        function="self_attention",
        description="Mixes the values with A^T instead of A.",
        old="    H = A @ V  # (..., T, d_v)",
        new="    H = np.swapaxes(A, -1, -2) @ V  # (..., T, d_v)",
    ),
    # differs only with causal=False and T >= 2 (attention_weights' default causal=True is used)
    Mutant(
        id="self_attention-causal-not-passed",
        function="self_attention",
        description="Forgets to pass `causal` on, so the attention is always causal.",
        old="    A = attention_weights(Q, K, causal)  # (..., T, T)\n    H = A @ V",
        new="    A = attention_weights(Q, K)  # (..., T, T)\n    H = A @ V",
    ),
    # differs for T >= 2 (scores are K Q^T)
    Mutant(
        id="self_attention-queries-keys-swapped",
        function="self_attention",
        description="Passes the keys as queries and the queries as keys to attention_weights.",
        old="    A = attention_weights(Q, K, causal)  # (..., T, T)\n    H = A @ V",
        new="    A = attention_weights(K, Q, causal)  # (..., T, T)\n    H = A @ V",
    ),
    # ------------------------------------------------------------------ self_attention_backward
    # differs for every T, even T == 1 where the true dS is 0 (skips the softmax backward entirely)
    Mutant(
        id="self_attention_backward-no-softmax-backward",
        function="self_attention_backward",
        description="Treats the softmax as the identity: dS = dA / sqrt(d_k).",
        old="    dS = softmax_backward(dA, A, axis=-1) * scale",
        new="    dS = dA * scale",
    ),
    # differs for every T, even T == 1 where the true dS is 0 (inline softmax backward without the sum term)
    Mutant(
        id="self_attention_backward-softmax-backward-diagonal",
        function="self_attention_backward",
        description="Back-propagates through the softmax with A * dA, missing the - A * sum(dA * A) term.",
        old="    dS = softmax_backward(dA, A, axis=-1) * scale",
        new="    dS = A * dA * scale",
        misconception="softmax_backward_missing_term",
    ),
    # differs in dC, dW_q, dW_k whenever d_k > 1 and T >= 2
    Mutant(
        id="self_attention_backward-no-scaling",
        function="self_attention_backward",
        description="Forgets the 1/sqrt(d_k) factor in the gradient of the scores.",
        old="    dS = softmax_backward(dA, A, axis=-1) * scale",
        new="    dS = softmax_backward(dA, A, axis=-1)",
        misconception="missing_scaling",
    ),
    # differs in dC, dW_q, dW_k whenever d_k > 1 and T >= 2
    Mutant(
        id="self_attention_backward-scales-by-d_k",
        function="self_attention_backward",
        description="Uses 1/d_k instead of 1/sqrt(d_k) for the scale.",
        old="    scale = 1.0 / np.sqrt(Q.shape[-1])",
        new="    scale = 1.0 / Q.shape[-1]",
    ),
    # differs in dC and dW_k for T >= 2
    Mutant(
        id="self_attention_backward-dK-not-transposed",
        function="self_attention_backward",
        description="Computes dK = dS Q instead of dS^T Q.",
        old="    dK = np.swapaxes(dS, -1, -2) @ Q  # (..., T, d_k)",
        new="    dK = dS @ Q  # (..., T, d_k)",
    ),
    # differs in dC and dW_q for T >= 2
    Mutant(
        id="self_attention_backward-dQ-transposed",
        function="self_attention_backward",
        description="Computes dQ = dS^T K instead of dS K.",
        old="    dQ = dS @ K  # (..., T, d_k)",
        new="    dQ = np.swapaxes(dS, -1, -2) @ K  # (..., T, d_k)",
    ),
    # differs in dC and dW_v for T >= 2 (A is not symmetric)
    Mutant(
        id="self_attention_backward-dV-not-transposed",
        function="self_attention_backward",
        description="Computes dV = A dH instead of A^T dH.",
        old="    dV = np.swapaxes(A, -1, -2) @ dH  # (..., T, d_v)",
        new="    dV = A @ dH  # (..., T, d_v)",
    ),
    # differs in dC for T >= 2 (the gradient through the keys is dropped)
    Mutant(
        id="self_attention_backward-dC-missing-key-path",
        function="self_attention_backward",
        description="Adds only the query and value paths into dC, forgetting the gradient through the keys.",
        old="    dC = dQ @ W_q + dK @ W_k + dV @ W_v  # (..., T, d_c)",
        new="    dC = dQ @ W_q + dV @ W_v  # (..., T, d_c)",
    ),
    # differs only when batch dims are non-empty (dW_v keeps the batch dims: wrong shape)
    Mutant(
        id="self_attention_backward-dWv-not-summed-over-batch",
        function="self_attention_backward",
        description="Computes dW_v per example (dV^T C with the batch kept) instead of summing over the batch.",
        old="    dW_v = dV.reshape(-1, dV.shape[-1]).T @ C_rows  # (d_v, d_c)",
        new="    dW_v = np.swapaxes(dV, -1, -2) @ C  # (d_v, d_c)",
        misconception="gradient_not_summed_over_batch",
    ),
    # differs only with causal=False and T >= 2 (recomputes a causal A)
    Mutant(
        id="self_attention_backward-causal-not-passed",
        function="self_attention_backward",
        description="Recomputes the forward pass without passing `causal`, so it always uses the causal mask.",
        old="    A = attention_weights(Q, K, causal)  # (..., T, T)\n    scale",
        new="    A = attention_weights(Q, K)  # (..., T, T)\n    scale",
    ),
    # ------------------------------------------------------------------ log_softmax
    # differs at magnitude >= 1e3 (exp overflows: -inf or nan)
    Mutant(
        id="log_softmax-naive",
        function="log_softmax",
        description="Computes x - log(sum(exp(x))) without subtracting the maximum first.",
        old="    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
        new="    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))",
        misconception="no_max_subtraction",
    ),
    # differs at magnitude 1e4 (small probabilities underflow to 0 and their log is -inf)
    Mutant(
        id="log_softmax-log-of-softmax",
        function="log_softmax",
        description="Takes the log of the softmax, which gives -inf once a probability underflows to 0.",
        old="    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
        new="    return np.log(softmax(x, axis=axis))",
    ),
    # differs whenever the slice maximum is not 0 (any random input)
    Mutant(
        id="log_softmax-max-not-added-back",
        function="log_softmax",
        description="Subtracts the maximum inside the exponent but returns x - log(sum(exp(x - max))), off by the maximum.",
        old="    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
        new="    return x - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
    ),
    # differs only when `axis` is not the last axis
    Mutant(
        id="log_softmax-ignores-axis-argument",
        function="log_softmax",
        description="Sums the exponentials over the last axis whatever the axis argument says.",
        old="    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))",
        new="    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))",
        misconception="wrong_softmax_axis",
    ),
    # ------------------------------------------------------------------ nll_loss
    # differs whenever more than one position counts
    Mutant(
        id="nll_loss-sum-not-mean",
        function="nll_loss",
        description="Returns the sum of the per-position losses instead of their mean.",
        old="    return float(losses.sum() / n_counted)",
        new="    return float(losses.sum())",
        misconception="sum_instead_of_mean",
    ),
    # differs only when the mask has False entries (padding is added to the sum)
    Mutant(
        id="nll_loss-padding-counted",
        function="nll_loss",
        description="Adds the loss of padding positions to the sum instead of skipping them.",
        old="    losses = np.where(mask, -log_p_target, 0.0)  # (..., T); uncounted positions add nothing",
        new="    losses = -log_p_target  # (..., T)",
        misconception="padding_not_masked",
    ),
    # differs only when the mask has False entries
    Mutant(
        id="nll_loss-divides-by-all-positions",
        function="nll_loss",
        description="Divides by the total number of positions instead of the number of counted ones.",
        old="    return float(losses.sum() / n_counted)",
        new="    return float(losses.sum() / losses.size)",
    ),
    # differs whenever some position counts (the loss comes out negative)
    Mutant(
        id="nll_loss-missing-minus-sign",
        function="nll_loss",
        description="Averages log p(target) instead of -log p(target).",
        old="    losses = np.where(mask, -log_p_target, 0.0)  # (..., T); uncounted positions add nothing",
        new="    losses = np.where(mask, log_p_target, 0.0)  # (..., T); uncounted positions add nothing",
    ),
    # differs for any input (the raw logits are used as log-probabilities)
    Mutant(
        id="nll_loss-logits-as-log-probs",
        function="nll_loss",
        description="Uses the raw logits as log-probabilities, forgetting the log-softmax.",
        old="    log_p = log_softmax(logits, axis=-1)  # (..., T, V)\n    log_p_target",
        new="    log_p = logits  # (..., T, V)\n    log_p_target",
    ),
    # differs for any input (averages -p(target) instead of -log p(target))
    Mutant(
        id="nll_loss-probability-not-log",
        function="nll_loss",
        description="Uses softmax probabilities where log-probabilities are needed.",
        old="    log_p = log_softmax(logits, axis=-1)  # (..., T, V)\n    log_p_target",
        new="    log_p = softmax(logits, axis=-1)  # (..., T, V)\n    log_p_target",
    ),
    # differs only with an all-False mask: returns nan instead of raising ValueError
    Mutant(
        id="nll_loss-no-empty-mask-check",
        function="nll_loss",
        description="Does not raise ValueError when no position counts (divides by zero instead).",
        old=(
            "    if n_counted == 0:\n"
            "        raise ValueError(\"nll_loss: the mask counts no position, so the mean is undefined\")\n"
        ),
        new="",
    ),
    # ------------------------------------------------------------------ nll_loss_backward
    # differs for any input (returns softmax / N without the one-hot)
    Mutant(
        id="nll_loss_backward-onehot-not-subtracted",
        function="nll_loss_backward",
        description="Returns softmax(logits) / N, forgetting to subtract the one-hot target.",
        old="    return (p - onehot) * mask[..., None] / n_counted",
        new="    return p * mask[..., None] / n_counted",
        misconception="onehot_not_subtracted",
    ),
    # differs only when the mask has False entries
    Mutant(
        id="nll_loss_backward-padding-not-masked",
        function="nll_loss_backward",
        description="Gives padding positions a nonzero gradient.",
        old="    return (p - onehot) * mask[..., None] / n_counted",
        new="    return (p - onehot) / n_counted",
        misconception="padding_not_masked",
    ),
    # differs whenever more than one position counts
    Mutant(
        id="nll_loss_backward-not-divided-by-N",
        function="nll_loss_backward",
        description="Forgets to divide by the number of counted positions (the gradient of the sum, not the mean).",
        old="    return (p - onehot) * mask[..., None] / n_counted",
        new="    return (p - onehot) * mask[..., None]",
        misconception="sum_instead_of_mean",
    ),
    # differs only when the mask has False entries
    Mutant(
        id="nll_loss_backward-divides-by-all-positions",
        function="nll_loss_backward",
        description="Divides by the total number of positions instead of the number of counted ones.",
        old="    return (p - onehot) * mask[..., None] / n_counted",
        new="    return (p - onehot) * mask[..., None] / targets.size",
    ),
    # differs for any input (gradient of the wrong sign)
    Mutant(
        id="nll_loss_backward-sign-flipped",
        function="nll_loss_backward",
        description="Returns (onehot - softmax) / N, the gradient with the wrong sign.",
        old="    return (p - onehot) * mask[..., None] / n_counted",
        new="    return (onehot - p) * mask[..., None] / n_counted",
    ),
    # differs when the targets hold >= 2 distinct ids (every position gets a 1 at every target id)
    Mutant(
        id="nll_loss_backward-onehot-fancy-indexing",
        function="nll_loss_backward",
        description="Builds the one-hot with onehot[..., targets] = 1, which marks every target id at every position.",
        old="    np.put_along_axis(onehot, targets[..., None], 1.0, axis=-1)",
        new="    onehot[..., targets] = 1.0",
    ),
    # differs only with an all-False mask: returns nan instead of raising ValueError
    Mutant(
        id="nll_loss_backward-no-empty-mask-check",
        function="nll_loss_backward",
        description="Does not raise ValueError when no position counts (divides by zero instead).",
        old=(
            "    if n_counted == 0:\n"
            "        raise ValueError(\"nll_loss_backward: the mask counts no position, so the mean is undefined\")\n"
        ),
        new="",
    ),
    # ------------------------------------------------------------------ lm_inputs_and_targets
    # differs for any input (targets are the inputs themselves)
    Mutant(
        id="lm_inputs_and_targets-targets-not-shifted",
        function="lm_inputs_and_targets",
        description="Takes the targets from ids[:, :-1], the same positions as the inputs, instead of ids[:, 1:].",
        old="    targets = token_ids[..., 1:]  # (B, T)",
        new="    targets = token_ids[..., :-1]  # (B, T)",
        misconception="off_by_one_shift",
    ),
    # differs for any input (inputs and targets swapped: predicts the previous word)
    Mutant(
        id="lm_inputs_and_targets-shift-reversed",
        function="lm_inputs_and_targets",
        description="Shifts the wrong way: inputs are ids[:, 1:] and targets are ids[:, :-1].",
        old="    inputs = token_ids[..., :-1]  # (B, T)\n    targets = token_ids[..., 1:]  # (B, T)",
        new="    inputs = token_ids[..., 1:]  # (B, T)\n    targets = token_ids[..., :-1]  # (B, T)",
        misconception="off_by_one_shift",
    ),
    # differs only when some row has padding (the position whose input is <eos> and target is padding counts)
    Mutant(
        id="lm_inputs_and_targets-mask-from-inputs",
        function="lm_inputs_and_targets",
        description="Computes the mask from the inputs instead of the targets.",
        old="    mask = targets != pad_id  # (B, T)",
        new="    mask = inputs != pad_id  # (B, T)",
        misconception="padding_not_masked",
    ),
    # differs only when some row has padding
    Mutant(
        id="lm_inputs_and_targets-mask-all-true",
        function="lm_inputs_and_targets",
        description="Counts every position, padding included.",
        old="    mask = targets != pad_id  # (B, T)",
        new="    mask = np.ones(targets.shape, dtype=bool)  # (B, T)",
        misconception="padding_not_masked",
    ),
    # differs for any input (True exactly where it should be False)
    Mutant(
        id="lm_inputs_and_targets-mask-inverted",
        function="lm_inputs_and_targets",
        description="Marks the padding positions as the ones that count (targets == pad_id).",
        old="    mask = targets != pad_id  # (B, T)",
        new="    mask = targets == pad_id  # (B, T)",
    ),
    # ------------------------------------------------------------------ rnn_lm_loss
    # differs only when some sentence is padded
    Mutant(
        id="rnn_lm_loss-mask-not-passed",
        function="rnn_lm_loss",
        description="Calls nll_loss without the mask, so padding targets count.",
        old="    return nll_loss(logits, targets, mask)",
        new="    return nll_loss(logits, targets)",
        misconception="padding_not_masked",
    ),
    # differs for almost any input; not when every state is 0 (e.g. ReLU, T == 1, all inputs <bos>)
    Mutant(
        id="rnn_lm_loss-embeds-targets",
        function="rnn_lm_loss",
        description="Embeds the targets instead of the inputs, so the model reads the word it must predict.",
        old="    C = E[inputs]  # (B, T, d_c)",
        new="    C = E[targets]  # (B, T, d_c)",
    ),
    # differs for almost any input; not when every state is 0 (e.g. ReLU, T == 1, all inputs <bos>)
    Mutant(
        id="rnn_lm_loss-predicts-current-word",
        function="rnn_lm_loss",
        description="Scores the logits against the input words instead of the next words.",
        old="    return nll_loss(logits, targets, mask)",
        new="    return nll_loss(logits, inputs, mask)",
        misconception="off_by_one_shift",
    ),
    # differs only with nonlinearity="relu"
    Mutant(
        id="rnn_lm_loss-ignores-nonlinearity",
        function="rnn_lm_loss",
        description="Forgets to pass the nonlinearity to rnn_forward, so it always uses tanh.",
        old="    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)  # (B, T, d_h)",
        new="    H = rnn_forward(h0, C, W_h, W_c)  # (B, T, d_h)",
    ),
    # differs whenever h0 is not zero
    Mutant(
        id="rnn_lm_loss-ignores-h0",
        function="rnn_lm_loss",
        description="Starts the RNN from a zero state instead of the given h0.",
        old="    H = rnn_forward(h0, C, W_h, W_c, nonlinearity)  # (B, T, d_h)",
        new="    H = rnn_forward(np.zeros_like(h0), C, W_h, W_c, nonlinearity)  # (B, T, d_h)",
    ),
    # raises (matmul shape error) whenever V != d_h
    Mutant(
        id="rnn_lm_loss-Wout-not-transposed",
        function="rnn_lm_loss",
        description="Projects with H @ W_out instead of H @ W_out.T.",
        old="    logits = H @ W_out.T  # (B, T, V)",
        new="    logits = H @ W_out  # (B, T, V)",
        misconception="transposed_weight",
    ),
]

