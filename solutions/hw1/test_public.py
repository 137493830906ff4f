"""Public sanity tests for homework 1: shapes and small cases you can check by hand.

Run `pytest test_public.py` in the folder that holds your hw1.py. Passing these is a good
sign, not a guarantee: the grader runs many more checks on generated inputs.
"""

import math

import numpy as np
import pytest

import hw1


def test_rnn_step_shape_and_tanh_value():
    h_prev = np.zeros((2, 3))  # batch of 2, d_h = 3
    c_t = np.ones((2, 4))  # d_c = 4
    W_h = np.eye(3)
    W_c = np.full((3, 4), 0.25)  # W_c c_t = 1 in every entry
    h_t = hw1.rnn_step(h_prev, c_t, W_h, W_c, "tanh")
    assert h_t.shape == (2, 3)
    np.testing.assert_allclose(h_t, np.tanh(1.0))


def test_rnn_step_relu_clips_negative_values():
    h_prev = np.array([1.0, -1.0])
    c_t = np.array([0.0])
    W_h = np.eye(2)
    W_c = np.zeros((2, 1))
    np.testing.assert_allclose(hw1.rnn_step(h_prev, c_t, W_h, W_c, "relu"), [1.0, 0.0])


def test_rnn_step_rejects_an_unknown_nonlinearity():
    with pytest.raises(ValueError):
        hw1.rnn_step(np.zeros(2), np.zeros(2), np.eye(2), np.eye(2), "sigmoid")


def test_rnn_forward_shape_and_first_state():
    rng = np.random.default_rng(0)
    h0 = rng.normal(size=(2, 3))
    C = rng.normal(size=(2, 5, 4))  # T = 5
    W_h, W_c = rng.normal(size=(3, 3)), rng.normal(size=(3, 4))
    H = hw1.rnn_forward(h0, C, W_h, W_c)
    assert H.shape == (2, 5, 3)
    np.testing.assert_allclose(H[:, 0], np.tanh(h0 @ W_h.T + C[:, 0] @ W_c.T))


def test_rnn_forward_carries_the_state():
    # With W_c = 0 and relu, h_t = W_h h_{t-1}: doubling at each step.
    H = hw1.rnn_forward(np.array([1.0]), np.zeros((3, 1)), np.array([[2.0]]), np.zeros((1, 1)), "relu")
    np.testing.assert_allclose(H, [[2.0], [4.0], [8.0]])


def test_rnn_step_backward_by_hand():
    # a_t = 2 * 0.5 + 3 * (-1/3) = 0, so tanh'(a_t) = 1 and da_t = dh_t = 1.
    dh_prev, dc_t, dW_h, dW_c = hw1.rnn_step_backward(
        np.array([1.0]), np.array([0.5]), np.array([-1 / 3]), np.array([[2.0]]), np.array([[3.0]])
    )
    np.testing.assert_allclose(dh_prev, [2.0])
    np.testing.assert_allclose(dc_t, [3.0])
    np.testing.assert_allclose(dW_h, [[0.5]])
    np.testing.assert_allclose(dW_c, [[-1 / 3]])


def test_rnn_step_backward_shapes():
    dh_prev, dc_t, dW_h, dW_c = hw1.rnn_step_backward(
        np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 4)), np.eye(3), np.ones((3, 4)) / 10
    )
    assert (dh_prev.shape, dc_t.shape, dW_h.shape, dW_c.shape) == ((2, 3), (2, 4), (3, 3), (3, 4))


def test_rnn_backward_shapes():
    rng = np.random.default_rng(1)
    dH, h0, C = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 5, 4))
    dh0, dC, dW_h, dW_c = hw1.rnn_backward(dH, h0, C, rng.normal(size=(3, 3)), rng.normal(size=(3, 4)))
    assert (dh0.shape, dC.shape, dW_h.shape, dW_c.shape) == ((2, 3), (2, 5, 4), (3, 3), (3, 4))


def test_rnn_backward_of_one_step_is_rnn_step_backward():
    rng = np.random.default_rng(2)
    dh, h0, c = rng.normal(size=3), rng.normal(size=3), rng.normal(size=4)
    W_h, W_c = rng.normal(size=(3, 3)), rng.normal(size=(3, 4))
    through_time = hw1.rnn_backward(dh[None], h0, c[None], W_h, W_c)
    one_step = hw1.rnn_step_backward(dh, h0, c, W_h, W_c)
    for got, expected in zip(through_time, one_step):
        np.testing.assert_allclose(np.squeeze(got), np.squeeze(expected))


def test_softmax_by_hand():
    np.testing.assert_allclose(hw1.softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75])


def test_softmax_rows_sum_to_one():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(hw1.softmax(x).sum(axis=-1), np.ones(3))


def test_softmax_does_not_overflow():
    np.testing.assert_allclose(hw1.softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])


def test_softmax_gives_minus_infinity_no_weight():
    np.testing.assert_allclose(hw1.softmax(np.array([0.0, -np.inf])), [1.0, 0.0])


