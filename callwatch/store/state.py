"""The store's small tables: import state, live calls, heartbeat, follow-ups handled, trainings, report runs,
each office's settings, caller-number reveals, and demo data kept apart.

Every write to them is here (call records are written by save.py). The
collector's own bookkeeping is read back here too (where an import stopped,
whether a report went out); what metrics and pages read lives in
callwatch.metrics.loader.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.model import Source
from callwatch.store.save import mark_rollups_dirty, upsert_in, upsert_rows
from callwatch.store.schema import (
    caller_reveals,
    calls,
    follow_up_handled,
    heartbeat,
    import_state,
    live_calls,
    report_deliveries,
    report_runs,
    rollup_dirty,
    site_settings,
    trainings,
)

DEMO_SOURCE = Source.DEMO.value
# Demo trainings carry this in their title: `callwatch demo --remove` finds them by it.
DEMO_TRAINING_MARK = "(demo)"


def add_training(engine: Engine, site: str | None, day: date, title: str, notes: str = "") -> int:
    """Record a staff training session for `site` (None: every office); returns its id."""
    row = {"site": site, "date": day, "title": title, "notes": notes, "created_at": datetime.now(UTC)}
    with engine.begin() as conn:
        key = conn.execute(sa.insert(trainings).values(**row)).inserted_primary_key
    assert key is not None, "an INSERT returns the new row's key"
    return int(key[0])


def remove_training(engine: Engine, day: date, title: str | None = None, site: str | None = None,
                    every_site: bool = False) -> int:
    """Delete stored trainings on `day` (with `title`, at `site`; site None with every_site
    False: only the all-offices ones); returns how many went."""
    query = sa.delete(trainings).where(trainings.c.date == day)
    if title is not None:
        query = query.where(trainings.c.title == title)
    if not every_site:
        query = query.where(trainings.c.site.is_(None) if site is None else trainings.c.site == site)
    with engine.begin() as conn:
        return int(conn.execute(query).rowcount)


def save_site_settings(engine: Engine, site: str, settings: dict[str, Any]) -> None:
    """Store office `site`'s own settings (a JSON-able dict), replacing what was there."""
    text = json.dumps(settings, sort_keys=True, default=str)
    upsert_rows(engine, site_settings, [{"site": site, "settings": text, "updated_at": datetime.now(UTC)}],
                keys=("site",))


def count_real_calls(engine: Engine) -> int:
    """Calls that did not come from `callwatch demo`."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(calls).where(calls.c.source != DEMO_SOURCE))
                   .scalar_one())


def remove_demo(engine: Engine) -> tuple[int, int]:
    """Delete every demo call and demo training; returns (calls, trainings) deleted. Their days' rollups recompute."""
    demo = calls.c.source == DEMO_SOURCE
    with engine.connect() as conn:
        days = {(r[0], r[1].date()) for r in conn.execute(sa.select(calls.c.site, calls.c.arrived_at).where(demo))}
    dirty = mark_rollups_dirty(engine, [{"site": site, "arrived_at": datetime.combine(day, datetime.min.time(), UTC)}
                                        for site, day in days])
    with engine.begin() as conn:
        removed_calls = conn.execute(sa.delete(calls).where(demo)).rowcount
        removed_trainings = conn.execute(
            sa.delete(trainings).where(trainings.c.title.endswith(DEMO_TRAINING_MARK))
        ).rowcount
        if dirty:
            upsert_in(conn, rollup_dirty, dirty, keys=("site", "day"))
    return int(removed_calls or 0), int(removed_trainings or 0)


def record_caller_reveal(engine: Engine, site: str, call_id: str, user: str, purpose: str = "call back") -> None:
    """Keep that `user` was shown the full number of call (site, call_id) now."""
    with engine.begin() as conn:
        conn.execute(caller_reveals.insert().values(
            site=site, call_id=call_id, revealed_by=user, revealed_at=datetime.now(UTC), purpose=purpose))


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


def imported_paths(engine: Engine, site: str) -> list[str]:
    """Every file (or PBX database) this site imported, newest import first."""
    query = (sa.select(import_state.c.path).where(import_state.c.site == site)
             .order_by(import_state.c.updated_at.desc()))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


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


def report_delivered_to(engine: Engine, site: str, week: str) -> set[str]:
    """The recipients who already got the report of `week`, so a retry reaches only the others."""
    query = sa.select(report_deliveries.c.recipient).where(
        report_deliveries.c.site == site, report_deliveries.c.week == week)
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(query)}


def record_report_deliveries(engine: Engine, site: str, week: str, recipients: Sequence[str],
                             now: datetime | None = None) -> None:
    """Remember each recipient whose server took the report of `week` (one row each, upserted)."""
    at = now or datetime.now(UTC)
    rows = [{"site": site, "week": week, "recipient": r[:254], "sent_at": at} for r in recipients]
    upsert_rows(engine, report_deliveries, rows, keys=("site", "week", "recipient"))
