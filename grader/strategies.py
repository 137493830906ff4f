"""Small hypothesis strategies for the shapes and seeds of generated test cases.

Arrays are not drawn element by element: a case draws its shapes and an integer seed, and the
arrays come from numpy's generator with that seed. Cases are then realistic (no runs of
exact zeros that sit on ReLU's kink), cheap to draw, and shrink to small shapes.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

BATCH_SHAPES_DESCRIPTION = "(), (k,), (j, k)"


def batch_shapes(*, max_size: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Leading batch dimensions: (), (k,) or (j, k), with sizes in [1, max_size]."""
    size = st.integers(1, max_size)
    return st.one_of(st.just(()), st.tuples(size), st.tuples(size, size))


def distinct_sizes(count: int, *, min_size: int = 1, max_size: int = 6) -> st.SearchStrategy[tuple[int, ...]]:
    """`count` different sizes, so that a transposed matrix cannot pass by symmetry."""
    return st.lists(st.integers(min_size, max_size), min_size=count, max_size=count, unique=True).map(tuple)


def seeds() -> st.SearchStrategy[int]:
    """Seeds for numpy's random generator."""
    return st.integers(0, 2**32 - 1)


def normal(seed: int, *shapes: tuple[int, ...], scale: float = 1.0) -> list[np.ndarray]:
    """One float64 array of standard normal entries (times `scale`) per shape, from `seed`."""
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in shapes]
