"""The weekly report's numbers: everything the HTML, the CSV and the email show.

`build_report` does the one read (through metrics.loader); `report_from_frame`
is pure — a prepared frame, the params and a period in, a `WeeklyReport` out —
so the tests can check the numbers without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from callwatch.config.settings import Settings
from callwatch.metrics import catalog
from callwatch.metrics import follow_ups as fu
from callwatch.metrics.frame import prepare
from callwatch.metrics.hours import local_day_bounds
from callwatch.metrics.loader import load_calls, load_follow_up_handled, settings_for_site
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import (
    COUNT_KEYS,
    NONE_LABEL,
    RATE_KEYS,
    SPEED_KEYS,
    SUMMARY_KEYS,
    summarize,
    summarize_by,
)
from callwatch.metrics.training_verdicts import JudgedTraining, judge_trainings
from callwatch.report.model import MetricLine, WeeklyReport
from callwatch.report.observations import observations
from callwatch.report.periods import Period, last_complete_week

# Trainings up to six weeks before the period still get their measured effect shown.
TRAINING_LOOKBACK_DAYS = 42
TREND_WEEKS = 8
# Follow-ups of late-week calls happen the next week; read that far past the period.
FOLLOW_UP_READ_DAYS = 14
MAX_AWAITING_ROWS = 25



def _between(prepared: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    day = prepared["date"]
    return prepared[((day >= pd.Timestamp(first)) & (day <= pd.Timestamp(last))).to_numpy(dtype=bool)]


def _metric_lines(
    prepared: pd.DataFrame, params: MetricParams, period: Period, goals: dict[str, float]
) -> tuple[dict[str, Any], tuple[MetricLine, ...]]:
    this = summarize(_between(prepared, period.first, period.last), params)
    prev_p = period.shifted(-1)
    prev = summarize(_between(prepared, prev_p.first, prev_p.last), params)
    avg = summarize(_between(prepared, period.shifted(-4).first, prev_p.last), params)
    all_goals = {**goals, "asa_median_s": params.target_seconds}
    lines = tuple(
        MetricLine(m.key, m.label, m.unit, bool(m.higher_is_better), this[m.key], prev[m.key], avg[m.key],
                   all_goals.get(m.key))
        for m in map(catalog.metric, catalog.REPORT_LINES)
    )
    return this, lines


def _daily(week: pd.DataFrame, params: MetricParams, period: Period) -> pd.DataFrame:
    by_day = summarize_by(week, params, "day").set_index("date")
    rows = []
    for offset in range(period.days):
        day = period.first + timedelta(days=offset)
        stamp = pd.Timestamp(day)
        open_day = params.business_weekmask[day.weekday()] and day not in params.holidays
        if stamp in by_day.index:
            rows.append({"date": day, **by_day.loc[stamp].to_dict()})
        elif open_day:
            rows.append({"date": day} | dict.fromkeys(COUNT_KEYS, 0))
    frame = pd.DataFrame(rows, columns=["date", *SUMMARY_KEYS])
    return frame.astype(dict.fromkeys(COUNT_KEYS, "int64") | dict.fromkeys(RATE_KEYS + SPEED_KEYS, "float64"))


def _lost_by_hour(week: pd.DataFrame, params: MetricParams) -> pd.DataFrame:
    """Every weekday x hour slot with calls: lost = offered - answered, share of the week's lost."""
    slots = summarize_by(week, params, "weekday_hour")
    slots["lost"] = slots["offered"] - slots["answered"]
    total = max(int(slots["lost"].sum()), 1)
    slots["share"] = slots["lost"] / total
    slots = slots.sort_values(["lost", "weekday", "hour"], ascending=[False, True, True])
    columns = ["weekday", "hour", "lost", "offered", "voicemail", "abandoned", "missed", "share"]
    return slots[columns].astype({"weekday": "int64", "hour": "int64"}).reset_index(drop=True)


def _staff(week: pd.DataFrame, params: MetricParams) -> pd.DataFrame:
    staff = summarize_by(week, params, "staff")
    staff = staff[(staff["answered_by"] != NONE_LABEL) & (staff["answered"] > 0)].copy()
    total = max(int(staff["answered"].sum()), 1)
    staff["share"] = staff["answered"] / total
    # Staff rows hold answered calls only, so within target over offered calls with a ring time is
    # over their answered calls with one (NaN when none has a ring time).
    staff["within_target_share"] = staff["within_target_rate"]
    staff = staff.sort_values(["answered", "answered_by"], ascending=[False, True])
    return staff[["answered_by", "staff_name", "answered", "answered_timed", "share", "within_target_share",
                  "asa_median_s", "asa_p90_s"]]


