"""The dashboard's only door to the data: settings, engine and metrics calls.

Callbacks ask this module for frames and numbers and never see SQL. The
per-app context (settings, MetricParams, engine) hangs on the Flask app, so
each gunicorn worker and each test app has its own and module globals stay
empty.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
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
from callwatch.metrics.follow_ups import (
    URGENCY_ORDER,
    awaiting_follow_up,
    by_urgency,
    follow_up_summary,
    follow_up_summary_by,
    follow_ups,
)
from callwatch.metrics.frame import prepare
from callwatch.metrics.in_database import database_numbers
from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import summarize_rollup
from callwatch.metrics.summary import after_hours_counts, summarize, summarize_by
from callwatch.metrics.training_verdicts import JudgedTraining, judge_trainings
from callwatch.model import mask_caller

log = logging.getLogger(__name__)
_EXTENSION = "callwatch"
_OPTIONS_TTL_SECONDS = 60.0


# What the Calls page's "Why these values?" calls: (store engine, site, call_id) -> masked text lines.
Explainer = Callable[[Engine, str, str], list[str]]


@dataclass
class DashboardContext:
    settings: Settings
    params: MetricParams
    engine: Engine
    # Site/queue names for the filter menus; cached per app because the
    # distinct scan touches every row and the names rarely change.
    _options: tuple[float, list[str], list[str]] | None = field(default=None, repr=False)
    # Answers shared by every session of this app for a moment (the live
    # refresh: every screen of one office asks the same question each 2 s).
    shared: TTLCache = field(default_factory=TTLCache, repr=False)
    # (site, call_id) marked handled since the shared follow-up lists were built.
    # (Kept for a few minutes: by then every shared list was rebuilt from the store, which has them.)
    handled_now: dict[str, float] = field(default_factory=dict, repr=False)
    # (engine, site, call_id) -> the lines explaining that stored call, numbers masked; injected by the CLI
    # (collector.explain re-reads the PBX's logs; the dashboard may not import the collector).
    explain: Explainer | None = field(default=None, repr=False)


def attach(server: flask.Flask, settings: Settings, engine: Engine | None = None,
           explain: Explainer | None = None) -> DashboardContext:
    if engine is None:
        engine = store.create_engine(settings.database_url)
        store.init_db(engine)
    ctx = DashboardContext(settings, MetricParams.from_settings(settings), engine, explain=explain)
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


# One default range on every page with dates: the last four weeks.
DEFAULT_DAYS = 28


def parse_range(ctx: DashboardContext, start: str | None, end: str | None, default_days: int = DEFAULT_DAYS,
                site: str | None = None, queue: str | None = None) -> Range:
    """The range in the URL or the filters; without one, the last `default_days` days that have calls.

    A store whose newest call is older than that (the bundled October sample, an
    import of last year's logs) opens on the weeks up to its newest call, not on
    an empty range.
    """
    last = _parse_date(end) or default_last_day(ctx, site)
    first = _parse_date(start) or (last - timedelta(days=default_days - 1))
    if first > last:
        first, last = last, first
    return Range(first, last, site or None, queue or None)


def default_last_day(ctx: DashboardContext, site: str | None = None) -> date:
    """Today, unless no call arrived in the last DEFAULT_DAYS days: then the day of the newest call."""
    now = today(ctx.params)
    newest = latest_call_day(ctx, site)
    if newest is not None and newest < now - timedelta(days=DEFAULT_DAYS - 1):
        return newest
    return now


def latest_call_day(ctx: DashboardContext, site: str | None = None) -> date | None:
    """The practice-local day of the newest stored call (None: no calls)."""
    newest = loader.latest_arrival(ctx.engine, site)
    return None if newest is None else newest.astimezone(ctx.params.tz).date()


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


SITE_SETTINGS_TTL_SECONDS = 60.0


def params_for(ctx: DashboardContext, site: str | None) -> MetricParams:
    """The params office `site` is judged by (its stored settings, else this file's view; None: the file's office)."""
    name = site or ctx.settings.site
    return ctx.shared.get(("site-params", name), SITE_SETTINGS_TTL_SECONDS,
                          lambda: MetricParams.from_settings(loader.settings_for_site(ctx.engine, ctx.settings, name)))


def params_for_sites(ctx: DashboardContext, sites: list[str]) -> dict[str, MetricParams]:
    """params_for of each of `sites`, the stored settings read once for all of them (not once per office:
    100 reads of the whole site_settings table took 0.7 s for a group of 100)."""
    stored: dict[str, Any] | None = None

    def compute(name: str) -> MetricParams:
        nonlocal stored
        if stored is None:
            stored = loader.load_site_settings(ctx.engine)
        # loader.settings_for_site, with the table read above
        return MetricParams.from_settings(ctx.settings.for_site(name, stored.get(name)))

    return {site: ctx.shared.get(("site-params", site), SITE_SETTINGS_TTL_SECONDS,
                                 lambda site=site: compute(site))  # type: ignore[misc]
            for site in sites}


def prepared_calls(ctx: DashboardContext, rng: Range) -> pd.DataFrame:
    """The calls arriving in the range (each office's own local days), with metrics' derived columns.

    Every office is prepared with its own settings (time zone, opening hours,
    ring target), so with all offices selected each is still judged by its own.
    """
    sites = [rng.site] if rng.site else (filter_options(ctx)[0] or [ctx.settings.site])
    own = params_for_sites(ctx, sites)
    bounds = [rng.utc_bounds(params) for params in own.values()]
    calls = loader.load_calls(ctx.engine, start=min(b[0] for b in bounds), end=max(b[1] for b in bounds),
                              site=rng.site)
    if rng.queue:
        calls = calls[calls["queue"] == rng.queue]
    if rng.site:
        return prepare(calls, own[rng.site])
    first, last = pd.Timestamp(rng.first), pd.Timestamp(rng.last)
    parts = []
    for office, office_params in _by_params(ctx, calls, own):
        prepared = prepare(office, office_params)
        parts.append(prepared[((prepared["date"] >= first) & (prepared["date"] <= last)).to_numpy(dtype=bool)])
    if not parts:
        return prepare(calls, ctx.params)
    return pd.concat(parts).sort_values(["arrived_at", "site", "call_id"], kind="stable")


def _sites_by_params(ctx: DashboardContext, sites: list[str],
                     own: dict[str, MetricParams] | None = None) -> list[tuple[MetricParams, list[str]]]:
    """`sites` grouped by the params each office is judged by (equal params: one group), in first-seen order."""
    groups: list[tuple[MetricParams, list[str]]] = []
    every = params_for_sites(ctx, [site for site in sites if site not in (own or {})])
    for site in sites:
        office = (own or {}).get(site) or every[site]
        same = next((names for p, names in groups if p == office), None)
        if same is None:
            groups.append((office, [site]))
        else:
            same.append(site)
    return groups


def _by_params(ctx: DashboardContext, calls: pd.DataFrame,
               own: dict[str, MetricParams]) -> list[tuple[pd.DataFrame, MetricParams]]:
    """The calls split into one frame per distinct params, each with the params its offices are judged by.

    prepare() works call by call, so preparing offices that share settings
    together gives the rows preparing each office alone gives; a group of 100
    offices with one configuration is then one prepare(), not 100 (each with its
    fixed cost; tests/test_dashboard_group_of_offices.py compares both ways).
    """
    groups = _sites_by_params(ctx, [str(s) for s in calls["site"].dropna().unique().tolist()], own)
    if len(groups) == 1:
        return [(calls[calls["site"].notna().to_numpy()], groups[0][0])]
    sites = calls["site"]
    return [(calls[sites.isin(names).to_numpy()], p) for p, names in groups]


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
    # The shared list leaves the caller out at once (awaiting_by_urgency) instead of being rebuilt:
    # with thousands waiting a rebuild would keep the front desk waiting for its own click.
    clock = time.monotonic()
    ctx.handled_now = {k: t for k, t in ctx.handled_now.items() if clock - t < 4 * AWAITING_KEEP_SECONDS}
    ctx.handled_now[f"{site}\x1f{call_id}"] = clock
    store.mark_follow_up_handled(ctx.engine, site, call_id, user)


def act_on_waiting(ctx: DashboardContext, waiting: pd.DataFrame, action: str, site: str, call_id: str,
                   user: str) -> bool:
    """Mark handled ("handle") or show the number of ("reveal") one caller of the `waiting` list; False, and
    nothing stored, for a (site, call_id) the list does not hold: a browser can send any pair, and only
    callers the page offered may be marked or looked at."""
    offered = bool(((waiting["site"] == site) & (waiting["call_id"] == call_id)).any()) if len(waiting) else False
    if not offered:
        log.warning("follow-ups: %s asked to %s a call that is not awaiting follow-up (site %r)", user, action, site)
        return False
    if action == "handle":
        mark_follow_up_handled(ctx, site, call_id, user)
        return True
    if action == "reveal" and may_see_numbers(ctx, user):
        reveal_caller(ctx, site, call_id, user)
        return True
    return False


def may_see_numbers(ctx: DashboardContext, user: str) -> bool:
    """May `user` see a waiting caller's full number (dashboard.caller_number_viewers; None: every user)?"""
    viewers = ctx.settings.dashboard.caller_number_viewers
    return viewers is None or user in viewers


def reveal_caller(ctx: DashboardContext, site: str, call_id: str, user: str) -> None:
    """Keep that `user` was shown the full number of (site, call_id) now (store.caller_reveals)."""
    store.record_caller_reveal(ctx.engine, site, call_id, user)


def day_calls(ctx: DashboardContext, site: str | None, now: datetime) -> pd.DataFrame:
    """Today's calls, practice-local day (the office's own)."""
    day = today(params_for(ctx, site), now)
    return prepared_calls(ctx, Range(day, day, site))


def day_fingerprint(ctx: DashboardContext, site: str | None, now: datetime) -> int:
    """A hash of today's stored call rows as they are: unchanged means today's numbers are too.

    The live page rebuilds "today so far" only when this changes (loader.day_rows_hash says why it pays).
    """
    params = params_for(ctx, site)
    day = today(params, now)
    start, end = Range(day, day, site).utc_bounds(params)
    return hash((day, loader.day_rows_hash(ctx.engine, start, end, site)))


def by_period(ctx: DashboardContext, prepared: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """summarize_by day or week with the group in a `period` column and within_target as a count."""
    by = "week" if granularity == "week" else "day"
    frame = summarize_by(prepared, ctx.params, by).rename(columns={"week": "period", "date": "period"})
    frame["within_target"] = (frame["within_target_rate"].fillna(0) * frame["offered_timed"]).round().astype("int64")
    return frame


def training_marks(ctx: DashboardContext, site: str | None) -> list[TrainingMark]:
    """Training dates with their verdicts (one per office judged) for the Trends markers, oldest first."""
    marks: dict[tuple[date, str], list[str]] = {}
    for j in judged_trainings(ctx, site):
        marks.setdefault((j.session.date, j.session.title), []).append(f"{j.office}: {j.impact.headline}")
    return [TrainingMark(day, title, "<br>".join(lines)) for (day, title), lines in marks.items()]


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


TABLE_COLUMNS = ("arrived", "site", "caller", "outcome", "rings", "ring_seconds", "ring_time", "answered_by",
                 "extension", "queue", "counted", "left_message", "call_id")
# How each call's source knew its ring time, in the words the Calls page shows.
RING_TIME_WORDS = {"exact": "exact", "derived": "derived (whole seconds)", "unknown": "not in this export"}


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
    if flt.staff:  # an extension, or a name as the page shows it (any case)
        wanted = flt.staff.strip()
        by_name = calls["staff_name"].str.casefold() == wanted.casefold()
        calls = calls[(calls["answered_by"] == wanted) | by_name.fillna(False)]
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
        "ring_time": calls["ring_quality"].map(RING_TIME_WORDS),
        # A person reads the name; the extension stays beside it (a renamed extension keeps its old name).
        "answered_by": calls["staff_name"].fillna(calls["answered_by"]),
        "extension": calls["answered_by"],
        "queue": calls["queue"],
        "counted": why,
        "left_message": calls["left_message"].map({True: "yes", False: "no"}, na_action="ignore"),
        "call_id": calls["call_id"],
    }, columns=list(TABLE_COLUMNS)).sort_values("arrived", ascending=False).reset_index(drop=True)


AWAITING_LOOKBACK_DAYS = 14


def awaiting_follow_ups(ctx: DashboardContext, site: str | None, now: datetime,
                        days: int = AWAITING_LOOKBACK_DAYS) -> pd.DataFrame:
    """Callers still waiting for a call back (metrics.follow_ups.awaiting_follow_up), oldest first."""
    params = params_for(ctx, site)
    last = today(params, now)
    calls = prepared_calls(ctx, Range(last - timedelta(days=days - 1), last, site))
    handled = loader.load_follow_up_handled(ctx.engine, site)
    return awaiting_follow_up(calls, params, now, handled)


AWAITING_KEEP_SECONDS = 30.0


def awaiting_by_urgency(ctx: DashboardContext, site: str | None, now: datetime) -> pd.DataFrame:
    """awaiting_follow_ups, most urgent first (metrics.follow_ups.by_urgency), shared by every screen for 30 s.

    Marking a caller handled clears it at once (mark_follow_up_handled), so
    the front desk sees its own click straight away.
    """
    def compute() -> pd.DataFrame:
        return by_urgency(awaiting_follow_ups(ctx, site, now), ctx.params, now)

    waiting = ctx.shared.get(("awaiting", site, today(ctx.params, now)), AWAITING_KEEP_SECONDS, compute)
    if ctx.handled_now and len(waiting):
        keys = waiting["site"].astype(str) + "\x1f" + waiting["call_id"].astype(str)
        waiting = waiting[~keys.isin(list(ctx.handled_now)).to_numpy()]
    return waiting


def awaiting_follow_up_counts(ctx: DashboardContext, site: str | None, now: datetime) -> dict[str, int]:
    """Callers waiting for a call back: {"due_today", "overdue", "later", "waiting"} (every live screen asks)."""
    urgency = awaiting_by_urgency(ctx, site, now)["urgency"]
    counts = {u.replace(" ", "_"): int((urgency == u).sum()) for u in URGENCY_ORDER}
    return {**counts, "waiting": len(urgency)}


def follow_up_weeks(
    ctx: DashboardContext, prepared: pd.DataFrame, now: datetime
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Follow-up rate and median time over the range and per week."""
    rows = follow_ups(prepared, ctx.params)
    weekly = follow_up_summary_by(rows, "week", now=now, params=ctx.params)
    weekly["median_hours"] = weekly["median_follow_up_seconds"] / 3600.0
    first = pd.to_datetime(prepared["local_arrived"]).min().date() if len(prepared) else today(ctx.params, now)
    weekly = mark_partial(weekly, "week", Range(first, today(ctx.params, now)), today(ctx.params, now))
    return follow_up_summary(rows, now=now, params=ctx.params), weekly


def add_training(ctx: DashboardContext, site: str | None, day: date, title: str, notes: str = "") -> None:
    """Store a training for `site` (None: every office) and forget the verdicts computed before it."""
    store.add_training(ctx.engine, site, day, title, notes)
    ctx.shared.clear()


VERDICTS_TTL_SECONDS = 300.0


def judged_trainings(ctx: DashboardContext, site: str | None) -> list[JudgedTraining]:
    """Every training judged at its office (metrics.training_verdicts, as the CLI and the report), cached a while."""
    return ctx.shared.get(("verdicts", site), VERDICTS_TTL_SECONDS,
                          lambda: judge_trainings(ctx.engine, ctx.settings, site))


# Up to this many days the trends read every call (medians exact); longer
# ranges sum the per-day rollups persisted in the store (rollup_store.load_rollups),
# which keep a year of a busy group fast from the first request of any worker.
RAW_RANGE_DAYS = 92


@dataclass(frozen=True)
class StaffingNumbers:
    """The Staffing page's numbers: totals (summarize), by staff, by weekday and hour, by hour."""

    totals: dict[str, Any]
    staff: pd.DataFrame
    weekday_hour: pd.DataFrame
    hour: pd.DataFrame


def staffing_numbers(ctx: DashboardContext, rng: Range) -> StaffingNumbers | None:
    """summarize and summarize_by staff / weekday_hour / hour over the range's calls; None: no calls in it.

    Over more than RAW_RANGE_DAYS days, when the offices shown share one set of
    settings and no queue is picked, the database counts them
    (metrics.in_database: the same numbers, medians included, with memory that
    does not grow with the calls); otherwise from the prepared calls.
    """
    sites = [rng.site] if rng.site else filter_options(ctx)[0]
    groups = _sites_by_params(ctx, sites) if sites else []
    if (rng.last - rng.first).days + 1 > RAW_RANGE_DAYS and not rng.queue and len(groups) == 1:
        params = groups[0][0]
        start, end = rng.utc_bounds(params)
        where = rng.site or None  # every office
        found = {by: database_numbers(ctx.engine, params, start, end, where, by)
                 for by in ("staff", "weekday_hour", "hour")}
        if not found["staff"].calls:
            return None
        frames = [found[by].groups for by in ("staff", "weekday_hour", "hour")]
        staff, heat, by_hour = (frame if frame is not None else pd.DataFrame() for frame in frames)
        return StaffingNumbers(found["staff"].summary, staff, heat, by_hour)
    calls = prepared_calls(ctx, rng)
    if calls.empty:
        return None
    p = ctx.params
    return StaffingNumbers(summarize(calls, p), summarize_by(calls, p, "staff"), summarize_by(calls, p, "weekday_hour"),
                           summarize_by(calls, p, "hour"))


@dataclass(frozen=True)
class Trend:
    totals: dict[str, Any]
    periods: pd.DataFrame
    closed_calls: int
    exact_speed: bool  # False: from rollups, only the mean speed of answer is known


def mark_partial(periods: pd.DataFrame, granularity: str, rng: Range, today_: date) -> pd.DataFrame:
    """`days` each period covers of its whole (7 a week, 1 a day) and `partial`: a week cut by the range
    or not over yet, or today, so a chart can show it as such and never as a whole period."""
    if periods.empty:
        return periods.assign(days=pd.Series(dtype="int64"), partial=pd.Series(dtype="bool"))
    start = pd.to_datetime(periods["period"]).dt.date
    span = 7 if granularity == "week" else 1
    last = min(rng.last, today_)
    days = [max(0, (min(s + timedelta(days=span - 1), last) - max(s, rng.first)).days + 1) for s in start]
    partial = [d < span or (s + timedelta(days=span - 1)) >= today_ for s, d in zip(start, days, strict=True)]
    return periods.assign(days=days, partial=partial)


def trend(ctx: DashboardContext, rng: Range, granularity: str) -> Trend | None:
    """The Trends page's numbers: None when no call arrived in the range; partial periods marked."""
    found = _trend(ctx, rng, granularity)
    if found is None:
        return None
    periods = mark_partial(found.periods, granularity, rng, today(ctx.params))
    return Trend(found.totals, periods, found.closed_calls, found.exact_speed)


def _trend(ctx: DashboardContext, rng: Range, granularity: str) -> Trend | None:
    if (rng.last - rng.first).days + 1 <= RAW_RANGE_DAYS:
        calls = prepared_calls(ctx, rng)
        if calls.empty:
            return None
        closed = after_hours_counts(calls)["calls"]
        return Trend(summarize(calls, ctx.params), by_period(ctx, calls, granularity), closed, True)
    sites = [rng.site] if rng.site else filter_options(ctx)[0]
    # Each office's rollups under its own settings (settings_key differs per office); the offices
    # sharing settings in one read (100 offices of one group: one read, not 100).
    parts = [rollup_store.load_rollups(ctx.engine, p, start=rng.first, end=rng.last, site=names)
             for p, names in _sites_by_params(ctx, sites)]
    roll = pd.concat(parts or [rollup_store.load_rollups(ctx.engine, ctx.params, start=rng.first, end=rng.last)],
                     ignore_index=True)
    if parts:
        # Office by office in `sites` order, each by date and queue, as when read one office at a time
        # (the float sums below then add in the same order).
        place = {s: i for i, s in enumerate(sites)}
        roll = (roll.assign(_place=roll["site"].map(place)).sort_values(["_place", "date", "queue"], kind="stable")
                .drop(columns="_place").reset_index(drop=True))
    if rng.queue:
        roll = roll[roll["queue"] == rng.queue]
    if not int(roll["offered"].sum() + roll["short_abandoned"].sum() + roll["after_hours_calls"].sum()):
        return None
    by = "week" if granularity == "week" else "day"
    grouped = summarize_rollup(roll, by)
    assert isinstance(grouped, pd.DataFrame)
    periods = grouped.rename(columns={"week": "period", "date": "period"})
    periods["within_target"] = (periods["within_target_rate"].fillna(0) * periods["offered_timed"]).round().astype(
        "int64")
    totals = summarize_rollup(roll)
    assert isinstance(totals, dict)
    return Trend(totals, periods, int(roll["after_hours_calls"].sum()), False)
