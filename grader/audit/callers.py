"""Which functions of a module call which: a mutant of one function may cost points on those that
call it, and on no other. A function whose checks call another student function (a check's
`uses`, e.g. "your scan equals your sequential RNN") counts as calling it, whether or not the
reference does."""

from __future__ import annotations

import ast
from typing import Mapping, Sequence


def callers_of(source: str, uses: Mapping[str, set[str]] | None = None) -> dict[str, set[str]]:
    """For each top-level function of `source`, every top-level function that calls it by name,
    or whose checks use it (`uses`: function -> the functions its checks call), directly or
    through others."""
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    calls = {name: {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id in functions} | ((uses or {}).get(name, set()) & set(functions))
             for name, node in functions.items()}
    callers: dict[str, set[str]] = {name: set() for name in functions}
    changed = True
    while changed:
        changed = False
        for caller, callees in calls.items():
            for callee in callees:
                new = {caller} | callers[caller]
                if not new <= callers[callee]:
                    callers[callee] |= new
                    changed = True
    return callers


def uses_of(checks: Sequence) -> dict[str, set[str]]:
    """function -> the other student functions its checks call (grader.authoring.Check.uses)."""
    uses: dict[str, set[str]] = {}
    for check in checks:
        uses.setdefault(check.function, set()).update(set(check.uses) - {check.function})
    return uses
