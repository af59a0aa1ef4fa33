"""Persisted per-day rollups (store.call_rollups): computed once, kept current by the writers.

Year-long views read a few thousand rollup rows instead of a million calls.
The rows are metrics.rollup.daily_rollup output, computed here from the calls
of their days (loader.load_calls, range-limited) and stored with the
settings_key of the params that shaped them. This is the loader side of
metrics for derived tables (it reads them, and writes them: they are metrics'
own cache, not source data); the computation stays in rollup.py.

A site's practice-local date is current for params P when rollup_days holds
it with settings_key(P) and no rollup_dirty mark covers it. store.save_calls
marks the UTC day of every call it adds or changes, in the write's own
transaction. Writers' callers run refresh_written_rollups after a batch (the
CLI after importing, the AMI service's after_store every few seconds, the
demo); readers call ensure_rollups (through load_rollups), which also fills days never computed (a store older than
rollups, a range before the first call) and days computed under other settings.

Races: marks are read before the calls, and a mark is cleared only when its
marked_at is unchanged, so a write landing during a refresh keeps its mark for
the next one. Two processes refreshing the same day write the same rows
(upserts), so either may win.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.config.settings import Settings
from callwatch.metrics.frame import prepare
from callwatch.metrics.hours import local_day_bounds
from callwatch.metrics.loader import load_calls, stored_sites
from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import ROLLUP_COLUMNS, daily_rollup, settings_key

log = logging.getLogger(__name__)

# One read of calls covers at most this many days (a month of a busy group is
# ~100k calls); days further apart than MAX_GAP_DAYS are read separately.
MAX_SPAN_DAYS = 31
MAX_GAP_DAYS = 3

Sites = str | Sequence[str] | None

log = logging.getLogger(__name__)


class Mark(NamedTuple):
    site: str
    day: date  # UTC date of arrival
    marked_at: datetime


def ensure_rollups(engine: Engine, params: MetricParams, site: Sites, start: date, end: date) -> int:
    """Make the rollups of local dates start..end (both included) current for `params`.

    site: one name, several, or None for every site with calls. Recomputes the
    days never computed, computed under other settings, or marked dirty, and
    returns how many (site, date) pairs that was (0: everything was current).
    """
    sites = _sites(engine, site)
    if not sites or end < start:
        return 0
    key = settings_key(params)
    marks = [m for m in dirty_marks(engine, sites) if _overlaps(_local_dates(params, m.day), start, end)]
    todo = {(m.site, d) for m in marks for d in _local_dates(params, m.day)}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    if _covered_count(engine, sites, start, end, key) < len(sites) * len(days):  # else every day is current
        covered = _covered(engine, sites, start, end)
        todo.update((s, d) for s in sites for d in days if covered.get((s, d)) != key)
    return _recompute(engine, params, key, todo, marks)


def load_rollups(
    engine: Engine,
    params: MetricParams,
    *,
    start: date,
    end: date,
    site: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Persisted daily_rollup rows for practice-local dates start..end (both included), oldest first.

    The same columns, dtypes and order as rollup.daily_rollup over the calls of
    those days, so summarize_rollup works on them unchanged. Days not yet
    computed, computed under other settings, or changed since are recomputed
    first (ensure_rollups); a year reads in well under a second.
    """
    ensure_rollups(engine, params, site, start, end)
    table = store.call_rollups
    query = sa.select(*(table.c[name] for name in ROLLUP_COLUMNS)).where(
        table.c.settings_key == settings_key(params), table.c.date >= start, table.c.date <= end
    )
    if isinstance(site, str):
        query = query.where(table.c.site == site)
    elif site is not None:
        query = query.where(table.c.site.in_(list(site)))
    with engine.connect() as conn:
        # The DBAPI's plain tuples, column by column: building a Row per rollup row and the frame
        # row by row cost more than the query for a year of 100 offices (~70,000 rows). The date
        # comes raw (a date, or SQLite's text) and is parsed below; every other column is a plain value.
        result = conn.execute(query)
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
    values = dict(zip(ROLLUP_COLUMNS, zip(*rows, strict=True), strict=True)) if rows else {
        name: () for name in ROLLUP_COLUMNS}
    frame = pd.DataFrame({
        "site": pd.Series(values["site"], dtype="str"),
        "date": pd.to_datetime(pd.Series(values["date"], dtype="object")).astype("datetime64[us]"),
        "queue": pd.Series(values["queue"], dtype="str"),
        **{name: np.array(values[name], dtype="float64" if name in ("ring_seconds_sum", "rings_sum") else "int64")
           for name in ROLLUP_COLUMNS[3:]},
    })[list(ROLLUP_COLUMNS)]
    # daily_rollup's order; sorted here because a PostgreSQL collation may order names differently.
    return frame.sort_values(list(ROLLUP_COLUMNS[:3]), ignore_index=True)


def refresh_written_rollups(engine: Engine, settings: Settings, site: str | None = "") -> None:
    """Recompute the per-day rollups of the days just written (store.save_calls marked them).

    What the CLI runs once after importing all files, and the collector after
    storing calls (its after_store callback). site "" means the configured
    site, None every site. A failure here loses nothing: the days stay marked
    and the dashboard recomputes them when read.
    """
    try:
        refresh_dirty(engine, MetricParams.from_settings(settings), settings.site if site == "" else site)
    except Exception:
        log.exception("refreshing the per-day rollups failed; they refresh when read")


def refresh_dirty(engine: Engine, params: MetricParams, site: Sites = None) -> int:
    """Recompute every day marked dirty for `site` (None: all sites); returns the (site, date) pairs done.

    What writers call after a batch, so readers find the rollups current.
    """
    sites = None if site is None else _sites(engine, site)
    marks = dirty_marks(engine, sites)
    todo = {(m.site, d) for m in marks for d in _local_dates_or_none(params, m.day)}
    return _recompute(engine, params, settings_key(params), todo, marks)


