"""Central finite differences and the CS231n relative error, for checking backward passes."""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(loss: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dL/dx by central differences  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps).

    `loss` is called with no arguments and must read `x`, which is perturbed in place one
    entry at a time and restored afterwards.

    Args:
        loss: the scalar function of x, L().
        x: a float64 array (any shape) that `loss` depends on.
        eps: the step.

    Returns:
        An array of x's shape.
    """
    gradient = np.zeros(x.shape, dtype=np.float64)
    flat_x = x.reshape(-1)  # a view: writing into it perturbs x
    flat_gradient = gradient.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        plus = float(loss())
        flat_x[i] = original - eps
        minus = float(loss())
        flat_x[i] = original
        flat_gradient[i] = (plus - minus) / (2.0 * eps)
    return gradient


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    """CS231n's relative error, taken over the whole array:  max|a - b| / max(floor, max|a| + max|b|).

    Scaling by the largest entries (rather than entry by entry) keeps gradients that are
    exactly 0, such as those of masked positions, from turning round-off into a large error.
    A larger `floor` makes tiny gradients (where finite differences are mostly round-off)
    compare by absolute difference instead.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    scale = max(floor, float(np.max(np.abs(a)) + np.max(np.abs(b))))
    return float(np.max(np.abs(a - b)) / scale)
