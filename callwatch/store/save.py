"""Writing call records: idempotent upserts on (site, call_id), merged with what is stored.

Re-reading a source, replaying the journal or importing two logs of the same
call never counts a call twice: the richer source wins each field it knows.
Every write also marks the days whose rollups it changes, in the same transaction.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from callwatch.model import CALL_FIELDS, RING_QUALITY_RANK, SOURCE_RANK, Call, RingQuality
from callwatch.store.schema import UtcDateTime, call_aliases, calls, import_calls, rollup_dirty, staff_seen


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
    execute_many(conn, stmt, ("upsert", table.name, tuple(keys)), rows)


# SQLite statements compiled once per (statement, columns): (SQL, bind name and processor per "?").
_COMPILED: dict[tuple[Any, ...], tuple[str, list[tuple[str, Any]]] | None] = {}


def execute_many(conn: sa.Connection, stmt: Any, key: tuple[Any, ...], rows: Sequence[dict[str, Any]]) -> None:
    """conn.execute(stmt, rows), on SQLite without SQLAlchemy's per-row parameter work.

    On a large import that work cost as much as SQLite's inserts: here the
    statement is compiled once and each row's values go through the very bind
    processors SQLAlchemy would use (UtcDateTime, DateTime, Boolean), so the
    stored values are the same. Other databases, and any statement whose
    parameters are not plainly the rows' keys, take conn.execute.
    """
    columns = tuple(rows[0])
    plan = _plan(conn, stmt, key, columns) if conn.dialect.name == "sqlite" else None
    if plan is None or any(len(row) != len(columns) for row in rows):
        conn.execute(stmt, list(rows))
        return
    sql, binds = plan
    params = [tuple([row[name] if proc is None else proc(row[name]) for name, proc in binds]) for row in rows]
    conn.exec_driver_sql(sql, params)


def _plan(conn: sa.Connection, stmt: Any, key: tuple[Any, ...], columns: tuple[str, ...]) -> Any:
    cache_key = (key, columns)
    if cache_key not in _COMPILED:
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
        order = compiled.positiontup or []
        plain = (compiled.positional and sorted(order) == sorted(columns)
                 and all(compiled.binds[name].key == name for name in order))
        _COMPILED[cache_key] = (str(compiled), [
            (name, _processor(compiled.binds[name].type, conn.dialect)) for name in order]) if plain else None
    return _COMPILED[cache_key]


_SAMPLES = (datetime(2026, 1, 5, 12, 15, 6, tzinfo=UTC), datetime(987, 3, 4, 5, 6, 7, 890, tzinfo=UTC))


def _processor(kind: Any, dialect: sa.Dialect) -> Any:
    """The bind processor SQLAlchemy uses for `kind`; UtcDateTime's as one C call for UTC values (same text)."""
    proc = kind.dialect_impl(dialect).bind_processor(dialect)
    if not isinstance(kind, UtcDateTime) or proc is None or any(proc(t) != _utc_text(t) for t in _SAMPLES):
        return proc

    def utc_text(value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is UTC:
            return _utc_text(value)
        return proc(value)  # None, other zones, naive (which it refuses)

    return utc_text


def _utc_text(value: datetime) -> str:
    # A UTC value's isoformat ends in "+00:00": cut, not a naive copy made first (one C call instead of two,
    # five times per call written). _processor checks it gives UtcDateTime's text.
    return value.isoformat(" ", "microseconds")[:-6]


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
    return _best_ring_time(merged, other)


# The fields a ring time is computed from (model.ring_seconds), taken together or not at all.
_RING_FIELDS = ("ring_started_at", "answered_at", "ring_ended_at", "ring_quality")


def _best_ring_time(merged: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Keep the better-known ring time: a queue_log's exact wait beats a CDR's derived one.

    Only when both agree whether the call was answered, so the ring time never
    describes a different ending than the outcome does.
    """
    mine = RING_QUALITY_RANK.get(merged.get("ring_quality") or RingQuality.UNKNOWN, 0)
    theirs = RING_QUALITY_RANK.get(other.get("ring_quality") or RingQuality.UNKNOWN, 0)
    answered = merged.get("outcome") == "answered"
    if theirs <= mine or other.get("ring_started_at") is None or (other.get("answered_at") is not None) != answered:
        return merged
    return merged | {name: other.get(name) for name in _RING_FIELDS}


# PostgreSQL rejects a VARCHAR value over its length (the whole batch fails and
# the collector would retry it forever) where SQLite keeps it: descriptive
# fields are cut to fit on every backend alike. Keys are never cut.
_CUT_TO_FIT = ("caller", "answered_by", "queue", "answered_by_name")


def _length(name: str) -> int:
    """The declared length of the String column `name` of calls."""
    column_type = calls.c[name].type
    assert isinstance(column_type, sa.String) and column_type.length is not None, name
    return column_type.length


_LIMITS = {name: _length(name) for name in _CUT_TO_FIT}


def call_row(call: Call) -> dict[str, Any]:
    row = call.as_dict()
    for name in ("direction", "outcome", "source", "ring_quality"):
        if row[name] is not None:
            row[name] = str(row[name])
    for name, limit in _LIMITS.items():
        value = row[name]
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row


_ONE_US = timedelta(microseconds=1)


def with_ring_us(row: dict[str, Any]) -> dict[str, Any]:
    """The row with calls.ring_us derived from its timestamps (schema.py says what it holds); set once a
    row is final, after merging, since a richer source may bring another ring time.

    Integer arithmetic on the timedelta: exact to the µs, as the metrics compare it.
    """
    start = row.get("ring_started_at")
    stop = row.get("answered_at") or row.get("ring_ended_at") or row.get("ended_at")
    row["ring_us"] = None if start is None or stop is None else max((stop - start) // _ONE_US, 0)
    return row


def save_calls(engine: Engine, items: Iterable[Call], batch_size: int = 5000, *, file_key: str | None = None) -> int:
    """Upsert calls in batches, merging with what is stored; returns how many were written.

    `file_key` names the imported file the calls came from (import_calls), so a
    re-read of that file can replace them (delete_file_calls).
    """
    written = 0
    batch: list[Call] = []
    for call in items:
        batch.append(call)
        if len(batch) >= batch_size:
            written += _save_batch(engine, batch, file_key)
            batch = []
    if batch:
        written += _save_batch(engine, batch, file_key)
    return written


def delete_file_calls(engine: Engine, site: str, file_key: str, source: str) -> int:
    """Delete the calls one imported file wrote, before it is read again; returns how many.

    Only calls still described by that file's source go: a call a richer source
    (AMI) also described keeps that description and is merged with the re-read.
    """
    ids = sa.select(import_calls.c.call_id).where(import_calls.c.site == site, import_calls.c.file_key == file_key)
    doomed = sa.and_(calls.c.site == site, calls.c.source == source, calls.c.call_id.in_(ids))
    with engine.connect() as conn:
        days = [dict(r) for r in conn.execute(sa.select(calls.c.site, calls.c.arrived_at).where(doomed)).mappings()]
    dirty = mark_rollups_dirty(engine, days)
    with engine.begin() as conn:
        deleted = conn.execute(sa.delete(calls).where(doomed)).rowcount
        conn.execute(sa.delete(import_calls).where(import_calls.c.site == site, import_calls.c.file_key == file_key))
        if dirty:
            upsert_in(conn, rollup_dirty, dirty, keys=("site", "day"))
    return int(deleted or 0)


def forget_file_calls(engine: Engine, site: str, file_key: str) -> None:
    """A new file took the path (log rotation): keep the old file's calls, but no longer as this file's."""
    with engine.begin() as conn:
        conn.execute(sa.delete(import_calls).where(import_calls.c.site == site, import_calls.c.file_key == file_key))


def _remember_origin(conn: sa.Connection, file_key: str, keys: Iterable[tuple[str, str]]) -> None:
    rows = [{"site": site, "file_key": file_key, "call_id": call_id} for site, call_id in keys]
    if rows:
        execute_many(conn, _insert(conn.engine, import_calls).on_conflict_do_nothing(), ("origin",), rows)


def _save_batch(engine: Engine, batch: list[Call], file_key: str | None = None) -> int:
    with engine.connect() as conn:
        target = _alias_targets(conn, batch)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for call in batch:
        row = call_row(call)
        row["call_id"] = target.get((call.site, call.call_id), call.call_id)
        key = (call.site, row["call_id"])
        rows[key] = merge_call(rows.get(key), row)
    # A call stored earlier under what is now known to be an alias (queue_log imported
    # before the CDR) is folded into its record and its own row removed.
    folded = {k: (k[0], v) for k, v in target.items() if k[1] != v}
    existing = _stored(engine, [*rows, *folded])
    stale = [k for k in folded if k in existing]
    removed: list[dict[str, Any]] = []
    for key in stale:
        into = folded[key]
        removed.append(existing.pop(key))
        old = dict(removed[-1], call_id=into[1])
        rows[into] = merge_call(old, rows[into]) if into in rows else merge_call(existing.get(into), old)
    # ring_us follows the merged timestamps (a richer source may have brought another ring time).
    merged = [with_ring_us(merge_call(existing.get(key), row)) for key, row in rows.items()]
    # The days whose stored rollups these writes change (a call may move day when a richer
    # source corrects its arrival), marked in the same transaction so no reader misses one.
    changed = [(old, new) for old, new in ((existing.get(k), m) for k, m in zip(rows, merged, strict=True))
               if old != new]
    dirty = mark_rollups_dirty(engine, [r for pair in changed for r in pair if r is not None] + removed)
    aliases = [{"site": c.site, "alias": a, "call_id": c.call_id} for c in batch for a in c.aliases if a != c.call_id]
    with engine.begin() as conn:
        upsert_in(conn, calls, merged, keys=("site", "call_id"))
        for site, call_id in stale:
            conn.execute(sa.delete(calls).where(calls.c.site == site, calls.c.call_id == call_id))
        if aliases and _has_table(engine, call_aliases):
            upsert_in(conn, call_aliases, aliases, keys=("site", "alias"))
        if file_key is not None:
            _remember_origin(conn, file_key, rows)
        if dirty:
            upsert_in(conn, rollup_dirty, dirty, keys=("site", "day"))
        upsert_in(conn, staff_seen, _staff_sightings(conn, merged), keys=("site", "extension", "name"))
    return len(merged)


def _alias_targets(conn: sa.Connection, batch: list[Call]) -> dict[tuple[str, str], str]:
    """(site, id) -> the call id it stands for: aliases the batch brings, and stored ones its ids are."""
    target = {(c.site, a): c.call_id for c in batch for a in c.aliases if a != c.call_id}
    if not _has_table(conn.engine, call_aliases):
        return target
    by_site: dict[str, set[str]] = {}
    for call in batch:
        by_site.setdefault(call.site, set()).add(call.call_id)
    for site, ids in by_site.items():
        listed = sorted(ids)
        for start in range(0, len(listed), 500):
            query = sa.select(call_aliases.c.alias, call_aliases.c.call_id).where(
                call_aliases.c.site == site, call_aliases.c.alias.in_(listed[start : start + 500]))
            for alias, call_id in conn.execute(query):
                target.setdefault((site, alias), call_id)
    return target


def _stored(engine: Engine, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored rows of these (site, call_id) keys."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    by_site: dict[str, list[str]] = {}
    for site, call_id in keys:
        by_site.setdefault(site, []).append(call_id)
    with engine.connect() as conn:
        for site, ids in by_site.items():
            for start in range(0, len(ids), 500):
                query = sa.select(calls).where(calls.c.site == site, calls.c.call_id.in_(ids[start : start + 500]))
                for row in conn.execute(query).mappings():
                    found[(row["site"], row["call_id"])] = dict(row)
    return found


def _staff_sightings(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """staff_seen rows widened by these calls: each (site, extension, name) a source reported."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        name, extension = row.get("answered_by_name"), row.get("answered_by")
        if not name or not extension or name == extension:
            continue
        key = (row["site"], extension, name)
        at = row["arrived_at"]
        found = seen.setdefault(key, {"site": key[0], "extension": extension, "name": name,
                                      "first_seen": at, "last_seen": at})
        found["first_seen"], found["last_seen"] = min(found["first_seen"], at), max(found["last_seen"], at)
    if not seen:
        return []
    for site in {k[0] for k in seen}:
        query = sa.select(staff_seen).where(staff_seen.c.site == site,
                                            staff_seen.c.extension.in_({k[1] for k in seen if k[0] == site}))
        for old in conn.execute(query).mappings():
            same = seen.get((old["site"], old["extension"], old["name"]))
            if same is not None:
                same["first_seen"] = min(same["first_seen"], old["first_seen"])
                same["last_seen"] = max(same["last_seen"], old["last_seen"])
    return list(seen.values())


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


def select_call(engine: Engine, site: str, call_id: str) -> dict[str, Any] | None:
    """One stored call by its id, or None."""
    query = sa.select(calls).where(calls.c.site == site, calls.c.call_id == call_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def select_aliases(engine: Engine, site: str, call_id: str) -> list[str]:
    """The other ids a source knows this stored call by (queue_log's Queue channel uniqueid)."""
    if not _has_table(engine, call_aliases):
        return []
    query = (sa.select(call_aliases.c.alias)
             .where(call_aliases.c.site == site, call_aliases.c.call_id == call_id)
             .order_by(call_aliases.c.alias))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


# Engines known to have a table added after the first schema: a store made by an
# early create_all may lack it until init_db runs (then there is nothing to keep).
_HAS_TABLE: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


def _has_table(engine: Engine, table: sa.Table) -> bool:
    known = _HAS_TABLE.setdefault(engine, set())
    if table.name not in known:
        if not sa.inspect(engine).has_table(table.name):
            return False
        known.add(table.name)
    return True


def mark_rollups_dirty(engine: Engine, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """rollup_dirty rows for the (site, UTC day of arrival) of `rows`; empty when the store has no rollups."""
    days = {(r["site"], r["arrived_at"].astimezone(UTC).date()) for r in rows}
    if not days:
        return []
    if not _has_table(engine, rollup_dirty):
        return []
    now = datetime.now(UTC)
    return [{"site": site, "day": day, "marked_at": now} for site, day in sorted(days)]
