"""The alerts table: a condition's row is open from when it fired until it cleared.

Written by callwatch.alerts.monitor (inside `callwatch collect` or `callwatch
alerts watch`); read by the monitor itself (which conditions are open) and by
the dashboard and CLI (what fired and when).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.store.schema import alerts


def open_alerts(engine: Engine, site: str) -> dict[str, dict[str, Any]]:
    """condition -> its open alert row at `site`."""
    query = sa.select(alerts).where(alerts.c.site == site, alerts.c.cleared_at.is_(None))
    with engine.connect() as conn:
        return {row["condition"]: dict(row) for row in conn.execute(query).mappings()}


def fire_alert(engine: Engine, site: str, condition: str, message: str, at: datetime) -> int:
    row = {"site": site, "condition": condition, "message": message[:512], "fired_at": at, "notify_error": ""}
    with engine.begin() as conn:
        key = conn.execute(sa.insert(alerts).values(**row)).inserted_primary_key
    assert key is not None, "an INSERT returns the new row's key"
    return int(key[0])


def record_notification(engine: Engine, alert_id: int, at: datetime | None, error: str = "") -> None:
    """When the alert was sent (None: not sent) and, if it failed, why."""
    query = sa.update(alerts).where(alerts.c.id == alert_id).values(notified_at=at, notify_error=error[:256])
    with engine.begin() as conn:
        conn.execute(query)


def clear_alert(engine: Engine, alert_id: int, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(alerts).where(alerts.c.id == alert_id).values(cleared_at=at))


def recent_alerts(engine: Engine, site: str | None, since: datetime) -> list[dict[str, Any]]:
    """Alerts fired since `since` or still open, newest first (site None: every office)."""
    query = sa.select(alerts).where(sa.or_(alerts.c.fired_at >= since, alerts.c.cleared_at.is_(None)))
    if site is not None:
        query = query.where(alerts.c.site == site)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.order_by(alerts.c.fired_at.desc(), alerts.c.id.desc())).mappings()]
