"""Writing call records: idempotent upserts on (site, call_id), merged with what is stored.

Re-reading a source, replaying the journal or importing two logs of the same
call never counts a call twice: the richer source wins each field it knows.
Every write also marks the days whose rollups it changes, in the same transaction.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from callwatch.model import CALL_FIELDS, SOURCE_RANK, Call
from callwatch.store.schema import calls, rollup_dirty


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


def _length(name: str) -> int:
    """The declared length of the String column `name` of calls."""
    column_type = calls.c[name].type
    assert isinstance(column_type, sa.String) and column_type.length is not None, name
    return column_type.length


def call_row(call: Call) -> dict[str, Any]:
    row = call.as_dict()
    for name in ("direction", "outcome", "source"):
        if row[name] is not None:
            row[name] = str(row[name])
    for name in _CUT_TO_FIT:
        value = row[name]
        limit = _length(name)
        if isinstance(value, str) and len(value) > limit:
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
