"""Per-day rollups: a year of a 10-office group in a few thousand rows.

daily_rollup() sums what can be summed, per site x local date x queue, so
year-long trend views never have to hold a million calls. summarize_rollup()
turns rollup rows back into the summarize() numbers.

What is exact from a rollup and what is not:
- every count, every rate and within_target_rate: exact (sums of counts;
  within target over offered_timed, the offered calls with a ring time);
- mean speed of answer (seconds and rings): exact (sum / answered_timed);
- median and 90th percentile speed of answer: NOT derivable from sums — they
  come back None/NaN; compute them with summary.summarize_by on the raw calls
  of the period you need them for;
- staff and hour-of-day breakdowns: not in the rollup (use summarize_by).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import (
    NONE_LABEL,
    SUMMARY_KEYS,
    in_scope,
    outcome_flags,
    period_start,
    rates_from_counts,
)
from callwatch.model import Outcome

ROLLUP_KEYS: tuple[str, ...] = ("site", "date", "queue")
# Business-hours sums (outcome_flags) followed by the closed-practice counts.
SUM_COLUMNS: tuple[str, ...] = (
    "offered", "answered", "voicemail", "abandoned", "short_abandoned", "missed", "within_target",
    "answered_timed", "offered_timed", "ring_seconds_sum", "rings_sum",
)
AFTER_HOURS_COLUMNS: tuple[str, ...] = (
    "after_hours_calls", "holiday_calls", "after_hours_answered", "after_hours_voicemail",
    "after_hours_abandoned", "after_hours_missed",
)
ROLLUP_COLUMNS: tuple[str, ...] = ROLLUP_KEYS + SUM_COLUMNS + AFTER_HOURS_COLUMNS


def _keys(scoped: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    keys = pd.DataFrame(
        {
            "site": scoped["site"].to_numpy(),
            "date": scoped["date"].to_numpy(),
            "queue": scoped["queue"].fillna(NONE_LABEL).to_numpy(),
        },
        index=scoped.index,
    )
    if "hour" in names:
        keys["hour"] = scoped["hour"].to_numpy()
    return keys[names]


def daily_rollup(prepared: pd.DataFrame, params: MetricParams, *, hourly: bool = False) -> pd.DataFrame:
    """One row per site x local date x queue (no queue: "(none)") with ROLLUP_COLUMNS.

    The business-hours columns are the sums summarize() is built from;
    after_hours_* count inbound calls while the practice was closed
    (holiday_calls is the holiday part of after_hours_calls).
    hourly=True adds an `hour` key (local hour of arrival) after `date`, so
    year-long hour and weekday x hour views can come from rollups too.
    """
    del params  # prepare() already applied them; kept for a uniform signature
    names = ["site", "date", "hour", "queue"] if hourly else list(ROLLUP_KEYS)
    open_mask = in_scope(prepared, "business_hours")
    closed_mask = in_scope(prepared, "after_hours")

    business = prepared[open_mask]
    flags = outcome_flags(business)
    flags[names] = _keys(business, names)
    open_sums = flags.groupby(names, sort=False).sum()

    closed = prepared[closed_mask]
    outcome = closed["outcome"]
    after = _keys(closed, names)
    after["after_hours_calls"] = 1
    after["holiday_calls"] = closed["holiday"].to_numpy(dtype=bool).astype("int64")
    for name in (Outcome.ANSWERED, Outcome.VOICEMAIL, Outcome.ABANDONED, Outcome.MISSED):
        is_outcome = (outcome == name.value).to_numpy(dtype=bool, na_value=False)
        after[f"after_hours_{name.value}"] = is_outcome.astype("int64")
    closed_sums = after.groupby(names, sort=False).sum()

    rollup = open_sums.join(closed_sums, how="outer").fillna(0)
    for column in SUM_COLUMNS + AFTER_HOURS_COLUMNS:
        if column not in ("ring_seconds_sum", "rings_sum"):
            rollup[column] = rollup[column].astype("int64")
    rollup = rollup.sort_index().reset_index()
    rollup["date"] = rollup["date"].astype("datetime64[us]")
    if hourly:
        rollup["hour"] = rollup["hour"].astype("int64")
    return rollup[names + list(SUM_COLUMNS + AFTER_HOURS_COLUMNS)]


ROLLUP_GROUPINGS = ("day", "week", "month", "queue", "site", "hour", "weekday_hour")


def summarize_rollup(rollup: pd.DataFrame, by: str | None = None) -> dict[str, Any] | pd.DataFrame:
    """summarize() numbers from daily_rollup rows: a dict (by None) or one row per group.

    by: day (`date`), week (`week`, the Monday), month (`month`, the 1st),
    queue, site; hour and weekday_hour (`weekday` 0 = Monday, `hour`) need a
    daily_rollup(..., hourly=True). Median and p90 speed come back None/NaN
    (see module doc).
    """
    if by is None:
        totals = rollup[list(SUM_COLUMNS)].sum().to_frame().T
        row = rates_from_counts(totals).iloc[0]
        return {
            key: (int(row[key]) if key in SUM_COLUMNS else (None if np.isnan(row[key]) else float(row[key])))
            for key in SUMMARY_KEYS
        }
    if by not in ROLLUP_GROUPINGS:
        raise ValueError(f"by must be one of {ROLLUP_GROUPINGS}, not {by!r}")
    if by in ("hour", "weekday_hour") and "hour" not in rollup.columns:
        raise ValueError(f"by={by!r} needs daily_rollup(..., hourly=True)")
    frame = rollup[list(SUM_COLUMNS)].copy()
    if by in ("week", "month"):
        keys = [by]
        frame[by] = period_start(rollup["date"], by).to_numpy()
    elif by == "weekday_hour":
        keys = ["weekday", "hour"]
        frame["weekday"] = rollup["date"].dt.day_of_week.to_numpy()
        frame["hour"] = rollup["hour"].to_numpy()
    else:
        keys = [{"day": "date"}.get(by, by)]
        frame[keys[0]] = rollup[keys[0]].to_numpy()
    counts = frame.groupby(keys, sort=True).sum()
    # Like summarize_by: only groups with business-hours calls (after-hours-only rows drop out).
    counts = counts[(counts["offered"] + counts["short_abandoned"]) > 0]
    return rates_from_counts(counts).reset_index()


def settings_key(params: MetricParams) -> str:
    """A short fingerprint of the params that shape daily_rollup rows.

    Time zone (which local date a call falls on), opening hours and holidays
    (business vs after hours), ring cycle and target (within target, rings),
    short abandon; not the voicemail or follow-up settings, which no rollup
    column depends on. Persisted rollups carry it, so rows computed under
    other settings are recomputed instead of read.
    """
    shape = (
        params.timezone,
        repr(float(params.ring_cycle_seconds)),
        int(params.target_rings),
        repr(float(params.short_abandon_seconds)),
        [[(o.isoformat(), c.isoformat()) for o, c in day] for day in params.business_hours],
        sorted(d.isoformat() for d in params.holidays),
    )
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:16]
