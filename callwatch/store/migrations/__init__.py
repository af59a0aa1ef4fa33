"""Schema migrations (Alembic), packaged with callwatch: no alembic.ini needed.

`ensure_schema(engine)` (called by store.engine.init_db, so by every command that
opens the store) brings any SQLite or PostgreSQL store to the newest schema:
- already at HEAD: nothing to do (checked with one query, without importing
  Alembic, which would add a third of a second to every command's start);
- an empty database: the tables are created from store/schema.py's metadata and stamped
  HEAD in one step, Alembic's own recipe for building a new database (the
  migration test proves the migrations build exactly the same schema);
- anything else (an older revision, or a store created before migrations
  existed by metadata.create_all): `alembic upgrade head`. The first revision
  creates only the tables and indexes that are missing, so a pre-migration
  store is adopted, not rebuilt.

Developers write a new revision after changing a table in store/schema.py, then set
HEAD below to its id (a test checks they agree):

    .venv/bin/alembic -c callwatch/store/migrations/alembic.ini revision --autogenerate -m "what changed"

(the ini only names this folder and a scratch SQLite URL; at run time the
configuration is built here in code).

Several processes may start at once (docker compose starts the collector and
the dashboard together): on PostgreSQL an advisory lock, on SQLite a lock
file next to the database, lets one migrate while the others wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from callwatch.store.schema import metadata

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# The newest revision in versions/ (tests/test_migrations.py checks it is Alembic's head).
HEAD = "0013"
SCRIPT_LOCATION = "callwatch.store:migrations"
# Any fixed 64-bit number, the same in every callwatch process.
_PG_LOCK_KEY = 0x63616C6C77617463  # "callwatc"


_VERSION_TABLE = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at this package; `connection` is what env.py migrates."""
    from alembic.config import Config  # lazy: start-up speed

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head() -> str:
    """Alembic's head revision, read from versions/ (slow: imports Alembic; HEAD is the fast copy)."""
    from alembic.script import ScriptDirectory  # lazy: start-up speed

    heads = ScriptDirectory.from_config(config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads {heads}; merge them (alembic merge heads)")
    return heads[0]


def current(connection: Connection) -> str | None:
    """The revision recorded in the database (None: never migrated)."""
    if not sa.inspect(connection).has_table(_VERSION_TABLE.name):
        return None
    versions = connection.execute(sa.select(_VERSION_TABLE.c.version_num)).scalars().all()
    if len(versions) > 1:
        raise RuntimeError(f"the database records several schema versions {versions}; fix alembic_version")
    return versions[0] if versions else None


def ensure_schema(engine: Engine) -> None:
    """Bring the store to HEAD by the cheapest safe path (see the module docstring)."""
    with engine.connect() as conn:
        if current(conn) == HEAD:
            return
    with _exclusive(engine):
        with engine.begin() as conn:
            found = current(conn)
            if found == HEAD:
                return  # another process did it while we waited
            if found is None and not sa.inspect(conn).get_table_names():
                log.info("creating a new store at schema version %s", HEAD)
                metadata.create_all(conn)
                _VERSION_TABLE.create(conn)
                conn.execute(_VERSION_TABLE.insert().values(version_num=HEAD))
                return
        _upgrade_locked(engine, "head")


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """Only one process migrates a database at a time."""
    if engine.dialect.name == "sqlite":
        db = engine.url.database
        if not db or db == ":memory:" or db.startswith("file:"):
            yield
            return
        with open(Path(db).with_name(Path(db).name + ".migrate-lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                conn.commit()
        return
    yield


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to `revision` (always through the revision scripts)."""
    with _exclusive(engine):
        _upgrade_locked(engine, revision)


def _upgrade_locked(engine: Engine, revision: str) -> None:
    from alembic import command  # lazy: start-up speed

    target = head() if revision == "head" else revision
    with engine.begin() as conn:
        found = current(conn)
        if found == target:
            return
        if found is None and sa.inspect(conn).get_table_names():
            log.info("adopting a store created before migrations: adding missing tables, recording the version")
        log.info("migrating the store from %s to %s", found or "an empty database", target)
        command.upgrade(config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command  # lazy: start-up speed

    with _exclusive(engine), engine.begin() as conn:
        command.downgrade(config(conn), revision)
