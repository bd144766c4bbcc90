"""The layers the README draws hold in the code: core → index → rag → eval → ui, no cycles, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

LAYERS = ["core", "index", "rag", "eval", "ui"]  # each may import only those before it (and itself)
MAX_LINES = 420


def _modules() -> dict[str, Path]:
    out = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Project modules imported anywhere in the file (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in LAYERS}


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def test_imports_point_down_the_layers():
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        layer = LAYERS.index(name.split(".")[0])
        for target in _imports(name, path):
            if LAYERS.index(target.split(".")[0]) > layer:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for target in _imports(name, path):
            resolved = _resolve(target, modules)
            # A package's __init__ re-exporting its own modules is not a cycle of jobs.
            if resolved and resolved != name and not name.startswith(resolved + ".") and not resolved.startswith(name + "."):
                graph[name].add(resolved)
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_modules_stay_small():
    big = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert big == {}
