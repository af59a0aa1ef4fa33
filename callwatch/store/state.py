"""The store's small tables: import state, live calls, heartbeat, follow-ups handled, trainings, report runs.

Every write to them is here (call records are written by save.py). The
collector's own bookkeeping is read back here too (where an import stopped,
whether a report went out); what metrics and pages read lives in
callwatch.metrics.loader.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.store.save import upsert_rows
from callwatch.store.schema import follow_up_handled, heartbeat, import_state, live_calls, report_runs, trainings


def add_training(engine: Engine, site: str, day: date, title: str, notes: str = "") -> int:
    """Record a staff training session for `site`; returns its id."""
    row = {"site": site, "date": day, "title": title, "notes": notes, "created_at": datetime.now(UTC)}
    with engine.begin() as conn:
        key = conn.execute(sa.insert(trainings).values(**row)).inserted_primary_key
    assert key is not None, "an INSERT returns the new row's key"
    return int(key[0])


def add_training_once(engine: Engine, site: str, day: date, title: str, notes: str = "") -> bool:
    """add_training unless `site` already has a session of that date and title; True when added."""
    same = (trainings.c.site == site, trainings.c.date == day, trainings.c.title == title)
    query = sa.select(trainings.c.id).where(*same)
    with engine.connect() as conn:
        if conn.execute(query).first() is not None:
            return False
    add_training(engine, site, day, title, notes)
    return True


def load_import_state(engine: Engine, site: str, path: str) -> dict[str, Any] | None:
    """Where the last import of `path` stopped (the import_state row), None for a file never read."""
    query = sa.select(import_state).where(import_state.c.site == site, import_state.c.path == path)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def save_import_state(engine: Engine, row: dict[str, Any]) -> None:
    """Replace the import_state row of (row["site"], row["path"])."""
    upsert_rows(engine, import_state, [row], keys=("site", "path"))


def replace_live_calls(engine: Engine, site: str, rows: Sequence[dict[str, Any]]) -> None:
    """The calls ringing or queued at `site` now: the site's rows are replaced as a set, in one transaction."""
    with engine.begin() as conn:
        conn.execute(sa.delete(live_calls).where(live_calls.c.site == site))
        if rows:
            conn.execute(sa.insert(live_calls), list(rows))


def write_heartbeat(
    engine: Engine, site: str, *, connected: bool, last_event_at: datetime | None, detail: str = ""
) -> None:
    """The collector's pulse for `site` (one row per site, replaced)."""
    row = {
        "site": site,
        "last_event_at": last_event_at,
        "connected": connected,
        "updated_at": datetime.now(UTC),
        "detail": detail[:256],
    }
    upsert_rows(engine, heartbeat, [row], keys=("site",))


def mark_follow_up_handled(engine: Engine, site: str, call_id: str, user: str) -> None:
    """The front desk called this caller back (or decided not to): the call leaves the follow-up list."""
    row = {"site": site, "call_id": call_id, "handled_at": datetime.now(UTC), "handled_by": user}
    upsert_rows(engine, follow_up_handled, [row], keys=("site", "call_id"))


def report_sent(engine: Engine, site: str, week: str) -> bool:
    """True when the report of `week` (an ISO week label) for `site` was sent or written already."""
    query = sa.select(report_runs.c.sent_at).where(report_runs.c.site == site, report_runs.c.week == week)
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


def record_report_run(engine: Engine, site: str, week: str, detail: str, now: datetime | None = None) -> None:
    """Remember that the report of `week` went out (an upsert: never a second row)."""
    row = {"site": site, "week": week, "sent_at": now or datetime.now(UTC), "detail": detail[:512]}
    upsert_rows(engine, report_runs, [row], keys=("site", "week"))
