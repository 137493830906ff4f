"""Known mistakes in homework 1, each reproduced so that a matching answer can be named.

Each entry is the function as a student who holds the misconception writes it. When a
check fails, the grader runs the failing case through these; if one gives the student's
answer, the feedback names it and explains the fix.
"""

from __future__ import annotations

import numpy as np

from grader.authoring.compare import outputs_match
from grader.model import Misconception


def _only_weights_wrong_with_batch(weight_outputs: set[int], batch_of):
    """Detects weight gradients that are wrong only because batch positions were not summed."""

    def detect(got, expected, case) -> bool:
        if not batch_of(case) or not isinstance(got, tuple) or not isinstance(expected, tuple) or len(got) != len(expected):
            return False
        wrong = {i for i, (g, e) in enumerate(zip(got, expected)) if not outputs_match(g, e)}
        return bool(wrong) and wrong <= weight_outputs

    return detect


def _shared_h0_gradient_not_summed(got, expected, case) -> bool:
    h0, C = case.args[1], case.args[2]
    if np.ndim(h0) != 1 or C.ndim < 3 or not isinstance(got, tuple) or len(got) != 4:
        return False
    return not outputs_match(got[0], expected[0]) and all(outputs_match(g, e) for g, e in zip(got[1:], expected[1:]))


def _axis_other_than_last(got, expected, case) -> bool:
    return case.kwargs.get("axis", -1) not in (-1, np.ndim(case.args[0]) - 1)


def _normalised_over_whole_array(got, expected, case) -> bool:
    """The whole output sums to 1, but not along the given axis nor along the last one."""
    x = np.asarray(case.args[0])
    values = np.asarray(got, dtype=np.float64)
    if x.ndim < 2 or values.shape != x.shape:
        return False
    along_axis = np.allclose(values.sum(axis=case.kwargs.get("axis", -1)), 1.0)
    along_last = np.allclose(values.sum(axis=-1), 1.0)
    return bool(np.isclose(values.sum(), 1.0)) and not along_axis and not along_last


def _tanh_overflowed(got, expected, case) -> bool:
    """tanh written with exp: inf / inf gives NaN where tanh saturates (pre-activations of 1e3)."""
    if case.kwargs.get("nonlinearity", "tanh") != "tanh" or isinstance(got, tuple):
        return False
    try:
        values, reference = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return values.shape == reference.shape and bool(np.any(~np.isfinite(values) & np.isfinite(reference)))


CLIPPING_EPSILONS = (1e-15, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6)


def _log_of_clipped_probability(ref):
    """rnn_lm_loss computed as -log(p + eps): right until a target's probability falls below eps."""

    def detect(got, expected, case) -> bool:
        ids, E, h0, W_h, W_c, W_out, pad_id = case.args
        inputs, targets, mask = ref.lm_inputs_and_targets(ids, pad_id)
        p = ref.softmax(ref.rnn_forward(h0, E[inputs], W_h, W_c, **case.kwargs) @ W_out.T, axis=-1)
        p_target = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]
        for eps in CLIPPING_EPSILONS:
            clipped = float(np.where(mask, -np.log(p_target + eps), 0.0).sum() / mask.sum())
            if outputs_match(got, clipped) and not outputs_match(clipped, expected):
                return True
        return False

    return detect


