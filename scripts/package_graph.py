"""Print callwatch's package graph: which package imports which, and what breaks the rule.

Run from a checkout: `.venv/bin/python scripts/package_graph.py [path/to/repo]`.
It reads the source with `ast` (nothing is imported), so it works on any commit.
tests/test_layers.py loads this file and fails on what it reports as broken.

A "package" is the first name under callwatch (callwatch.metrics.loader -> metrics;
callwatch.model -> model). Imports under `if TYPE_CHECKING:` count: a type is a dependency too.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# The import rule of docs/DESIGN.md ("Layout"): package -> the packages it may import.
# cli imports everything; healthcheck is an entry point beside the dashboard.
LOWER = {"model", "config", "store"}
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "formatting": set(),
    "config": {"model"},
    "store": {"model"},
    "collector": LOWER,
    "metrics": LOWER | {"formatting"},  # training verdicts are sentences
    "sample": LOWER | {"collector", "metrics"},
    "report": LOWER | {"metrics", "formatting"},
    "alerts": LOWER | {"metrics", "formatting"},
    "dashboard": LOWER | {"metrics", "formatting"},
    "healthcheck": LOWER | {"metrics", "formatting"},
}
# An import inside a function is allowed only to keep start-up fast (`callwatch --help`, the
# health probe), or in the Dash app factory, whose pages Dash itself imports once an app exists.
# The line says which.
LAZY_MARKS = ("lazy: start-up speed", "lazy: after Dash()")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    target: str  # imported callwatch module, dotted
    line: int
    in_function: bool


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "callwatch"


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(repo: Path, dotted: str) -> bool:
    path = repo.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _targets(repo: Path, node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules an import statement names: `from callwatch.report import run` names callwatch.report.run."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        target = candidate if _is_module(repo, candidate) else base
        if target not in found:
            found.append(target)
    return found


def walk(tree: ast.AST, in_function: bool = False):
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from walk(child, inner)


def scan(repo: Path) -> tuple[list[Edge], list[tuple[str, int]]]:
    """Every import edge between callwatch modules, and every unmarked import inside a function."""
    edges: list[Edge] = []
    unmarked: list[tuple[str, int]] = []
    for path in sorted((repo / "callwatch").rglob("*.py")):
        module = module_name(repo, path)
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node, in_function in walk(ast.parse(source)):
            if in_function:
                context = " ".join(lines[max(0, node.lineno - 2): node.end_lineno or node.lineno])
                if not any(mark in context for mark in LAZY_MARKS):
                    unmarked.append((module, node.lineno))
            for target in _targets(repo, node, module, path.name == "__init__.py"):
                if target == "callwatch" or target.startswith("callwatch."):
                    edges.append(Edge(module, target, node.lineno, in_function))
    return edges, unmarked


def broken(edges: list[Edge]) -> list[Edge]:
    """Edges between packages that the rule does not allow (cli may import anything)."""
    out = []
    for edge in edges:
        src, dst = package_of(edge.source), package_of(edge.target)
        if src in (dst, "cli", "callwatch") or dst == "callwatch":
            continue
        if dst not in ALLOWED.get(src, set()):
            out.append(edge)
    return out


def module_cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), ignoring package __init__ re-exports."""
    graph: dict[str, set[str]] = defaultdict(set)
    modules = {e.source for e in edges}
    for e in edges:
        target = e.target
        while target not in modules and "." in target:
            target = target.rsplit(".", 1)[0]
        if target != e.source and not e.source.startswith(target + "."):
            graph[e.source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str]) -> int:
    repo = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    edges, unmarked = scan(repo)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for e in edges:
        src, dst = package_of(e.source), package_of(e.target)
        if src != dst:
            counts[src, dst] += 1
    print("package graph (importer -> imported: number of import lines)")
    for src in sorted({s for s, _ in counts}):
        targets = ", ".join(f"{d} ({n})" for (s, d), n in sorted(counts.items()) if s == src)
        print(f"  {src:<12} -> {targets}")
    bad = broken(edges)
    print(f"edges outside the import rule: {len(bad)}")
    for e in bad:
        print(f"  {e.source}:{e.line} -> {e.target}{'  (inside a function)' if e.in_function else ''}")
    cycles = module_cycles(edges)
    print(f"module import cycles: {len(cycles)}")
    for group in cycles:
        print("  " + " <-> ".join(group))
    print(f"imports inside functions not marked {' or '.join(map(repr, LAZY_MARKS))}: {len(unmarked)}")
    for module, line in unmarked:
        print(f"  {module}:{line}")
    return 1 if bad or cycles or unmarked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
