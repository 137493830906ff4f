"""Homework 2's reference solution proves itself: gradients against finite differences, the
three views of the linear RNN against each other, the scan's rounds, the algebra of affine
maps, heads, positions, and the lecture's example batch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.authoring.gradcheck import numerical_gradient, relative_error
from grader.authoring.strategies import batch_shapes, normal, seeds

from conftest import REPO, load_module
from lecture_batch import LECTURE_BATCH, encode, lecture_vocabulary

HW2_PATH = REPO / "solutions" / "hw2" / "hw2.py"
GRADIENT_TOLERANCE = 1e-6
BATCHES = [(), (3,), (2, 3)]
BATCH_IDS = ["no batch", "batch (k,)", "batch (j, k)"]


@pytest.fixture(scope="module")
def hw2():
    """The reference solution of homework 2, imported from solutions/hw2/hw2.py."""
    return load_module(HW2_PATH, "hw2_reference")


def rotation(angle):
    """The 2 x 2 matrix that turns a column vector by `angle`."""
    return np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def frequencies(d):
    """w_i = 10000 ** (-2i / d), i = 0 .. d/2 - 1, written out one by one."""
    return [10000.0 ** (-2 * i / d) for i in range(d // 2)]


def contracting_matrix(seed, d, radius=0.95):
    """A d x d matrix with every singular value equal to `radius` < 1: its powers shrink steadily."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return radius * q


# --- Part A: the linear RNN, three ways -----------------------------------------------------

def sequential_prefixes(M, b):
    """The inclusive prefix compositions, one map at a time: P_t = M_t P_{t-1}, q_t = M_t q_{t-1} + b_t."""
    P, q = np.empty(M.shape), np.empty(b.shape)
    P[..., 0, :, :], q[..., 0, :] = M[..., 0, :, :], b[..., 0, :]
    for t in range(1, M.shape[-3]):
        P[..., t, :, :] = M[..., t, :, :] @ P[..., t - 1, :, :]
        q[..., t, :] = np.einsum("...ij,...j->...i", M[..., t, :, :], q[..., t - 1, :]) + b[..., t, :]
    return P, q


def convolution_states(K, W_h, h0, C):
    """H[t] = W_h^(t+1) h0 + sum over s <= t of K[t - s] C[s], the convolution view, term by term."""
    T = C.shape[-2]
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]  # (T, T): t - s
    K_lagged = np.where((lag >= 0)[:, :, None, None], K[np.clip(lag, 0, None)], 0.0)  # (T, T, d_h, d_c)
    from_inputs = np.einsum("tsij,...sj->...ti", K_lagged, C)  # (..., T, d_h)
    powers = np.stack([np.linalg.matrix_power(W_h, t + 1) for t in range(T)])  # (T, d_h, d_h)
    from_h0 = np.einsum("tij,...j->...ti", powers, h0)  # (..., T, d_h)
    return from_h0 + from_inputs


@pytest.mark.parametrize("shared_h0", [False, True], ids=["h0 per sequence", "h0 shared"])
def test_scan_forward_and_convolution_agree_for_every_length_up_to_64(hw2, shared_h0):
    d_h, d_c = 3, 2
    W_h, (W_c,) = contracting_matrix(1, d_h), normal(2, (d_h, d_c))
    for T in range(1, 65):
        batch = BATCHES[T % 3]
        h0, C = normal(T, (d_h,) if shared_h0 else batch + (d_h,), batch + (T, d_c))
        H_forward = hw2.linear_rnn_forward(h0, C, W_h, W_c)
        H_scan = hw2.linear_rnn_scan(h0, C, W_h, W_c)
        K = hw2.linear_rnn_kernel(W_h, W_c, T)
        assert H_forward.shape == H_scan.shape == batch + (T, d_h), f"T = {T}"
        assert K.shape == (T, d_h, d_c)
        H_convolution = convolution_states(K, W_h, h0, C)
        np.testing.assert_allclose(H_scan, H_forward, rtol=1e-10, atol=1e-12, err_msg=f"T = {T}")
        np.testing.assert_allclose(H_convolution, H_forward, rtol=1e-10, atol=1e-12, err_msg=f"T = {T}")


