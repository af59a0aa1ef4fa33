"""Writes what is happening now (calls ringing or queued, the collector's pulse) to the store.

The dashboard reads these tables through `metrics.loader.load_live`; the
collector owns them. Live rows are replaced as a set per site: a handful of
rows, rewritten only when something changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.ami.callstate import LiveCall


def write_live_calls(engine: Engine, site: str, live: Sequence[LiveCall], now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    rows = [
        {
            "site": site,
            "call_id": c.call_id,
            "caller": c.caller,
            "state": c.state,
            "ring_started_at": c.ring_started_at,
            "arrived_at": c.arrived_at,
            "location": c.location[:128],
            "queue": c.queue,
            "updated_at": now,
        }
        for c in live
    ]
    with engine.begin() as conn:
        conn.execute(sa.delete(store.live_calls).where(store.live_calls.c.site == site))
        if rows:
            conn.execute(sa.insert(store.live_calls), rows)


def write_heartbeat(
    engine: Engine, site: str, *, connected: bool, last_event_at: datetime | None, detail: str = ""
) -> None:
    store.upsert_rows(
        engine,
        store.heartbeat,
        [
            {
                "site": site,
                "last_event_at": last_event_at,
                "connected": connected,
                "updated_at": datetime.now(UTC),
                "detail": detail[:256],
            }
        ],
        keys=("site",),
    )


def read_heartbeat(engine: Engine, site: str) -> dict[str, object] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.heartbeat).where(store.heartbeat.c.site == site)).mappings().first()
    return dict(row) if row else None


def read_live_calls(engine: Engine, site: str) -> list[dict[str, object]]:
    with engine.connect() as conn:
        query = sa.select(store.live_calls).where(store.live_calls.c.site == site)
        return [dict(r) for r in conn.execute(query).mappings()]
