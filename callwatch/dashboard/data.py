"""The dashboard's only door to the data: settings, engine and metrics calls.

Callbacks ask this module for frames and numbers and never see SQL. The
per-app context (settings, MetricParams, engine) hangs on the Flask app, so
each gunicorn worker and each test app has its own and module globals stay
empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import flask
import pandas as pd
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.config import Settings
from callwatch.dashboard.cache import TTLCache
from callwatch.dashboard.figures import TrainingMark
from callwatch.metrics import hours, loader, rollup_store
from callwatch.metrics.follow_ups import awaiting_follow_up, follow_up_summary, follow_up_summary_by, follow_ups
from callwatch.metrics.frame import prepare
from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import summarize_rollup
from callwatch.metrics.summary import after_hours_counts, summarize, summarize_by
from callwatch.metrics.training import TrainingImpact, training_impact
from callwatch.model import mask_caller

_EXTENSION = "callwatch"
_OPTIONS_TTL_SECONDS = 60.0


@dataclass
class DashboardContext:
    settings: Settings
    params: MetricParams
    engine: Engine
    # Site/queue names for the filter menus; cached per app because the
    # distinct scan touches every row and the names rarely change.
    _options: tuple[float, list[str], list[str]] | None = field(default=None, repr=False)
    _awaiting: dict[str | None, tuple[float, int]] = field(default_factory=dict, repr=False)
    # Answers shared by every session of this app for a moment (the live
    # refresh: every screen of one office asks the same question each 2 s).
    shared: TTLCache = field(default_factory=TTLCache, repr=False)


def attach(server: flask.Flask, settings: Settings, engine: Engine | None = None) -> DashboardContext:
    if engine is None:
        engine = store.create_engine(settings.database_url)
        store.init_db(engine)
    ctx = DashboardContext(settings, MetricParams.from_settings(settings), engine)
    server.extensions[_EXTENSION] = ctx
    return ctx


def context() -> DashboardContext:
    """The context of the app serving the current request."""
    return flask.current_app.extensions[_EXTENSION]


@dataclass(frozen=True)
class Range:
    """A practice-local date range [first, last] (both days included) plus filters."""

    first: date
    last: date
    site: str | None = None
    queue: str | None = None

    def utc_bounds(self, params: MetricParams) -> tuple[datetime, datetime]:
        start, end = hours.local_day_bounds(params, self.first, self.last)
        assert start is not None and end is not None
        return start, end

    def query(self, **extra: Any) -> str:
        """Query string for the Calls page showing the calls behind a number."""
        items: dict[str, Any] = {"start": self.first.isoformat(), "end": self.last.isoformat()}
        if self.site:
            items["site"] = self.site
        if self.queue:
            items["queue"] = self.queue
        items.update({k: v for k, v in extra.items() if v not in (None, "")})
        return "?" + urlencode(items)


def today(params: MetricParams, now: datetime | None = None) -> date:
    """The practice-local calendar day (a wall screen in another zone must not matter)."""
    return (now or datetime.now(UTC)).astimezone(params.tz).date()


def parse_range(ctx: DashboardContext, start: str | None, end: str | None, default_days: int = 90,
                site: str | None = None, queue: str | None = None) -> Range:
    last = _parse_date(end) or today(ctx.params)
    first = _parse_date(start) or (last - timedelta(days=default_days - 1))
    if first > last:
        first, last = last, first
    return Range(first, last, site or None, queue or None)


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def prepared_calls(ctx: DashboardContext, rng: Range) -> pd.DataFrame:
    """The calls arriving in the range (practice-local days), with metrics' derived columns."""
    start, end = rng.utc_bounds(ctx.params)
    calls = loader.load_calls(ctx.engine, start=start, end=end, site=rng.site)
    if rng.queue:
        calls = calls[calls["queue"] == rng.queue]
    return prepare(calls, ctx.params)


def has_calls(ctx: DashboardContext) -> bool:
    """False on a new install: pages then show how to get calls in, not empty charts."""
    return loader.has_calls(ctx.engine)


def filter_options(ctx: DashboardContext) -> tuple[list[str], list[str]]:
    """Sites and queues present in the store, for the filter menus."""
    cached = ctx._options
    if cached is not None and time.monotonic() - cached[0] < _OPTIONS_TTL_SECONDS:
        return cached[1], cached[2]
    sites, queues = loader.sites_and_queues(ctx.engine)
    ctx._options = (time.monotonic(), sites, queues)
    return sites, queues


