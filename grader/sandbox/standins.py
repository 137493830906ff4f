"""Stand-ins for the modules a submission imports that grading does not provide.

Student code gets numpy and the standard library when it is graded, the same on every
machine, whatever else is installed there. A notebook often imports more for its scratch
cells (matplotlib to plot, tqdm for a progress bar, pandas to look at data), and a failing
import must not cost the student the functions defined in the same cell. So an import of any
other module, made by the student's own code, gets a stand-in instead:

- display and progress modules (matplotlib, seaborn, IPython, tqdm, ...) accept and ignore
  anything, also inside a graded function (a function that plots as it works is still right);
- any other module (scipy, torch, pandas, ...) accepts anything while the submission's
  top-level code runs, and raises ImportError, saying why, as soon as a graded function uses it.

This module runs inside the worker, on the untrusted side.
"""

from __future__ import annotations

import sys
import types
from importlib.machinery import ModuleSpec

from grader.sandbox.available_modules import ALLOWED_MODULES, DISPLAY_MODULES


class _State:
    loading = True  # the submission's top-level code is running (not a graded call)
    used: dict[str, None] = {}  # top-level names given a stand-in, in import order


def _unavailable(path: str) -> ImportError:
    top = path.split(".")[0]
    return ImportError(f"{top} is not available when grading ({path} was used): "
                       "graded functions may use numpy and the standard library only")


class StandIn:
    """Any attribute, call, item or iteration of an unavailable module; see the module docstring."""

    def __init__(self, path: str) -> None:
        object.__setattr__(self, "_path", path)

    def _allowed(self) -> None:
        path = object.__getattribute__(self, "_path")
        if not _State.loading and path.split(".")[0] not in DISPLAY_MODULES:
            raise _unavailable(path)

    def __getattr__(self, name: str) -> "StandIn":
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        self._allowed()
        return StandIn(f"{object.__getattribute__(self, '_path')}.{name}")

    def __setattr__(self, name: str, value: object) -> None:
        self._allowed()

    def __call__(self, *args: object, **kwargs: object) -> object:
        self._allowed()
        path = object.__getattribute__(self, "_path")
        name = path.rsplit(".", 1)[-1]
        if name == "trange":
            return range(*args)  # type: ignore[arg-type]
        if name == "tqdm" and args:
            return args[0]  # tqdm(iterable) is the iterable
        if len(args) == 1 and not kwargs and (isinstance(args[0], (types.FunctionType, type))):
            return args[0]  # used as a decorator (@numba.njit, @torch.no_grad()): the function stays itself
        if name == "subplots":
            return StandIn(f"{path}().figure"), StandIn(f"{path}().axes")
        return StandIn(f"{path}()")

    def __getitem__(self, key: object) -> "StandIn":
        self._allowed()
        return StandIn(f"{object.__getattribute__(self, '_path')}[]")

    def __setitem__(self, key: object, value: object) -> None:
        self._allowed()

    def __iter__(self):
        self._allowed()
        return iter(())

    def __len__(self) -> int:
        self._allowed()
        return 0

    def __bool__(self) -> bool:
        self._allowed()
        return True

    def __enter__(self) -> "StandIn":
        self._allowed()
        return self

    def __exit__(self, *exc_info: object) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<stand-in for {object.__getattribute__(self, '_path')}>"


class StandInModule(types.ModuleType):
    """A module whose every attribute is a StandIn; submodules are stand-ins too."""

    def __getattr__(self, name: str) -> StandIn:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(StandIn(self.__name__), name)


class _StandInLoader:
    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        module = StandInModule(spec.name)
        module.__path__ = []  # a package, so that `import matplotlib.pyplot` finds a stand-in too
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class StandInFinder:
    """A meta path finder that gives the student's own imports of unavailable modules a stand-in.

    Imports made by numpy or the standard library (say, an optional dependency tried inside
    `try: ... except ImportError`) are left alone: they must see the real ImportError.
    """

    def __init__(self, student_files: set[str]) -> None:
        self.student_files = student_files

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        top = fullname.split(".")[0]
        if top in ALLOWED_MODULES or not self._imported_by_student():
            return None
        _State.used.setdefault(top, None)
        return ModuleSpec(fullname, _StandInLoader(), is_package=True)

    def _imported_by_student(self) -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename in self.student_files:
                return True
            if not (filename.startswith("<frozen importlib") or "importlib" in filename or filename == __file__):
                return False
            frame = frame.f_back
        return False


def install(student_files: set[str]) -> None:
    """Give the student's imports of unavailable modules stand-ins, from now on."""
    sys.meta_path.insert(0, StandInFinder(student_files))


def set_loading(loading: bool) -> None:
    """True while the submission's top-level code runs; False once graded calls begin."""
    _State.loading = loading


def used() -> list[str]:
    """The modules that were given a stand-in, in the order they were first imported."""
    return list(_State.used)
