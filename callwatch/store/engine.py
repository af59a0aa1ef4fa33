"""Opening the store: an engine with the right pragmas, and the schema brought up to date.

SQLite (one file, WAL) is the embedded default; a PostgreSQL URL works unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.store import migrations
from callwatch.store.schema import metadata

log = logging.getLogger(__name__)


def create_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """An engine for `url`; SQLite files get their folder, WAL and a busy timeout.

    hide_parameters: a failed statement's error never carries the values it
    wrote (caller numbers) into a message, log line or traceback.
    """
    if url.startswith("sqlite"):
        db_path = sa.engine.make_url(url).database
        if db_path and db_path != ":memory:" and not db_path.startswith("file:"):
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(db_path))
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout}, hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _create_private(path: Path) -> None:
    """A new SQLite store holds caller numbers: readable by its owner only (its WAL files follow its mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def init_db(engine: Engine) -> None:
    """Bring the schema up to date (callwatch/store/migrations: Alembic, or create-and-stamp when empty).

    A table added to `metadata` without a migration yet is still created (with
    a warning), so a new table never breaks a running install; the migration
    test (tests/test_migrations.py) is what insists on the migration.
    """
    migrations.ensure_schema(engine)
    present = set(sa.inspect(engine).get_table_names())
    missing = [t for t in metadata.sorted_tables if t.name not in present]
    if missing:
        names = ", ".join(t.name for t in missing)
        log.warning("tables without a migration (write one): %s", names)
        metadata.create_all(engine, tables=missing)


def open_store(url: str, busy_timeout: float = 30.0) -> Engine:
    """An engine for `url` with the schema at the newest revision."""
    engine = create_engine(url, busy_timeout)
    init_db(engine)
    return engine
