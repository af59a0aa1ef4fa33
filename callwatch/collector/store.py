"""The store: call records and the collector's state, behind SQLAlchemy Core.

SQLite (one file, WAL) is the embedded default; a PostgreSQL URL works
unchanged. Every write is an idempotent upsert on (site, call_id), so
re-reading a source, replaying the journal or importing two logs of the same
call never counts a call twice.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from callwatch.model import CALL_FIELDS, SOURCE_RANK, Call


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on the
    way out keeps comparisons and range queries right everywhere.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; callwatch stores UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = sa.MetaData()

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(128), primary_key=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("caller", sa.String(64), nullable=False),
    sa.Column("arrived_at", UtcDateTime(), nullable=False),
    sa.Column("ring_started_at", UtcDateTime()),
    sa.Column("answered_at", UtcDateTime()),
    sa.Column("ended_at", UtcDateTime()),
    sa.Column("outcome", sa.String(16)),
    sa.Column("answered_by", sa.String(64)),
    sa.Column("queue", sa.String(64)),
    sa.Column("left_message", sa.Boolean()),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("ring_ended_at", UtcDateTime()),
    sa.Index("ix_calls_site_arrived", "site", "arrived_at"),
    sa.Index("ix_calls_arrived", "arrived_at"),
)

# What each imported file looked like when we last read it: identity (inode
# and the hash of its first bytes) and how far we got, so re-importing or
# tailing a growing log reads only what is new.
import_state = sa.Table(
    "import_state",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("inode", sa.BigInteger()),
    sa.Column("head_hash", sa.String(64)),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("offset", sa.BigInteger(), nullable=False),
    sa.Column("line", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# Live state, owned by the AMI collector: one row per call ringing or waiting
# in a queue right now (deleted when it is answered or ends), so the front-desk
# screen can show "ringing 14 s at Reception" without reading the journal.
live_calls = sa.Table(
    "live_calls",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(128), primary_key=True),
    sa.Column("caller", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # 'ringing' | 'queued'
    sa.Column("ring_started_at", UtcDateTime()),
    sa.Column("arrived_at", UtcDateTime(), nullable=False),
    sa.Column("location", sa.String(128)),  # extension, ring group or queue ringing now
    sa.Column("queue", sa.String(64)),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# The collector's pulse: when it last heard from the PBX and whether it is
# connected; the dashboard warns when this goes stale.
heartbeat = sa.Table(
    "heartbeat",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("last_event_at", UtcDateTime()),
    sa.Column("connected", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("detail", sa.String(256)),
)

# Follow-ups the front desk marked done on the dashboard (they phoned back by
# mobile, or the caller wrote in), so the call leaves the "awaiting" list even
# though the PBX never saw the return call. Owned by the dashboard.
follow_up_handled = sa.Table(
    "follow_up_handled",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(128), primary_key=True),
    sa.Column("handled_at", UtcDateTime(), nullable=False),
    sa.Column("handled_by", sa.String(64), nullable=False),
)

# Staff training sessions entered at run time (the dashboard or a script), in
# addition to the ones in callwatch.yaml; the metrics loader merges both.
trainings = sa.Table(
    "trainings",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(64), nullable=False),
    sa.Column("date", sa.Date(), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False, default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_trainings_site_date", "site", "date"),
)

# One row per weekly report sent, so a report missed while the service was down
# is sent when it comes back, and never twice. Owned by callwatch.report.
report_runs = sa.Table(
    "report_runs",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("week", sa.String(10), primary_key=True),
    sa.Column("sent_at", UtcDateTime(), nullable=False),
    sa.Column("detail", sa.String(512), nullable=False, default=""),
)


def create_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        db_path = sa.engine.make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> None:
    """Bring the schema up to date (callwatch/migrations: Alembic, or create-and-stamp when empty).

    A table added to `metadata` without a migration yet is still created (with
    a warning), so a new table never breaks a running install; the migration
    test (tests/test_migrations.py) is what insists on the migration.
    """
    from callwatch import migrations

    migrations.ensure_schema(engine)
    present = set(sa.inspect(engine).get_table_names())
    missing = [t for t in metadata.sorted_tables if t.name not in present]
    if missing:
        import logging

        names = ", ".join(t.name for t in missing)
        logging.getLogger(__name__).warning("tables without a migration (write one): %s", names)
        metadata.create_all(engine, tables=missing)


def _insert(engine: Engine, table: sa.Table) -> Any:
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database {engine.dialect.name!r} is not supported (use SQLite or PostgreSQL)")


def upsert_rows(engine: Engine, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, replacing any row with the same key."""
    if not rows:
        return
    with engine.begin() as conn:
        upsert_in(conn, table, rows, keys)


