"""The architecture is checked, not hoped for: the import-linter contracts in pyproject.toml
(layers, no Qt outside ui/ and app.py, a VM backend without UI or stores) and no import cycles."""

from __future__ import annotations

from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# Every layer, the VM backend included (grimp counts function-local imports too).
ACYCLIC = ("desktop.app", "desktop.gui", "desktop.cli", "desktop.ui", "desktop.presentation", "desktop.metrics", "desktop.state",
           "desktop.engine", "desktop.vm")


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("desktop")
    mine = {m for m in graph.modules if m.startswith(ACYCLIC)}
    edges = {m: {i for i in graph.find_modules_directly_imported_by(m) if i in mine} for m in mine}
    assert _cycles(edges) == []


def test_the_wing_modules_imported_ahead_are_the_wings_made_after_the_first_paint():
    """desktop/app.py imports WING_MODULES in a worker thread before making the wings beyond
    Containers; a wing left out of that list is imported on the UI thread instead."""
    import ast

    from desktop.app import WING_MODULES

    tree = ast.parse((ROOT / "desktop" / "app.py").read_text())
    steps = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_secondary_steps")
    made = {f"{node.module}.{alias.name}" if node.module == "desktop.ui.features" else node.module
            for node in ast.walk(steps) if isinstance(node, ast.ImportFrom)
            and node.module.startswith("desktop.ui.features") for alias in node.names}
    assert made and made <= set(WING_MODULES), made - set(WING_MODULES)
