"""The layout stays the flow: no import edge outside docs/DESIGN.md's rule, no cycle, no hidden import.

scripts/package_graph.py does the AST walk (it also prints the graph for people);
these tests fail on what it reports, and check that it does catch a bad edge.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _checker() -> ModuleType:
    # scripts/ is not a package; load the script by its path (no sys.path change).
    spec = importlib.util.spec_from_file_location("package_graph", ROOT / "scripts" / "package_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


GRAPH = _checker()


def test_every_import_edge_follows_the_rule() -> None:
    edges, _ = GRAPH.scan(ROOT)
    assert [f"{e.source}:{e.line} -> {e.target}" for e in GRAPH.broken(edges)] == []


def test_no_module_imports_itself_through_others() -> None:
    edges, _ = GRAPH.scan(ROOT)
    assert GRAPH.module_cycles(edges) == []


def test_every_import_inside_a_function_says_it_is_lazy() -> None:
    _, unmarked = GRAPH.scan(ROOT)
    assert unmarked == []


def test_the_collector_and_metrics_do_not_know_what_is_downstream() -> None:
    edges, _ = GRAPH.scan(ROOT)
    upstream = {(GRAPH.package_of(e.source), GRAPH.package_of(e.target)) for e in edges}
    for lower, higher in (("collector", "metrics"), ("collector", "report"), ("metrics", "collector"),
                          ("store", "config"), ("model", "store")):
        assert (lower, higher) not in upstream


def _write(root: Path, name: str, text: str) -> None:
    path = root / "callwatch" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_checker_catches_a_bad_edge_a_cycle_and_a_hidden_import(tmp_path: Path) -> None:
    _write(tmp_path, "__init__.py", "")
    _write(tmp_path, "metrics/__init__.py", "")
    _write(tmp_path, "metrics/a.py", "from callwatch.metrics import b\nfrom callwatch.report import run\n")
    _write(tmp_path, "metrics/b.py", "def f():\n    from callwatch.metrics import a\n    return a\n")
    _write(tmp_path, "report/__init__.py", "")
    _write(tmp_path, "report/run.py", "def g():\n    import json  # lazy: start-up speed\n")
    edges, unmarked = GRAPH.scan(tmp_path)
    assert [(e.source, e.target) for e in GRAPH.broken(edges)] == [("callwatch.metrics.a", "callwatch.report.run")]
    assert GRAPH.module_cycles(edges) == [["callwatch.metrics.a", "callwatch.metrics.b"]]
    assert unmarked == [("callwatch.metrics.b", 2)]
