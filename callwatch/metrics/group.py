"""Group view: several offices sharing one database, side by side.

For the manager of a group of practices: which office answers best this week,
which worst, and how each moved since the previous period. Every rate is the
same definition as summarize() (DESIGN.md "Metrics"), computed per site over
practice-local dates [start, end).

Best and worst are ranked by answer rate (ties: within-target rate), and only
among offices with at least `min_offered` offered calls, so a branch that took
three calls on a quiet day is not crowned the best office of the group.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from callwatch.metrics.follow_ups import follow_ups
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import summarize_by

GROUP_COLUMNS: tuple[str, ...] = (
    "site", "offered", "offered_timed", "answered", "answer_rate", "within_target_rate", "voicemail_rate",
    "abandonment_rate", "missed_rate", "asa_median_s", "asa_p90_s", "follow_up_rate", "prev_offered",
    "prev_answer_rate", "prev_within_target_rate", "answer_rate_change", "within_target_rate_change", "rank",
    "best", "worst",
)
_FROM_SUMMARY = (
    "offered", "offered_timed", "answered", "answer_rate", "within_target_rate", "voicemail_rate",
    "abandonment_rate", "missed_rate", "asa_median_s", "asa_p90_s",
)
# Enough business days after `end` for any follow-up window to close (long weekends, holidays).
_FOLLOW_UP_SLACK_DAYS = 14


def week_bounds(day: date) -> tuple[date, date]:
    """The Monday of `day`'s week and the Monday after: the [start, end) of "this week"."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def _between(prepared: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    dates = prepared["date"]
    return prepared[((dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end))).to_numpy(dtype=bool)]


def _per_site(prepared: pd.DataFrame, params: MetricParams, start: date, end: date) -> pd.DataFrame:
    table = summarize_by(_between(prepared, start, end), params, "site")
    return table.set_index("site")[list(_FROM_SUMMARY)]


def _follow_up_rates(prepared: pd.DataFrame, params: MetricParams, start: date, end: date) -> pd.Series:
    # Later calls (after `end`) can be the follow-up, so read a little past the period.
    window = _between(prepared, start, end + timedelta(days=_FOLLOW_UP_SLACK_DAYS))
    rows = follow_ups(window, params)
    rows = rows[(rows["date"] < pd.Timestamp(end)).to_numpy(dtype=bool)]
    if not len(rows):
        return pd.Series(dtype="float64")
    return rows.groupby("site")["followed_up"].mean().astype("float64")


def compare_sites(
    prepared: pd.DataFrame,
    params: MetricParams,
    start: date,
    end: date,
    *,
    min_offered: int = 20,
    with_follow_ups: bool = True,
) -> pd.DataFrame:
    """One row per office (every site in `prepared`), best answer rate first; columns GROUP_COLUMNS.

    prev_* are the same numbers over the equally long period just before
    `start`; *_change is this period minus that one (fractions, so 0.05 is
    5 points). follow_up_rate is the share of this period's calls needing a
    follow-up that got one within the window (NaN with with_follow_ups=False).
    rank is 1 for the best office among those with >= min_offered offered
    calls (NaN for the rest); best/worst mark the first and last of them.
    """
    sites = sorted(prepared["site"].dropna().unique().tolist())
    now = _per_site(prepared, params, start, end).reindex(sites)
    span = end - start
    prev = _per_site(prepared, params, start - span, start).reindex(sites)
    out = now.copy()
    out["offered"] = out["offered"].fillna(0).astype("int64")
    out["offered_timed"] = out["offered_timed"].fillna(0).astype("int64")
    out["answered"] = out["answered"].fillna(0).astype("int64")
    out["follow_up_rate"] = (
        _follow_up_rates(prepared, params, start, end).reindex(sites) if with_follow_ups else np.nan
    )
    out["prev_offered"] = prev["offered"].fillna(0).astype("int64")
    out["prev_answer_rate"] = prev["answer_rate"]
    out["prev_within_target_rate"] = prev["within_target_rate"]
    out["answer_rate_change"] = out["answer_rate"] - out["prev_answer_rate"]
    out["within_target_rate_change"] = out["within_target_rate"] - out["prev_within_target_rate"]

    ranked = out[out["offered"] >= min_offered].sort_values(
        ["answer_rate", "within_target_rate"], ascending=False, kind="stable"
    )
    out["rank"] = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index).reindex(out.index).astype("Int64")
    out["best"] = out.index == (ranked.index[0] if len(ranked) else None)
    out["worst"] = out.index == (ranked.index[-1] if len(ranked) > 1 else None)
    out = out.reset_index(names="site")
    # Ranked offices first (best to worst), then the ones too quiet to rank, by name.
    out = out.sort_values(["rank", "site"], na_position="last", kind="stable", ignore_index=True)
    return out[list(GROUP_COLUMNS)]


def group_summary(compared: pd.DataFrame) -> dict[str, Any]:
    """The whole group in one line: total offered, pooled rates, and the best/worst office names."""
    offered = int(compared["offered"].sum())
    timed = int(compared["offered_timed"].sum())
    answered = int(compared["answered"].sum())
    # Within target is over the calls with a ring time (an office whose log has none adds nothing).
    within = float((compared["within_target_rate"].fillna(0) * compared["offered_timed"]).sum())
    best = compared.loc[compared["best"], "site"]
    worst = compared.loc[compared["worst"], "site"]
    return {
        "offices": len(compared),
        "offered": offered,
        "answered": answered,
        "answer_rate": answered / offered if offered else None,
        "offered_timed": timed,
        "within_target_rate": within / timed if timed else None,
        "best": best.iloc[0] if len(best) else None,
        "worst": worst.iloc[0] if len(worst) else None,
    }