def _local_dates_or_none(params: MetricParams, utc_day: date) -> list[date]:
    # A call stored by an older version at 9999-12-31 has no next day: skip it, never fail every refresh.
    try:
        return _local_dates(params, utc_day)
    except (OverflowError, ValueError):
        log.warning("per-day rollups: skipped the day %s (out of the range callwatch can compute)", utc_day)
        return []


def _sites(engine: Engine, site: Sites) -> list[str]:
    if isinstance(site, str):
        return [site]
    if site is not None:
        return sorted(set(site))
    return stored_sites(engine)  # one index probe per site, not a walk of the whole index


def dirty_marks(engine: Engine, sites: list[str] | None) -> list[Mark]:
    """The rollup_dirty marks of `sites` (None: all), read before a refresh reads the calls."""
    table = store.rollup_dirty
    query = sa.select(table.c.site, table.c.day, table.c.marked_at)
    if sites is not None:
        query = query.where(table.c.site.in_(sites))
    with engine.connect() as conn:
        return [Mark(*row) for row in conn.execute(query)]


def _covered_count(engine: Engine, sites: list[str], start: date, end: date, key: str) -> int:
    """How many (site, date) of the range rollup_days holds under `key`: all of them (one per site and
    day, its primary key) means none needs computing, found without reading a row per day (36,500 for a
    year of 100 offices)."""
    table = store.rollup_days
    query = sa.select(sa.func.count()).select_from(table).where(
        table.c.date >= start, table.c.date <= end, table.c.site.in_(sites), table.c.settings_key == key
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _covered(engine: Engine, sites: list[str], start: date, end: date) -> dict[tuple[str, date], str]:
    table = store.rollup_days
    query = sa.select(table.c.site, table.c.date, table.c.settings_key).where(
        table.c.date >= start, table.c.date <= end, table.c.site.in_(sites)
    )
    with engine.connect() as conn:
        return {(row[0], row[1]): row[2] for row in conn.execute(query)}


def _local_dates(params: MetricParams, utc_day: date) -> list[date]:
    """The practice-local dates that the UTC day [00:00, 24:00) touches (one or two)."""
    begin = datetime.combine(utc_day, time(0), tzinfo=UTC)
    first = begin.astimezone(params.tz).date()
    last = (begin + timedelta(days=1, microseconds=-1)).astimezone(params.tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _overlaps(days: list[date], start: date, end: date) -> bool:
    return days[0] <= end and days[-1] >= start


def _spans(days: list[date]) -> list[tuple[date, date]]:
    """Sorted dates -> (first, last) reads: nearby dates together, none longer than MAX_SPAN_DAYS."""
    spans: list[tuple[date, date]] = []
    for day in days:
        if spans:
            first, last = spans[-1]
            if (day - last).days <= MAX_GAP_DAYS and (day - first).days < MAX_SPAN_DAYS:
                spans[-1] = (first, day)
                continue
        spans.append((day, day))
    return spans


def _recompute(
    engine: Engine, params: MetricParams, key: str, todo: set[tuple[str, date]], marks: list[Mark]
) -> int:
    for first, last in _spans(sorted({d for _, d in todo})):
        pairs = {(s, d) for s, d in todo if first <= d <= last}
        try:
            sites = sorted({s for s, _ in pairs})
            start, end = local_day_bounds(params, first, last)
            calls = load_calls(engine, start=start, end=end, site=sites)
            rows = daily_rollup(prepare(calls, params), params) if len(calls) else None
        except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime) as exc:
            # One impossible row must not stop every other day's rollups (they stay marked for a later try).
            log.warning("per-day rollups: skipped %s..%s: %s", first, last, exc)
            continue
        _write(engine, key, rows, pairs)
    clear_marks(engine, marks)
    return len(todo)


def _write(engine: Engine, key: str, rows: pd.DataFrame | None, pairs: set[tuple[str, date]]) -> None:
    records: list[dict[str, Any]] = []
    if rows is not None and len(rows):
        rows = rows.assign(date=rows["date"].dt.date)
        wanted = pd.MultiIndex.from_arrays([rows["site"], rows["date"]]).isin(list(pairs))
        records = rows.loc[wanted, list(ROLLUP_COLUMNS)].assign(settings_key=key).to_dict("records")
    by_site: dict[str, list[date]] = defaultdict(list)
    for site, day in sorted(pairs):
        by_site[site].append(day)
    now = datetime.now(UTC)
    table = store.call_rollups
    with engine.begin() as conn:
        for site, days in by_site.items():
            for chunk in range(0, len(days), 500):
                dates = days[chunk : chunk + 500]
                conn.execute(sa.delete(table).where(table.c.site == site, table.c.date.in_(dates)))
        store.upsert_in(conn, table, records, keys=("site", "date", "queue"))
        done = [{"site": s, "date": d, "settings_key": key, "computed_at": now} for s, d in sorted(pairs)]
        store.upsert_in(conn, store.rollup_days, done, keys=("site", "date"))


def clear_marks(engine: Engine, marks: list[Mark]) -> None:
    """Delete the marks a refresh read, each only if no write re-marked its day since (marked_at unchanged)."""
    if not marks:
        return
    table = store.rollup_dirty
    query = sa.delete(table).where(
        table.c.site == sa.bindparam("m_site"),
        table.c.day == sa.bindparam("m_day"),
        table.c.marked_at == sa.bindparam("m_at", type_=store.UtcDateTime()),
    )
    with engine.begin() as conn:
        conn.execute(query, [{"m_site": m.site, "m_day": m.day, "m_at": m.marked_at} for m in marks])
