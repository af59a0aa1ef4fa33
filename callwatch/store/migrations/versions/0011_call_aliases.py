"""call_aliases: other ids of a stored call (the queue channel's uniqueid behind a Local trunk).

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-01

Written out, not taken from store.metadata, so this revision means the same
thing forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "call_aliases" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "call_aliases",
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("site", "alias"),
    )


def downgrade() -> None:
    op.drop_table("call_aliases")
