"""Properties of the reference solution, and the lecture's own examples worked through it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.authoring.strategies import batch_shapes, distinct_sizes, normal, seeds

from lecture_batch import LECTURE_BATCH, encode, lecture_vocabulary

property_settings = settings(max_examples=40)


# --- softmax and log_softmax ---------------------------------------------------------------

@property_settings
@given(batch=batch_shapes(), n=st.integers(1, 8), seed=seeds(), magnitude=st.sampled_from([1.0, 1e4]))
def test_softmax_rows_sum_to_one_and_stay_finite(reference, batch, n, seed, magnitude):
    (x,) = normal(seed, batch + (n,), scale=magnitude)
    A = reference.softmax(x)
    assert np.all(np.isfinite(A))
    assert np.all((A >= 0) & (A <= 1))
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=1e-12)


@property_settings
@given(batch=batch_shapes(), n=st.integers(1, 8), seed=seeds(), shift=st.sampled_from([1e4, -1e4, 3e5]))
def test_softmax_is_right_at_large_magnitudes(reference, batch, n, seed, shift):
    # softmax(x + c) = softmax(x): at 1e4 and beyond, exp would overflow without the shift.
    (x,) = normal(seed, batch + (n,))
    np.testing.assert_allclose(reference.softmax(x + shift), reference.softmax(x), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(reference.log_softmax(x + shift), reference.log_softmax(x), rtol=1e-9, atol=1e-9)


def test_softmax_matches_the_definition_at_small_magnitudes(reference):
    x = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(reference.softmax(x), expected, rtol=1e-14)
    np.testing.assert_allclose(reference.softmax(x, axis=0), np.exp(x) / np.exp(x).sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(reference.log_softmax(x), np.log(expected), rtol=1e-14)


def test_minus_infinity_gets_zero_weight(reference):
    x = np.array([1e4, -np.inf, 1e4 - math.log(3.0)])
    np.testing.assert_allclose(reference.softmax(x), [0.75, 0.0, 0.25])
    assert reference.log_softmax(x)[1] == -np.inf


# --- attention ----------------------------------------------------------------------------

@property_settings
@given(batch=batch_shapes(), T=st.integers(1, 8), sizes=distinct_sizes(3), seed=seeds())
def test_causal_weights_are_zero_above_the_diagonal(reference, batch, T, sizes, seed):
    d_c, d_k, d_v = sizes
    C, W_q, W_k, W_v = normal(seed, batch + (T, d_c), (d_k, d_c), (d_k, d_c), (d_v, d_c))
    H, A = reference.self_attention(C, W_q, W_k, W_v, causal=True)
    assert H.shape == batch + (T, d_v) and A.shape == batch + (T, T)
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    assert np.all(A[..., future] == 0.0)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(H, A @ (C @ W_v.T), rtol=1e-12)


@property_settings
@given(batch=batch_shapes(), T=st.integers(1, 8), sizes=distinct_sizes(2), seed=seeds())
def test_attention_weights_are_the_softmax_of_scaled_scores(reference, batch, T, sizes, seed):
    d_k, _ = sizes
    Q, K = normal(seed, batch + (T, d_k), batch + (T, d_k))
    expected = reference.softmax(Q @ np.swapaxes(K, -1, -2) / math.sqrt(d_k))
    np.testing.assert_allclose(reference.attention_weights(Q, K, causal=False), expected, rtol=1e-12)


def test_lecture_attention_example_h3_is_a_convex_combination_of_v1_v2_v3(reference):
    # Keys k_j = sqrt(3) e_j make the scaled score of query q on position j equal to q[j],
    # so queries holding log-weights reproduce the lecture's weights exactly:
    #   h_2 = 0.3 v_1 + 0.7 v_2,   h_3 = 0.3 v_1 + 0.5 v_2 + 0.2 v_3.
    K = math.sqrt(3.0) * np.eye(3)  # (T, d_k) = (3, 3)
    Q = np.log(np.array([[1.0, 1.0, 1.0], [0.3, 0.7, 1.0], [0.3, 0.5, 0.2]]))
    A = reference.attention_weights(Q, K, causal=True)
    np.testing.assert_allclose(A[1], [0.3, 0.7, 0.0])
    np.testing.assert_allclose(A[2], [0.3, 0.5, 0.2])

    V = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # v_1, v_2, v_3
    H = A @ V
    np.testing.assert_allclose(H[2], 0.3 * V[0] + 0.5 * V[1] + 0.2 * V[2])
    np.testing.assert_allclose(H[1], 0.3 * V[0] + 0.7 * V[1])


@property_settings
@given(T=st.integers(1, 8), sizes=distinct_sizes(3), seed=seeds())
def test_every_attention_state_is_a_convex_combination_of_the_values_so_far(reference, T, sizes, seed):
    d_c, d_k, d_v = sizes
    C, W_q, W_k, W_v = normal(seed, (T, d_c), (d_k, d_c), (d_k, d_c), (d_v, d_c))
    H, A = reference.self_attention(C, W_q, W_k, W_v, causal=True)
    V = C @ W_v.T
    for i in range(T):
        weights = A[i, : i + 1]
        assert np.all(weights >= 0) and math.isclose(weights.sum(), 1.0)
        np.testing.assert_allclose(H[i], weights @ V[: i + 1], rtol=1e-12, atol=1e-14)


# --- the RNN ------------------------------------------------------------------------------

@property_settings
@given(batch=batch_shapes(), T=st.integers(1, 6), sizes=distinct_sizes(2), seed=seeds(), nonlinearity=st.sampled_from(["tanh", "relu"]))
def test_rnn_forward_applies_rnn_step_at_every_time_step(reference, batch, T, sizes, seed, nonlinearity):
    d_h, d_c = sizes
    h0, C, W_h, W_c = normal(seed, batch + (d_h,), batch + (T, d_c), (d_h, d_h), (d_h, d_c))
    H = reference.rnn_forward(h0, C, W_h, W_c, nonlinearity)
    assert H.shape == batch + (T, d_h)
    h = h0
    for t in range(T):
        f = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0.0))
        h = f(W_h @ h[..., None] + W_c @ C[..., t, :, None])[..., 0]  # the lecture's column form
        np.testing.assert_allclose(H[..., t, :], h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("function", ["rnn_step", "rnn_forward", "rnn_step_backward", "rnn_backward"])
def test_unknown_nonlinearity_raises_value_error(reference, function):
    args = {
        "rnn_step": (np.zeros(2), np.zeros(3), np.eye(2), np.ones((2, 3))),
        "rnn_forward": (np.zeros(2), np.zeros((4, 3)), np.eye(2), np.ones((2, 3))),
        "rnn_step_backward": (np.zeros(2), np.zeros(2), np.zeros(3), np.eye(2), np.ones((2, 3))),
        "rnn_backward": (np.zeros((4, 2)), np.zeros(2), np.zeros((4, 3)), np.eye(2), np.ones((2, 3))),
    }[function]
    with pytest.raises(ValueError, match="nonlinearity"):
        getattr(reference, function)(*args, nonlinearity="sigmoid")


# --- the averaged negative log-likelihood -------------------------------------------------

def test_nll_loss_equals_a_hand_computed_mean(reference):
    # p = softmax([0, ln 3]) = (1/4, 3/4) at both positions; targets 1 then 0.
    logits = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    expected = (-math.log(3 / 4) - math.log(1 / 4)) / 2
    assert reference.nll_loss(logits, np.array([1, 0])) == pytest.approx(expected, rel=1e-14)
    assert isinstance(reference.nll_loss(logits, np.array([1, 0])), float)


@property_settings
@given(batch=batch_shapes(), T=st.integers(1, 6), V=st.integers(2, 7), seed=seeds())
def test_nll_loss_is_non_negative_and_ignores_masked_targets(reference, batch, T, V, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(batch + (T, V))
    targets = rng.integers(0, V, size=batch + (T,))
    mask = rng.random(batch + (T,)) < 0.5
    mask.reshape(-1)[0] = True
    loss = reference.nll_loss(logits, targets, mask)
    assert loss >= 0
    other_targets = np.where(mask, targets, (targets + 1) % V)  # change only what does not count
    assert reference.nll_loss(logits, other_targets, mask) == loss
    np.testing.assert_array_equal(
        reference.nll_loss_backward(logits, other_targets, mask), reference.nll_loss_backward(logits, targets, mask)
    )


@pytest.mark.parametrize("function", ["nll_loss", "nll_loss_backward"])
def test_nll_raises_value_error_when_no_position_counts(reference, function):
    with pytest.raises(ValueError):
        getattr(reference, function)(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int), np.zeros((2, 3), dtype=bool))


@pytest.mark.parametrize("sentences", [LECTURE_BATCH, LECTURE_BATCH[:2] + ["<bos> the classroom fell <eos>"]], ids=["lecture", "padded"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_lecture_batch_averaged_nll_is_the_mean_of_the_per_word_losses(reference, sentences, nonlinearity):
    vocabulary = lecture_vocabulary(sentences)
    V, d_c, d_h = len(vocabulary), 5, 4
    E, h0, W_h, W_c, W_out = normal(7, (V, d_c), (d_h,), (d_h, d_h), (d_h, d_c), (V, d_h))
    token_ids = encode(sentences, vocabulary)

    # L_i = -log p(w_i | prefix), one per ground-truth next word, computed word by word.
    per_word_losses = []
    for sentence in sentences:
        words = sentence.split()
        h = h0
        for current, following in zip(words[:-1], words[1:]):
            h = np.tanh(W_h @ h + W_c @ E[vocabulary[current]]) if nonlinearity == "tanh" else np.maximum(W_h @ h + W_c @ E[vocabulary[current]], 0)
            scores = W_out @ h
            probabilities = [math.exp(s) for s in scores]
            per_word_losses.append(-math.log(probabilities[vocabulary[following]] / sum(probabilities)))

    loss = reference.rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, vocabulary["<pad>"], nonlinearity)
    assert isinstance(loss, float)
    assert loss == pytest.approx(sum(per_word_losses) / len(per_word_losses), rel=1e-12)


def test_lm_inputs_and_targets_shift_by_one_and_mask_padding(reference):
    vocabulary = lecture_vocabulary(LECTURE_BATCH)
    token_ids = encode(LECTURE_BATCH[:2] + ["<bos> the classroom <eos>"], vocabulary)  # (3, 6)
    inputs, targets, mask = reference.lm_inputs_and_targets(token_ids, vocabulary["<pad>"])
    np.testing.assert_array_equal(inputs, token_ids[:, :-1])
    np.testing.assert_array_equal(targets, token_ids[:, 1:])
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask.sum(axis=1), [5, 5, 3])
