"""Ring-time quality per call, the PBX's name for who answered, and the staff names the PBX taught.

Revision ID: 0004
Revises: 0010
Create Date: 2026-12-02

- calls.ring_quality (exact | derived | unknown) and calls.answered_by_name;
  stored calls get the quality their source implies (AMI and queue_log:
  exact; Master.csv: derived; a generic CSV: derived where it gave an answer
  time or the call was not answered, else unknown).
- staff_seen: (site, extension, name) with the first and last call seen.
- call_rollups gains offered_timed (offered calls with a ring time, the
  denominator of the within-target rate). Rollups are derived numbers, so the
  table is rebuilt empty and rollup_days cleared: the first long read
  recomputes them.
Written out, not taken from store.metadata, so this revision means the same
thing forever. Columns a store already has (an adopted create_all) are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0010"
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

_BACKFILL = """
UPDATE calls SET ring_quality = CASE
    WHEN source IN ('ami', 'queue-log') THEN 'exact'
    WHEN source = 'cdr-csv' THEN 'derived'
    WHEN answered_at IS NOT NULL OR outcome IS NULL OR outcome <> 'answered' THEN 'derived'
    ELSE 'unknown' END
WHERE ring_quality IS NULL
"""


def _rollups(counts: Sequence[str]) -> list[sa.SchemaItem]:
    return [
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("settings_key", sa.String(16), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
        sa.Column("ring_seconds_sum", sa.Float(), nullable=False),
        sa.Column("rings_sum", sa.Float(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _AFTER_HOURS),
        sa.PrimaryKeyConstraint("site", "date", "queue"),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = {c["name"] for c in inspector.get_columns("calls")}
    if "ring_quality" not in present:
        op.add_column("calls", sa.Column("ring_quality", sa.String(8), nullable=True))
    if "answered_by_name" not in present:
        op.add_column("calls", sa.Column("answered_by_name", sa.String(128), nullable=True))
    op.execute(_BACKFILL)
    if "staff_seen" not in inspector.get_table_names():
        op.create_table(
            "staff_seen",
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("extension", sa.String(64), nullable=False),
            sa.Column("name", sa.String(128), nullable=False),
            sa.Column("first_seen", sa.DateTime(), nullable=False),
            sa.Column("last_seen", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("site", "extension", "name"),
        )
    rollup_columns = {c["name"] for c in inspector.get_columns("call_rollups")}
    if "offered_timed" not in rollup_columns:
        op.drop_table("call_rollups")
        op.create_table("call_rollups", *_rollups((*_COUNTS, "offered_timed")))
        op.execute("DELETE FROM rollup_days")


def downgrade() -> None:
    op.drop_table("call_rollups")
    op.create_table("call_rollups", *_rollups(_COUNTS))
    op.execute("DELETE FROM rollup_days")
    op.drop_table("staff_seen")
    op.drop_column("calls", "answered_by_name")
    op.drop_column("calls", "ring_quality")
