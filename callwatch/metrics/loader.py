"""The ONE place metrics reads the store (rollup_store reads and keeps the derived per-day tables).

Everything else in `callwatch.metrics` takes a DataFrame. Columns are exactly
DESIGN.md's Call fields; ids and numbers stay strings (a caller "0161..." or a
uniqueid "1700000000.10" must not become a number), datetimes are UTC-aware µs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.config.settings import Settings, SiteSettings
from callwatch.metrics.frame import masked_callers
from callwatch.metrics.staff import fill_learnt_names
from callwatch.model import CALL_FIELDS, Call

DATETIME_FIELDS: tuple[str, ...] = ("arrived_at", "ring_started_at", "answered_at", "ring_ended_at", "ended_at")
STRING_FIELDS: tuple[str, ...] = (
    "call_id", "site", "direction", "caller", "outcome", "answered_by", "queue", "source", "ring_quality",
    "answered_by_name",
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


def calls_frame(rows: Sequence[Sequence[Any]] | Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows (tuples in CALL_FIELDS order, or dicts of plain values) -> typed Call frame."""
    frame = pd.DataFrame(list(rows), columns=list(CALL_FIELDS)) if rows else pd.DataFrame(columns=list(CALL_FIELDS))
    for name in STRING_FIELDS:
        frame[name] = frame[name].astype("str")
    for name in DATETIME_FIELDS:
        frame[name] = _utc(frame[name])
    frame["left_message"] = frame["left_message"].astype("boolean")
    # Rows stored before ring_quality existed and never backfilled cannot vouch for their ring time.
    frame["ring_quality"] = frame["ring_quality"].fillna("unknown")
    # Stores from before 0007 hold NULL: such a call was never marked incomplete.
    frame["incomplete"] = frame["incomplete"].astype("boolean").fillna(False).astype(bool)
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
    frame = calls_frame(rows)
    if (frame["answered_by"].notna() & frame["answered_by_name"].isna()).any():
        frame = fill_learnt_names(frame, load_staff_seen(engine, site))
    return frame


STAFF_SEEN_COLUMNS: tuple[str, ...] = ("site", "extension", "name", "first_seen", "last_seen")


