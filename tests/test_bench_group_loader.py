"""bench/group_of_100_pg.py's COPY loader stores what store.save_calls stores.

The bench loads ten million calls with PostgreSQL COPY instead of save_calls
(which would take over an hour); what it measures is only worth something if
the rows are the same: every calls column (ring_us included), the staff_seen
sightings, and the per-day rollups built from them.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

from callwatch import store
from callwatch.metrics import rollup_store
from callwatch.metrics.params import MetricParams
from callwatch.sample import history

pytestmark = pytest.mark.postgres


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "bench" / "group_of_100_pg.py"
    spec = importlib.util.spec_from_file_location("group_of_100_pg", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _rows(engine: sa.Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def test_copy_loader_stores_the_rows_save_calls_stores(pg_cluster: object) -> None:
    bench = _bench()
    start, end = date(2025, 3, 1), date(2025, 3, 22)
    offices = history.make_offices(3, start, end, seed=5, calls_per_day=40)
    frame = history.generate_frame(offices, start, end, seed=5)
    assert frame["ring_started_at"].isna().any() and frame["answered_at"].notna().any()  # both kinds of ring time

    copied = store.create_engine(pg_cluster.database())  # type: ignore[attr-defined]
    saved = store.create_engine(pg_cluster.database())  # type: ignore[attr-defined]
    for engine in (copied, saved):
        store.init_db(engine)
    assert bench.copy_calls(copied, frame) == len(frame)
    store.save_calls(saved, history.iter_calls(frame))

    calls = "SELECT * FROM calls ORDER BY site, call_id"
    assert _rows(copied, calls) == _rows(saved, calls)
    assert _rows(copied, "SELECT count(*) FROM calls WHERE ring_us IS NULL")[0][0] > 0
    seen = "SELECT * FROM staff_seen ORDER BY site, extension, name"
    assert _rows(copied, seen) == _rows(saved, seen) and _rows(copied, seen)

    params = MetricParams()
    for engine in (copied, saved):
        rollup_store.ensure_rollups(engine, params, None, start, end)
    rollups = "SELECT * FROM call_rollups ORDER BY site, date, queue"
    assert _rows(copied, rollups) == _rows(saved, rollups) and _rows(copied, rollups)