def build(ref) -> list[Misconception]:
    """The misconceptions, given the reference module `ref` (trusted, in the grader's process)."""

    def f_of(name):
        return np.tanh if name == "tanh" else (lambda a: np.maximum(a, 0.0))

    # --- Part A ---
    def rnn_step_linear(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        return h_prev @ W_h.T + c_t @ W_c.T

    def rnn_step_transposed_W_h(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        return f_of(nonlinearity)(h_prev @ W_h + c_t @ W_c.T)

    def rnn_step_nonlinearity_ignored(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        return np.tanh(h_prev @ W_h.T + c_t @ W_c.T) if nonlinearity == "relu" else np.maximum(h_prev @ W_h.T + c_t @ W_c.T, 0)

    def rnn_forward_state_not_carried(h0, C, W_h, W_c, nonlinearity="tanh"):
        steps = [ref.rnn_step(h0, C[..., t, :], W_h, W_c, nonlinearity) for t in range(C.shape[-2])]
        return np.stack(steps, axis=-2)

    def rnn_forward_h0_included(h0, C, W_h, W_c, nonlinearity="tanh"):
        H = ref.rnn_forward(h0, C, W_h, W_c, nonlinearity)
        return np.concatenate([np.broadcast_to(h0, H.shape[:-2] + h0.shape[-1:])[..., None, :], H], axis=-2)

    def rnn_forward_h0_included_last_dropped(h0, C, W_h, W_c, nonlinearity="tanh"):
        return rnn_forward_h0_included(h0, C, W_h, W_c, nonlinearity)[..., :-1, :]

    def rnn_forward_transposed_W_h(h0, C, W_h, W_c, nonlinearity="tanh"):
        return ref.rnn_forward(h0, C, W_h.T, W_c, nonlinearity)

    def rnn_forward_linear(h0, C, W_h, W_c, nonlinearity="tanh"):
        h, states = h0, []
        for t in range(C.shape[-2]):
            h = h @ W_h.T + C[..., t, :] @ W_c.T
            states.append(h)
        return np.stack(states, axis=-2)

    def rnn_step_backward_missing_tanh_derivative(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        return _step_backward(dh_t, h_prev, c_t, W_h, W_c, lambda a: np.ones_like(a) if nonlinearity == "tanh" else (a > 0))

    def rnn_step_backward_relu_at_zero(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        return _step_backward(dh_t, h_prev, c_t, W_h, W_c, lambda a: 1 - np.tanh(a) ** 2 if nonlinearity == "tanh" else (a >= 0))

    def rnn_step_backward_averaged(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        dh_prev, dc_t, dW_h, dW_c = ref.rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity)
        n = max(1, int(np.prod(dh_t.shape[:-1])))
        return dh_prev, dc_t, dW_h / n, dW_c / n

    def rnn_step_backward_unsummed(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        a = h_prev @ W_h.T + c_t @ W_c.T
        da = dh_t * (1 - np.tanh(a) ** 2 if nonlinearity == "tanh" else (a > 0))
        return da @ W_h, da @ W_c, da[..., :, None] * h_prev[..., None, :], da[..., :, None] * c_t[..., None, :]

    def rnn_step_backward_transposed(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
        dh_prev, dc_t, dW_h, dW_c = ref.rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity)
        a = h_prev @ W_h.T + c_t @ W_c.T
        da = dh_t * (1 - np.tanh(a) ** 2 if nonlinearity == "tanh" else (a > 0))
        return da @ W_h.T, dc_t, dW_h.T, dW_c

    def rnn_backward_no_bptt(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
        H = ref.rnn_forward(h0, C, W_h, W_c, nonlinearity)
        dC = np.zeros(C.shape)
        dW_h, dW_c = np.zeros(W_h.shape), np.zeros(W_c.shape)
        dh0 = np.zeros(h0.shape)
        for t in reversed(range(C.shape[-2])):
            h_prev = H[..., t - 1, :] if t > 0 else h0
            dh_prev, dC[..., t, :], a, b = ref.rnn_step_backward(dH[..., t, :], h_prev, C[..., t, :], W_h, W_c, nonlinearity)
            dW_h, dW_c = dW_h + a, dW_c + b
            if t == 0:
                dh0 = dh_prev
        return dh0, dC, dW_h, dW_c

    def rnn_backward_missing_tanh_derivative(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
        if nonlinearity != "tanh":
            return ref.rnn_backward(dH, h0, C, W_h, W_c, nonlinearity)
        H = ref.rnn_forward(h0, C, W_h, W_c, nonlinearity)
        dC = np.zeros(C.shape)
        dW_h, dW_c = np.zeros(W_h.shape), np.zeros(W_c.shape)
        dh_next = np.zeros(H.shape[:-2] + H.shape[-1:])
        for t in reversed(range(C.shape[-2])):
            h_prev = H[..., t - 1, :] if t > 0 else h0
            da = dH[..., t, :] + dh_next
            dh_next, dC[..., t, :] = da @ W_h, da @ W_c
            dW_h += da.reshape(-1, da.shape[-1]).T @ h_prev.reshape(-1, h_prev.shape[-1])
            dW_c += da.reshape(-1, da.shape[-1]).T @ C[..., t, :].reshape(-1, C.shape[-1])
        return dh_next, dC, dW_h, dW_c

    # --- Part B ---
    def softmax_naive(x, axis=-1):
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)

    def softmax_last_axis(x, axis=-1):
        return ref.softmax(x, axis=-1)

    def softmax_first_axis(x, axis=-1):
        return ref.softmax(x, axis=0)

    def softmax_global(x, axis=-1):
        e = np.exp(x - np.max(x))
        return e / np.sum(e)

    def softmax_backward_elementwise(dA, A, axis=-1):
        return A * dA

    def softmax_backward_diagonal(dA, A, axis=-1):
        return A * (1 - A) * dA

    def softmax_backward_last_axis(dA, A, axis=-1):
        return ref.softmax_backward(dA, A, axis=-1)

    def qkv_swapped(C, W_q, W_k, W_v):
        Q, K, V = ref.qkv(C, W_q, W_k, W_v)
        return Q, V, K

    def attention_unscaled(Q, K, causal=True):
        return ref.attention_weights(Q * np.sqrt(Q.shape[-1]), K, causal)

    def attention_scaled_by_d(Q, K, causal=True):
        return ref.attention_weights(Q / np.sqrt(Q.shape[-1]), K, causal)

    def attention_no_mask(Q, K, causal=True):
        return ref.attention_weights(Q, K, causal=False)

    def attention_masked_after_softmax(Q, K, causal=True):
        A = ref.attention_weights(Q, K, causal=False)
        return np.tril(A) if causal else A

    def attention_mask_excludes_diagonal(Q, K, causal=True):
        if not causal:
            return ref.attention_weights(Q, K, causal=False)
        scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
        T = scores.shape[-1]
        blocked = np.triu(np.ones((T, T), dtype=bool), k=0)
        with np.errstate(all="ignore"):
            return ref.softmax(np.where(blocked, -np.inf, scores))

    def attention_wrong_axis(Q, K, causal=True):
        scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
        if causal:
            T = scores.shape[-1]
            scores = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, scores)
        return ref.softmax(scores, axis=-2)

    def self_attention_from(weights):
        def self_attention(C, W_q, W_k, W_v, causal=True):
            Q, K, V = ref.qkv(C, W_q, W_k, W_v)
            A = weights(Q, K, causal)
            return A @ V, A
        return self_attention

    def self_attention_backward_no_mask(dH, C, W_q, W_k, W_v, causal=True):
        return ref.self_attention_backward(dH, C, W_q, W_k, W_v, causal=False)

    # --- Part C ---
    def log_softmax_naive(logits, axis=-1):
        with np.errstate(all="ignore"):
            return np.log(softmax_naive(logits, axis))

    def nll_sum(logits, targets, mask=None):
        return ref.nll_loss(logits, targets, mask) * (np.size(targets) if mask is None else int(np.sum(mask)))

    def nll_unmasked(logits, targets, mask=None):
        return ref.nll_loss(logits, targets, None)

    def nll_mean_over_all_positions(logits, targets, mask=None):
        counted = np.size(targets) if mask is None else int(np.sum(mask))
        return ref.nll_loss(logits, targets, mask) * counted / np.size(targets)

    def nll_backward_no_onehot(logits, targets, mask=None):
        m = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return ref.softmax(logits) * m[..., None] / m.sum()

    def nll_backward_unmasked(logits, targets, mask=None):
        return ref.nll_loss_backward(logits, targets, None)

    def nll_backward_sum(logits, targets, mask=None):
        m = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return ref.nll_loss_backward(logits, targets, mask) * m.sum()

    def nll_backward_all_positions(logits, targets, mask=None):
        m = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return ref.nll_loss_backward(logits, targets, mask) * m.sum() / m.size

    def lm_shift_reversed(token_ids, pad_id):
        ids = np.asarray(token_ids)
        return ids[..., 1:], ids[..., :-1], ids[..., :-1] != pad_id

    def lm_not_shifted(token_ids, pad_id):
        ids = np.asarray(token_ids)
        return ids[..., :-1], ids[..., :-1], ids[..., :-1] != pad_id

    def lm_mask_from_inputs(token_ids, pad_id):
        ids = np.asarray(token_ids)
        return ids[..., :-1], ids[..., 1:], ids[..., :-1] != pad_id

    def lm_mask_all_true(token_ids, pad_id):
        inputs, targets, mask = ref.lm_inputs_and_targets(token_ids, pad_id)
        return inputs, targets, np.ones_like(mask)

    def rnn_lm_unmasked(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
        inputs, targets, _ = ref.lm_inputs_and_targets(token_ids, pad_id)
        H = ref.rnn_forward(h0, E[inputs], W_h, W_c, nonlinearity)
        return ref.nll_loss(H @ W_out.T, targets)

    def rnn_lm_summed(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
        inputs, targets, mask = ref.lm_inputs_and_targets(token_ids, pad_id)
        return ref.rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity) * int(mask.sum())

    def rnn_lm_targets_embedded(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
        inputs, targets, mask = ref.lm_inputs_and_targets(token_ids, pad_id)
        H = ref.rnn_forward(h0, E[targets], W_h, W_c, nonlinearity)
        return ref.nll_loss(H @ W_out.T, targets, mask)

    def log_softmax_without_max(logits, axis=-1):
        with np.errstate(all="ignore"):
            return logits - np.log(np.sum(np.exp(logits), axis=axis, keepdims=True))

    def nll_padding_counted_in_sum(logits, targets, mask=None):
        m = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        picked = np.take_along_axis(ref.log_softmax(logits), np.asarray(targets)[..., None], axis=-1)[..., 0]
        return float(-picked.sum() / m.sum())

    def nll_backward_mask_only_in_count(logits, targets, mask=None):
        m = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return ref.nll_loss_backward(logits, targets, None) * m.size / m.sum()

    def rnn_lm_predicts_current_word(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
        inputs, targets, mask = ref.lm_inputs_and_targets(token_ids, pad_id)
        H = ref.rnn_forward(h0, E[inputs], W_h, W_c, nonlinearity)
        return ref.nll_loss(H @ W_out.T, inputs, mask)

    def attention_backward_variant(scale_in_backward=True, full_jacobian=True):
        def backward(dH, C, W_q, W_k, W_v, causal=True):
            Q, K, V = ref.qkv(C, W_q, W_k, W_v)
            A = ref.attention_weights(Q, K, causal)
            scale = 1.0 / np.sqrt(Q.shape[-1]) if scale_in_backward else 1.0
            dA = dH @ np.swapaxes(V, -1, -2)
            dV = np.swapaxes(A, -1, -2) @ dH
            dS = (ref.softmax_backward(dA, A) if full_jacobian else A * dA) * scale
            dQ, dK = dS @ K, np.swapaxes(dS, -1, -2) @ Q
            rows = C.reshape(-1, C.shape[-1])
            grads = [g.reshape(-1, g.shape[-1]).T @ rows for g in (dQ, dK, dV)]
            return (dQ @ W_q + dK @ W_k + dV @ W_v, *grads)
        return backward

    M = Misconception
    NONLINEARITY = "h_t = f(W_h h_{t-1} + W_c c_t): apply tanh (or ReLU) to the sum, not just return it."
    TRANSPOSED = ("With row vectors, the lecture's W_h h_{t-1} is h_prev @ W_h.T (and W_c c_t is c_t @ W_c.T); "
                  "check which side each weight matrix multiplies from.")
    NOT_SUMMED = "Weight gradients add up the contribution of every batch position (and time step): sum, don't average or keep them apart."
    NO_MAX = "exp overflows for inputs around 1e3; subtract the maximum along the axis first (softmax is unchanged by a shift)."
    TANH_BY_EXP = ("(exp(2a) - 1) / (exp(2a) + 1) is inf / inf = NaN once |a| passes about 355, where tanh is simply ±1: "
                   "use np.tanh.")

    def nll_backward_naive_softmax(logits, targets, mask=None):
        with np.errstate(all="ignore"):
            e = np.exp(logits)
            p = e / e.sum(axis=-1, keepdims=True)
        onehot = np.zeros_like(p)
        np.put_along_axis(onehot, np.asarray(targets)[..., None], 1.0, axis=-1)
        m = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return (p - onehot) * m[..., None] / m.sum()
    return [
        M("missing_nonlinearity", "missing nonlinearity", NONLINEARITY, "rnn_step", rnn_step_linear),
        M("transposed_weight", "transposed weight matrix", TRANSPOSED, "rnn_step", rnn_step_transposed_W_h),
        M("wrong_nonlinearity", "tanh and ReLU swapped", "nonlinearity='tanh' means np.tanh; 'relu' means np.maximum(x, 0).", "rnn_step", rnn_step_nonlinearity_ignored),
        M("tanh_by_exp", "tanh computed with exp overflows", TANH_BY_EXP, "rnn_step", detect=_tanh_overflowed),
        M("tanh_by_exp", "tanh computed with exp overflows", TANH_BY_EXP, "rnn_forward", detect=_tanh_overflowed),
        M("state_not_carried", "state not carried", "Each step must start from the previous step's h_t, not from h0 again.", "rnn_forward", rnn_forward_state_not_carried),
        M("h0_included", "h0 included in H", "H holds the T states after reading each c_t; the initial state h0 is not one of them.", "rnn_forward", rnn_forward_h0_included),
        M("h0_included", "h0 included in H (and the last state dropped)", "H[..., t, :] is the state after reading C[..., t, :]; h0 is not one of them.", "rnn_forward", rnn_forward_h0_included_last_dropped),
        M("transposed_weight", "transposed weight matrix", TRANSPOSED, "rnn_forward", rnn_forward_transposed_W_h),
        M("missing_nonlinearity", "missing nonlinearity", NONLINEARITY, "rnn_forward", rnn_forward_linear),
        M("missing_tanh_derivative", "missing tanh derivative", "Back through h_t = tanh(a_t), multiply by tanh'(a_t) = 1 - h_t**2 before going further.", "rnn_step_backward", rnn_step_backward_missing_tanh_derivative),
        M("relu_derivative_at_zero", "ReLU derivative at 0", "By the contract ReLU'(0) = 0: use (a_t > 0), not (a_t >= 0).", "rnn_step_backward", rnn_step_backward_relu_at_zero),
        M("gradient_not_summed_over_batch", "weight gradient averaged over the batch", NOT_SUMMED, "rnn_step_backward", rnn_step_backward_averaged),
        M("gradient_not_summed_over_batch", "weight gradient not summed over the batch", NOT_SUMMED, "rnn_step_backward", rnn_step_backward_unsummed),
        M("gradient_not_summed_over_batch", "weight gradient not summed over the batch", NOT_SUMMED, "rnn_step_backward",
          detect=_only_weights_wrong_with_batch({2, 3}, lambda case: case.args[0].shape[:-1])),
        M("transposed_weight", "transposed weight in the backward pass", "If a = h @ W_h.T, then dh = da @ W_h and dW_h = da^T h (summed over the batch).", "rnn_step_backward", rnn_step_backward_transposed),
        M("no_gradient_through_time", "no gradient through time", "h_t also feeds h_{t+1}: add the gradient coming back from step t+1 to dH[..., t, :] before back-propagating step t.", "rnn_backward", rnn_backward_no_bptt),
        M("missing_tanh_derivative", "missing tanh derivative", "Back through h_t = tanh(a_t), multiply by 1 - h_t**2 at every step.", "rnn_backward", rnn_backward_missing_tanh_derivative),
        M("gradient_not_summed_over_batch", "gradient of a shared h0 not summed over the batch",
          "One h0 of shape (d_h,) starts every sequence, so dh0 is the sum of every sequence's gradient, with h0's shape.",
          "rnn_backward", detect=_shared_h0_gradient_not_summed),
        M("gradient_not_summed_over_batch", "weight gradient not summed over the batch", NOT_SUMMED, "rnn_backward",
          detect=_only_weights_wrong_with_batch({2, 3}, lambda case: case.args[2].shape[:-2])),
        M("no_max_subtraction", "no max-subtraction", NO_MAX, "softmax", softmax_naive),
        M("wrong_softmax_axis", "softmax over the wrong axis", "Normalise along the `axis` argument (entries along it sum to 1), not always the last axis.", "softmax", softmax_last_axis),
        M("wrong_softmax_axis", "softmax over the wrong axis", "Normalise along the `axis` argument, not axis 0.", "softmax", softmax_first_axis),
        M("wrong_softmax_axis", "softmax over the whole array", "Sum and take the maximum along `axis` with keepdims=True, not over the whole array.", "softmax", softmax_global),
        M("wrong_softmax_axis", "softmax over the whole array", "Sum along `axis` with keepdims=True, not over the whole array.", "softmax", detect=_normalised_over_whole_array),
        M("wrong_softmax_axis", "the axis argument is not used everywhere", "Take the maximum and the sum along the `axis` argument (keepdims=True), not a fixed axis.", "softmax", detect=_axis_other_than_last),
        M("softmax_backward_missing_term", "softmax backward missing a term", "Each x_i affects every A_j: dx = A * (dA - sum(dA * A, axis, keepdims=True)).", "softmax_backward", softmax_backward_elementwise),
        M("softmax_backward_missing_term", "only the diagonal of the softmax Jacobian", "dx = A * (dA - sum(dA * A)) uses the whole Jacobian, not just A(1 - A).", "softmax_backward", softmax_backward_diagonal),
        M("wrong_softmax_axis", "softmax backward over the wrong axis", "Sum along the `axis` argument.", "softmax_backward", softmax_backward_last_axis),
        M("wrong_softmax_axis", "the axis argument is not used everywhere", "Sum along the `axis` argument (keepdims=True), not a fixed axis.", "softmax_backward", detect=_axis_other_than_last),
        M("swapped_projections", "keys and values swapped", "k_t = W_k c_t and v_t = W_v c_t: return (Q, K, V) in that order.", "qkv", qkv_swapped),
        M("missing_scaling", "missing 1/sqrt(d_k) scaling", "Scores are Q K^T / sqrt(d_k).", "attention_weights", attention_unscaled),
        M("missing_scaling", "scaled by d_k instead of sqrt(d_k)", "Scores are Q K^T / sqrt(d_k).", "attention_weights", attention_scaled_by_d),
        M("no_causal_mask", "no causal mask", "With causal=True set the scores of positions j > i to -inf before the softmax.", "attention_weights", attention_no_mask),
        M("no_causal_mask", "mask applied after the softmax", "Zeroing weights after the softmax leaves rows that do not sum to 1: mask the scores (-inf) before it.", "attention_weights", attention_masked_after_softmax),
        M("no_causal_mask", "causal mask also hides the diagonal", "Position i may attend to itself: mask j > i (np.triu(..., k=1)), not j >= i.", "attention_weights", attention_mask_excludes_diagonal),
        M("wrong_softmax_axis", "softmax over the wrong axis", "Each row i (a query) is a distribution over keys j: softmax over the last axis.", "attention_weights", attention_wrong_axis),
        M("missing_scaling", "missing 1/sqrt(d_k) scaling", "Scores are Q K^T / sqrt(d_k).", "self_attention", self_attention_from(attention_unscaled)),
        M("no_causal_mask", "no causal mask", "With causal=True position i attends only to j <= i.", "self_attention", self_attention_from(attention_no_mask)),
        M("no_causal_mask", "causal mask ignored in the backward pass", "Recompute A with the same causal mask as the forward pass.", "self_attention_backward", self_attention_backward_no_mask),
        M("missing_scaling", "missing 1/sqrt(d_k) in the backward pass", "S = Q K^T / sqrt(d_k), so dQ and dK carry the factor 1/sqrt(d_k) too.", "self_attention_backward", attention_backward_variant(scale_in_backward=False)),
        M("softmax_backward_missing_term", "softmax backward missing a term", "dS = A * (dA - sum(dA * A, axis=-1, keepdims=True)), not A * dA.", "self_attention_backward", attention_backward_variant(full_jacobian=False)),
        M("gradient_not_summed_over_batch", "weight gradient not summed over the batch", NOT_SUMMED, "self_attention_backward",
          detect=_only_weights_wrong_with_batch({1, 2, 3}, lambda case: case.args[1].shape[:-2])),
        M("no_max_subtraction", "log of a naive softmax", "log(softmax(x)) underflows to -inf; use x - max - log(sum(exp(x - max))).", "log_softmax", log_softmax_naive),
        M("no_max_subtraction", "no max-subtraction", "x - log(sum(exp(x))) overflows for inputs around 1e3; use x - m - log(sum(exp(x - m))) with m the maximum along the axis.", "log_softmax", log_softmax_without_max),
        M("wrong_softmax_axis", "the axis argument is not used everywhere", "Take the maximum and the sum along the `axis` argument (keepdims=True), not a fixed axis.", "log_softmax", detect=_axis_other_than_last),
        M("no_max_subtraction", "no max-subtraction", NO_MAX, "nll_loss", lambda logits, targets, mask=None: _naive_nll(logits, targets, mask)),
        M("sum_instead_of_mean", "sum instead of mean", "The loss is averaged over the counted positions: divide by their number.", "nll_loss", nll_sum),
        M("padding_not_masked", "padding not masked", "Positions where mask is False must not count, neither in the sum nor in the number you divide by.", "nll_loss", nll_unmasked),
        M("padding_not_masked", "divided by every position", "Divide by the number of counted positions (mask.sum()), not by all of them.", "nll_loss", nll_mean_over_all_positions),
        M("padding_not_masked", "padding counted in the sum", "Leave the positions where mask is False out of the sum, not only out of the count.", "nll_loss", nll_padding_counted_in_sum),
        M("onehot_not_subtracted", "one-hot not subtracted", "d/dlogits of -log softmax(logits)[y] is softmax(logits) - onehot(y).", "nll_loss_backward", nll_backward_no_onehot),
        M("padding_not_masked", "padding not masked", "Masked positions get a zero gradient and do not count in N.", "nll_loss_backward", nll_backward_unmasked),
        M("sum_instead_of_mean", "gradient of the sum, not the mean", "The loss is a mean over N counted positions: divide the gradient by N.", "nll_loss_backward", nll_backward_sum),
        M("padding_not_masked", "divided by every position", "Divide by the number of counted positions, not by all of them.", "nll_loss_backward", nll_backward_all_positions),
        M("padding_not_masked", "padding not masked", "Masked positions get a zero gradient: multiply by mask[..., None].", "nll_loss_backward", nll_backward_mask_only_in_count),
        M("no_max_subtraction", "no max-subtraction", NO_MAX, "nll_loss_backward", nll_backward_naive_softmax),
        M("off_by_one_shift", "inputs and targets swapped", "inputs = ids[:, :-1] (all but the last), targets = ids[:, 1:] (the next word).", "lm_inputs_and_targets", lm_shift_reversed),
        M("off_by_one_shift", "targets not shifted", "The target at position t is the next word, ids[:, t + 1].", "lm_inputs_and_targets", lm_not_shifted),
        M("padding_not_masked", "padding not masked", "mask must be False where the target is padding: mask = targets != pad_id.", "lm_inputs_and_targets", lm_mask_all_true),
        M("padding_not_masked", "mask computed from the inputs", "A position counts when its target is not padding: mask = targets != pad_id.", "lm_inputs_and_targets", lm_mask_from_inputs),
        M("padding_not_masked", "padding not masked", "Pass the mask from lm_inputs_and_targets to nll_loss.", "rnn_lm_loss", rnn_lm_unmasked),
        M("sum_instead_of_mean", "sum instead of mean", "The loss is the average over counted positions.", "rnn_lm_loss", rnn_lm_summed),
        M("off_by_one_shift", "targets embedded instead of inputs", "Embed the inputs (ids[:, :-1]); the targets are what the model predicts.", "rnn_lm_loss", rnn_lm_targets_embedded),
        M("log_of_clipped_probability", "log(p + eps)",
          "Adding eps before the log caps every position's loss at -log(eps) (about 34.5 for 1e-15), while a target's "
          "probability can be e**-1000: take the target's log-probability from log_softmax instead.",
          "rnn_lm_loss", detect=_log_of_clipped_probability(ref)),
        M("off_by_one_shift", "the loss scores the current word", "Score the logits at position t against the next word, targets = ids[:, 1:], not the input.", "rnn_lm_loss", rnn_lm_predicts_current_word),
        M("transposed_weight", "shapes do not line up", "A matrix product failed: check each weight's orientation (row vectors: x @ W.T) and which axis you sum over.",
          None, None, r"matmul|not aligned|shapes .* mismatch|could not be broadcast|size of array|einstein sum"),
    ]


def _step_backward(dh_t, h_prev, c_t, W_h, W_c, derivative):
    a = h_prev @ W_h.T + c_t @ W_c.T
    da = dh_t * derivative(a)
    d_h, d_c = W_c.shape
    rows = da.reshape(-1, d_h)
    return da @ W_h, da @ W_c, rows.T @ h_prev.reshape(-1, d_h), rows.T @ c_t.reshape(-1, d_c)


def _naive_nll(logits, targets, mask):
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        p = e / e.sum(axis=-1, keepdims=True)
        picked = -np.log(np.take_along_axis(p, np.asarray(targets)[..., None], axis=-1)[..., 0])
    m = np.ones(np.shape(targets), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    return float(np.where(m, picked, 0.0).sum() / m.sum())