def test_linear_rnn_forward_is_the_recurrence_in_column_form(hw2):
    h0, C, W_h, W_c = normal(3, (2, 4), (2, 5, 3), (4, 4), (4, 3))
    H = hw2.linear_rnn_forward(h0, C, W_h, W_c)
    h = h0
    for t in range(5):
        h = (W_h @ h[..., None] + W_c @ C[..., t, :, None])[..., 0]  # the lecture's W_h h_{t-1} + W_c c_t
        np.testing.assert_allclose(H[..., t, :], h, rtol=1e-12, atol=1e-14)


def test_the_kernel_is_the_powers_of_W_h_times_W_c(hw2):
    W_h, W_c = normal(4, (3, 3), (3, 2))
    K = hw2.linear_rnn_kernel(W_h, W_c, 5)
    for k in range(5):
        np.testing.assert_allclose(K[k], np.linalg.matrix_power(W_h, k) @ W_c, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(hw2.linear_rnn_kernel(W_h, W_c, 1), W_c[None])


def test_compose_affine_applies_first_then_second(hw2):
    M_1, b_1, M_2, b_2, h = normal(5, (3, 3), (3,), (3, 3), (3,), (3,))
    M, b = hw2.compose_affine((M_1, b_1), (M_2, b_2))
    np.testing.assert_allclose(M @ h + b, M_2 @ (M_1 @ h + b_1) + b_2, rtol=1e-12)
    assert not np.allclose(M, M_1 @ M_2)  # the order is seen: these matrices do not commute


@pytest.mark.parametrize("batch_of", ["M_1", "b_1", "M_2", "b_2"])
def test_compose_affine_broadcasts_the_batch_of_all_four_arrays(hw2, batch_of):
    d = 3
    shapes = {"M_1": (d, d), "b_1": (d,), "M_2": (d, d), "b_2": (d,)}
    shapes[batch_of] = (2, 4) + shapes[batch_of]
    arrays = dict(zip(shapes, normal(6, *shapes.values())))
    M, b = hw2.compose_affine((arrays["M_1"], arrays["b_1"]), (arrays["M_2"], arrays["b_2"]))
    assert M.shape == (2, 4, d, d) and b.shape == (2, 4, d)
    for i in range(2):
        for j in range(4):
            pick = {name: (x[i, j] if name == batch_of else x) for name, x in arrays.items()}
            expected = (pick["M_2"] @ pick["M_1"], pick["M_2"] @ pick["b_1"] + pick["b_2"])
            np.testing.assert_allclose(M[i, j], expected[0], rtol=1e-12)
            np.testing.assert_allclose(b[i, j], expected[1], rtol=1e-12)


@settings(max_examples=30)
@given(batch=batch_shapes(), d=st.integers(1, 4), seed=seeds())
def test_compose_affine_is_associative(hw2, batch, d, seed):
    f1, f2, f3 = [tuple(normal(seed + i, batch + (d, d), batch + (d,))) for i in range(3)]
    left = hw2.compose_affine(hw2.compose_affine(f1, f2), f3)
    right = hw2.compose_affine(f1, hw2.compose_affine(f2, f3))
    for x, y in zip(left, right):
        assert x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_prefix_scan_matches_the_sequential_compositions(hw2, batch):
    for T in range(1, 20):
        M, b = normal(T, batch + (T, 3, 3), batch + (T, 3), scale=0.6)  # different maps at every step
        P, q = hw2.prefix_scan(M, b)
        expected_P, expected_q = sequential_prefixes(M, b)
        assert P.shape == M.shape and q.shape == b.shape
        np.testing.assert_allclose(P, expected_P, rtol=1e-10, atol=1e-12, err_msg=f"T = {T}")
        np.testing.assert_allclose(q, expected_q, rtol=1e-10, atol=1e-12, err_msg=f"T = {T}")


def test_prefix_scan_of_one_map_is_that_map(hw2):
    M, b = normal(7, (2, 1, 3, 3), (2, 1, 3))
    P, q = hw2.prefix_scan(M, b)
    np.testing.assert_array_equal(P, M)
    np.testing.assert_array_equal(q, b)


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64])
def test_prefix_scan_takes_ceil_log2_T_rounds_of_compose_affine(hw2, monkeypatch, T):
    calls = []
    compose = hw2.compose_affine

    def counting_compose(first, second):
        calls.append(first[0].shape)
        return compose(first, second)

    monkeypatch.setattr(hw2, "compose_affine", counting_compose)
    M, b = normal(T, (2, T, 2, 2), (2, T, 2), scale=0.6)
    P, q = hw2.prefix_scan(M, b)
    assert len(calls) == math.ceil(math.log2(T))
    # Round r composes every position t >= 2^r at once: a vectorised call, not a loop over t.
    assert [shape[-3] for shape in calls] == [T - 2**r for r in range(len(calls))]
    np.testing.assert_allclose(P, sequential_prefixes(M, b)[0], rtol=1e-10, atol=1e-12)


