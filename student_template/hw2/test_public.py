"""Public sanity tests for homework 2: shapes and small cases you can check by hand.

Run `pytest test_public.py` in the folder that holds your hw2.py. Passing these is a good
sign, not a guarantee: the grader runs many more checks on generated inputs.
"""

import math

import numpy as np
import pytest

import hw2


# --- Part A: a linear RNN, computed in parallel ------------------------------------------------

def test_linear_rnn_forward_shape_and_first_state():
    rng = np.random.default_rng(0)
    h0 = rng.normal(size=(2, 3))
    C = rng.normal(size=(2, 5, 4))  # T = 5
    W_h, W_c = rng.normal(size=(3, 3)), rng.normal(size=(3, 4))
    H = hw2.linear_rnn_forward(h0, C, W_h, W_c)
    assert H.shape == (2, 5, 3)
    np.testing.assert_allclose(H[:, 0], h0 @ W_h.T + C[:, 0] @ W_c.T)


def test_linear_rnn_forward_by_hand():
    # h_t = 2 h_{t-1} + c_t from h0 = 1: 2 + 1, 6 + 0, 12 - 1.
    H = hw2.linear_rnn_forward(np.array([1.0]), np.array([[1.0], [0.0], [-1.0]]), np.array([[2.0]]), np.eye(1))
    np.testing.assert_allclose(H, [[3.0], [6.0], [11.0]])


def test_compose_affine_by_hand():
    # first: h -> 2h + 1, then second: h -> 3h + 5.  Together: 3(2h + 1) + 5 = 6h + 8.
    M, b = hw2.compose_affine((np.array([[2.0]]), np.array([1.0])), (np.array([[3.0]]), np.array([5.0])))
    np.testing.assert_allclose(M, [[6.0]])
    np.testing.assert_allclose(b, [8.0])


def test_compose_affine_applies_first_then_second():
    # The order matters: shear first, then swap the coordinates.
    shear, swap = np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    M, b = hw2.compose_affine((shear, np.array([1.0, 0.0])), (swap, np.zeros(2)))
    h = np.array([2.0, 3.0])
    np.testing.assert_allclose(M @ h + b, [3.0, 6.0])  # shear: (2 + 3 + 1, 3), then swap


def test_prefix_scan_shapes_and_values_by_hand():
    # Maps h -> 2h + 1, h -> 3h, h -> h + 4 (d = 1), applied in order.
    M = np.array([[[2.0]], [[3.0]], [[1.0]]])  # (T, d, d) = (3, 1, 1)
    b = np.array([[1.0], [0.0], [4.0]])  # (T, d) = (3, 1)
    P, q = hw2.prefix_scan(M, b)
    assert P.shape == (3, 1, 1) and q.shape == (3, 1)
    np.testing.assert_allclose(P[:, 0, 0], [2.0, 6.0, 6.0])  # 2, 3 * 2, 1 * 3 * 2
    np.testing.assert_allclose(q[:, 0], [1.0, 3.0, 7.0])  # 1, 3 * 1, 3 + 4


def test_prefix_scan_of_one_map_returns_it():
    M, b = np.arange(4.0).reshape(1, 2, 2), np.array([[5.0, 6.0]])
    P, q = hw2.prefix_scan(M, b)
    np.testing.assert_allclose(P, M)
    np.testing.assert_allclose(q, b)


def test_linear_rnn_scan_equals_linear_rnn_forward():
    rng = np.random.default_rng(1)
    h0, C = rng.normal(size=(2, 3)), rng.normal(size=(2, 6, 4))
    W_h, W_c = 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(hw2.linear_rnn_scan(h0, C, W_h, W_c), hw2.linear_rnn_forward(h0, C, W_h, W_c))


def test_linear_rnn_kernel_by_hand():
    K = hw2.linear_rnn_kernel(np.array([[2.0]]), np.array([[3.0, 1.0]]), 3)
    assert K.shape == (3, 1, 2)
    np.testing.assert_allclose(K[:, 0], [[3.0, 1.0], [6.0, 2.0], [12.0, 4.0]])  # W_h^k W_c


# --- Part B: multi-head attention --------------------------------------------------------------

def test_split_heads_by_hand():
    X = np.arange(8.0).reshape(2, 4)  # T = 2, d = 4
    heads = hw2.split_heads(X, 2)
    assert heads.shape == (2, 2, 2)
    np.testing.assert_allclose(heads[0], [[0.0, 1.0], [4.0, 5.0]])  # head 0: features 0 and 1
    np.testing.assert_allclose(heads[1], [[2.0, 3.0], [6.0, 7.0]])  # head 1: features 2 and 3


def test_split_heads_rejects_a_head_count_that_does_not_divide_d():
    with pytest.raises(ValueError):
        hw2.split_heads(np.zeros((2, 6)), 4)


def test_merge_heads_undoes_split_heads():
    X = np.arange(24.0).reshape(2, 2, 6)
    np.testing.assert_array_equal(hw2.merge_heads(hw2.split_heads(X, 3)), X)
    assert hw2.merge_heads(np.zeros((5, 3, 4, 2))).shape == (5, 4, 6)


