"""Imports that can be read again, incomplete calls, per-recipient report deliveries.

Revision ID: 0007
Revises: 0011
Create Date: 2026-12-02

- calls.incomplete: a call whose source lacks a part (a staff leg's row) is
  marked instead of being stored as an instant answer.
- import_state.read_key and .rejected: how a file was read and which of its rows
  were rejected, so a changed source/map/setting or a repaired row reads it again.
- import_calls: which calls each file wrote, so a re-read replaces them.
- report_deliveries: who got which weekly report, so a retry reaches only the others.
Written out, not taken from store.metadata, so this revision means the same thing forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store made by create_all from a newer schema (init_db does that for a table
    # without a migration) already has some of these: adopt what exists.
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    columns = {t: {c["name"] for c in inspector.get_columns(t)} for t in ("calls", "import_state") if t in tables}
    if "incomplete" not in columns.get("calls", {"incomplete"}):
        with op.batch_alter_table("calls") as batch:
            batch.add_column(sa.Column("incomplete", sa.Boolean()))
    missing = [c for c in ("read_key", "rejected") if c not in columns.get("import_state", {c})]
    if missing:
        with op.batch_alter_table("import_state") as batch:
            if "read_key" in missing:
                batch.add_column(sa.Column("read_key", sa.String(64)))
            if "rejected" in missing:
                batch.add_column(sa.Column("rejected", sa.Text()))
    if "import_calls" not in tables:
        op.create_table(
            "import_calls",
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("file_key", sa.String(40), nullable=False),
            sa.Column("call_id", sa.String(128), nullable=False),
            sa.PrimaryKeyConstraint("site", "file_key", "call_id"),
        )
    if "report_deliveries" not in tables:
        op.create_table(
            "report_deliveries",
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("week", sa.String(10), nullable=False),
            sa.Column("recipient", sa.String(254), nullable=False),
            sa.Column("sent_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("site", "week", "recipient"),
        )


def downgrade() -> None:
    op.drop_table("report_deliveries")
    op.drop_table("import_calls")
    with op.batch_alter_table("import_state") as batch:
        batch.drop_column("rejected")
        batch.drop_column("read_key")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("incomplete")
