"""Writes to the store's small tables: run-time trainings, each office's settings, demo data kept apart."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.model import Source
from callwatch.store.save import mark_rollups_dirty, upsert_in, upsert_rows
from callwatch.store.schema import caller_reveals, calls, rollup_dirty, site_settings, trainings

DEMO_SOURCE = Source.DEMO.value
# Demo trainings carry this in their title: `callwatch demo --remove` finds them by it.
DEMO_TRAINING_MARK = "(demo)"


def add_training(engine: Engine, site: str | None, day: date, title: str, notes: str = "") -> int:
    """Record a staff training session for `site` (None: every office); returns its id."""
    row = {"site": site, "date": day, "title": title, "notes": notes, "created_at": datetime.now(UTC)}
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(trainings).values(**row)).inserted_primary_key[0])


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
