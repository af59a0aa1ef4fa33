"""What is happening now (calls ringing or queued, the collector's pulse), as rows for the store.

The dashboard reads these tables through `metrics.loader.load_live`; the
collector owns them and writes them through `store.state`. Live rows are
replaced as a set per site: a handful of rows, rewritten only when something changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.ami.callstate import LiveCall


def live_rows(site: str, live: Sequence[LiveCall], now: datetime) -> list[dict[str, Any]]:
    """live_calls rows for the calls ringing or queued at `site`."""
    return [
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


def write_live_calls(engine: Engine, site: str, live: Sequence[LiveCall], now: datetime | None = None) -> None:
    store.replace_live_calls(engine, site, live_rows(site, live, now or datetime.now(UTC)))
