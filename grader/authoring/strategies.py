"""Small hypothesis strategies for the shapes and seeds of generated test cases, and case recipes.

Arrays are not drawn element by element: a case draws its shapes and an integer seed, and the
arrays come from numpy's generator with that seed. Cases are then realistic (no runs of
exact zeros that sit on ReLU's kink), cheap to draw, and shrink to small shapes.

A *recipe* is a function `build(draw, ...) -> Case` written like a `st.composite` body.
`variants(recipe, count)` draws one case and then `count - 1` more with the same shapes and
other seeds, replaying the recorded draws: hypothesis pays for one example, the student
meets `count` cases, and shrinking still minimises the shared shapes. A recipe must therefore
draw `seeds()`: one that does not would give `count` copies of one case, which
`try_case_sources` finds when the assignment loads. A plain hypothesis strategy of cases
(`@st.composite`) is accepted too; it is not replayed: each of its cases is drawn on its own.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import UnsatisfiedAssumption

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

    @property
    def location(self) -> str:
        """`file:line` of the recipe's definition, for errors that tell the author where to look."""
        function = inspect.unwrap(self.function)
        try:
            return f"{inspect.getsourcefile(function)}:{function.__code__.co_firstlineno}"
        except (TypeError, AttributeError):  # a callable without Python source
            return repr(self)


def recipe(function: Callable[..., Any]) -> Callable[..., CaseRecipe]:
    """Decorator: `function(draw, *args, **kwargs)` becomes a factory of CaseRecipes.

    Inside, `draw` accepts hypothesis strategies and other recipes (which it builds in place).
    """

    @functools.wraps(function)
    def make(*args: Any, **kwargs: Any) -> CaseRecipe:
        return CaseRecipe(function, args, kwargs)

    return make


class CaseGroup(tuple):
    """The cases `variants` drew for one hypothesis example, with `draws`: the values its recipe
    drew for the first case (the others replay them with other seeds), from which
    `replay_variants` builds the same cases again without hypothesis; None for cases drawn
    from a plain strategy, which cannot be replayed."""

    draws: list | None = None


@st.composite
def variants(draw, case_recipe: CaseRecipe | st.SearchStrategy, count: int = 1) -> CaseGroup:
    """`count` cases: one drawn by hypothesis, the rest replaying its draws with other seeds.

    From a hypothesis strategy (not a recipe), `count` cases each drawn on its own.
    """
    if isinstance(case_recipe, st.SearchStrategy):
        return CaseGroup(draw(case_recipe) for _ in range(count))
    recorded: list[Any] = []

    def recording(strategy: Any) -> Any:
        if isinstance(strategy, CaseRecipe):
            return strategy.build(recording)
        value = draw(strategy)
        recorded.append(value)
        return value

    first = case_recipe.build(recording)
    group = CaseGroup([first, *(case_recipe.build(_replaying(recorded, index)) for index in range(1, count))])
    group.draws = list(recorded)
    return group


def replay_variants(case_recipe: CaseRecipe, count: int, draws: Sequence[Any]) -> CaseGroup:
    """The `count` cases `variants(case_recipe, count)` gave when its recipe drew `draws`, built
    again without hypothesis."""
    group = CaseGroup(case_recipe.build(_replaying(draws, index)) for index in range(count))
    group.draws = list(draws)
    return group


def _replaying(draws: Sequence[Any], index: int) -> Callable[[Any], Any]:
    """A draw function that gives back `draws` in order, each seed moved by `index` strides."""
    replay = iter(draws)

    def replaying(strategy: Any) -> Any:
        if isinstance(strategy, CaseRecipe):
            return strategy.build(replaying)
        value = next(replay)
        return (value + index * _SEED_STRIDE) % 2**32 if strategy is SEEDS else value

    return replaying


@dataclass(frozen=True)
class Trial:
    """One case built from a case source (a recipe or a strategy) when the assignment loads:
    what it built, whether it drew a seed (a strategy is never replayed: True), or what it raised."""

    source: Any
    value: Any = None
    drew_seed: bool = True
    error: Exception | None = None


def try_case_sources(sources: Sequence[CaseRecipe | st.SearchStrategy]) -> list[Trial]:
    """Build one case from each source, in one short hypothesis run with a fixed seed (about
    0.5 ms a source), recording whether each recipe drew `seeds()`.

    Catches what a silent trap would hide: a recipe without a seed (its variants are all
    the same case), or one that raises or returns something else than a case (the caller
    checks the value's type). Hypothesis's own error, when no example satisfies a recipe's
    `assume`, propagates.
    """
    trials: list[Trial] = [Trial(source) for source in sources]

    @st.composite
    def build_each(draw) -> None:
        for index, source in enumerate(sources):
            drew = [isinstance(source, st.SearchStrategy)]

            def recording(strategy: Any) -> Any:
                if isinstance(strategy, CaseRecipe):
                    return strategy.build(recording)
                drew[0] = drew[0] or strategy is SEEDS
                return draw(strategy)

            try:
                value = draw(source) if isinstance(source, st.SearchStrategy) else source.build(recording)
            except UnsatisfiedAssumption:  # hypothesis tries another example
                raise
            except Exception as error:  # the author's recipe is broken: say which and how
                trials[index] = Trial(source, error=error)
            else:
                trials[index] = Trial(source, value, drew[0])

    @seed(0)
    @settings(max_examples=1, phases=(Phase.generate,), database=None, deadline=None, verbosity=Verbosity.quiet,
              suppress_health_check=list(HealthCheck))
    @given(build_each())
    def run(_: None) -> None:
        pass

    run()
    return trials
