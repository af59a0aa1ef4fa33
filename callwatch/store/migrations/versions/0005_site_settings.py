"""Each office's own settings (site_settings), and trainings for every office (trainings.site nullable).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

site_settings starts empty: each office's collector writes its settings the
next time it starts. Existing trainings keep their office; NULL is new and
means "every office". Written out, not taken from store.metadata, so this
revision means the same thing forever; batch mode rebuilds the SQLite table
(SQLite cannot change a column's nullability in place).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("site_settings"):
        op.create_table(
            "site_settings",
            sa.Column("site", sa.String(64), nullable=False),
            sa.Column("settings", sa.Text(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("site"),
        )
    with op.batch_alter_table("trainings") as batch:
        batch.alter_column("site", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    # Trainings for every office have no office to go back to; they are dropped.
    op.execute(sa.text("DELETE FROM trainings WHERE site IS NULL"))
    with op.batch_alter_table("trainings") as batch:
        batch.alter_column("site", existing_type=sa.String(64), nullable=False)
    op.drop_table("site_settings")