def test_softmax_backward_of_a_constant_upstream_is_zero():
    # L = sum(A) = 1 whatever x is, so dL/dx = 0.
    A = hw1.softmax(np.array([[0.1, 0.2, 0.7], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(hw1.softmax_backward(np.ones((2, 3)), A), np.zeros((2, 3)), atol=1e-12)


def test_qkv_shapes_and_identity_weights():
    C = np.arange(6.0).reshape(3, 2)  # T = 3, d_c = 2
    Q, K, V = hw1.qkv(C, np.eye(2), 2 * np.eye(2), np.ones((1, 2)))
    np.testing.assert_allclose(Q, C)
    np.testing.assert_allclose(K, 2 * C)
    np.testing.assert_allclose(V, C.sum(axis=-1, keepdims=True))


def test_attention_weights_with_zero_queries_are_uniform_over_the_past():
    A = hw1.attention_weights(np.zeros((3, 2)), np.ones((3, 2)), causal=True)
    expected = [[1, 0, 0], [1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3]]
    np.testing.assert_allclose(A, expected)


def test_attention_weights_without_mask_see_everything():
    A = hw1.attention_weights(np.zeros((2, 4, 3)), np.ones((2, 4, 3)), causal=False)
    assert A.shape == (2, 4, 4)
    np.testing.assert_allclose(A, np.full((2, 4, 4), 0.25))


def test_self_attention_shapes():
    rng = np.random.default_rng(3)
    C = rng.normal(size=(2, 5, 4))
    H, A = hw1.self_attention(C, rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(6, 4)))
    assert H.shape == (2, 5, 6) and A.shape == (2, 5, 5)


def test_self_attention_with_zero_queries_averages_the_values_so_far():
    C = np.array([[1.0], [2.0], [3.0]])
    H, _ = hw1.self_attention(C, np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)), causal=True)
    np.testing.assert_allclose(H, [[1.0], [1.5], [2.0]])


def test_self_attention_backward_shapes_and_zero_upstream():
    rng = np.random.default_rng(4)
    C = rng.normal(size=(2, 5, 4))
    W_q, W_k, W_v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(6, 4))
    grads = hw1.self_attention_backward(np.zeros((2, 5, 6)), C, W_q, W_k, W_v)
    assert [g.shape for g in grads] == [(2, 5, 4), (3, 4), (3, 4), (6, 4)]
    for g in grads:
        np.testing.assert_allclose(g, 0.0)


def test_log_softmax_by_hand():
    np.testing.assert_allclose(
        hw1.log_softmax(np.array([0.0, math.log(3.0)])), [math.log(0.25), math.log(0.75)]
    )


def test_nll_loss_of_uniform_predictions_is_log_vocabulary_size():
    loss = hw1.nll_loss(np.zeros((2, 3, 4)), np.array([[0, 1, 2], [3, 0, 1]]))
    assert isinstance(loss, float)
    assert loss == pytest.approx(math.log(4.0))


def test_nll_loss_by_hand():
    logits = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])  # p = (1/4, 3/4) twice
    loss = hw1.nll_loss(logits, np.array([1, 0]))
    assert loss == pytest.approx((-math.log(0.75) - math.log(0.25)) / 2)


def test_nll_loss_ignores_masked_positions():
    logits = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    loss = hw1.nll_loss(logits, np.array([1, 0]), mask=np.array([True, False]))
    assert loss == pytest.approx(-math.log(0.75))


def test_nll_loss_raises_when_nothing_counts():
    with pytest.raises(ValueError):
        hw1.nll_loss(np.zeros((2, 3)), np.array([0, 1]), mask=np.array([False, False]))


def test_nll_loss_backward_by_hand():
    logits = np.array([[0.0, math.log(3.0)]])  # p = (1/4, 3/4), target 1, N = 1
    np.testing.assert_allclose(hw1.nll_loss_backward(logits, np.array([1])), [[0.25, -0.25]])


def test_nll_loss_backward_raises_when_nothing_counts():
    with pytest.raises(ValueError):
        hw1.nll_loss_backward(np.zeros((2, 3)), np.array([0, 1]), mask=np.array([False, False]))


def test_lm_inputs_and_targets_by_hand():
    ids = np.array([[1, 5, 6, 2], [1, 7, 2, 0]])  # <bos>=1, <eos>=2, <pad>=0
    inputs, targets, mask = hw1.lm_inputs_and_targets(ids, pad_id=0)
    np.testing.assert_array_equal(inputs, [[1, 5, 6], [1, 7, 2]])
    np.testing.assert_array_equal(targets, [[5, 6, 2], [7, 2, 0]])
    np.testing.assert_array_equal(mask, [[True, True, True], [True, True, False]])


def test_rnn_lm_loss_of_a_model_that_predicts_uniformly():
    # With W_out = 0 every word gets probability 1 / V, so the loss is log V.
    V, d_c, d_h = 6, 3, 4
    rng = np.random.default_rng(5)
    ids = np.array([[1, 3, 4, 2], [1, 5, 2, 0]])
    loss = hw1.rnn_lm_loss(
        ids, rng.normal(size=(V, d_c)), np.zeros(d_h), rng.normal(size=(d_h, d_h)),
        rng.normal(size=(d_h, d_c)), np.zeros((V, d_h)), pad_id=0,
    )
    assert isinstance(loss, float)
    assert loss == pytest.approx(math.log(V))
