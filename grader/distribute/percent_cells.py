"""Split a percent-format Python file (`# %%` code cells, `# %% [markdown]` text cells) into cells.

This is the format Jupytext, VS Code and Spyder read, so the reference module is at once a
plain module and the outline of the student's notebook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"^# %%(?P<rest>.*)$")


@dataclass(frozen=True)
class Cell:
    """One cell: `kind` is "code" or "markdown"; `source` has no marker and no trailing blank lines."""

    kind: str
    source: str


def split_cells(source: str) -> list[Cell]:
    """The cells of a percent-format file, in order; text before the first marker is dropped.

    Markdown cells lose their leading "# " (a bare "#" becomes an empty line).
    """
    cells: list[Cell] = []
    kind, body = None, []
    for line in source.splitlines() + ["# %% <end>"]:
        marker = _MARKER.match(line)
        if not marker:
            body.append(line)
            continue
        if kind is not None:
            text = "\n".join(_uncomment(body) if kind == "markdown" else body).strip("\n")
            if text:
                cells.append(Cell(kind, text))
        kind = "markdown" if "[markdown]" in marker["rest"] else "code"
        body = []
    return cells


def _uncomment(lines: list[str]) -> list[str]:
    return [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
