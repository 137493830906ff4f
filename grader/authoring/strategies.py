"""Small hypothesis strategies for the shapes and seeds of generated test cases, and case recipes.

Arrays are not drawn element by element: a case draws its shapes and an integer seed, and the
arrays come from numpy's generator with that seed. Cases are then realistic (no runs of
exact zeros that sit on ReLU's kink), cheap to draw, and shrink to small shapes.

A *recipe* is a function `build(draw, ...) -> Case` written like a `st.composite` body.
`variants(recipe, count)` draws one case and then `count - 1` more with the same shapes and
other seeds, replaying the recorded draws: hypothesis pays for one example, the student
meets `count` cases, and shrinking still minimises the shared shapes.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

SEEDS = st.integers(0, 2**32 - 1)
_SEED_STRIDE = 0x9E3779B1  # variants' seeds are spread apart by an odd constant


@st.composite
def batch_shapes(draw, *, max_size: int = 3) -> tuple[int, ...]:
    """Leading batch dimensions: (), (k,) or (j, k), with sizes in [1, max_size]; shrinks towards ()."""
    dims = draw(st.integers(0, 2))
    return tuple(draw(st.integers(1, max_size)) for _ in range(dims))


@st.composite
def distinct_sizes(draw, count: int, *, min_size: int = 1, max_size: int = 6) -> tuple[int, ...]:
    """`count` different sizes in [min_size, max_size], so that a transposed matrix cannot pass by symmetry.

    The i-th size is drawn from the values the earlier ones left free (cheap, and shrinks well).
    """
    if max_size - min_size + 1 < count:
        raise ValueError(f"cannot draw {count} distinct sizes from [{min_size}, {max_size}]")
    free = list(range(min_size, max_size + 1))
    return tuple(free.pop(draw(st.integers(0, len(free) - 1))) for _ in range(count))


def seeds() -> st.SearchStrategy[int]:
    """Seeds for numpy's random generator (the draws that `variants` changes)."""
    return SEEDS


def normal(seed: int, *shapes: tuple[int, ...], scale: float = 1.0) -> list[np.ndarray]:
    """One float64 array of standard normal entries (times `scale`) per shape, from `seed`."""
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in shapes]


class CaseRecipe:
    """A recipe bound to its arguments; `build(draw)` makes one case with the given draw function."""

    def __init__(self, function: Callable[..., Any], args: tuple, kwargs: dict):
        self.function, self.args, self.kwargs = function, args, kwargs

    def build(self, draw: Callable[[Any], Any]) -> Any:
        return self.function(draw, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        return f"{self.function.__name__}(...)"


def recipe(function: Callable[..., Any]) -> Callable[..., CaseRecipe]:
    """Decorator: `function(draw, *args, **kwargs)` becomes a factory of CaseRecipes.

    Inside, `draw` accepts hypothesis strategies and other recipes (which it builds in place).
    """

    @functools.wraps(function)
    def make(*args: Any, **kwargs: Any) -> CaseRecipe:
        return CaseRecipe(function, args, kwargs)

    return make


@st.composite
def variants(draw, case_recipe: CaseRecipe, count: int = 1) -> tuple:
    """`count` cases: one drawn by hypothesis, the rest replaying its draws with other seeds."""
    recorded: list[Any] = []

    def recording(strategy: Any) -> Any:
        if isinstance(strategy, CaseRecipe):
            return strategy.build(recording)
        value = draw(strategy)
        recorded.append(value)
        return value

    cases = [case_recipe.build(recording)]
    for index in range(1, count):
        replay = iter(recorded)

        def replaying(strategy: Any, index: int = index, replay=replay) -> Any:
            if isinstance(strategy, CaseRecipe):
                return strategy.build(replaying)
            value = next(replay)
            return (value + index * _SEED_STRIDE) % 2**32 if strategy is SEEDS else value

        cases.append(case_recipe.build(replaying))
    return tuple(cases)