def test_multi_head_attention_shapes_and_rows_summing_to_one():
    rng = np.random.default_rng(2)
    C = rng.normal(size=(2, 5, 3))  # d_c = 3
    W_q, W_k, W_v, W_o = (rng.normal(size=s) for s in [(4, 3), (4, 3), (6, 3), (7, 6)])
    H, A = hw2.multi_head_attention(C, W_q, W_k, W_v, W_o, n_heads=2)
    assert H.shape == (2, 5, 7) and A.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(A.sum(axis=-1), np.ones((2, 2, 5)))
    assert np.all(A[..., 0, 1:] == 0)  # causal: the first position sees only itself


def test_multi_head_attention_with_zero_queries_averages_the_values_so_far():
    # Every score is 0, so each head spreads its weight evenly over j <= i.
    C = np.array([[1.0], [2.0], [3.0]])
    W_v = np.array([[1.0], [10.0]])  # head 0 gets c_t, head 1 gets 10 c_t
    H, _ = hw2.multi_head_attention(C, np.zeros((2, 1)), np.ones((2, 1)), W_v, np.eye(2), n_heads=2)
    np.testing.assert_allclose(H, [[1.0, 10.0], [1.5, 15.0], [2.0, 20.0]])


def test_multi_head_attention_rejects_a_head_count_that_does_not_divide_d_k():
    with pytest.raises(ValueError):
        hw2.multi_head_attention(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((4, 2)),
                                 np.eye(4), n_heads=2)


def test_multi_head_attention_backward_shapes_and_zero_upstream():
    rng = np.random.default_rng(3)
    C = rng.normal(size=(2, 5, 3))
    W_q, W_k, W_v, W_o = (rng.normal(size=s) for s in [(4, 3), (4, 3), (6, 3), (7, 6)])
    grads = hw2.multi_head_attention_backward(np.zeros((2, 5, 7)), C, W_q, W_k, W_v, W_o, n_heads=2)
    assert [g.shape for g in grads] == [(2, 5, 3), (4, 3), (4, 3), (6, 3), (7, 6)]
    for g in grads:
        np.testing.assert_allclose(g, 0.0)


def test_multi_head_attention_backward_of_W_o_by_hand():
    # One position attends only to itself, so H = (W_o W_v c): dW_o = dH (W_v c)^T.
    C, W_v, W_o, dH = np.array([[2.0]]), np.array([[1.0], [3.0]]), np.ones((1, 2)), np.array([[1.0]])
    grads = hw2.multi_head_attention_backward(dH, C, np.ones((2, 1)), np.ones((2, 1)), W_v, W_o, n_heads=2)
    np.testing.assert_allclose(grads[4], [[2.0, 6.0]])


# --- Part C: position information --------------------------------------------------------------

def test_sinusoidal_positions_by_hand():
    P = hw2.sinusoidal_positions(3, 4)  # w_0 = 1, w_1 = 10000 ** (-1 / 2) = 0.01
    assert P.shape == (3, 4)
    np.testing.assert_allclose(P[0], [0.0, 1.0, 0.0, 1.0])  # positions start at t = 0
    np.testing.assert_allclose(P[2], [math.sin(2.0), math.cos(2.0), math.sin(0.02), math.cos(0.02)])


def test_sinusoidal_positions_rejects_an_odd_size():
    with pytest.raises(ValueError):
        hw2.sinusoidal_positions(3, 5)


def test_rotary_by_hand():
    # d = 2: one pair with w_0 = 1, so position m turns (1, 0) by m radians, to (cos m, sin m).
    X = np.array([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(hw2.rotary(X, np.array([0, 1])), [[1.0, 0.0], [math.cos(1.0), math.sin(1.0)]])


def test_rotary_at_position_zero_keeps_X():
    X = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_allclose(hw2.rotary(X, np.zeros(3, dtype=int)), X)


def test_rotary_scores_depend_only_on_the_offset():
    rng = np.random.default_rng(4)
    q, k = rng.normal(size=(1, 4)), rng.normal(size=(1, 4))

    def score(m, n):
        return hw2.rotary(q, np.array([m]))[0] @ hw2.rotary(k, np.array([n]))[0]

    assert score(5, 2) == pytest.approx(score(13, 10))


def test_rotary_rejects_an_odd_size():
    with pytest.raises(ValueError):
        hw2.rotary(np.zeros((2, 3)), np.arange(2))


def test_transformer_lm_loss_of_a_model_that_predicts_uniformly():
    # With W_out = 0 every word gets probability 1 / V, so the loss is log V.
    V, d_c = 6, 4
    rng = np.random.default_rng(5)
    ids = np.array([[1, 3, 4, 2], [1, 5, 2, 0]])
    W_q, W_k, W_v, W_o = (rng.normal(size=s) for s in [(4, d_c), (4, d_c), (4, d_c), (3, 4)])
    loss = hw2.transformer_lm_loss(ids, rng.normal(size=(V, d_c)), W_q, W_k, W_v, W_o, np.zeros((V, 3)),
                                   n_heads=2, pad_id=0)
    assert isinstance(loss, float)
    assert loss == pytest.approx(math.log(V))


def test_transformer_lm_loss_raises_when_nothing_counts():
    d_c = 2
    with pytest.raises(ValueError):
        hw2.transformer_lm_loss(np.array([[1, 0, 0]]), np.ones((3, d_c)), np.ones((2, d_c)), np.ones((2, d_c)),
                                np.ones((2, d_c)), np.eye(2), np.ones((3, 2)), n_heads=1, pad_id=0)
