"""Initial schema: calls, import state, live state, heartbeat, follow-ups handled, trainings, report runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

The tables are written out here, not taken from store.metadata, so this
revision means the same thing forever, whatever store.py becomes later.
A store created before migrations existed (metadata.create_all) already has
some or all of these tables: only the missing tables and indexes are created,
so upgrading such a store adopts it instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tables() -> list[tuple[str, list[sa.SchemaItem], list[tuple[str, list[str]]]]]:
    """(name, columns and constraints, indexes) for every table of this revision."""
    return [
        ("calls", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("call_id", sa.String(128), nullable=False),
            sa.Column("direction", sa.String(16), nullable=False),
            sa.Column("caller", sa.String(64), nullable=False),
            sa.Column("arrived_at", sa.DateTime(), nullable=False),
            sa.Column("ring_started_at", sa.DateTime(), nullable=True),
            sa.Column("answered_at", sa.DateTime(), nullable=True),
            sa.Column("ended_at", sa.DateTime(), nullable=True),
            sa.Column("outcome", sa.String(16), nullable=True),
            sa.Column("answered_by", sa.String(64), nullable=True),
            sa.Column("queue", sa.String(64), nullable=True),
            sa.Column("left_message", sa.Boolean(), nullable=True),
            sa.Column("source", sa.String(16), nullable=False),
            sa.Column("ring_ended_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("site", "call_id"),
        ], [("ix_calls_site_arrived", ["site", "arrived_at"]), ("ix_calls_arrived", ["arrived_at"])]),
        ("import_state", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("path", sa.String(1024), nullable=False),
            sa.Column("inode", sa.BigInteger(), nullable=True),
            sa.Column("head_hash", sa.String(64), nullable=True),
            sa.Column("size", sa.BigInteger(), nullable=False),
            sa.Column("offset", sa.BigInteger(), nullable=False),
            sa.Column("line", sa.BigInteger(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("site", "path"),
        ], []),
        ("live_calls", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("call_id", sa.String(128), nullable=False),
            sa.Column("caller", sa.String(64), nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("ring_started_at", sa.DateTime(), nullable=True),
            sa.Column("arrived_at", sa.DateTime(), nullable=False),
            sa.Column("location", sa.String(128), nullable=True),
            sa.Column("queue", sa.String(64), nullable=True),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("site", "call_id"),
        ], []),
        ("heartbeat", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("last_event_at", sa.DateTime(), nullable=True),
            sa.Column("connected", sa.Boolean(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.Column("detail", sa.String(256), nullable=True),
            sa.PrimaryKeyConstraint("site"),
        ], []),
        ("follow_up_handled", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("call_id", sa.String(128), nullable=False),
            sa.Column("handled_at", sa.DateTime(), nullable=False),
            sa.Column("handled_by", sa.String(64), nullable=False),
            sa.PrimaryKeyConstraint("site", "call_id"),
        ], []),
        ("trainings", [
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("date", sa.Date(), nullable=False),
            sa.Column("title", sa.String(200), nullable=False),
            sa.Column("notes", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        ], [("ix_trainings_site_date", ["site", "date"])]),
        ("report_runs", [
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("week", sa.String(10), nullable=False),
            sa.Column("sent_at", sa.DateTime(), nullable=False),
            sa.Column("detail", sa.String(512), nullable=False),
            sa.PrimaryKeyConstraint("site", "week"),
        ], []),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, items, indexes in _tables():
        if name not in existing:
            op.create_table(name, *items)
            have: set[str] = set()
        else:
            _add_missing_columns(inspector, name, items)
            have = {ix["name"] for ix in inspector.get_indexes(name)}
        for index, columns in indexes:
            if index not in have:
                op.create_index(index, name, columns)


def _add_missing_columns(inspector: sa.Inspector, name: str, items: list[sa.SchemaItem]) -> None:
    """An adopted table made by an older create_all may lack columns added since; add the optional ones."""
    present = {c["name"] for c in inspector.get_columns(name)}
    for item in items:
        if isinstance(item, sa.Column) and item.name not in present:
            if not item.nullable:
                raise RuntimeError(f"table {name} lacks the required column {item.name}; it cannot be adopted")
            op.add_column(name, sa.Column(item.name, item.type, nullable=True))


def downgrade() -> None:
    for name, _items, indexes in reversed(_tables()):
        for index, _columns in indexes:
            op.drop_index(index, table_name=name)
        op.drop_table(name)
