"""The ONE place metrics reads the store (rollup_store reads and keeps the derived per-day tables).

Everything else in `callwatch.metrics` takes a DataFrame. Columns are exactly
DESIGN.md's Call fields; ids and numbers stay strings (a caller "0161..." or a
uniqueid "1700000000.10" must not become a number), datetimes are UTC-aware µs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.metrics.frame import masked_callers
from callwatch.model import CALL_FIELDS, Call

DATETIME_FIELDS: tuple[str, ...] = ("arrived_at", "ring_started_at", "answered_at", "ring_ended_at", "ended_at")
STRING_FIELDS: tuple[str, ...] = (
    "call_id", "site", "direction", "caller", "outcome", "answered_by", "queue", "source",
)
_FETCH_ROWS = 100_000


def _raw_column(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    # Reading datetimes through the UtcDateTime decorator costs a Python call
    # per value; fetching the raw value and parsing the whole column at once in
    # pandas is several times faster on a year of calls.
    if column.name in DATETIME_FIELDS:
        return sa.type_coerce(column, sa.String()).label(column.name)
    return column


def _utc(values: pd.Series) -> pd.Series:
    """SQLite gives ISO strings, PostgreSQL naive datetimes, Call records aware ones; all are UTC."""
    return pd.to_datetime(values, utc=True, format="ISO8601").astype("datetime64[us, UTC]")


def empty_calls() -> pd.DataFrame:
    """A zero-row frame with the Call columns and dtypes."""
    return calls_frame([])


def calls_frame(rows: Sequence[Sequence[Any]] | Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows (tuples in CALL_FIELDS order, or dicts of plain values) -> typed Call frame."""
    frame = pd.DataFrame(list(rows), columns=list(CALL_FIELDS)) if rows else pd.DataFrame(columns=list(CALL_FIELDS))
    for name in STRING_FIELDS:
        frame[name] = frame[name].astype("str")
    for name in DATETIME_FIELDS:
        frame[name] = _utc(frame[name])
    frame["left_message"] = frame["left_message"].astype("boolean")
    return frame


def calls_from_records(calls: Iterable[Call]) -> pd.DataFrame:
    """Call dataclasses -> typed Call frame (tests, previews); enums become their plain values."""
    return calls_frame([store.call_row(c) for c in calls])


