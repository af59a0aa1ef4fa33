"""summarize / summarize_by: the headline numbers of DESIGN.md "Metrics".

Over the calls prepare() marked in scope (by default inbound, business hours):
- offered = inbound calls - short abandons
- answer/voicemail/abandonment/missed rate = each outcome / offered (sum to 1)
- within_target_rate = answered within target_rings x ring_cycle_seconds / offered_timed,
  the offered calls whose ring time is known (all of them from AMI or Master.csv;
  none from an export without answer times)
- speed of answer (asa_*): mean, median, 90th percentile (linear interpolation)
  of answered calls' ring_seconds, and of their rings counts, over answered_timed
  calls (answered with a known ring time).
Rates are fractions 0..1 and None (NaN in frames) when nothing was offered; the
within-target rate and speed of answer are None when no call has a ring time —
unknown, never 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from callwatch.metrics.frame import Scope, in_scope
from callwatch.metrics.params import MetricParams
from callwatch.metrics.speed import SPEED_KEYS, answered_with_ring_time, speed_of_answer
from callwatch.model import Outcome

COUNT_KEYS: tuple[str, ...] = (
    "offered", "answered", "voicemail", "abandoned", "short_abandoned", "missed", "offered_timed", "answered_timed",
)
RATE_KEYS: tuple[str, ...] = ("answer_rate", "voicemail_rate", "abandonment_rate", "missed_rate", "within_target_rate")
SUMMARY_KEYS: tuple[str, ...] = COUNT_KEYS + RATE_KEYS + SPEED_KEYS

GROUPINGS: dict[str, tuple[str, ...]] = {
    "day": ("date",),
    "week": ("week",),
    "month": ("month",),
    "hour": ("hour",),
    "weekday_hour": ("weekday", "hour"),
    "staff": ("answered_by", "staff_name"),
    "queue": ("queue",),
    "site": ("site",),
}
# Group label for calls without a value (unanswered calls have no staff member).
NONE_LABEL = "(none)"


def outcome_flags(scoped: pd.DataFrame) -> pd.DataFrame:
    """One 0/1 column per count (and the sums behind the mean speed), ready to group and sum."""
    outcome = scoped["outcome"]
    short = scoped["short_abandon"].to_numpy(dtype=bool)
    kept = ~short

    def flag(name: str) -> np.ndarray:
        return (outcome == name).to_numpy(dtype=bool, na_value=False) & kept

    answered = flag(Outcome.ANSWERED.value)
    ring = scoped["ring_seconds"].to_numpy(dtype="float64", na_value=np.nan)
    timed = answered & ~np.isnan(ring)
    rings = scoped["rings"].to_numpy(dtype="float64", na_value=np.nan)
    return pd.DataFrame(
        {
            "offered": kept.astype("int64"),
            "answered": answered.astype("int64"),
            "voicemail": flag(Outcome.VOICEMAIL.value).astype("int64"),
            "abandoned": flag(Outcome.ABANDONED.value).astype("int64"),
            "short_abandoned": short.astype("int64"),
            "missed": flag(Outcome.MISSED.value).astype("int64"),
            "within_target": scoped["within_target"].to_numpy(dtype=bool).astype("int64"),
            "answered_timed": timed.astype("int64"),
            "offered_timed": (kept & scoped["ring_known"].to_numpy(dtype=bool)).astype("int64"),
            "ring_seconds_sum": np.where(timed, ring, 0.0),
            "rings_sum": np.where(timed, rings, 0.0),
        },
        index=scoped.index,
    )


def rates_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts (as from outcome_flags summed, or a rollup) -> counts, rates and mean speed.

    Exact from sums: every count and rate, and the mean speed of answer.
    Median and p90 need the raw ring times and are left NaN here.
    """
    out = pd.DataFrame(index=counts.index)
    for key in COUNT_KEYS:
        out[key] = counts[key].astype("int64")
    offered = counts["offered"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(offered > 0, offered, np.nan)
        parts = ("answered", "voicemail", "abandoned", "missed")
        for rate, part in zip(RATE_KEYS, parts, strict=False):
            out[rate] = counts[part].to_numpy(dtype="float64") / safe
        offered_timed = counts["offered_timed"].to_numpy(dtype="float64")
        out["within_target_rate"] = counts["within_target"].to_numpy(dtype="float64") / np.where(
            offered_timed > 0, offered_timed, np.nan)
        timed = counts["answered_timed"].to_numpy(dtype="float64")
        timed = np.where(timed > 0, timed, np.nan)
        out["asa_mean_s"] = counts["ring_seconds_sum"].to_numpy(dtype="float64") / timed
        out["asa_median_s"] = np.nan
        out["asa_p90_s"] = np.nan
        out["asa_mean_rings"] = counts["rings_sum"].to_numpy(dtype="float64") / timed
        out["asa_median_rings"] = np.nan
        out["asa_p90_rings"] = np.nan
    return out[list(SUMMARY_KEYS)]


def period_start(dates: pd.Series, period: str) -> pd.Series:
    """Local midnight dates -> the Monday of their week ("week") or the 1st of their month ("month")."""
    if period == "week":
        # Weeks start Monday: the date minus its weekday (0 = Monday).
        return dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
    if period == "month":
        return dates - pd.to_timedelta(dates.dt.day - 1, unit="D")
    raise ValueError(f"period must be week or month, not {period!r}")


def _with_group_columns(scoped: pd.DataFrame, by: str) -> tuple[pd.DataFrame, list[str]]:
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {sorted(GROUPINGS)}, not {by!r}")
    keys = list(GROUPINGS[by])
    frame = scoped
    if by in ("week", "month"):
        frame = frame.assign(**{by: period_start(frame["date"], by)})
    elif by in ("staff", "queue", "site"):
        frame = frame.assign(**{keys[0]: frame[keys[0]].fillna(NONE_LABEL)})
        if by == "staff":  # one row per person: a renamed extension's two names are two rows
            frame = frame.assign(staff_name=frame["staff_name"].fillna(""))
    return frame, keys


def _speed_by(scoped: pd.DataFrame, keys: list[str]) -> pd.DataFrame | None:
    """Median and p90 of ring_seconds and rings over answered calls with a ring time, per group."""
    answered = answered_with_ring_time(scoped)
    if not len(answered):
        return None  # nothing to take a quantile of: the columns stay NaN
    values = pd.DataFrame(
        {
            "s": answered["ring_seconds"].to_numpy(dtype="float64"),
            "r": answered["rings"].to_numpy(dtype="float64", na_value=np.nan),
        },
        index=answered.index,
    )
    for key in keys:
        values[key] = answered[key].array  # the array itself: to_numpy() would turn strings into objects
    grouped = values.groupby(keys, sort=True, dropna=False)
    quantiles = grouped[["s", "r"]].quantile([0.5, 0.9]).unstack()
    return pd.DataFrame(
        {
            "asa_median_s": quantiles[("s", 0.5)],
            "asa_p90_s": quantiles[("s", 0.9)],
            "asa_median_rings": quantiles[("r", 0.5)],
            "asa_p90_rings": quantiles[("r", 0.9)],
        }
    )


# What outcome_flags and _speed_by read from a prepared frame (besides the group keys).
_READ_COLUMNS = ("outcome", "short_abandon", "ring_seconds", "rings", "within_target", "ring_known")


def summarize_by(
    prepared: pd.DataFrame, params: MetricParams, by: str, *, scope: Scope = "business_hours"
) -> pd.DataFrame:
    """One row per group, the group key column(s) first, then the summarize() columns.

    by: day (column `date`, local midnight), week (`week`, the Monday),
    month (`month`, the 1st), hour,
    weekday_hour (`weekday` 0 = Monday, `hour`), staff (`answered_by` and
    `staff_name`, empty when no name is known),
    queue, site. Calls without a staff member/queue fall in "(none)".
    Only groups that have calls appear.
    """
    del params  # the params already shaped prepare(); kept for a uniform signature
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {sorted(GROUPINGS)}, not {by!r}")
    # Filter only the columns read below: a prepared frame has ~30 columns,
    # several of them strings, and taking rows from all of them cost more
    # than the grouping itself.
    sources = ["date"] if by in ("week", "month") else list(GROUPINGS[by])
    columns = list(dict.fromkeys([*_READ_COLUMNS, *sources]))
    scoped = prepared[columns][in_scope(prepared, scope)]
    scoped, keys = _with_group_columns(scoped, by)
    flags = outcome_flags(scoped)
    for key in keys:
        flags[key] = scoped[key].array
    counts = flags.groupby(keys, sort=True, dropna=False).sum()
    result = rates_from_counts(counts)
    speed = _speed_by(scoped, keys) if len(result) else None
    if speed is not None:
        speed = speed.reindex(result.index)
        for column in speed.columns:
            result[column] = speed[column].to_numpy()
    return result.reset_index()


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else value


def summarize(prepared: pd.DataFrame, params: MetricParams, *, scope: Scope = "business_hours") -> dict[str, Any]:
    """The headline numbers over all calls in scope (see module doc); None where undefined."""
    del params
    scoped = prepared[in_scope(prepared, scope)]
    row = rates_from_counts(outcome_flags(scoped).sum().to_frame().T).iloc[0]
    counts = {key: int(row[key]) for key in COUNT_KEYS}
    rates = {key: _none_if_nan(float(row[key])) for key in RATE_KEYS}
    return counts | rates | speed_of_answer(scoped)


def after_hours_counts(prepared: pd.DataFrame) -> dict[str, int]:
    """Inbound calls while the practice was closed, by outcome (holidays included and also counted apart)."""
    scoped = prepared[in_scope(prepared, "after_hours")]
    counts = scoped["outcome"].value_counts()
    result = {"calls": len(scoped), "holiday_calls": int(scoped["holiday"].sum())}
    for outcome in Outcome:
        result[outcome.value] = int(counts.get(outcome.value, 0))
    result["left_message"] = int(scoped["left_message"].fillna(False).astype(bool).sum())
    return result