def load_staff_seen(engine: Engine, site: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The names the PBX gave extensions (staff_seen), oldest first seen first."""
    table = store.staff_seen
    query = sa.select(*(table.c[name] for name in STAFF_SEEN_COLUMNS)).order_by(table.c.first_seen)
    if isinstance(site, str):
        query = query.where(table.c.site == site)
    elif site is not None:
        query = query.where(table.c.site.in_(list(site)))
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=list(STAFF_SEEN_COLUMNS))
    for name in ("site", "extension", "name"):
        frame[name] = frame[name].astype("str")
    for name in ("first_seen", "last_seen"):
        frame[name] = _utc(frame[name])
    return frame


def latest_arrival(engine: Engine, site: str | None = None) -> datetime | None:
    """When the newest stored call arrived (UTC), None for an empty store; one index lookup."""
    table = store.calls
    query = sa.select(sa.func.max(sa.type_coerce(table.c.arrived_at, sa.String())))
    if site:
        query = query.where(table.c.site == site)
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return None if value is None else pd.Timestamp(_utc(pd.Series([value])).iloc[0]).to_pydatetime()


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


def _distinct_calls(column: str) -> sa.TextClause:
    """The distinct non-NULL values of an indexed calls column, one index probe per value (a loose index scan).

    SELECT DISTINCT walks the whole index (or table): 3-5 s for ten million
    calls in PostgreSQL, where the offices and queues are a few dozen values.
    Each step asks for the smallest value above the last one, which the
    column's index answers directly (ix_calls_site_arrived, ix_calls_queue).
    """
    return sa.text(
        f"WITH RECURSIVE s(v) AS (SELECT MIN({column}) FROM calls UNION ALL"
        f" SELECT (SELECT MIN(c.{column}) FROM calls c WHERE c.{column} > s.v) FROM s WHERE s.v IS NOT NULL)"
        " SELECT v FROM s WHERE v IS NOT NULL"
    )


_SITES_SQL = _distinct_calls("site")
_QUEUES_SQL = _distinct_calls("queue")


def sites_and_queues(engine: Engine) -> tuple[list[str], list[str]]:
    """The site names and queue names present in the stored calls, sorted."""
    with engine.connect() as conn:
        queues = sorted(r[0] for r in conn.execute(_QUEUES_SQL) if r[0])
    return stored_sites(engine), queues


def stored_sites(engine: Engine) -> list[str]:
    """The offices that have stored calls, sorted."""
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(_SITES_SQL))


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


ALERT_COLUMNS: tuple[str, ...] = (
    "id", "site", "condition", "message", "fired_at", "cleared_at", "notified_at", "notify_error",
)


def _alert_rows(engine: Engine, site: str | None, since: datetime | None) -> list[dict[str, Any]]:
    """Alert rows at `site` (None: every office), newest first: open ones, and with `since` those fired since."""
    table = _table(engine, "alerts")
    if table is None:  # a store from before alerts existed has none
        return []
    opened = table.c.cleared_at.is_(None)
    query = sa.select(table).where(opened if since is None else sa.or_(opened, table.c.fired_at >= since))
    if site is not None:
        query = query.where(table.c.site == site)
    query = query.order_by(table.c.fired_at.desc(), table.c.id.desc())
    with engine.connect() as conn:
        return [{name: row[name] for name in ALERT_COLUMNS} for row in conn.execute(query).mappings()]


def load_open_alerts(engine: Engine, site: str | None) -> list[dict[str, Any]]:
    """Alerts that fired and have not cleared (callwatch.alerts), newest first; site None: every office."""
    return _alert_rows(engine, site, None)


def load_recent_alerts(engine: Engine, site: str | None, since: datetime) -> list[dict[str, Any]]:
    """Alerts fired since `since` (UTC-aware) or still open, newest first; site None: every office.

    Each row: id, site, condition, message, fired_at, cleared_at (None while
    open), notified_at (None: not sent) and notify_error (why not, or "").
    """
    return _alert_rows(engine, site, since)


class TrainingSession(NamedTuple):
    """A staff training date, from callwatch.yaml (`source` "config") or the trainings table ("database").

    site None: the training is for every office.
    """

    date: date
    title: str
    notes: str
    source: str
    site: str | None = None


def load_site_settings(engine: Engine | None) -> dict[str, SiteSettings]:
    """Each office's own settings as its collector stored them (empty on an older or new store)."""
    table = _table(engine, "site_settings") if engine is not None else None
    if table is None:
        return {}
    with engine.connect() as conn:  # type: ignore[union-attr]
        rows = conn.execute(sa.select(table.c.site, table.c.settings)).all()
    return {row.site: SiteSettings.model_validate(json.loads(row.settings)) for row in rows}


def settings_for_site(engine: Engine | None, settings: Settings, site: str | None) -> Settings:
    """The settings office `site` is judged by: its stored settings, else this file's view of it.

    site None: the file's own office.
    """
    name = site or settings.site
    return settings.for_site(name, load_site_settings(engine).get(name))


def _session_key(session: TrainingSession) -> tuple[date, str, str]:
    return session.date, session.title, session.site or ""


def _office_key(session: TrainingSession) -> tuple[date, str, str]:
    # At one office, the same date and title is one training whoever it was recorded for.
    return session.date, session.title, ""


def load_trainings(engine: Engine | None, settings: Settings, site: str | None = None) -> list[TrainingSession]:
    """Training sessions, oldest first, from the settings (file and stored) and the trainings table.

    site given: the trainings that concern that office (its own and those for
    every office); None: every training, each with its office (None: all).
    The same date, title and office in two places is one session (the file wins).
    """
    stored = load_site_settings(engine)
    key = _office_key if site is not None else _session_key
    if site is not None:
        sections = [settings_for_site(engine, settings, site)]
    else:
        names = sorted(set(settings.site_names) | set(stored))
        sections = [settings.for_site(name, stored.get(name)) for name in names]
    found: dict[tuple[date, str, str], TrainingSession] = {}
    for section in sections:
        for t in section.trainings:
            session = TrainingSession(t.date, t.title, t.notes, "config", t.site)
            found.setdefault(key(session), session)
    table = _table(engine, "trainings") if engine is not None else None
    if engine is not None and table is not None:
        query = sa.select(table.c.date, table.c.title, table.c.notes, table.c.site)
        if site is not None:
            query = query.where(sa.or_(table.c.site == site, table.c.site.is_(None)))
        with engine.connect() as conn:
            for row in conn.execute(query):
                session = TrainingSession(row.date, row.title, row.notes or "", "database", row.site)
                found.setdefault(key(session), session)
    return sorted(found.values(), key=_session_key)


# --- Counts computed by the database (metrics.in_database) --------------------------------
# The calls of a range are counted per time bucket (metrics.buckets) and per
# outcome and ring-time class in SQL; only the counts cross into Python, so
# memory and time follow the number of buckets, not the number of calls.

# Columns a caller may group by: fixed names, never user input, in the SQL text.
CALL_KEY_COLUMNS: tuple[str, ...] = ("site", "queue", "answered_by", "answered_by_name")
BUCKET_KEY_COLUMNS: tuple[str, ...] = ("day", "week", "month", "weekday", "hour")
_BUCKETS_TABLE = "cw_metric_buckets"


class RingLimits(NamedTuple):
    """Whole microseconds, as prepare() compares them: short abandon (<), target (<=), one ring cycle."""

    short_us: int
    target_us: int
    cycle_us: int


class BucketNumbers(NamedTuple):
    """What load_bucket_numbers returns: counts per bucket class and ring class, and the calls in range."""

    # open, holiday, bucket keys, outcome, known, has_ring, lt_short, le_target, call keys, hist_s (the
    # whole seconds of ring time of answered business-hours calls, else None), n, left_message,
    # ring_us_sum, rings_sum, fraction_max (the largest sub-second part of a ring time, µs). On
    # PostgreSQL rings_sum is given for histogram rows only when the ring cycle is whole seconds
    # (the only rows whose ring counts a number reads).
    counts: pd.DataFrame
    # bucket keys, call keys, ring_us, n: the calls in the seconds exact_seconds named; when it named
    # ranks per second (a mapping) and there are no keys, PostgreSQL gives only the values at those
    # ranks, each with the number of ranks up to it since the previous one of its second.
    exact: pd.DataFrame
    calls: int  # every stored call of the range (any direction), as len(load_calls(...))
    # With RankTargets (PostgreSQL): the overall values at the ranks named, as `exact` is without keys;
    # `exact` then holds each group's values at its ranks, with its bucket and call keys.
    ranked: pd.DataFrame | None = None


class RankTargets(NamedTuple):
    """What exact_seconds may name on PostgreSQL when grouping: only the ranks each quantile reads.

    overall: {second: ranks within its bin} over every answered business-hours call;
    groups: {(bucket key values..., call key values...): {second: ranks}}, each key
    a group of the counts' rows (None: a call key that is NULL). A group is the
    business-hours calls whose bucket keys and call keys are those values.
    """

    overall: Mapping[int, Iterable[int]]
    groups: Mapping[tuple[Any, ...], Mapping[int, Iterable[int]]]


# A call whose source vouches for its ring time (DESIGN.md: ring_quality exact or derived).
_KNOWN_RING = "COALESCE(ring_quality, 'unknown') <> 'unknown'"


def _range_where(arrived: str, by_site: bool) -> str:
    """The range (and office) condition on calls, `arrived` naming the arrived_at column or an expression of it."""
    return f"{arrived} >= :start AND {arrived} < :end" + (" AND site IN :sites" if by_site else "")


def _bucket_sql(cuts: Sequence[int]) -> tuple[str, str, str, str]:
    """(known, ring_us, hour key, part) SQL expressions over calls' columns, on SQLite (ISO text times).

    ring_us is the stored ring time (store.calls.ring_us, written with the
    call), read only for answered and abandoned calls of known ring quality:
    no number reads the ring time of another outcome (short abandons, within
    target, speed). Reading one integer column instead of deriving it from
    two timestamps per call halved the count scan on SQLite.
    """
    hour_key = "substr(arrived_at, 1, 10) || substr(arrived_at, 12, 2)"
    seconds = "(CAST(substr(arrived_at, 15, 2) AS INTEGER) * 60 + CAST(substr(arrived_at, 18, 2) AS INTEGER))"
    ring_us = f"CASE WHEN outcome IN ('answered', 'abandoned') AND {_KNOWN_RING} THEN ring_us END"
    part = " + ".join(f"(CASE WHEN {seconds} >= {int(c)} THEN 1 ELSE 0 END)" for c in cuts) or "0"
    return f"CASE WHEN {_KNOWN_RING} THEN 1 ELSE 0 END", ring_us, hour_key, part


# Group keys packed into one integer: SQLite sorts to group, and one integer
# compares several times faster than six columns. Layout, low bits first:
# ring seconds + 1 (0: none; 31 bits), 4 flags, outcome (3 bits), bucket class.
_SECONDS_BITS = 31
_OUTCOMES: tuple[str, ...] = ("answered", "voicemail", "abandoned", "missed")
# Exact ring times: ring_us (41 bits, 25 days) below the bucket class.
_US_BITS = 41


def _bucket_rows(frame: pd.DataFrame, classes: np.ndarray) -> list[tuple[Any, ...]]:
    hour_keys = list(pd.DatetimeIndex(frame["hour_start"]).strftime("%Y-%m-%d%H"))  # as _bucket_sql's hour key
    return list(zip(hour_keys, frame["part"].astype("int64").tolist(), frame["open"].astype("int64").tolist(),
                    classes.tolist(), strict=True))


def _unpack_counts(rows: Sequence[Any], classes: pd.DataFrame, call_keys: Sequence[str]) -> pd.DataFrame:
    packed = np.array([r[0] for r in rows], dtype="int64")
    seconds = (packed & ((1 << _SECONDS_BITS) - 1)) - 1
    flags = (packed >> _SECONDS_BITS) & 0xF
    outcome = (packed >> (_SECONDS_BITS + 4)) & 0x7
    cls = packed >> (_SECONDS_BITS + 7)
    frame = classes.iloc[cls].reset_index(drop=True)
    frame["outcome"] = pd.Series(np.array([*_OUTCOMES, None], dtype=object)[np.minimum(outcome, 4)], dtype="str")
    for bit, name in enumerate(("known", "has_ring", "lt_short", "le_target")):
        frame[name] = (flags >> bit) & 1 == 1
    for i, name in enumerate(call_keys, start=1):
        frame[name] = pd.Series([r[i] for r in rows], dtype="str")
    frame["hist_s"] = pd.Series(np.where(seconds >= 0, seconds, np.nan)).astype("Int64")
    base = 1 + len(call_keys)
    for i, name in enumerate(("n", "left_message", "ring_us_sum", "rings_sum", "fraction_max")):
        frame[name] = pd.Series([r[base + i] for r in rows], dtype="Float64" if i else "int64")
    return frame


def _unpack_exact(rows: Sequence[Any], classes: pd.DataFrame, bucket_keys: Sequence[str],
                  call_keys: Sequence[str]) -> pd.DataFrame:
    packed = np.array([r[0] for r in rows], dtype="int64")
    frame = classes.iloc[packed >> _US_BITS][list(bucket_keys)].reset_index(drop=True)
    for i, name in enumerate(call_keys, start=1):
        frame[name] = pd.Series([r[i] for r in rows], dtype="str")
    frame["ring_us"] = packed & ((1 << _US_BITS) - 1)
    frame["n"] = np.array([r[-1] for r in rows], dtype="int64")
    return frame


def load_bucket_numbers(
    engine: Engine,
    buckets: Any,
    *,
    start: datetime,
    end: datetime,
    site: str | Sequence[str] | None,
    limits: RingLimits,
    call_keys: Sequence[str] = (),
    bucket_keys: Sequence[str] = (),
    exact_seconds: Callable[[pd.DataFrame], Iterable[int] | Mapping[int, Iterable[int]] | RankTargets] | None = None,
) -> BucketNumbers:
    """Count the inbound calls with an outcome arriving in [start, end) by bucket class (metrics.buckets.Buckets).

    One row per open x holiday x bucket_keys x outcome x ring class x
    call_keys, and for answered business-hours calls also per whole second
    of ring time (hist_s; fraction_max > 0 when some ring time has a
    fraction). exact_seconds(counts) names the whole seconds (or a mapping of
    second to ranks within it, see BucketNumbers.exact) whose exact
    ring times (µs) are wanted (answered business-hours calls, per bucket and
    call keys): those come back in `exact`. The count scan uses the (site,
    arrived_at) or (arrived_at) index for the range; the exact query reads
    ranges of ix_calls_ring_us (the stored ring time, calls.ring_us).
    """
    if not set(call_keys) <= set(CALL_KEY_COLUMNS) or not set(bucket_keys) <= set(BUCKET_KEY_COLUMNS):
        raise ValueError(f"group by {call_keys} {bucket_keys}: not a known column")
    if engine.dialect.name == "postgresql":
        return _pg_bucket_numbers(engine, buckets, start=start, end=end, site=site, limits=limits,
                                  call_keys=call_keys, bucket_keys=bucket_keys, exact_seconds=exact_seconds)
    # SQLite from here on.
    known_flag, ring_us, hour_key, part = _bucket_sql(buckets.cuts)
    # A bucket's class: its distinct (open, holiday, bucket_keys) combination.
    class_columns = ["open", "holiday", *bucket_keys]
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(buckets.frame[class_columns].astype("int64")))
    classes = pd.DataFrame(list(uniques), columns=class_columns)
    sites = [site] if isinstance(site, str) else (None if site is None else list(site))
    where = _range_where("arrived_at", sites is not None)
    ckeys = "".join(f", {name}" for name in call_keys)
    outcome_code = "CASE outcome " + " ".join(f"WHEN '{o}' THEN {i}" for i, o in enumerate(_OUTCOMES)) + " ELSE 4 END"
    # A fence keeps SQLite from inlining the subquery's expressions into each use
    # in the outer query; each call finds its bucket in a temporary table.
    fence = "LIMIT -1"
    located = f"{hour_key} AS hk, {part} AS part"
    join, cls, opened = f"JOIN {_BUCKETS_TABLE} b ON b.hk = x.hk AND b.part = x.part", "b.cls", "b.open"
    inner = (f"SELECT {outcome_code} AS oc{ckeys}, CASE WHEN left_message THEN 1 ELSE 0 END AS left_message,"
             f" {known_flag} AS known, {ring_us} AS ring_us, {located} FROM calls WHERE {where}")
    flags = ("x.known + (CASE WHEN x.ring_us IS NULL THEN 0"
             " ELSE 2 + (CASE WHEN x.ring_us < :short_us THEN 4 ELSE 0 END)"
             " + (CASE WHEN x.ring_us <= :target_us THEN 8 ELSE 0 END) END)")
    hist = f"CASE WHEN {opened} = 1 AND x.oc = 0 AND x.ring_us IS NOT NULL THEN x.ring_us / 1000000 + 1 ELSE 0 END"
    packed = f"(((y.cls * 8 + y.oc) * 16 + y.flags) * {1 << _SECONDS_BITS} + y.hist)"
    xkeys = "".join(f", x.{name}" for name in call_keys)
    ykeys = "".join(f", y.{name}" for name in call_keys)
    group = ", ".join(str(i) for i in range(1, len(call_keys) + 2))
    # First scan: counts per bucket class, with the ring times of answered
    # business-hours calls in whole seconds (a histogram of ~100 bins per group).
    count_sql = (
        f"SELECT {packed}{ykeys}, COUNT(*), SUM(y.left_message), SUM(y.ring_us), SUM(y.ring_us / :cycle_us + 1),"
        f" MAX(y.ring_us % 1000000) FROM (SELECT {cls} AS cls, x.oc, {flags} AS flags, {hist} AS hist{xkeys},"
        f" x.left_message, x.ring_us"
        f" FROM ({inner} AND direction = 'inbound' AND outcome IS NOT NULL {fence}) x {join}) y"
        f" GROUP BY {group}"
    )
    # Second scan, only when the source has sub-second ring times (AMI): the
    # exact ring times of the calls in the few one-second bins that hold a
    # median or 90th percentile. The ranges on the stored ring_us let the
    # database read them from ix_calls_ring_us, which holds every column this
    # scan needs without call keys, instead of scanning the year again.
    # SQLite has no statistics to prefer the ring_us ranges (a few percent of
    # the calls) over the arrived_at range (the year): a unary + keeps it off
    # the arrived_at index.
    seek_where = _range_where("+arrived_at", sites is not None)

    def exact_sql(seconds: Sequence[int]) -> str:
        ranges = " OR ".join(f"(ring_us >= {int(s) * 1_000_000} AND ring_us < {(int(s) + 1) * 1_000_000})"
                             for s in seconds)
        seek = (f"SELECT ring_us{ckeys}, {located} FROM calls WHERE {seek_where} AND ({ranges})"
                f" AND direction = 'inbound' AND outcome = 'answered' AND {_KNOWN_RING}")
        return (f"SELECT {cls} * {1 << _US_BITS} + x.ring_us{xkeys}, COUNT(*) FROM ({seek} {fence}) x {join}"
                f" WHERE {opened} = 1 GROUP BY {group}")

    total_sql = f"SELECT COUNT(*) FROM calls WHERE {where}"
    params: dict[str, Any] = {"start": start, "end": end, "short_us": limits.short_us,
                              "target_us": limits.target_us, "cycle_us": limits.cycle_us}

    def text(sql: str, **expanding: Any) -> sa.TextClause:
        clause = sa.text(sql).bindparams(
            sa.bindparam("start", type_=store.UtcDateTime()), sa.bindparam("end", type_=store.UtcDateTime()))
        if sites is not None:
            expanding["sites"] = sites
        for name, value in expanding.items():
            clause = clause.bindparams(sa.bindparam(name, value=value, expanding=True))
        return clause

    rows = _bucket_rows(buckets.frame, codes)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_BUCKETS_TABLE}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {_BUCKETS_TABLE}"
                             " (hk TEXT, part INTEGER, open INTEGER, cls BIGINT, PRIMARY KEY (hk, part))")
        conn.exec_driver_sql(f"INSERT INTO {_BUCKETS_TABLE} (hk, part, open, cls) VALUES (?, ?, ?, ?)", rows)
        try:
            counts = _unpack_counts(conn.execute(text(count_sql), params).cursor.fetchall(), classes, call_keys)
            needed = exact_seconds(counts) if exact_seconds is not None else []
            if isinstance(needed, RankTargets):  # every value of each second named (no ranks here)
                needed = {int(s) for part in (needed.overall, *needed.groups.values()) for s in part}
            seconds = sorted({int(s) for s in needed})
            exact_rows = conn.execute(text(exact_sql(seconds)), params).cursor.fetchall() if seconds else []
            total = int(conn.execute(text(total_sql), params).scalar_one())
        finally:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_BUCKETS_TABLE}")
            conn.commit()
    return BucketNumbers(counts, _unpack_exact(exact_rows, classes, bucket_keys, call_keys), total)