def upsert_in(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """upsert_rows inside the caller's transaction (several tables change together or not at all)."""
    if not rows:
        return
    stmt = _insert(conn.engine, table)
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=update)
    conn.execute(stmt, list(rows))


def merge_call(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Combine two descriptions of the same call.

    The richer source wins the fields it knows; the other only fills gaps
    (a queue_log adds the queue name to a CDR record; a CDR turns a
    queue_log "missed" into the voicemail that really followed).
    """
    if old is None:
        return new
    old_rank = SOURCE_RANK.get(old["source"], 0)
    new_rank = SOURCE_RANK.get(new["source"], 0)
    winner, other = (new, old) if new_rank >= old_rank else (old, new)
    merged = dict(winner)
    # When the richer source says nobody answered, the other's answer must not be grafted on:
    # an "abandoned" call with an answered_at would be counted wrong everywhere.
    unanswered = merged.get("outcome") not in (None, "answered")
    for name in CALL_FIELDS:
        if merged.get(name) is None and other.get(name) is not None:
            if unanswered and name in ("answered_at", "answered_by"):
                continue
            merged[name] = other[name]
    return merged


# PostgreSQL rejects a VARCHAR value over its length (the whole batch fails and
# the collector would retry it forever) where SQLite keeps it: descriptive
# fields are cut to fit on every backend alike. Keys are never cut.
_CUT_TO_FIT = ("caller", "answered_by", "queue")


def call_row(call: Call) -> dict[str, Any]:
    row = call.as_dict()
    for name in ("direction", "outcome", "source"):
        if row[name] is not None:
            row[name] = str(row[name])
    for name in _CUT_TO_FIT:
        value = row[name]
        limit = calls.c[name].type.length
        if value is not None and len(value) > limit:
            row[name] = value[:limit]
    return row


def save_calls(engine: Engine, items: Iterable[Call], batch_size: int = 5000) -> int:
    """Upsert calls in batches, merging with what is stored; returns how many were written."""
    written = 0
    batch: list[Call] = []
    for call in items:
        batch.append(call)
        if len(batch) >= batch_size:
            written += _save_batch(engine, batch)
            batch = []
    if batch:
        written += _save_batch(engine, batch)
    return written


def _save_batch(engine: Engine, batch: list[Call]) -> int:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for call in batch:
        key = (call.site, call.call_id)
        rows[key] = merge_call(rows.get(key), call_row(call))
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    with engine.connect() as conn:
        for site in {k[0] for k in rows}:
            ids = [k[1] for k in rows if k[0] == site]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = sa.select(calls).where(calls.c.site == site, calls.c.call_id.in_(chunk))
                for found in conn.execute(query).mappings():
                    existing[(found["site"], found["call_id"])] = dict(found)
    merged = [merge_call(existing.get(key), row) for key, row in rows.items()]
    # The days whose stored rollups these writes change (a call may move day when a richer
    # source corrects its arrival), marked in the same transaction so no reader misses one.
    changed = [(old, new) for old, new in ((existing.get(k), m) for k, m in zip(rows, merged, strict=True))
               if old != new]
    dirty = mark_rollups_dirty(engine, [r for pair in changed for r in pair if r is not None])
    with engine.begin() as conn:
        upsert_in(conn, calls, merged, keys=("site", "call_id"))
        if dirty:
            upsert_in(conn, rollup_dirty, dirty, keys=("site", "day"))
    return len(merged)


def select_calls(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    site: str | None = None,
) -> list[dict[str, Any]]:
    """Stored calls arriving in [start, end), oldest first."""
    query = sa.select(calls).order_by(calls.c.arrived_at, calls.c.call_id)
    if start is not None:
        query = query.where(calls.c.arrived_at >= start)
    if end is not None:
        query = query.where(calls.c.arrived_at < end)
    if site is not None:
        query = query.where(calls.c.site == site)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def add_training(engine: Engine, site: str, day: date, title: str, notes: str = "") -> int:
    """Record a staff training session for `site`; returns its id."""
    row = {"site": site, "date": day, "title": title, "notes": notes, "created_at": datetime.now(UTC)}
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(trainings).values(**row)).inserted_primary_key[0])


# Per-day sums behind the year-long views: metrics.rollup.daily_rollup rows, one per
# site x practice-local date x queue ("(none)" without one), kept by
# callwatch.metrics.rollup_store. settings_key names the settings that shaped them
# (time zone, opening hours, holidays, ring targets), so other settings recompute
# instead of reading numbers that were never theirs.
ROLLUP_COUNT_COLUMNS: tuple[str, ...] = (
    "offered", "answered", "voicemail", "abandoned", "short_abandoned", "missed", "within_target",
    "answered_timed",
)
ROLLUP_AFTER_HOURS_COLUMNS: tuple[str, ...] = (
    "after_hours_calls", "holiday_calls", "after_hours_answered", "after_hours_voicemail",
    "after_hours_abandoned", "after_hours_missed",
)
call_rollups = sa.Table(
    "call_rollups",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("date", sa.Date(), primary_key=True),
    sa.Column("queue", sa.String(64), primary_key=True),
    sa.Column("settings_key", sa.String(16), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in ROLLUP_COUNT_COLUMNS),
    sa.Column("ring_seconds_sum", sa.Float(), nullable=False),
    sa.Column("rings_sum", sa.Float(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in ROLLUP_AFTER_HOURS_COLUMNS),
)

# Which site x local date call_rollups holds, and under which settings: a day
# without calls has no rollup rows but is still known to be done.
rollup_days = sa.Table(
    "rollup_days",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("date", sa.Date(), primary_key=True),
    sa.Column("settings_key", sa.String(16), nullable=False),
    sa.Column("computed_at", UtcDateTime(), nullable=False),
)

# Days whose calls changed since their rollups were computed, marked by
# save_calls in the write's own transaction. `day` is the UTC date of arrival
# (the store knows no time zone); a refresh turns it into local dates and
# clears the mark only if nobody marked it again meanwhile (marked_at unchanged).
rollup_dirty = sa.Table(
    "rollup_dirty",
    metadata,
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("marked_at", UtcDateTime(), nullable=False),
)

# Engines known to have rollup_dirty: a store made by an early create_all may
# lack it until init_db runs, and then there are no rollups to keep current.
_HAS_DIRTY: weakref.WeakSet[Engine] = weakref.WeakSet()


def mark_rollups_dirty(engine: Engine, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """rollup_dirty rows for the (site, UTC day of arrival) of `rows`; empty when the store has no rollups."""
    days = {(r["site"], r["arrived_at"].astimezone(UTC).date()) for r in rows}
    if not days:
        return []
    if engine not in _HAS_DIRTY:
        if not sa.inspect(engine).has_table(rollup_dirty.name):
            return []
        _HAS_DIRTY.add(engine)
    now = datetime.now(UTC)
    return [{"site": site, "day": day, "marked_at": now} for site, day in sorted(days)]
