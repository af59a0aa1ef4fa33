"""calls.ring_us: each call's ring time in whole microseconds, stored with the call.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-02

`callwatch metrics` counts a year of calls in one SQL aggregate; deriving the
ring time from two timestamps per call took half of that scan (SQLite), and
the exact median needs the calls of a few one-second bins, which an index on
the stored value finds without a second scan of the year. ring_us =
max(COALESCE(answered_at, ring_ended_at, ended_at) - ring_started_at, 0) in µs,
NULL when either end is missing; store.save_calls writes it from now on and
this revision computes it for the stored calls, exactly (integer µs from the
stored text on SQLite, EXTRACT(EPOCH) as numeric on PostgreSQL).
Written out, not taken from store.metadata, so this revision means the same
thing forever. A column or index a store already has (an adopted create_all) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STOP = "COALESCE(answered_at, ring_ended_at, ended_at)"
_INDEX_COLUMNS = ["ring_us", "arrived_at", "direction", "outcome", "ring_quality"]


def _sqlite_us(column: str) -> str:
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds from unixepoch() (which
    # would round a fraction to the millisecond), the six fraction digits added as an integer.
    return f"(unixepoch(substr({column}, 1, 19)) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


def _backfill_sql(dialect: str) -> str:
    if dialect == "sqlite":
        diff = f"MAX({_sqlite_us(_STOP)} - {_sqlite_us('ring_started_at')}, 0)"
    else:
        diff = (f"GREATEST(CAST(EXTRACT(EPOCH FROM ({_STOP} - ring_started_at)) * 1000000 AS BIGINT), 0)")
    return (f"UPDATE calls SET ring_us = {diff}"
            f" WHERE ring_started_at IS NOT NULL AND {_STOP} IS NOT NULL")


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "calls" not in inspector.get_table_names():
        return
    if "ring_us" not in {c["name"] for c in inspector.get_columns("calls")}:
        # A plain ADD COLUMN on both databases (no batch rebuild of a million-row table).
        op.add_column("calls", sa.Column("ring_us", sa.BigInteger()))
        op.execute(_backfill_sql(bind.dialect.name))
    if "ix_calls_ring_us" not in {i["name"] for i in inspector.get_indexes("calls")}:
        op.create_index("ix_calls_ring_us", "calls", _INDEX_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_calls_ring_us", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("ring_us")