# PostgreSQL counts without a temporary table: a temporary table makes the
# whole query parallel-restricted (one process), and joining each call to a
# bucket row costs more than looking its class up in an array. The array maps
# a call's slot of UTC time (an hour, or a fraction of one when a local
# boundary falls inside the hour: every cut is on a multiple of the slot) to
# its bucket class; it is bound to the query as one text literal.
_MAX_SLOTS_PER_HOUR = 240  # 15-second slots: 2.1 million entries for a year, 8.4 MB


def _pg_class_lookup(buckets: Any, codes: np.ndarray) -> tuple[str, str]:
    """(SQL of a call's bucket class code, the class array as a PostgreSQL array literal)."""
    cuts = tuple(int(c) for c in buckets.cuts)
    parts = len(cuts) + 1
    per_hour = np.asarray(codes, dtype="int64").reshape(-1, parts)  # make_buckets: hour-major, part-minor
    first_hour = int(pd.DatetimeIndex(buckets.frame["hour_start"][:1]).as_unit("s").asi8[0]) // 3600
    # Integer slots from date_part's double: EXTRACT's numeric and date_trunc cost more per
    # call. The double holds a stored µs time within 2.4e-7 s until 2038 (4.8e-7 s until
    # 2106), under half of the 1 µs between a time and the next whole second, so FLOOR of
    # it divided by a whole number of seconds never crosses a slot boundary.
    epoch = "date_part('epoch', arrived_at)"
    step = math.gcd(3600, *cuts)
    if 3600 // step <= _MAX_SLOTS_PER_HOUR:
        slots = 3600 // step
        part_of_slot = np.searchsorted(np.array(cuts, dtype="int64"), np.arange(slots) * step, side="right")
        array = per_hour[:, part_of_slot].ravel()
        index = f"CAST(FLOOR({epoch} / {step}) AS BIGINT) - {first_hour * slots - 1}"
    else:  # a cut at an odd second (e.g. closing at 23:59:59): the hour and the part past it
        array = per_hour.ravel()
        seconds = f"(CAST(FLOOR({epoch}) AS BIGINT) % 3600)"
        part = " + ".join(f"(CASE WHEN {seconds} >= {c} THEN 1 ELSE 0 END)" for c in cuts)
        index = f"(CAST(FLOOR({epoch} / 3600) AS BIGINT) - {first_hour}) * {parts} + {part} + 1"
    lookup = f"(CAST(:classes AS INTEGER[]))[CAST({index} AS INTEGER)]"
    return lookup, "{" + ",".join(str(int(v)) for v in array) + "}"


