"""caller_reveals: who was shown which caller's full number, and when.

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-01

The Follow-ups page masks numbers; a front-desk user can ask for one waiting
caller's full number to call them back, and each such request is kept here.
Written out, not taken from store.metadata, so this revision means the same
thing forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("caller_reveals"):
        return
    op.create_table(
        "caller_reveals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("revealed_by", sa.String(64), nullable=False),
        sa.Column("revealed_at", sa.DateTime(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
    )
    op.create_index("ix_caller_reveals_revealed_at", "caller_reveals", ["revealed_at"])


def downgrade() -> None:
    op.drop_index("ix_caller_reveals_revealed_at", table_name="caller_reveals")
    op.drop_table("caller_reveals")
