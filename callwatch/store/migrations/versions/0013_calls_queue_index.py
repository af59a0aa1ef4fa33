"""An index on calls.queue: the dashboard's queue menu without a scan of every call.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

The filter menus list the queues present in the calls; SELECT DISTINCT queue
read every row (3-5 s for ten million calls in PostgreSQL). With this index
loader.sites_and_queues asks for one queue after another (a loose index scan),
a few index probes. Written out, not taken from store.metadata, so this
revision means the same thing forever. An index a store already has (an
adopted create_all) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "calls" not in inspector.get_table_names():
        return
    if "ix_calls_queue" not in {i["name"] for i in inspector.get_indexes("calls")}:
        op.create_index("ix_calls_queue", "calls", ["queue"])


def downgrade() -> None:
    op.drop_index("ix_calls_queue", table_name="calls")