def _pg_counts(rows: Sequence[Any], classes: pd.DataFrame, call_keys: Sequence[str],
               cycle_us: int) -> tuple[pd.DataFrame, int]:
    """The count query's rows as BucketNumbers.counts (one row per class, as the SQLite query gives), and the
    number of calls in range.

    The query groups by the raw outcome, ring quality and ring-time comparisons
    (cheaper than computing classes per call); here they become the flags
    prepare() defines: a ring time is read only for answered and abandoned
    calls of known ring quality, and the histogram second only for answered
    business-hours calls with a ring time.
    """
    whole_cycle = cycle_us % 1_000_000 == 0
    names = ["cls", "inbound", "outcome", "known", "lt", "le", "hist", *call_keys, "n", "left_message",
             "ring_us_sum", *([] if whole_cycle else ["rings_sum"]), "fraction_max"]
    raw = pd.DataFrame(list(rows), columns=names)
    total = int(raw["n"].sum())
    raw = raw[raw["inbound"].astype(bool).to_numpy() & raw["outcome"].notna().to_numpy()]
    cls = raw["cls"].to_numpy(dtype="int64")
    outcome = raw["outcome"].where(raw["outcome"].isin(_OUTCOMES), None)
    # ring_quality <> 'unknown': NULL (no quality stored) is unknown, as COALESCE(..., 'unknown') says.
    known = raw["known"].to_numpy(dtype=object) == True  # noqa: E712 (None is not True)
    lt = raw["lt"]
    ring = outcome.isin(("answered", "abandoned")).to_numpy(dtype=bool) & known & lt.notna().to_numpy(dtype=bool)
    opened = classes["open"].to_numpy(dtype=bool)[cls]
    hist = np.where(opened & (outcome == "answered").to_numpy(dtype=bool) & ring,
                    raw["hist"].to_numpy(dtype="float64", na_value=np.nan), np.nan)
    frame = pd.DataFrame({
        "cls": cls, "outcome": pd.Series(outcome.to_numpy(dtype=object), dtype="str"), "known": known,
        "has_ring": ring, "lt_short": ring & lt.to_numpy(dtype=bool, na_value=False),
        "le_target": ring & raw["le"].to_numpy(dtype=bool, na_value=False),
    })
    for name in call_keys:
        frame[name] = pd.Series(raw[name].to_numpy(dtype=object), dtype="str")
    frame["hist_s"] = pd.Series(hist).astype("Int64")
    frame["n"] = raw["n"].to_numpy(dtype="int64")
    frame["left_message"] = raw["left_message"].to_numpy(dtype="float64", na_value=np.nan)
    if whole_cycle:  # every call of a histogram row rings floor(second / cycle) + 1 times
        raw["rings_sum"] = raw["n"] * (raw["hist"].to_numpy(dtype="float64", na_value=np.nan) // (cycle_us // 1_000_000)
                                       + 1)
    for name in ("ring_us_sum", "rings_sum", "fraction_max"):
        frame[name] = np.where(ring, raw[name].to_numpy(dtype="float64", na_value=np.nan), np.nan)
    # Only histogram rows' ring counts are read (the timed business-hours calls); elsewhere unknown here.
    frame["rings_sum"] = np.where(np.isnan(hist), np.nan, frame["rings_sum"]) if whole_cycle else frame["rings_sum"]
    keys = ["cls", "outcome", "known", "has_ring", "lt_short", "le_target", *call_keys, "hist_s"]
    grouped = frame.groupby(keys, dropna=False, sort=False)
    merged = pd.concat([grouped[["n"]].sum(), grouped[["left_message", "ring_us_sum", "rings_sum"]].sum(min_count=1),
                        grouped[["fraction_max"]].max()], axis=1).reset_index()
    counts = classes.iloc[merged["cls"].to_numpy(dtype="int64")].reset_index(drop=True)
    for name in merged.columns[1:]:
        counts[name] = merged[name].to_numpy() if name in ("known", "has_ring", "lt_short", "le_target", "n") \
            else merged[name]
    for name in ("left_message", "ring_us_sum", "rings_sum", "fraction_max"):
        counts[name] = counts[name].astype("Float64")
    return counts, total


