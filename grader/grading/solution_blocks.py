"""Find and strip the solution blocks of a reference module.

A solution block is the lines between `# BEGIN SOLUTION` and `# END SOLUTION`. Text after
`TODO:` on the BEGIN line is the one-line hint the student sees in its place:

    # BEGIN SOLUTION  TODO: apply f to a_t.
    ...the reference code...
    # END SOLUTION

becomes

    # TODO: apply f to a_t.
    raise NotImplementedError("rnn_step is not implemented yet")
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.errors import UsageError

_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION\b(?:\s*TODO:\s*(?P<hint>.*?))?\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")
_DEF = re.compile(r"^\s*def\s+(?P<name>\w+)\s*\(")


@dataclass(frozen=True)
class SolutionBlock:
    """One solution block: the function it sits in, its hint, and its lines (1-based, inclusive)."""

    function: str
    hint: str
    indent: str
    first_line: int
    last_line: int
    lines: tuple[str, ...]


def find_solution_blocks(source: str, filename: str = "<reference>") -> list[SolutionBlock]:
    """Every solution block of `source`, in order.

    Raises:
        UsageError: a marker is unmatched or nested; the message names the line.
    """
    blocks = []
    function = "<module>"
    open_at = None
    for number, line in enumerate(source.splitlines(), start=1):
        definition = _DEF.match(line)
        if definition and open_at is None:
            function = definition["name"]
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if open_at is not None:
                raise UsageError(f"{filename}:{number}: BEGIN SOLUTION inside the block opened on line {open_at[0]}")
            open_at = (number, begin["indent"], begin["hint"] or f"implement {function}.", function)
        elif end:
            if open_at is None:
                raise UsageError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            start, indent, hint, owner = open_at
            body = tuple(source.splitlines()[start : number - 1])
            blocks.append(SolutionBlock(owner, hint, indent, start, number, body))
            open_at = None
    if open_at is not None:
        raise UsageError(f"{filename}:{open_at[0]}: BEGIN SOLUTION is never closed by END SOLUTION")
    return blocks


def strip_solutions(source: str, filename: str = "<reference>") -> str:
    """`source` with each solution block replaced by its TODO hint and a NotImplementedError."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    for block in find_solution_blocks(source, filename):
        out.extend(lines[position : block.first_line - 1])
        out.append(f"{block.indent}# TODO: {block.hint}\n")
        out.append(f'{block.indent}raise NotImplementedError("{block.function} is not implemented yet")\n')
        position = block.last_line
    out.extend(lines[position:])
    return "".join(out)