def mark_follow_up_handled(ctx: DashboardContext, site: str, call_id: str, user: str) -> None:
    ctx._awaiting.clear()
    store.mark_follow_up_handled(ctx.engine, site, call_id, user)


def day_calls(ctx: DashboardContext, site: str | None, now: datetime) -> pd.DataFrame:
    """Today's calls, practice-local day."""
    day = today(ctx.params, now)
    return prepared_calls(ctx, Range(day, day, site))


def day_fingerprint(ctx: DashboardContext, site: str | None, now: datetime) -> int:
    """A hash of today's stored call rows as they are: unchanged means today's numbers are too.

    The live page rebuilds "today so far" only when this changes (loader.day_rows_hash says why it pays).
    """
    day = today(ctx.params, now)
    start, end = Range(day, day, site).utc_bounds(ctx.params)
    return hash((day, loader.day_rows_hash(ctx.engine, start, end, site)))


def by_period(ctx: DashboardContext, prepared: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """summarize_by day or week with the group in a `period` column and within_target as a count."""
    by = "week" if granularity == "week" else "day"
    frame = summarize_by(prepared, ctx.params, by).rename(columns={"week": "period", "date": "period"})
    frame["within_target"] = (frame["within_target_rate"].fillna(0) * frame["offered"]).round().astype("int64")
    return frame


def training_marks(ctx: DashboardContext, site: str | None) -> list[TrainingMark]:
    """Training dates from callwatch.yaml plus those entered at run time, oldest first."""
    return [TrainingMark(t.date, t.title) for t in loader.load_trainings(ctx.engine, ctx.settings, site)]


@dataclass(frozen=True)
class CallFilter:
    """Narrowing beyond the date range, as carried in Calls page links from a chart."""

    outcome: str | None = None  # an outcome, or "unanswered" (voicemail, abandoned or missed)
    weekday: int | None = None  # 0 = Monday
    hour: int | None = None
    staff: str | None = None
    counted: bool = False  # only the calls that make up "offered"

    @classmethod
    def from_query(cls, query: dict[str, Any]) -> CallFilter:
        def as_int(name: str, top: int) -> int | None:
            try:
                value = int(str(query.get(name)))
            except ValueError:
                return None
            return value if 0 <= value <= top else None

        return cls(
            outcome=query.get("outcome") or None,
            weekday=as_int("weekday", 6),
            hour=as_int("hour", 23),
            staff=query.get("staff") or None,
            counted=str(query.get("counted", "")) in ("1", "true", "yes"),
        )


TABLE_COLUMNS = ("arrived", "site", "caller", "outcome", "rings", "ring_seconds", "answered_by", "queue",
                 "counted", "left_message", "call_id")


def call_table(ctx: DashboardContext, rng: Range, flt: CallFilter) -> pd.DataFrame:
    """One row per inbound call for people to read: local time, masked caller, why it is (not) counted."""
    return call_rows(prepared_calls(ctx, rng), flt)


def call_rows(prepared: pd.DataFrame, flt: CallFilter) -> pd.DataFrame:
    """call_table's rows from calls already read and prepared."""
    calls = prepared[prepared["direction"] == "inbound"]
    if flt.outcome == "unanswered":
        calls = calls[calls["outcome"].isin(["voicemail", "abandoned", "missed"])]
    elif flt.outcome:
        calls = calls[calls["outcome"] == flt.outcome]
    if flt.weekday is not None:
        calls = calls[calls["weekday"] == flt.weekday]
    if flt.hour is not None:
        calls = calls[calls["hour"] == flt.hour]
    if flt.staff:
        calls = calls[calls["answered_by"] == flt.staff]
    if flt.counted:
        calls = calls[calls["counted"]]
    why = pd.Series("yes", index=calls.index, dtype="str")
    why = why.mask(calls["after_hours"], "no: practice closed").mask(calls["short_abandon"], "no: short abandon")
    return pd.DataFrame({
        "arrived": calls["local_arrived"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "site": calls["site"],
        "caller": calls["caller"].map(mask_caller, na_action="ignore"),
        "outcome": calls["outcome"],
        "rings": calls["rings"],
        "ring_seconds": calls["ring_seconds"].round(1),
        "answered_by": calls["answered_by"],
        "queue": calls["queue"],
        "counted": why,
        "left_message": calls["left_message"].map({True: "yes", False: "no"}, na_action="ignore"),
        "call_id": calls["call_id"],
    }, columns=list(TABLE_COLUMNS)).sort_values("arrived", ascending=False).reset_index(drop=True)


AWAITING_LOOKBACK_DAYS = 14


def awaiting_follow_ups(ctx: DashboardContext, site: str | None, now: datetime,
                        days: int = AWAITING_LOOKBACK_DAYS) -> pd.DataFrame:
    """Callers still waiting for a call back (metrics.follow_ups.awaiting_follow_up), oldest first."""
    last = today(ctx.params, now)
    calls = prepared_calls(ctx, Range(last - timedelta(days=days - 1), last, site))
    handled = loader.load_follow_up_handled(ctx.engine, site)
    return awaiting_follow_up(calls, ctx.params, now, handled)


AWAITING_COUNT_TTL_SECONDS = 30.0


def awaiting_follow_up_count(ctx: DashboardContext, site: str | None, now: datetime) -> int:
    """How many callers wait for a call back; cached briefly per app, as every live screen asks every 2 s."""
    cached = ctx._awaiting.get(site)
    if cached is not None and time.monotonic() - cached[0] < AWAITING_COUNT_TTL_SECONDS:
        return cached[1]
    count = len(awaiting_follow_ups(ctx, site, now))
    ctx._awaiting[site] = (time.monotonic(), count)
    return count


def follow_up_weeks(
    ctx: DashboardContext, prepared: pd.DataFrame, now: datetime
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Follow-up rate and median time over the range and per week."""
    rows = follow_ups(prepared, ctx.params)
    weekly = follow_up_summary_by(rows, "week", now=now, params=ctx.params)
    weekly["median_hours"] = weekly["median_follow_up_seconds"] / 3600.0
    return follow_up_summary(rows, now=now, params=ctx.params), weekly


def add_training(ctx: DashboardContext, site: str | None, day: date, title: str, notes: str = "") -> None:
    store.add_training(ctx.engine, site or ctx.settings.site, day, title, notes)


def training_impacts(
    ctx: DashboardContext, site: str | None, days: int
) -> tuple[list[tuple[str, TrainingImpact]], dict[str, Any] | None]:
    """(title, training_impact) per training, oldest first, from one read covering every window,
    and summarize() over that read (None without trainings)."""
    sessions = loader.load_trainings(ctx.engine, ctx.settings, site)
    if not sessions:
        return [], None
    first = min(s.date for s in sessions) - timedelta(days=days)
    last = min(max(s.date for s in sessions) + timedelta(days=days), today(ctx.params))
    calls = prepared_calls(ctx, Range(first, max(first, last), site))
    others = tuple(s.date for s in sessions)
    impacts = [(s.title, training_impact(calls, ctx.params, s.date, days, other_trainings=others)) for s in sessions]
    return impacts, summarize(calls, ctx.params)


# Up to this many days the trends read every call (medians exact); longer
# ranges sum the per-day rollups persisted in the store (rollup_store.load_rollups),
# which keep a year of a busy group fast from the first request of any worker.
RAW_RANGE_DAYS = 92


@dataclass(frozen=True)
class Trend:
    totals: dict[str, Any]
    periods: pd.DataFrame
    closed_calls: int
    exact_speed: bool  # False: from rollups, only the mean speed of answer is known


def trend(ctx: DashboardContext, rng: Range, granularity: str) -> Trend | None:
    """The Trends page's numbers: None when no call arrived in the range."""
    if (rng.last - rng.first).days + 1 <= RAW_RANGE_DAYS:
        calls = prepared_calls(ctx, rng)
        if calls.empty:
            return None
        closed = after_hours_counts(calls)["calls"]
        return Trend(summarize(calls, ctx.params), by_period(ctx, calls, granularity), closed, True)
    roll = rollup_store.load_rollups(ctx.engine, ctx.params, start=rng.first, end=rng.last, site=rng.site)
    if rng.queue:
        roll = roll[roll["queue"] == rng.queue]
    if not int(roll["offered"].sum() + roll["short_abandoned"].sum() + roll["after_hours_calls"].sum()):
        return None
    by = "week" if granularity == "week" else "day"
    grouped = summarize_rollup(roll, by)
    assert isinstance(grouped, pd.DataFrame)
    periods = grouped.rename(columns={"week": "period", "date": "period"})
    periods["within_target"] = (periods["within_target_rate"].fillna(0) * periods["offered"]).round().astype("int64")
    totals = summarize_rollup(roll)
    assert isinstance(totals, dict)
    return Trend(totals, periods, int(roll["after_hours_calls"].sum()), False)
