"""Every backward of the reference agrees with central finite differences of its forward.

Shapes are generated with batch dimensions (), (k,) and (j, k); the relative error
(CS231n's, over the whole array) must stay below 1e-6 in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.authoring.gradcheck import numerical_gradient, relative_error
from grader.authoring.strategies import batch_shapes, distinct_sizes, normal, seeds

TOLERANCE = 1e-6
NONLINEARITIES = st.sampled_from(["tanh", "relu"])
gradient_settings = settings(max_examples=25)


def assert_gradients_match(analytic, loss, inputs, names):
    for gradient, x, name in zip(analytic, inputs, names):
        assert gradient.shape == x.shape, f"d{name} has shape {gradient.shape}, expected {x.shape}"
        error = relative_error(gradient, numerical_gradient(loss, x))
        assert error < TOLERANCE, f"d{name}: relative error {error:.2e}"


def test_the_finite_difference_helper_differentiates_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    numeric = numerical_gradient(lambda: np.sum(x**3), x)
    assert relative_error(numeric, 3 * x**2) < 1e-9
    assert relative_error(numeric, 3 * x**2 + 1e-3) > 1e-6  # the measure notices a wrong gradient


@gradient_settings
@given(batch=batch_shapes(), sizes=distinct_sizes(2), seed=seeds(), nonlinearity=NONLINEARITIES)
def test_rnn_step_backward(reference, batch, sizes, seed, nonlinearity):
    d_h, d_c = sizes
    dh_t, h_prev, c_t, W_h, W_c = normal(seed, batch + (d_h,), batch + (d_h,), batch + (d_c,), (d_h, d_h), (d_h, d_c))

    def loss():
        return np.sum(dh_t * reference.rnn_step(h_prev, c_t, W_h, W_c, nonlinearity))

    analytic = reference.rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity)
    assert_gradients_match(analytic, loss, [h_prev, c_t, W_h, W_c], ["h_prev", "c_t", "W_h", "W_c"])


@gradient_settings
@given(batch=batch_shapes(), T=st.integers(1, 5), sizes=distinct_sizes(2), seed=seeds(), nonlinearity=NONLINEARITIES)
def test_rnn_backward(reference, batch, T, sizes, seed, nonlinearity):
    d_h, d_c = sizes
    dH, h0, C, W_h, W_c = normal(seed, batch + (T, d_h), batch + (d_h,), batch + (T, d_c), (d_h, d_h), (d_h, d_c))

    def loss():
        return np.sum(dH * reference.rnn_forward(h0, C, W_h, W_c, nonlinearity))

    analytic = reference.rnn_backward(dH, h0, C, W_h, W_c, nonlinearity)
    assert_gradients_match(analytic, loss, [h0, C, W_h, W_c], ["h0", "C", "W_h", "W_c"])


@gradient_settings
@given(batch=batch_shapes(), T=st.integers(1, 4), sizes=distinct_sizes(2), seed=seeds())
def test_rnn_backward_with_a_shared_initial_state(reference, batch, T, sizes, seed):
    d_h, d_c = sizes
    dH, h0, C, W_h, W_c = normal(seed, batch + (T, d_h), (d_h,), batch + (T, d_c), (d_h, d_h), (d_h, d_c))

    def loss():
        return np.sum(dH * reference.rnn_forward(h0, C, W_h, W_c))

    assert_gradients_match(reference.rnn_backward(dH, h0, C, W_h, W_c), loss, [h0], ["h0"])


@gradient_settings
@given(batch=batch_shapes(), n=st.integers(1, 6), seed=seeds(), use_first_axis=st.booleans())
def test_softmax_backward(reference, batch, n, seed, use_first_axis):
    x, dA = normal(seed, batch + (n,), batch + (n,), scale=2.0)
    axis = 0 if use_first_axis and batch else -1

    def loss():
        return np.sum(dA * reference.softmax(x, axis=axis))

    analytic = reference.softmax_backward(dA, reference.softmax(x, axis=axis), axis=axis)
    assert_gradients_match([analytic], loss, [x], ["x"])


@gradient_settings
@given(batch=batch_shapes(), T=st.integers(1, 5), sizes=distinct_sizes(3), seed=seeds(), causal=st.booleans())
def test_self_attention_backward(reference, batch, T, sizes, seed, causal):
    d_c, d_k, d_v = sizes
    dH, C, W_q, W_k, W_v = normal(seed, batch + (T, d_v), batch + (T, d_c), (d_k, d_c), (d_k, d_c), (d_v, d_c))

    def loss():
        H, _ = reference.self_attention(C, W_q, W_k, W_v, causal)
        return np.sum(dH * H)

    analytic = reference.self_attention_backward(dH, C, W_q, W_k, W_v, causal)
    assert_gradients_match(analytic, loss, [C, W_q, W_k, W_v], ["C", "W_q", "W_k", "W_v"])


@gradient_settings
@given(batch=batch_shapes(), T=st.integers(1, 5), V=st.integers(2, 7), seed=seeds(), masked=st.booleans())
def test_nll_loss_backward(reference, batch, T, V, seed, masked):
    rng = np.random.default_rng(seed)
    logits = 2.0 * rng.standard_normal(batch + (T, V))
    targets = rng.integers(0, V, size=batch + (T,))
    mask = None
    if masked:
        mask = rng.random(batch + (T,)) < 0.6
        mask.reshape(-1)[0] = True  # at least one position counts

    def loss():
        return reference.nll_loss(logits, targets, mask)

    assert_gradients_match([reference.nll_loss_backward(logits, targets, mask)], loss, [logits], ["logits"])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_relu_derivative_at_zero_is_zero(reference, nonlinearity):
    # a_t = 0 exactly: tanh'(0) = 1, ReLU'(0) = 0 by the contract's convention.
    dh_prev, dc_t, dW_h, dW_c = reference.rnn_step_backward(
        np.ones(2), np.zeros(2), np.zeros(3), np.ones((2, 2)), np.ones((2, 3)), nonlinearity
    )
    expected = 0.0 if nonlinearity == "relu" else 2.0
    np.testing.assert_allclose(dh_prev, expected)
    np.testing.assert_allclose(dc_t, expected)
