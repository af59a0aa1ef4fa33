"""Why one stored call has its values: re-read the CDR rows that made it and reconstruct it again, explaining.

`callwatch calls --explain CALL_ID` uses this. Nothing is kept at import time:
the import state already knows every file that was read (and `tail:` lists the
ones to come), so the rows are found again by the call's id (a linkedid, or the
originating channel's uniqueid) and the same reconstruction runs over them,
noting which row decided each field. A file rotated away since can no longer
explain its calls; the message says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.reconstruct.cdr import CallContext, CdrGrouper, call_from_rows
from callwatch.collector.sources import LineCursor, SourceError
from callwatch.collector.sources.cdr_database import is_database_url
from callwatch.collector.sources.detect import CDR_CSV, detect_source
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser
from callwatch.config.settings import Settings
from callwatch.model import Call


@dataclass(slots=True)
class Explanation:
    """The rows of one call as the PBX wrote them, and why each field of the rebuilt call has its value."""

    path: str
    lines: list[tuple[int, str]]
    reasons: list[tuple[str, str]]
    call: Call


def stored_call(engine: Engine, site: str, call_id: str) -> dict[str, Any] | None:
    table = store.calls
    query = sa.select(table).where(table.c.site == site, table.c.call_id == call_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def candidate_logs(engine: Engine, settings: Settings) -> list[Path]:
    """Every CDR log this site imported or tails, newest import first."""
    table = store.import_state
    query = sa.select(table.c.path).where(table.c.site == settings.site).order_by(table.c.updated_at.desc())
    with engine.connect() as conn:
        paths = [Path(p) for p in conn.execute(query).scalars()]
    # A tailed PBX database is not re-read here: --explain follows CDR log files.
    paths += [Path(t.path) for t in settings.tail if t.source in ("auto", CDR_CSV) and not is_database_url(t.path)]
    return list(dict.fromkeys(paths))


def explain_call(engine: Engine, settings: Settings, call_id: str) -> tuple[Explanation | None, list[str]]:
    """The explanation from the first log holding the call's rows, and what was looked at (for the message)."""
    looked: list[str] = []
    for path in candidate_logs(engine, settings):
        try:
            if not path.is_file() or detect_source(path, settings) != CDR_CSV:
                continue
        except (OSError, SourceError):
            continue
        looked.append(str(path))
        found = _explain_in(path, settings, call_id)
        if found is not None:
            return found, looked
    return None, looked


def _explain_in(path: Path, settings: Settings, call_id: str) -> Explanation | None:
    ctx = CallContext.from_settings(settings)
    for rows in _groups(path, settings):
        if not any(call_id in (r.linkedid, r.uniqueid) for r in rows):
            continue
        why: list[tuple[str, str]] = []
        call = call_from_rows(rows, ctx, why)
        if call is not None and call.call_id == call_id:
            return Explanation(str(path), _raw_lines(path, rows), why, call)
    return None


def _groups(path: Path, settings: Settings) -> Iterator[list[CdrRow]]:
    parser = MasterCsvParser(gmt=settings.cdr_gmt, zone=settings.tz)
    grouper = CdrGrouper()
    with path.open("rb") as fh:
        cursor = LineCursor()
        for item in parser.rows(fh, cursor):
            if isinstance(item, CdrRow):
                yield from grouper.add(item)
        yield from grouper.finish(cursor.offset)[0]


def _raw_lines(path: Path, rows: list[CdrRow]) -> list[tuple[int, str]]:
    out = []
    with path.open("rb") as fh:
        for r in sorted(rows, key=lambda r: r.offset):
            fh.seek(r.offset)
            out.append((r.line, fh.readline().decode("utf-8", errors="replace").rstrip("\r\n")))
    return out
