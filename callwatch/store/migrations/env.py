"""Alembic environment: migrates the connection handed over by callwatch.store.migrations.upgrade.

Run from the alembic command line (revision --autogenerate), it opens the URL
in alembic.ini or $CALLWATCH_DATABASE_URL instead. SQLite gets batch mode
(render_as_batch): it cannot ALTER most things, so a changed table is copied.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from callwatch.store.schema import metadata

config = context.config
target_metadata = metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = os.environ.get("CALLWATCH_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set CALLWATCH_DATABASE_URL or sqlalchemy.url in alembic.ini")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        _configure(conn)
    engine.dispose()


def run_migrations_offline() -> None:
    url = os.environ.get("CALLWATCH_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=(url or "").startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