# --- Part B: multi-head attention --------------------------------------------------------------

@pytest.mark.parametrize("n_heads", [1, 2, 3, 6])
@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_merge_heads_undoes_split_heads_exactly(hw2, batch, n_heads):
    (X,) = normal(8, batch + (4, 6))
    heads = hw2.split_heads(X, n_heads)
    assert heads.shape == batch + (n_heads, 4, 6 // n_heads)
    np.testing.assert_array_equal(hw2.merge_heads(heads), X)
    np.testing.assert_array_equal(hw2.split_heads(hw2.merge_heads(heads), n_heads), heads)


@pytest.mark.parametrize("n_heads", [1, 2, 4])
def test_split_heads_gives_head_h_a_contiguous_block_of_features(hw2, n_heads):
    d, T = 8, 3
    (X,) = normal(9, (2, T, d))
    heads = hw2.split_heads(X, n_heads)
    d_head = d // n_heads
    for h in range(n_heads):
        np.testing.assert_array_equal(heads[:, h], X[..., h * d_head:(h + 1) * d_head])


def loop_over_heads(hw1, C, W_q, W_k, W_v, W_o, n_heads, causal):
    """Multi-head attention from hw1's self_attention, one head at a time on its rows of the weights."""
    d_k, d_v = W_q.shape[0], W_v.shape[0]
    outputs, weights = [], []
    for h in range(n_heads):
        rows_k = slice(h * d_k // n_heads, (h + 1) * d_k // n_heads)
        rows_v = slice(h * d_v // n_heads, (h + 1) * d_v // n_heads)
        H_h, A_h = hw1.self_attention(C, W_q[rows_k], W_k[rows_k], W_v[rows_v], causal)  # scaled by sqrt(d_k / n)
        outputs.append(H_h)
        weights.append(A_h)
    return np.concatenate(outputs, axis=-1) @ W_o.T, np.stack(weights, axis=-3)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_one_head_with_identity_output_is_hw1_self_attention(hw2, reference, batch, causal):
    d_c, d_k, d_v, T = 3, 4, 5, 4
    C, W_q, W_k, W_v = normal(10, batch + (T, d_c), (d_k, d_c), (d_k, d_c), (d_v, d_c))
    H, A = hw2.multi_head_attention(C, W_q, W_k, W_v, np.eye(d_v), 1, causal)
    H_hw1, A_hw1 = reference.self_attention(C, W_q, W_k, W_v, causal)
    assert H.shape == batch + (T, d_v) and A.shape == batch + (1, T, T)
    np.testing.assert_allclose(H, H_hw1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(A[..., 0, :, :], A_hw1, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("n_heads", [2, 4])
@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_every_head_is_hw1_self_attention_on_its_features(hw2, reference, batch, n_heads, causal):
    d_c, d_k, d_v, d_o, T = 3, 8, 4, 5, 4
    C, W_q, W_k, W_v, W_o = normal(11, batch + (T, d_c), (d_k, d_c), (d_k, d_c), (d_v, d_c), (d_o, d_v))
    H, A = hw2.multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal)
    expected_H, expected_A = loop_over_heads(reference, C, W_q, W_k, W_v, W_o, n_heads, causal)
    assert H.shape == batch + (T, d_o) and A.shape == batch + (n_heads, T, T)
    np.testing.assert_allclose(H, expected_H, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(A, expected_A, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=1e-12)
    if causal:
        assert np.all(A[..., np.triu(np.ones((T, T), dtype=bool), k=1)] == 0.0)


@pytest.mark.parametrize("causal", [True, False])
def test_multi_head_attention_is_exact_at_large_magnitudes(hw2, causal):
    # Scores of magnitude ~1e6: exp would overflow without the shift; each row's weight goes
    # entirely to its largest score.
    T, n_heads = 5, 2
    C, W_q, W_k, W_v, W_o = normal(12, (2, T, 4), (4, 4), (4, 4), (6, 4), (3, 6))
    C = 1e3 * C
    H, A = hw2.multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal)
    assert np.all(np.isfinite(H)) and np.all(np.isfinite(A))
    Q = (C @ W_q.T).reshape(2, T, n_heads, 2).transpose(0, 2, 1, 3)
    K = (C @ W_k.T).reshape(2, T, n_heads, 2).transpose(0, 2, 1, 3)
    scores = Q @ np.swapaxes(K, -1, -2)
    if causal:
        scores = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, scores)
    one_hot = np.eye(T)[np.argmax(scores, axis=-1)]
    np.testing.assert_allclose(A, one_hot, atol=1e-12)


def assert_gradients_match(analytic, loss, inputs, names):
    for gradient, x, name in zip(analytic, inputs, names):
        assert gradient.shape == x.shape, f"d{name} has shape {gradient.shape}, expected {x.shape}"
        error = relative_error(gradient, numerical_gradient(loss, x))
        assert error < GRADIENT_TOLERANCE, f"d{name}: relative error {error:.2e}"


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("n_heads", [1, 2, 4])
@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_multi_head_attention_backward_matches_finite_differences(hw2, batch, n_heads, causal):
    d_c, d_k, d_v, d_o, T = 3, 4, 8, 5, 3
    shapes = [batch + (T, d_o), batch + (T, d_c), (d_k, d_c), (d_k, d_c), (d_v, d_c), (d_o, d_v)]
    dH, C, W_q, W_k, W_v, W_o = normal(13 + n_heads, *shapes)

    def loss():
        H, _ = hw2.multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads, causal)
        return np.sum(dH * H)

    analytic = hw2.multi_head_attention_backward(dH, C, W_q, W_k, W_v, W_o, n_heads, causal)
    assert len(analytic) == 5
    assert_gradients_match(analytic, loss, [C, W_q, W_k, W_v, W_o], ["C", "W_q", "W_k", "W_v", "W_o"])


# --- Part C: positions -----------------------------------------------------------------------

def test_sinusoidal_positions_follow_the_definition(hw2):
    T, d = 5, 6
    P = hw2.sinusoidal_positions(T, d)
    assert P.shape == (T, d)
    for t in range(T):
        for i, w in enumerate(frequencies(d)):
            assert P[t, 2 * i] == pytest.approx(math.sin(t * w), abs=1e-15)
            assert P[t, 2 * i + 1] == pytest.approx(math.cos(t * w), abs=1e-15)
    np.testing.assert_array_equal(P[0], np.tile([0.0, 1.0], d // 2))  # the first position is t = 0


@pytest.mark.parametrize("d", [2, 8, 16])
def test_sinusoidal_pairs_turn_by_a_fixed_angle_per_step(hw2, d):
    # (sin((t+1) w), cos((t+1) w)) = [[cos w, sin w], [-sin w, cos w]] (sin(t w), cos(t w)):
    # the same matrix at every t, one per frequency w_i.
    T = 50
    P = hw2.sinusoidal_positions(T, d)
    for i, w in enumerate(frequencies(d)):
        step = rotation(-w)  # in (sin, cos) coordinates the pair turns by -w
        pairs = P[:, 2 * i:2 * i + 2]  # (T, 2)
        np.testing.assert_allclose(pairs[1:], pairs[:-1] @ step.T, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.sum(pairs**2, axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_rotary_turns_each_adjacent_pair_by_its_angle(hw2, batch):
    T, d = 4, 6
    (X,) = normal(20, batch + (T, d))
    positions = np.array([3, 0, 17, 99999])
    Y = hw2.rotary(X, positions)
    assert Y.shape == X.shape
    for t, m in enumerate(positions):
        for i, w in enumerate(frequencies(d)):
            expected = X[..., t, 2 * i:2 * i + 2] @ rotation(m * w).T
            np.testing.assert_allclose(Y[..., t, 2 * i:2 * i + 2], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_rotary_at_position_zero_returns_X(hw2, batch):
    (X,) = normal(21, batch + (5, 4))
    np.testing.assert_array_equal(hw2.rotary(X, np.zeros(5, dtype=int)), X)


@settings(max_examples=20)
@given(d=st.sampled_from([2, 4, 8]), seed=seeds(), offset=st.integers(-50, 50), start=st.integers(0, 99000))
def test_rotary_dot_products_depend_only_on_the_offset(hw2, d, seed, offset, start):
    q, k = normal(seed, (1, d), (1, d))

    def score(m, n):
        return float(hw2.rotary(q, np.array([m]))[0] @ hw2.rotary(k, np.array([n]))[0])

    n = start + max(0, -offset)  # both positions in [0, 100000)
    nearest_zero = (offset, 0) if offset >= 0 else (0, -offset)
    assert score(n + offset, n) == pytest.approx(score(*nearest_zero), rel=1e-8, abs=1e-9)


def test_rotary_dot_products_change_with_the_offset(hw2):
    # The property above also holds for a rotary that does nothing; this one does not.
    q, k = normal(22, (1, 8), (1, 8))
    scores = [float(hw2.rotary(q, np.array([m]))[0] @ hw2.rotary(k, np.array([0]))[0]) for m in range(6)]
    assert np.ptp(scores) > 0.1 * np.linalg.norm(q) * np.linalg.norm(k)


def model_weights(V, seed=30):
    d_c, d_k, d_v, d_o = 6, 4, 8, 5
    return normal(seed, (V, d_c), (d_k, d_c), (d_k, d_c), (d_v, d_c), (d_o, d_v), (V, d_o))


@pytest.mark.parametrize("n_heads", [1, 2, 4])
@pytest.mark.parametrize("sentences", [LECTURE_BATCH, LECTURE_BATCH[:2] + ["<bos> the classroom fell <eos>"]],
                         ids=["lecture", "padded"])
def test_lecture_batch_averaged_nll_is_the_mean_of_the_per_word_losses(hw2, sentences, n_heads):
    vocabulary = lecture_vocabulary(sentences)
    E, W_q, W_k, W_v, W_o, W_out = model_weights(len(vocabulary))
    loss = hw2.transformer_lm_loss(encode(sentences, vocabulary), E, W_q, W_k, W_v, W_o, W_out, n_heads,
                                   pad_id=vocabulary["<pad>"])
    assert isinstance(loss, float)

    # L_i = -log p(w_i | prefix): the model run on the prefix alone, one word at a time.
    per_word_losses = []
    for sentence in sentences:
        ids = [vocabulary[word] for word in sentence.split()]
        for t in range(1, len(ids)):
            prefix = np.array(ids[:t])  # <bos> w_1 .. w_{t-1}
            X = E[prefix] + hw2.sinusoidal_positions(t, E.shape[1])
            H, _ = hw2.multi_head_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=True)
            logits = W_out @ H[-1]  # the last position predicts the next word
            log_p = logits - math.log(np.sum(np.exp(logits)))
            per_word_losses.append(-log_p[ids[t]])
    assert len(per_word_losses) == sum(len(sentence.split()) - 1 for sentence in sentences)
    assert loss == pytest.approx(float(np.mean(per_word_losses)), rel=1e-12)


def test_padding_columns_do_not_change_the_loss(hw2):
    vocabulary = lecture_vocabulary(LECTURE_BATCH)
    weights = model_weights(len(vocabulary))
    short, long = encode(LECTURE_BATCH, vocabulary), encode(LECTURE_BATCH, vocabulary, length=9)
    assert long.shape == (3, 9)
    loss = hw2.transformer_lm_loss(short, *weights, 2, pad_id=vocabulary["<pad>"])
    assert hw2.transformer_lm_loss(long, *weights, 2, pad_id=vocabulary["<pad>"]) == pytest.approx(loss, rel=1e-12)


def test_transformer_lm_loss_is_right_at_large_magnitudes(hw2):
    # Logits of magnitude ~1e3 and more: most targets have a probability far below 1e-300.
    vocabulary = lecture_vocabulary(LECTURE_BATCH)
    E, W_q, W_k, W_v, W_o, W_out = model_weights(len(vocabulary))
    W_out = 1e3 * W_out
    token_ids = encode(LECTURE_BATCH, vocabulary)
    loss = hw2.transformer_lm_loss(token_ids, E, W_q, W_k, W_v, W_o, W_out, 2, pad_id=vocabulary["<pad>"])

    inputs, targets = token_ids[:, :-1], token_ids[:, 1:]
    X = E[inputs] + hw2.sinusoidal_positions(inputs.shape[1], E.shape[1])
    logits = hw2.multi_head_attention(X, W_q, W_k, W_v, W_o, 2, causal=True)[0] @ W_out.T  # (B, T, V)
    target_logits = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    expected = np.mean(np.logaddexp.reduce(logits, axis=-1) - target_logits)  # -log p, stably
    assert np.max(np.abs(logits)) > 1e3 and expected > 100
    assert loss == pytest.approx(expected, rel=1e-10)


# --- the contract's ValueErrors ---------------------------------------------------------------

def contract_errors():
    """(function name, arguments, what the message names) for every ValueError the contract settles."""
    V, d_c = 5, 4
    E, W_q, W_k, W_v, W_o, W_out = normal(40, (V, d_c), (4, d_c), (4, d_c), (6, d_c), (3, 6), (V, 3))
    ids = np.array([[1, 2, 3, 0], [1, 3, 0, 0]])
    C = np.ones((2, 3, d_c))
    divide, even = "n_heads = 3 must divide", "must be even"
    return {
        "split_heads: n_heads does not divide d": ("split_heads", (np.ones((3, 5)), 3), divide),
        "multi_head_attention: n_heads does not divide d_k": (
            "multi_head_attention", (C, W_q, W_k, np.ones((3, d_c)), np.ones((3, 3)), 3), divide),
        "multi_head_attention: n_heads divides d_k, not d_v": (
            "multi_head_attention", (C, np.ones((3, d_c)), np.ones((3, d_c)), np.ones((4, d_c)), W_o[:, :4], 3), divide),
        "multi_head_attention_backward: n_heads does not divide d_k": (
            "multi_head_attention_backward", (np.ones((2, 3, 3)), C, W_q, W_k, W_v, W_o, 3), divide),
        "sinusoidal_positions: odd d": ("sinusoidal_positions", (4, 5), even),
        "rotary: odd d": ("rotary", (np.ones((2, 3, 5)), np.arange(3)), even),
        "transformer_lm_loss: odd d_c": (
            "transformer_lm_loss", (ids, np.ones((V, 3)), np.ones((4, 3)), np.ones((4, 3)), np.ones((6, 3)), W_o, W_out, 2, 0),
            even),
        "transformer_lm_loss: no position counts": (
            "transformer_lm_loss", (np.array([[1, 0, 0], [1, 0, 0]]), E, W_q, W_k, W_v, W_o, W_out, 2, 0), "padding"),
    }


@pytest.mark.parametrize("case", list(contract_errors()))
def test_every_contract_value_error_is_raised_with_a_message_that_names_the_cause(hw2, case):
    function, args, cause = contract_errors()[case]
    with pytest.raises(ValueError, match=cause):  # raised on purpose, not by numpy tripping over a shape
        getattr(hw2, function)(*args)


def test_the_error_cases_are_fine_once_the_sizes_fit(hw2):
    # The same calls with one size fixed succeed: the ValueErrors above are about that size.
    V, d_c = 5, 4
    E, W_q, W_k, W_v, W_o, W_out = normal(40, (V, d_c), (4, d_c), (4, d_c), (6, d_c), (3, 6), (V, 3))
    assert hw2.split_heads(np.ones((3, 6)), 3).shape == (3, 3, 2)
    assert hw2.multi_head_attention(np.ones((2, 3, d_c)), W_q, W_k, W_v, W_o, 2)[0].shape == (2, 3, 3)
    assert hw2.sinusoidal_positions(4, 6).shape == (4, 6)
    assert hw2.rotary(np.ones((2, 3, 6)), np.arange(3)).shape == (2, 3, 6)
    loss = hw2.transformer_lm_loss(np.array([[1, 2, 3, 0], [1, 3, 0, 0]]), E, W_q, W_k, W_v, W_o, W_out, 2, 0)
    assert math.isfinite(loss)