# The count query's grouping key depends on the arrival time, so PostgreSQL's
# planner expects a group per call and will not aggregate in parallel workers
# (it would have to merge as many partial groups as calls). The counts of a
# long range are therefore taken in as many time slices as PostgreSQL allows
# one query's processes (max_parallel_workers_per_gather + 1, as its own
# aggregate of the range uses), each on its own connection, and added up here:
# counts and sums add, maxima take the larger. A short range is one slice.
_MIN_SLICE = timedelta(days=7)


def _pg_slices(engine: Engine, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive ranges, one per process PostgreSQL would give a parallel query."""
    with engine.connect() as conn:
        workers = int(conn.exec_driver_sql("SELECT current_setting('max_parallel_workers_per_gather')").scalar_one())
    count = max(1, min(workers + 1, int((end - start) / _MIN_SLICE)))
    edges = [start + (end - start) * i / count for i in range(count)] + [end]
    return list(pairwise(edges))


def _pg_bucket_numbers(
    engine: Engine,
    buckets: Any,
    *,
    start: datetime,
    end: datetime,
    site: str | Sequence[str] | None,
    limits: RingLimits,
    call_keys: Sequence[str],
    bucket_keys: Sequence[str],
    exact_seconds: Callable[[pd.DataFrame], Iterable[int] | Mapping[int, Iterable[int]] | RankTargets] | None,
) -> BucketNumbers:
    """load_bucket_numbers on PostgreSQL: one flat aggregate PostgreSQL may run in parallel workers."""
    class_columns = ["open", "holiday", *bucket_keys]
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(buckets.frame[class_columns].astype("int64")))
    classes = pd.DataFrame(list(uniques), columns=class_columns)
    lookup, class_array = _pg_class_lookup(buckets, codes)
    sites = [site] if isinstance(site, str) else (None if site is None else list(site))
    where = _range_where("arrived_at", sites is not None)
    ckeys = "".join(f", {name}" for name in call_keys)
    # Every call of the range (the number of calls stored comes from the same scan), grouped by what
    # the numbers read; no CASE per call beyond the histogram second.
    # A ring count is floor(ring_us / cycle) + 1; with a whole-second cycle it follows from the
    # histogram second, the only calls whose ring count a number reads (see _pg_counts).
    rings = "" if limits.cycle_us % 1_000_000 == 0 else " SUM(ring_us / :cycle_us + 1),"
    count_sql = (
        f"SELECT {lookup}, direction = 'inbound', outcome, ring_quality <> 'unknown', ring_us < :short_us,"
        f" ring_us <= :target_us, CASE WHEN outcome = 'answered' THEN ring_us / 1000000 END{ckeys}, COUNT(*),"
        f" COUNT(*) FILTER (WHERE left_message), SUM(ring_us),{rings} MAX(ring_us % 1000000) FROM calls"
        f" WHERE {where} GROUP BY " + ", ".join(str(i) for i in range(1, 8 + len(call_keys)))
    )

    def exact_sql(seconds: Sequence[int]) -> str:
        # The exact ring times of answered calls in the named seconds, read from
        # ix_calls_ring_us (ring time, arrival, direction, outcome, ring quality:
        # all this needs without call keys); `ring_quality <> 'unknown'` is
        # false for NULL as COALESCE(...) <> 'unknown' is.
        ranges = [f"ring_us >= {int(s) * 1_000_000} AND ring_us < {(int(s) + 1) * 1_000_000}" for s in seconds]
        answered = "direction = 'inbound' AND outcome = 'answered' AND ring_quality <> 'unknown'"
        if call_keys:
            # The call keys are not in the index: one bitmap heap scan for all the seconds.
            found = f"SELECT * FROM calls WHERE {where} AND ({' OR '.join(f'({r})' for r in ranges)}) AND {answered}"
        else:
            # One UNION ALL arm per second: an index-only range scan each (OR'ed ranges give a bitmap scan).
            found = " UNION ALL ".join(
                f"SELECT arrived_at, ring_us FROM calls WHERE {where} AND {r} AND {answered}" for r in ranges)
        return (f"SELECT {lookup}, ring_us{ckeys}, COUNT(*) FROM ({found}) calls GROUP BY "
                + ", ".join(str(i) for i in range(1, 3 + len(call_keys))))

    def ranked_sql(targets: Mapping[int, Iterable[int]], sizes: Mapping[int, int]) -> str:
        # Without groups, only the values at the ranks the median and 90th percentile read:
        # per second, its business-hours calls numbered in ix_calls_ring_us order, from
        # whichever end of the second is nearer the ranks wanted (sizes: the second's
        # calls, as counted), instead of every value of the second.
        arms = []
        for second, offsets in sorted(targets.items()):
            wanted = sorted({int(k) for k in offsets})
            size = int(sizes[second])
            down = size - 1 - wanted[0] < wanted[-1]  # fewer calls to step over from the top
            limit = size - wanted[0] if down else wanted[-1] + 1
            order = "ring_us DESC" if down else "ring_us"
            rank = f"{size - 1} - (ROW_NUMBER() OVER (ORDER BY {order}) - 1)" if down else \
                f"ROW_NUMBER() OVER (ORDER BY {order}) - 1"
            seek = (f"SELECT ring_us FROM calls WHERE {where} AND ring_us >= {int(second) * 1_000_000}"
                    f" AND ring_us < {(int(second) + 1) * 1_000_000} AND direction = 'inbound'"
                    f" AND outcome = 'answered' AND ring_quality <> 'unknown'"
                    f" AND {lookup} = ANY(CAST(:opened AS INTEGER[])) ORDER BY {order} LIMIT {limit}")
            arms.append(f"SELECT {int(second)}, k, ring_us FROM (SELECT ring_us, {rank} AS k FROM ({seek}) a) b"
                        f" WHERE k IN ({', '.join(str(k) for k in wanted)})")
        return " UNION ALL ".join(arms)

    params: dict[str, Any] = {"start": start, "end": end, "short_us": limits.short_us, "target_us": limits.target_us,
                              "cycle_us": limits.cycle_us, "classes": class_array}

    def text(sql: str) -> sa.TextClause:
        clause = sa.text(sql).bindparams(
            sa.bindparam("start", type_=store.UtcDateTime()), sa.bindparam("end", type_=store.UtcDateTime()))
        if sites is not None:
            clause = clause.bindparams(sa.bindparam("sites", value=sites, expanding=True))
        return clause

    def count(bounds: tuple[datetime, datetime]) -> list[Any]:
        with engine.connect() as conn:
            # A JIT compile costs more than it saves on this query's few expressions.
            conn.exec_driver_sql("SET LOCAL jit = off")
            rows = conn.execute(text(count_sql), {**params, "start": bounds[0], "end": bounds[1]}).cursor.fetchall()
            conn.rollback()
        return list(rows)

    slices = _pg_slices(engine, start, end)
    if len(slices) == 1:
        rows = count(slices[0])
    else:
        with ThreadPoolExecutor(len(slices)) as pool:
            rows = [row for part in pool.map(count, slices) for row in part]
    counts, total = _pg_counts(rows, classes, call_keys, limits.cycle_us)
    needed = exact_seconds(counts) if exact_seconds is not None else []
    if isinstance(needed, RankTargets):
        return _pg_group_ranks(engine, needed, counts, total, classes, bucket_keys, call_keys, lookup=lookup,
                               where=where, ranked_sql=ranked_sql, text=text, params=params)
    seconds = sorted(set(needed))
    targets = needed if isinstance(needed, Mapping) and not call_keys and not bucket_keys else None
    exact_rows: Sequence[Any] = []
    if seconds:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET LOCAL jit = off")
            if not call_keys:
                # ix_calls_ring_us holds every column read: an index-only range scan per
                # second. The planner's bitmap scan instead visits nearly every heap page,
                # since a second's calls are spread over the whole range (measured 0.3 s
                # against 0.03-0.05 s for a year).
                conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            if targets is not None:
                opened = "{" + ",".join(str(i) for i in np.flatnonzero(classes["open"].to_numpy(dtype=bool))) + "}"
                hist = counts[counts["open"].to_numpy(dtype=bool) & counts["hist_s"].notna().to_numpy(dtype=bool)]
                sizes = {int(k): int(v) for k, v in hist.groupby("hist_s")["n"].sum().items()}
                found = conn.execute(text(ranked_sql(targets, sizes)), {**params, "opened": opened}).cursor.fetchall()
                conn.rollback()
                return BucketNumbers(counts, _pg_ranked(found), total)
            exact_rows = conn.execute(text(exact_sql(seconds)), params).cursor.fetchall()
            conn.rollback()
    return BucketNumbers(counts, _pg_exact(exact_rows, classes, bucket_keys, call_keys), total)


def _pg_group_ranks(
    engine: Engine, targets: RankTargets, counts: pd.DataFrame, total: int, classes: pd.DataFrame,
    bucket_keys: Sequence[str], call_keys: Sequence[str], *, lookup: str, where: str,
    ranked_sql: Callable[[Mapping[int, Iterable[int]], Mapping[int, int]], str],
    text: Callable[[str], sa.TextClause], params: dict[str, Any],
) -> BucketNumbers:
    """_pg_bucket_numbers' exact step when grouping: only the values at the ranks each group's quantiles read.

    Reading every value of the seconds any group needs (hundreds of thousands
    of rows for a year by site) cost more than the count scan; here
    PostgreSQL numbers each group's calls within a second (ROW_NUMBER over
    the group and second) and returns only the ranks named, a few per group.
    A group is a number: its bucket keys' position among the groups' (looked
    up from the call's class, -1 outside business hours) times the number of
    call-key combinations asked for, plus its combination's position.
    """
    opened = classes["open"].to_numpy(dtype=bool)
    hist = counts[counts["open"].to_numpy(dtype=bool) & counts["hist_s"].notna().to_numpy(dtype=bool)]
    sizes = {int(k): int(v) for k, v in hist.groupby("hist_s")["n"].sum().items()}
    nb = len(bucket_keys)
    bucket_groups = sorted({key[:nb] for key in targets.groups})
    bucket_index = {key: i for i, key in enumerate(bucket_groups)}
    # -1: a class outside business hours or of no group asked for (no NULLs: PostgreSQL walks an array
    # with NULLs element by element to subscript it).
    of_class = ["-1"] * len(classes)
    class_keys = classes[list(bucket_keys)].to_numpy(dtype="int64").tolist() if nb else [[]] * len(classes)
    for code, key in enumerate(class_keys):
        found = bucket_index.get(tuple(int(v) for v in key))
        if opened[code] and found is not None:
            of_class[code] = str(found)
    combos = sorted({key[nb:] for key in targets.groups}, key=lambda c: tuple((v is None, str(v)) for v in c))
    combo_index = {c: j for j, c in enumerate(combos)}
    gid = f"(CAST(:of_class AS INTEGER[]))[{lookup} + 1]"
    join = ""
    if call_keys:
        # The call keys' combinations asked for, hash-joined on (value or '', is NULL): a NULL key is
        # a group of its own, as groupby(dropna=False) has it.
        columns = ", ".join(f"CAST(:c{i} AS TEXT[]), CAST(:n{i} AS BOOLEAN[])" for i in range(len(call_keys)))
        names = ", ".join(f"c{i}, n{i}" for i in range(len(call_keys)))
        on = " AND ".join(f"COALESCE(calls.{name}, '') = k.c{i} AND (calls.{name} IS NULL) = k.n{i}"
                          for i, name in enumerate(call_keys))
        join = f" JOIN unnest({columns}, CAST(:kid AS INTEGER[])) AS k({names}, kid) ON {on}"
        gid = f"({gid} * {len(combos)} + k.kid)"  # negative for a class of no group
    wanted: list[tuple[int, int, int]] = []
    label_of: dict[int, tuple[Any, ...]] = {}
    for key, seconds in targets.groups.items():
        number = bucket_index[key[:nb]] * len(combos) + combo_index[key[nb:]]
        label_of[number] = key
        wanted += [(number, int(second), int(k)) for second, ranks in seconds.items() for k in ranks]
    found_rows: list[Any] = []
    overall: list[Any] = []
    with engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL jit = off")
        if wanted:
            pairs = sorted({(g, s) for g, s, _ in wanted})
            seconds_read = sorted({s for _, s in pairs})
            ranges = " OR ".join(f"(ring_us >= {s * 1_000_000} AND ring_us < {(s + 1) * 1_000_000})"
                                 for s in seconds_read)
            answered = "direction = 'inbound' AND outcome = 'answered' AND ring_quality <> 'unknown'"
            # One expression per call for its group and second (an IN list of pairs would repeat the
            # group's expression per pair: measured 2.7 s against 0.5 s for a year by site); the
            # ranks wanted are joined as arrays.
            triples = sorted(set(wanted))
            sql = (
                f"SELECT r.g, r.s, r.k, r.ring_us FROM (SELECT g, s, ring_us,"
                f" ROW_NUMBER() OVER (PARTITION BY g, s ORDER BY ring_us) - 1 AS k FROM"
                f" (SELECT {gid} AS g, ring_us / 1000000 AS s, ring_us FROM calls{join} WHERE {where} AND ({ranges})"
                f" AND {answered}) c WHERE g * {1 << 32} + s = ANY(CAST(:pairs AS BIGINT[]))) r"
                f" JOIN unnest(CAST(:wg AS BIGINT[]), CAST(:ws AS BIGINT[]), CAST(:wk AS BIGINT[])) AS w(g, s, k)"
                f" ON r.g = w.g AND r.s = w.s AND r.k = w.k"
            )
            binds: dict[str, Any] = {
                **params, "of_class": "{" + ",".join(of_class) + "}",
                "pairs": "{" + ",".join(str(g * (1 << 32) + s) for g, s in pairs) + "}",
                **{name: "{" + ",".join(str(t[i]) for t in triples) + "}" for i, name in enumerate(("wg", "ws", "wk"))},
            }
            for i in range(len(call_keys)):
                binds[f"c{i}"] = "{" + ",".join(_pg_array_text("" if c[i] is None else str(c[i])) for c in combos) + "}"
                binds[f"n{i}"] = "{" + ",".join("t" if c[i] is None else "f" for c in combos) + "}"
            if call_keys:
                binds["kid"] = "{" + ",".join(str(j) for j in range(len(combos))) + "}"
            found_rows = list(conn.execute(text(sql), binds).cursor.fetchall())
        if targets.overall:
            # ix_calls_ring_us holds every column read: an index-only range scan per second (as without groups).
            conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            opened_list = "{" + ",".join(str(i) for i in np.flatnonzero(opened)) + "}"
            overall = list(conn.execute(text(ranked_sql(targets.overall, sizes)),
                                        {**params, "opened": opened_list}).cursor.fetchall())
        conn.rollback()
    ordered = sorted((int(g), int(s), int(k), int(us)) for g, s, k, us in found_rows)
    frame = _pg_ranked([(g * (1 << 32) + s, k, us) for g, s, k, us in ordered])
    groups = [label_of[g] for g, _, _, _ in ordered]
    exact = pd.DataFrame({name: np.array([key[i] for key in groups], dtype="int64")
                          for i, name in enumerate(bucket_keys)}, index=pd.RangeIndex(len(groups)))
    for i, name in enumerate(call_keys):
        exact[name] = pd.Series([key[nb + i] for key in groups], dtype="str")
    exact["ring_us"] = frame["ring_us"].to_numpy()
    exact["n"] = frame["n"].to_numpy()
    return BucketNumbers(counts, exact, total, _pg_ranked(overall))


def _pg_array_text(value: str) -> str:
    """`value` as an element of a PostgreSQL array literal: quoted, with quotes and backslashes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pg_ranked(rows: Sequence[Any]) -> pd.DataFrame:
    """(second, rank in its bin, ring_us) rows as BucketNumbers.exact for in_database's _Histogram: each
    value with the count of ranks up to it since the previous one of its second (k1 + 1, k2 - k1, ...)."""
    ordered = sorted((int(s), int(k), int(us)) for s, k, us in rows)
    counts = [k + 1 if i == 0 or ordered[i - 1][0] != s else k - ordered[i - 1][1]
              for i, (s, k, _) in enumerate(ordered)]
    return pd.DataFrame({"ring_us": np.array([us for _, _, us in ordered], dtype="int64"),
                         "n": np.array(counts, dtype="int64")})


def _pg_exact(rows: Sequence[Any], classes: pd.DataFrame, bucket_keys: Sequence[str],
              call_keys: Sequence[str]) -> pd.DataFrame:
    """The exact query's rows (class, ring_us, call keys, n) of business-hours classes as BucketNumbers.exact."""
    # Tens of thousands of rows of integers for a year: numpy reads them faster than a DataFrame of tuples.
    numbers = np.array([(r[0], r[1], r[-1]) for r in rows], dtype="int64").reshape(-1, 3)
    keep = classes["open"].to_numpy(dtype=bool)[numbers[:, 0]]
    frame = classes.iloc[numbers[keep, 0]][list(bucket_keys)].reset_index(drop=True)
    for i, name in enumerate(call_keys, start=2):
        frame[name] = pd.Series([r[i] for r, k in zip(rows, keep, strict=True) if k], dtype="str")
    frame["ring_us"] = numbers[keep, 1]
    frame["n"] = numbers[keep, 2]
    return frame


def arrival_span(engine: Engine, site: str | Sequence[str] | None) -> tuple[datetime, datetime] | None:
    """(first, last) arrived_at of the stored calls (of `site`), UTC-aware; None when there are none."""
    table = store.calls
    query = sa.select(sa.func.min(table.c.arrived_at), sa.func.max(table.c.arrived_at))
    if isinstance(site, str):
        query = query.where(table.c.site == site)
    elif site is not None:
        query = query.where(table.c.site.in_(list(site)))
    with engine.connect() as conn:
        first, last = conn.execute(query).one()
    if first is None or last is None:
        return None
    span = _utc(pd.Series([first, last]))  # SQLite may give the raw string back for an aggregate
    return span.iloc[0].to_pydatetime(), span.iloc[1].to_pydatetime()
