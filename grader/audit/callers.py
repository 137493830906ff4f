"""Which functions of a module call which: a mutant of one function may cost points on those that
call it, and on no other."""

from __future__ import annotations

import ast


def callers_of(source: str) -> dict[str, set[str]]:
    """For each top-level function of `source`, every top-level function that calls it by name,
    directly or through others."""
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    calls = {name: {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id in functions} for name, node in functions.items()}
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
