"""Writes to the store's small tables: trainings entered at run time (more join as they move here)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.store.schema import trainings


def add_training(engine: Engine, site: str, day: date, title: str, notes: str = "") -> int:
    """Record a staff training session for `site`; returns its id."""
    row = {"site": site, "date": day, "title": title, "notes": notes, "created_at": datetime.now(UTC)}
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(trainings).values(**row)).inserted_primary_key[0])
