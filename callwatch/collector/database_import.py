"""Import the PBX's CDR/CEL database (`callwatch import mysql+pymysql://callwatch@pbx/asteriskcdrdb`).

Read incrementally, like a growing log file: `import_state` remembers, per
table, a high-water mark (the latest moment a row describes: a CDR row's end,
a CEL event's time; its `offset` column holds it in epoch microseconds).
Each read takes the rows from `mark - LATE - SETTLE` on, plus every earlier row
of the linkedids it saw, so each call is rebuilt from all its rows; only calls
with a row past `mark - LATE` are written. LATE covers FreePBX's batch mode,
which writes CDR rows up to 300 s after the call; SETTLE is how far apart the
rows of one call may lie. A call rebuilt again is the same record (upsert by
call_id), so nothing is counted twice; exact duplicate rows (two CDR backends
writing the same table) are dropped before grouping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.importer import ImportSummary
from callwatch.collector.reconstruct.cdr import SETTLE, CdrGrouper, call_from_rows
from callwatch.collector.reconstruct.cel import call_from_events
from callwatch.collector.reconstruct.channels import CallContext
from callwatch.collector.sources import SourceError
from callwatch.collector.sources.cdr_database import (
    PASSWORD_VARIABLE,
    PbxTables,
    as_table_time,
    cel_event,
    converted,
    open_database,
    redacted,
)
from callwatch.collector.sources.cel import CelEvent
from callwatch.collector.sources.master_csv import CdrRow, table_row
from callwatch.config import Settings, secret
from callwatch.model import Call

LATE = timedelta(seconds=300)


def import_database(engine: Engine, settings: Settings, name: str) -> list[ImportSummary]:
    """Import the `cdr` and `cel` tables there are; SourceError when the database cannot be read at all."""
    pbx = open_database(name, secret(PASSWORD_VARIABLE))
    try:
        tables = PbxTables(pbx)
        summaries = []
        for table, kind in ((tables.cdr, "cdr-table"), (tables.cel, "cel-table")):
            if table is not None:
                summaries.append(_import_table(engine, settings, tables, table, kind, redacted(name)))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise SourceError(f"reading the PBX database failed: {reason}") from None
    finally:
        pbx.dispose()
    return summaries  # the caller refreshes the rollups of the days written, once


def _import_table(engine: Engine, settings: Settings, tables: PbxTables, table: sa.Table, kind: str,
                  where: str) -> ImportSummary:
    key = f"{where}#{table.name}"
    summary = ImportSummary(file=key, source=kind)
    state, seen = _load_mark(engine, settings.site, key)
    since = None if state is None else as_table_time(state - LATE - SETTLE, gmt=settings.cdr_gmt, zone=settings.tz)
    records = tables.rows_since(table, since)
    convert = table_row if kind == "cdr-table" else cel_event
    items: list[Any] = []
    bad: list[tuple[int, str]] = []
    for item in converted(records, convert, gmt=settings.cdr_gmt, zone=settings.tz):
        (bad if isinstance(item, tuple) else items).append(item)
    fresh_from = None if state is None else state - LATE
    times = [r.end if isinstance(r, CdrRow) else r.time for r in items]
    # Rows are only ever added: the rows past the old mark - LATE, less those there last time, are the new ones.
    summary.rows_read = sum(1 for t in times if fresh_from is None or t >= fresh_from) - seen
    summary.rejected = len(bad)
    if bad:
        summary.rejects_path = _write_rejects(settings, key, bad, records)
    if state is not None and summary.rows_read <= 0 and not bad:
        summary.rows_read, summary.unchanged = 0, True
        return summary
    if kind == "cdr-table":
        calls = list(_cdr_calls(items, settings, fresh_from))
    else:
        calls = list(_cel_calls(items, settings, fresh_from))
    summary.calls_written = store.save_calls(engine, calls)
    mark = max([*times, *([state] if state else [])], default=None)
    if mark is not None:
        tail = sum(1 for t in times if t >= mark - LATE)
        _save_mark(engine, settings.site, key, mark, tables.column_signature(table), tail)
    return summary


def _cdr_calls(rows: list[CdrRow], settings: Settings, fresh_from: datetime | None) -> Iterator[Call]:
    ctx = CallContext.from_settings(settings)
    grouper = CdrGrouper()
    groups: list[list[CdrRow]] = []
    for row in sorted(rows, key=lambda r: (r.start, r.line)):
        groups += grouper.add(row)
    groups += grouper.finish(len(rows))[0]
    for group in groups:
        if fresh_from is None or any(r.end >= fresh_from for r in group):
            call = call_from_rows(group, ctx)
            if call is not None:
                yield call


def _cel_calls(events: list[CelEvent], settings: Settings, fresh_from: datetime | None) -> Iterator[Call]:
    ctx = CallContext.from_settings(settings)
    groups: dict[str, list[CelEvent]] = {}
    for ev in events:
        groups.setdefault(ev.linkedid or ev.uniqueid, []).append(ev)
    latest = max((e.time for e in events), default=None)
    for group in groups.values():
        last = max(e.time for e in group)
        ended = any(e.eventtype == "LINKEDID_END" for e in group)
        # A call still going on is written when it ends (or, without LINKEDID_END logged, when it went quiet).
        settled = ended or (latest is not None and last < latest - SETTLE)
        fresh = fresh_from is None or last >= fresh_from - (SETTLE if not ended else timedelta(0))
        if settled and fresh:
            call = call_from_events(group, ctx)
            if call is not None:
                yield call


def _write_rejects(settings: Settings, key: str, bad: list[tuple[int, str]], records: list[dict[str, Any]]) -> str:
    tag = hashlib.sha1(key.encode()).hexdigest()[:8]
    path = Path(settings.rejects_dir) / f"{key.rsplit('/', 1)[-1].replace('#', '-')}-{tag}.rejects.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with path.open("a", encoding="utf-8") as fh:
        for i, reason in bad:
            row = records[i]
            ident = row.get("uniqueid") or row.get("id") or i
            fh.write(f"{stamp}\t{key}\tuniqueid {ident}\t{reason}\t{' '.join(str(v) for v in row.values())[:500]}\n")
    return str(path)


def _load_mark(engine: Engine, site: str, key: str) -> tuple[datetime | None, int]:
    """The high-water mark and how many rows lay within LATE of it; (None, 0) before the first read."""
    found = store.load_import_state(engine, site, key)
    return (None, 0) if found is None else (datetime.fromtimestamp(found["offset"] / 1e6, UTC), int(found["line"]))


def _save_mark(engine: Engine, site: str, key: str, mark: datetime, columns: str, tail: int) -> None:
    # import_state was made for files: `offset` holds the mark (epoch microseconds), `line` the rows
    # within LATE of it, `head_hash` the table's columns.
    row = {
        "site": site,
        "path": key,
        "inode": None,
        "head_hash": hashlib.sha256(columns.encode()).hexdigest(),
        "size": 0,
        "offset": int(mark.timestamp() * 1e6),
        "line": tail,
        "updated_at": datetime.now(UTC),
    }
    store.save_import_state(engine, row)
