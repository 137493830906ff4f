"""Which file of a submission is graded: one rule for `grader grade`, `grade-all`, Gradescope and `grader check`.

A submission is a file or a folder. A file is one when its name ends in `.py` or `.ipynb`
(whatever comes before); anything else (`notes.txt`, `README.md`, a PDF) is not a submission:
`grade` and `check` refuse it as a usage error, and `grade-all` skips it and says so.

In a folder, the file graded is, in this order (MODULE is the assignment's module, e.g. hw1):

1. `MODULE.py` or `MODULE.ipynb`. When both are there, `MODULE.py` is graded and a note says
   the notebook was ignored. (`grader check`, run in the template folder that ships both,
   instead checks the one changed last, and says so.)
2. Else the folder's only `.py` or `.ipynb` file (`solution.py`, `hw1 (2).ipynb`), with a note
   naming it and the name it should have.
3. Else, when the folder holds no `.py` or `.ipynb` file but exactly one folder, that folder,
   by rules 1 and 2, with a note (a GitHub "Download ZIP" unpacks to `hw1-main/hw1.py`). Only
   one level down.
4. Else nothing is graded: a one-line reason names what the folder holds and what to rename.

Never looked at: hidden entries (`.git`, `.ipynb_checkpoints`, `.DS_Store`), IGNORED_NAMES
(`__pycache__`, `__MACOSX`, ...), and, for rule 2, test files (`test_*.py`, `*_test.py`: the
public tests that come with the template are not the homework). Nothing is followed: entries
are looked at with `lstat`; a link named like a candidate is picked like a file and then refused
with its reason when read (grader.grading.safe_read); a linked folder is never entered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.grading.safe_read import kind_of, link_target_kind, open_folder

SUBMISSION_SUFFIXES = (".py", ".ipynb")
# Never anyone's work: what archives, editors, Python and operating systems leave in a folder.
IGNORED_NAMES = frozenset({"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"})
SHOWN_NAMES = 8  # a reason names at most this many of a folder's entries


@dataclass(frozen=True)
class Found:
    """The file to grade in a submission folder, as its path inside the folder (`("hw1.py",)`,
    or `("hw1-main", "hw1.py")` one level down), with notes for the feedback; or, when there is
    none, why (`problem`, one line)."""

    parts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def name(self) -> str:
        """The file as the feedback names it: `hw1.py`, `hw1-main/hw1.py`."""
        return "/".join(self.parts)


def is_submission_name(name: str) -> bool:
    """Whether a file called `name` may be a submission: it ends in .py or .ipynb (any case)."""
    return not name.startswith(".") and Path(name).suffix.lower() in SUBMISSION_SUFFIXES


def is_ignored(name: str) -> bool:
    """Hidden entries and the litter of archives, editors and operating systems: never a
    submission, never listed."""
    return name.startswith(".") or name in IGNORED_NAMES


def is_submission_entry(path: Path) -> bool:
    """Whether the entry at `path` is a submission: a folder, or a file named .py or .ipynb.

    A link is not followed: a link to a folder is a folder submission and a link named .py a
    file submission, both refused with their reason when read; only `stat` looks at the target.
    """
    kind = kind_of(path)
    if kind == "folder" or (kind == "link" and link_target_kind(path) == "folder"):
        return True
    return is_submission_name(path.name)


def require_submission(path: Path, module: str | None, whose: str) -> None:
    """Check a submission named on the command line; `whose` ("the student's", "your") and
    `module` (None when unknown) word the message.

    Raises:
        UsageError: nothing is at `path`, or it is a file that is not .py or .ipynb.
    """
    if kind_of(path) is None:
        raise UsageError(f"submission {path} does not exist")
    if not is_submission_entry(path):
        wanted = f"{module}.py or {module}.ipynb (whatever its name)" if module else ".py or .ipynb file"
        raise UsageError(f"{path} is not a .py or .ipynb file: pass {whose} {wanted}, or a folder holding it")


def find_in_folder(folder: int, module: str, both: str = "python") -> Found:
    """The file to grade in the open folder `folder` (a descriptor), by the module docstring's rule.

    `both` decides between `module`.py and `module`.ipynb when the folder holds both:
    "python" (grading: the .py) or "newer" (`grader check`: the one changed last).
    """
    entries = _entries(folder)
    found = _by_name_or_alone(entries, folder, module, both, "the folder", "")
    if found is not None:
        return found
    subfolders = [name for name, kind in entries.items() if kind == "folder"]
    if len(subfolders) != 1:
        return Found(problem=_nothing_to_grade(module, entries, "the folder"))
    (sub,) = subfolders
    inner = open_folder(sub, dir_fd=folder)
    if isinstance(inner, str):
        return Found(problem=inner)
    try:
        inner_entries = _entries(inner)
        where = f"the only folder in the submission, {_shown(sub)}/,"
        found = _by_name_or_alone(inner_entries, inner, module, both, where, f"{sub}/")
    finally:
        os.close(inner)
    if found is None:
        return Found(problem=_nothing_to_grade(module, inner_entries, where))
    if found.problem:
        return found
    nested = Found((sub, *found.parts))
    (graded,) = found.parts
    if graded in (f"{module}.py", f"{module}.ipynb"):
        note = (f"The submission holds no file to grade but one folder, {_shown(sub)}/, so {_shown(nested.name)} was "
                f"used: next time submit {graded} itself, not the folder around it.")
        return Found(nested.parts, (note, *found.notes))  # and which of the two, when the folder holds both
    note = (f"The submission holds no file to grade but one folder, {_shown(sub)}/, which holds no "
            f"{module}.py or {module}.ipynb, so {_shown(nested.name)}, its only .py or .ipynb file, was used instead: "
            f"next time submit it as {_wanted(graded, module)}, not in a folder.")
    return Found(nested.parts, (note,))  # instead of rule 2's note, which would not mention the folder


def _by_name_or_alone(entries: dict[str, str], folder: int, module: str, both: str, where: str, prefix: str) -> Found | None:
    """Rules 1 and 2 in one folder; None when it holds no .py or .ipynb file that could be graded."""
    python, notebook = f"{module}.py", f"{module}.ipynb"
    has_python, has_notebook = (entries.get(name) not in (None, "folder") for name in (python, notebook))
    if has_python and has_notebook:
        return _both(folder, python, notebook, both, prefix)
    if has_python or has_notebook:
        return Found((python if has_python else notebook,))
    candidates = sorted(name for name, kind in entries.items()
                        if kind != "folder" and is_submission_name(name) and not _is_test_file(name))
    if len(candidates) == 1:
        (name,) = candidates
        return Found((name,), (f"The submission holds no {python} or {notebook}, so {_shown(prefix + name)}, its only "
                               f".py or .ipynb file, was used instead: name it {_wanted(name, module)} next time.",))
    if candidates:
        return Found(problem=f"{where} holds neither {python} nor {notebook} but {len(candidates)} other .py or .ipynb "
                             f"files ({listing(candidates)}): rename the one you want graded to {python} (a notebook: {notebook})")
    return None


def _both(folder: int, python: str, notebook: str, both: str, prefix: str) -> Found:
    """The folder holds `python` and `notebook`: the .py for grading, the newer for `grader check`."""
    if both != "newer":
        return Found((python,), (f"{_shown(prefix + notebook)} was ignored: the folder also holds "
                                 f"{_shown(prefix + python)}, which was graded.",))
    changed = {name: _changed_at(folder, name) for name in (python, notebook)}
    newer, other = (notebook, python) if changed[notebook] > changed[python] else (python, notebook)
    why = "changed more recently than" if changed[newer] > changed[other] else "the folder also holds"
    note = (f"Checking {_shown(prefix + newer)} ({why} {_shown(prefix + other)}; to check that one: "
            f"grader check {_shown(prefix + other)}).")
    if newer != python:
        note += f" Submit {newer} alone: a submission holding both files is graded on {python}."
    return Found((newer,), (note,))


def _changed_at(folder: int, name: str) -> float:
    """When the entry `name` was last changed (a link's own time: it is not followed)."""
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


def _entries(folder: int) -> dict[str, str]:
    """What the open folder holds that is not ignored: name -> kind (grader.grading.safe_read.kind_of)."""
    entries = {}
    for name in sorted(os.listdir(folder)):
        kind = None if is_ignored(name) else kind_of(name, folder)
        if kind is not None:
            entries[name] = kind
    return entries


def _nothing_to_grade(module: str, entries: dict[str, str], where: str) -> str:
    """Rule 4's reason: what the folder holds, and what to submit."""
    python, notebook = f"{module}.py", f"{module}.ipynb"
    if not entries:
        return f"{where} holds neither {python} nor {notebook}: it is empty"
    shown = [name + ("/" if kind == "folder" else "") for name, kind in entries.items()]
    return (f"{where} holds neither {python} nor {notebook}, nor another .py or .ipynb file to grade "
            f"(it holds {listing(shown)}): submit the homework as {python} or {notebook}")


def _is_test_file(name: str) -> bool:
    """A pytest file (test_*.py, *_test.py), such as the template's public tests."""
    stem, suffix = os.path.splitext(name)
    return suffix == ".py" and (stem.startswith("test_") or stem.endswith("_test"))


def _wanted(name: str, module: str) -> str:
    """The name a graded file should have had: the module's, with the file's own kind."""
    return f"{module}.ipynb" if name.lower().endswith(".ipynb") else f"{module}.py"


def listing(names: list[str] | tuple[str, ...]) -> str:
    """`names` for a one-line message: at most SHOWN_NAMES of them, each on one line."""
    shown = ", ".join(_shown(name) for name in names[:SHOWN_NAMES])
    return shown + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else "")


def _shown(name: str) -> str:
    """A file name on one line: a character that is not printable (a newline) as its escape."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in name)
