"""Alerts that fired, one row per condition from firing to clearing.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01

Written out, not taken from store.metadata, so this revision means the same
thing forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "alerts" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("condition", sa.String(32), nullable=False),
        sa.Column("message", sa.String(512), nullable=False),
        sa.Column("fired_at", sa.DateTime(), nullable=False),
        sa.Column("cleared_at", sa.DateTime()),
        sa.Column("notified_at", sa.DateTime()),
        sa.Column("notify_error", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_site_fired", "alerts", ["site", "fired_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_site_fired", table_name="alerts")
    op.drop_table("alerts")
