"""calls.ring_us, the stored ring time the metrics aggregate reads: written with every call, backfilled by 0012.

On SQLite and PostgreSQL: a store at the schema before 0012 (0006) holding
calls is migrated, and each call's ring_us is its timestamps' difference to
the microsecond (fractions across a second, each stand-in for the end of
ringing, a negative gap, missing ends); the database-counted numbers of the
migrated store then equal the pandas path's. save_calls keeps ring_us with the
timestamps when a richer source replaces a call's ring time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from callwatch import store
from callwatch.metrics.frame import prepare
from callwatch.metrics.hours import local_day_bounds
from callwatch.metrics.in_database import database_numbers
from callwatch.metrics.loader import load_calls
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import after_hours_counts, summarize
from callwatch.model import CALL_FIELDS, Call
from callwatch.sample import history
from callwatch.store import migrations
from callwatch.store.save import with_ring_us


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        engine = store.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        engine = store.create_engine(request.getfixturevalue("pg_cluster").database("ringus"))
    yield engine
    engine.dispose()


def _ring_us(engine: sa.Engine) -> dict[str, int | None]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(store.calls.c.call_id, store.calls.c.ring_us)).all()
    return {call_id: value for call_id, value in rows}


T = datetime(2025, 3, 4, 15, 0, 0, 999_999, tzinfo=UTC)
EDGES = [  # (call_id, ring_started_at, answered_at, ring_ended_at, ended_at, expected ring_us)
    ("across-a-second", T, T + timedelta(microseconds=2), None, T + timedelta(seconds=60), 2),
    ("answered-wins", T, T + timedelta(seconds=7, microseconds=1), T + timedelta(seconds=9), T + timedelta(seconds=90),
     7_000_001),
    ("ring-ended", T, None, T + timedelta(seconds=21, microseconds=500_000), T + timedelta(seconds=80), 21_500_000),
    ("hang-up-only", T, None, None, T + timedelta(seconds=3, microseconds=123_456), 3_123_456),
    ("stop-before-start", T, T - timedelta(microseconds=5), None, T + timedelta(seconds=9), 0),
    ("never-rang", None, T, None, T + timedelta(seconds=9), None),
    ("no-end", T, None, None, None, None),
]


def test_migration_0012_backfills_ring_us_on_an_old_store(empty: sa.Engine) -> None:
    migrations.upgrade(empty, "0006")  # the schema before calls.ring_us
    old_calls = sa.table("calls", *(sa.column(name, store.calls.c[name].type) for name in CALL_FIELDS))
    rows: list[dict[str, Any]] = []
    for call_id, ring_started, answered, ring_ended, ended, _ in EDGES:
        call = Call(call_id, "north", "inbound", "+15035550100", T - timedelta(seconds=5), ended,
                    "answered" if answered else "abandoned", ring_started_at=ring_started, answered_at=answered,
                    ring_ended_at=ring_ended, source="ami", ring_quality="exact")
        rows.append({name: value for name, value in store.call_row(call).items() if name in CALL_FIELDS})
    first, last = date(2025, 3, 1), date(2025, 3, 14)
    offices = history.make_offices(2, first, last, seed=5, calls_per_day=25)
    generated = [store.call_row(c) for c in history.iter_calls(history.generate_frame(offices, first, last, 5))]
    rows += [{name: row[name] for name in CALL_FIELDS} for row in generated]
    with empty.begin() as conn:
        conn.execute(sa.insert(old_calls), rows)

    store.init_db(empty)  # what any command does on opening an older store

    with empty.connect() as conn:
        assert migrations.current(conn) == migrations.HEAD
    stored = _ring_us(empty)
    for call_id, *_, expected in EDGES:
        assert stored[call_id] == expected, call_id
    for row in generated:
        assert stored[row["call_id"]] == with_ring_us(dict(row))["ring_us"], row["call_id"]
    assert any(v is not None and v % 1_000_000 for v in stored.values()), "the history must have sub-second rings"
    # The metrics read the backfilled column: the same numbers as the pandas path.
    params = MetricParams()
    start, end = local_day_bounds(params, first, last)
    prepared = prepare(load_calls(empty, start=start, end=end), params)
    fast = database_numbers(empty, params, start, end, None)
    expected_summary = summarize(prepared, params)
    assert expected_summary["answered"] > 50
    for key, value in expected_summary.items():
        got = fast.summary[key]
        assert (value is None and got is None) or got == pytest.approx(value, rel=1e-12, abs=1e-12), key
    assert fast.after_hours == after_hours_counts(prepared)


def test_saving_a_richer_ring_time_rewrites_ring_us(engine: sa.Engine) -> None:
    cdr = Call("c1", "north", "inbound", "+15035550100", T, T + timedelta(seconds=90), "answered",
               ring_started_at=T, answered_at=T + timedelta(seconds=12), source="cdr-csv", ring_quality="derived")
    store.save_calls(engine, [cdr])
    assert _ring_us(engine) == {"c1": 12_000_000}
    # queue_log knows the exact wait; it ranks below the CDR but its exact ring time is kept.
    queue_log = Call("c1", "north", "inbound", "+15035550100", T, None, "answered",
                     ring_started_at=T + timedelta(seconds=2, microseconds=250_000),
                     answered_at=T + timedelta(seconds=11, microseconds=750_001), source="queue-log",
                     ring_quality="exact")
    store.save_calls(engine, [queue_log])
    row = store.select_calls(engine)[0]
    assert row["ring_quality"] == "exact"
    assert _ring_us(engine) == {"c1": 9_500_001} == {"c1": with_ring_us(dict(row))["ring_us"]}
