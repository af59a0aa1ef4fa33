"""Persisted per-day rollups: call_rollups, rollup_days, rollup_dirty.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The tables start empty: a store that already holds calls gets its rollups
computed from them the first time a long range is read (no day is covered
yet), so nothing has to be copied here. Written out, not taken from
store.metadata, so this revision means the same thing forever. A table that
already exists (init_db creates tables that lack a migration, with a
warning) is adopted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = (
    "offered", "answered", "voicemail", "abandoned", "short_abandoned", "missed", "within_target",
    "answered_timed",
)
_AFTER_HOURS = (
    "after_hours_calls", "holiday_calls", "after_hours_answered", "after_hours_voicemail",
    "after_hours_abandoned", "after_hours_missed",
)


def _tables() -> list[tuple[str, list[sa.SchemaItem]]]:
    return [
        ("call_rollups", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("date", sa.Date(), nullable=False),
            sa.Column("queue", sa.String(64), nullable=False),
            sa.Column("settings_key", sa.String(16), nullable=False),
            *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
            sa.Column("ring_seconds_sum", sa.Float(), nullable=False),
            sa.Column("rings_sum", sa.Float(), nullable=False),
            *(sa.Column(name, sa.Integer(), nullable=False) for name in _AFTER_HOURS),
            sa.PrimaryKeyConstraint("site", "date", "queue"),
        ]),
        ("rollup_days", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("date", sa.Date(), nullable=False),
            sa.Column("settings_key", sa.String(16), nullable=False),
            sa.Column("computed_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("site", "date"),
        ]),
        ("rollup_dirty", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("marked_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("site", "day"),
        ]),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, items in _tables():
        if name not in existing:
            op.create_table(name, *items)


def downgrade() -> None:
    for name, _items in reversed(_tables()):
        op.drop_table(name)