def _awaiting(
    prepared: pd.DataFrame, params: MetricParams, period: Period, now: datetime, handled: pd.DataFrame | None
) -> pd.DataFrame:
    waiting = fu.awaiting_follow_up(prepared, params, now, handled)
    # "From this week": callers whose wait began in the period (a caller first missed the week
    # before belongs to that week's report), the same calls the follow-up numbers count.
    since, until = (pd.Timestamp(t) for t in local_day_bounds(params, period.first, period.last))
    first = waiting["first_arrived_at"]
    waiting = waiting[((first >= since) & (first < until)).to_numpy(dtype=bool)]
    return pd.DataFrame(
        {
            "caller_masked": waiting["caller_masked"],
            "first_arrived_local": waiting["first_arrived_at"].dt.tz_convert(params.timezone).dt.tz_localize(None),
            "calls": waiting["calls"],
            "last_outcome": waiting["last_outcome"],
            "left_message": waiting["left_message"],
            "overdue": waiting["overdue"],
        }
    ).reset_index(drop=True)


def report_from_frame(
    prepared: pd.DataFrame,
    params: MetricParams,
    period: Period,
    *,
    site: str,
    goals: dict[str, float],
    trainings: Sequence[JudgedTraining],
    now: datetime,
    handled: pd.DataFrame | None = None,
) -> WeeklyReport:
    """The report over `prepared` (calls from well before the period up to `now`).

    `trainings`: this office's trainings as judge_trainings judged them (those
    from six weeks before the period to its end are shown).
    """
    upto_end = prepared[(prepared["date"] <= pd.Timestamp(period.last)).to_numpy(dtype=bool)]
    week = _between(prepared, period.first, period.last)
    summary, lines = _metric_lines(upto_end, params, period, goals)
    trend_first = period.last - timedelta(days=7 * TREND_WEEKS - 1)
    trend_first -= timedelta(days=trend_first.weekday())
    trend = summarize_by(_between(upto_end, trend_first, period.last), params, "week")
    rows = fu.follow_ups(prepared, params)
    rows = rows[((rows["date"] >= pd.Timestamp(period.first)) & (rows["date"] <= pd.Timestamp(period.last))).to_numpy()]
    awaiting = _awaiting(prepared, params, period, now, handled)
    results = tuple(t for t in trainings
                    if period.first - timedelta(days=TRAINING_LOOKBACK_DAYS) <= t.session.date <= period.last)
    report = WeeklyReport(
        site=site,
        timezone=params.timezone,
        period=period,
        generated_at=now,
        params_note=params.describe(),
        summary=summary,
        metrics=lines,
        daily=_daily(week, params, period),
        trend=trend[["week", "offered", "answer_rate", "within_target_rate"]],
        lost_by_hour=_lost_by_hour(week, params),
        staff=_staff(week, params),
        follow_up=fu.follow_up_summary(rows, now=now, params=params),
        awaiting=awaiting.head(MAX_AWAITING_ROWS),
        awaiting_total=len(awaiting),
        awaiting_overdue=int(awaiting["overdue"].sum()),
        trainings=results,
        observations=(),
    )
    return replace(report, observations=tuple(observations(report)))


def build_report(
    engine: Engine,
    settings: Settings,
    period: Period | None = None,
    *,
    site: str | None = None,
    now: datetime | None = None,
) -> WeeklyReport:
    """Read what the report needs from the store and compute it (default: the last complete week)."""
    now = now or datetime.now(UTC)
    site = site or settings.site
    own = settings_for_site(engine, settings, site)  # the office's own time zone, hours and goals
    period = period or last_complete_week(now, own.timezone)
    params = MetricParams.from_settings(own)
    lookback = max(4 * period.days, 7 * TREND_WEEKS + 7)
    start, _ = local_day_bounds(params, period.first - timedelta(days=lookback), None)
    _, end = local_day_bounds(params, None, period.last + timedelta(days=FOLLOW_UP_READ_DAYS))
    end = min(end, now) if end is not None else now
    prepared = prepare(load_calls(engine, start=start, end=end, site=site), params)
    return report_from_frame(
        prepared,
        params,
        period,
        site=site,
        goals=own.report.goal_by_metric,
        trainings=judge_trainings(engine, settings, site),
        now=now,
        handled=load_follow_up_handled(engine, site),
    )
