"""Writes to the store's small tables: trainings entered at run time, each office's settings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.store.save import upsert_rows
from callwatch.store.schema import site_settings, trainings


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