def load_calls(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    site: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Stored calls with start <= arrived_at < end (UTC-aware bounds), oldest first.

    `site` is one site name or several; None reads every site.
    """
    table = store.calls
    query = sa.select(*(_raw_column(table.c[name]) for name in CALL_FIELDS)).order_by(
        table.c.arrived_at, table.c.site, table.c.call_id
    )
    if start is not None:
        query = query.where(table.c.arrived_at >= start)
    if end is not None:
        query = query.where(table.c.arrived_at < end)
    if isinstance(site, str):
        query = query.where(table.c.site == site)
    elif site is not None:
        query = query.where(table.c.site.in_(list(site)))
    # Bind parameters go through UtcDateTime, so aware bounds compare correctly.
    # Rows come straight off the DBAPI cursor: every column is either a plain
    # value or parsed by pandas below, and building a SQLAlchemy Row per call
    # costs more than the query itself on a year of calls. No stream_results:
    # its buffered strategy pre-reads rows that the raw cursor would then skip.
    rows: list[Any] = []
    with engine.connect() as conn:
        result = conn.execute(query)
        try:
            while chunk := result.cursor.fetchmany(_FETCH_ROWS):
                rows.extend(chunk)
        finally:
            result.close()
    return calls_frame(rows)


def has_calls(engine: Engine, *, site: str | None = None, before: datetime | None = None) -> bool:
    """Whether any call is stored (for `site`, arriving before `before`): False on a fresh install."""
    table = store.calls
    query = sa.select(table.c.call_id)
    if site is not None:
        query = query.where(table.c.site == site)
    if before is not None:
        query = query.where(table.c.arrived_at < before)
    with engine.connect() as conn:
        return conn.execute(query.limit(1)).first() is not None


def sites_and_queues(engine: Engine) -> tuple[list[str], list[str]]:
    """The site names and queue names present in the stored calls, sorted."""
    table = store.calls
    with engine.connect() as conn:
        sites = sorted(r[0] for r in conn.execute(sa.select(table.c.site).distinct()))
        queues = sorted(r[0] for r in conn.execute(sa.select(table.c.queue).distinct()) if r[0])
    return sites, queues


def day_rows_hash(engine: Engine, start: datetime, end: datetime, site: str | None) -> int:
    """A hash of the stored call rows arriving in [start, end) (of `site`) as they are.

    Reading the raw rows of one day is a few milliseconds on the (site,
    arrived_at) index; building, preparing and summarising them is ten times
    that, so callers rebuild a day's numbers only when this changes.
    """
    table = store.calls
    query = sa.select(table).where(table.c.arrived_at >= start, table.c.arrived_at < end)
    if site:
        query = query.where(table.c.site == site)
    with engine.connect() as conn:
        result = conn.execute(query)
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
    return hash(tuple(tuple(row) for row in rows))


class LiveState(NamedTuple):
    """What the front-desk screen needs: calls ringing/queued now and the collector's pulse."""

    calls: pd.DataFrame  # live_calls rows; caller raw, caller_masked for display
    heartbeat: dict[str, Any] | None  # the heartbeat row, None if the collector never wrote one


LIVE_COLUMNS: tuple[str, ...] = (
    "site", "call_id", "caller", "state", "ring_started_at", "arrived_at", "location", "queue", "updated_at",
)


def _table(engine: Engine, name: str) -> sa.Table | None:
    """The store table `name` if it exists in this database (older stores may lack it)."""
    table = store.metadata.tables.get(name)
    if table is None or not sa.inspect(engine).has_table(name):
        return None
    return table


def load_live(engine: Engine, site: str | None) -> LiveState:
    """Live calls (oldest ring first) and the heartbeat for `site` (None: all sites, latest heartbeat)."""
    live = _table(engine, "live_calls")
    frame = pd.DataFrame({name: pd.Series(dtype="str") for name in LIVE_COLUMNS})
    if live is not None:
        query = sa.select(live).order_by(live.c.arrived_at)
        if site is not None:
            query = query.where(live.c.site == site)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        if rows:
            frame = pd.DataFrame(rows, columns=list(LIVE_COLUMNS))
    for name in ("site", "call_id", "caller", "state", "location", "queue"):
        frame[name] = frame[name].astype("str")
    for name in ("ring_started_at", "arrived_at", "updated_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
    frame["caller_masked"] = masked_callers(frame["caller"])

    heartbeat: dict[str, Any] | None = None
    beat = _table(engine, "heartbeat")
    if beat is not None:
        query = sa.select(beat).order_by(beat.c.updated_at.desc()).limit(1)
        if site is not None:
            query = query.where(beat.c.site == site)
        with engine.connect() as conn:
            found = conn.execute(query).mappings().first()
        heartbeat = dict(found) if found is not None else None
    return LiveState(frame, heartbeat)


def load_follow_up_handled(engine: Engine, site: str | None = None) -> pd.DataFrame:
    """Follow-ups the front desk marked done (site, call_id, handled_at, handled_by); empty if none."""
    columns = ("site", "call_id", "handled_at", "handled_by")
    table = _table(engine, "follow_up_handled")
    rows: list[dict[str, Any]] = []
    if table is not None:
        query = sa.select(table)
        if site is not None:
            query = query.where(table.c.site == site)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
    frame = pd.DataFrame(rows, columns=list(columns))
    for name in ("site", "call_id", "handled_by"):
        frame[name] = frame[name].astype("str")
    frame["handled_at"] = pd.to_datetime(frame["handled_at"], utc=True).astype("datetime64[us, UTC]")
    return frame


class TrainingSession(NamedTuple):
    """A staff training date, from callwatch.yaml (`source` "config") or the trainings table ("database")."""

    date: date
    title: str
    notes: str
    source: str


def load_trainings(engine: Engine | None, settings: Any, site: str | None = None) -> list[TrainingSession]:
    """Training sessions for `site` (None: all sites), oldest first: settings.trainings plus the trainings table.

    The same date and title in both places is one session (the file wins).
    """
    found = {(t.date, t.title): TrainingSession(t.date, t.title, t.notes, "config") for t in settings.trainings}
    table = _table(engine, "trainings") if engine is not None else None
    if engine is not None and table is not None:
        query = sa.select(table.c.date, table.c.title, table.c.notes)
        if site is not None:
            query = query.where(table.c.site == site)
        with engine.connect() as conn:
            for row in conn.execute(query):
                session = TrainingSession(row.date, row.title, row.notes or "", "database")
                found.setdefault((row.date, row.title), session)
    return sorted(found.values())
