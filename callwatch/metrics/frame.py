"""prepare(): the Call frame plus every derived column the metrics read.

Derived columns (DESIGN.md "Derived, not stored"):
- ring_seconds: (answered_at, else ring_ended_at, else ended_at) - ring_started_at, never negative;
  NaN when the call never rang (hung up during the greeting), has no end, or its
  source cannot know how long it rang (ring_quality unknown).
- ring_known: the call's ring time is known (ring_quality exact or derived).
- pre_ring_seconds: ring_started_at - arrived_at (greeting/IVR time).
- rings: floor(ring_seconds / ring_cycle_seconds) + 1 (nullable Int64).
- local_arrived: arrived_at in the practice's time zone, naive; date (local
  midnight), weekday (0 = Monday), hour.
- after_hours: the practice was closed (outside opening hours or a holiday);
  holiday: the local date is a holiday (holiday calls are also after_hours).
- short_abandon: abandoned with ring_seconds < short_abandon_seconds, or with
  no ring time at all (it never rang); never when the ring time is unknown
  (nothing says the abandon was short, so it counts).
- within_target: answered with ring_seconds <= target_rings x ring_cycle_seconds.
- counted: inbound, business hours, has an outcome, not a short abandon —
  the calls that make up "offered".
- staff_name: who answered, by name (metrics.staff): callwatch.yaml `staff:`
  on the call's local date, else the name the PBX gave; empty when unknown.

Ring-time comparisons are done on integer microseconds, so "exactly 18 s"
is on target and 18.001 s is not, with no floating-point doubt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from callwatch.metrics import hours
from callwatch.metrics.params import MetricParams
from callwatch.metrics.staff import configured_names
from callwatch.model import Direction, Outcome, RingQuality, mask_caller

MASK = mask_caller("0")  # the character model.mask_caller hides a digit with

_US = 1_000_000
Scope = Literal["business_hours", "after_hours", "all"]


def _micros(delta: pd.Series) -> np.ndarray:
    """Timedelta series -> float array of whole microseconds (NaN where missing)."""
    return (delta // pd.Timedelta(microseconds=1)).to_numpy(dtype="float64", na_value=np.nan)


def prepare(calls: pd.DataFrame, params: MetricParams) -> pd.DataFrame:
    """Return a copy of `calls` (load_calls' columns) with the derived columns added."""
    df = calls.copy()
    stop = df["answered_at"].fillna(df["ring_ended_at"]).fillna(df["ended_at"])
    ring_us = np.maximum(_micros(stop - df["ring_started_at"]), 0.0)  # NaN stays NaN
    known = (df["ring_quality"] != RingQuality.UNKNOWN.value).to_numpy(dtype=bool, na_value=False)
    ring_us[~known] = np.nan
    df["ring_known"] = known
    pre_us = _micros(df["ring_started_at"] - df["arrived_at"])
    df["ring_seconds"] = ring_us / _US
    df["pre_ring_seconds"] = pre_us / _US

    cycle_us = round(params.ring_cycle_seconds * _US)
    rings = np.floor(ring_us / cycle_us) + 1  # exact: both are whole microseconds
    df["rings"] = pd.array(rings, dtype="Float64").astype("Int64")

    local = hours.to_local(df["arrived_at"], params)
    df["local_arrived"] = local
    df["date"] = local.dt.normalize()
    df["weekday"] = local.dt.day_of_week.astype("int8")
    df["hour"] = local.dt.hour.astype("int8")
    df["holiday"] = hours.is_holiday(local, params).to_numpy()
    df["after_hours"] = (~hours.open_now(local, params)).to_numpy() | df["holiday"].to_numpy()

    outcome = df["outcome"]
    short_us = round(params.short_abandon_seconds * _US)
    abandoned = (outcome == Outcome.ABANDONED.value).to_numpy(dtype=bool, na_value=False)
    no_ring = np.isnan(ring_us)
    df["short_abandon"] = abandoned & known & (no_ring | (ring_us < short_us))

    answered = (outcome == Outcome.ANSWERED.value).to_numpy(dtype=bool, na_value=False)
    target_us = round(params.target_seconds * _US)
    df["within_target"] = answered & ~no_ring & (ring_us <= target_us)

    inbound = (df["direction"] == Direction.INBOUND.value).to_numpy(dtype=bool, na_value=False)
    has_outcome = outcome.notna().to_numpy()
    df["counted"] = inbound & ~df["after_hours"].to_numpy() & has_outcome & ~df["short_abandon"].to_numpy()
    df["staff_name"] = configured_names(df["answered_by"], df["date"], params.staff).fillna(df["answered_by_name"])
    return df


def in_scope(prepared: pd.DataFrame, scope: Scope = "business_hours") -> np.ndarray:
    """Inbound calls with an outcome, in business hours / after hours / either (a boolean mask)."""
    mask = (prepared["direction"] == Direction.INBOUND.value).to_numpy(dtype=bool, na_value=False)
    mask = mask & prepared["outcome"].notna().to_numpy()
    closed = prepared["after_hours"].to_numpy(dtype=bool)
    if scope == "business_hours":
        mask = mask & ~closed
    elif scope == "after_hours":
        mask = mask & closed
    elif scope != "all":
        raise ValueError(f"scope must be business_hours, after_hours or all, not {scope!r}")
    return mask


def _per_distinct(numbers: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    # A year of calls has far fewer distinct numbers than calls, and string
    # work is slow per value: convert each distinct number once, then spread.
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    converted = np.append(convert(pd.Series(uniques, dtype="str")).to_numpy(dtype=object), "")
    return pd.Series(converted[codes], index=numbers.index, dtype="str")


def _mask_distinct(numbers: pd.Series) -> pd.Series:
    digits = numbers.str.replace(r"\D", "", regex=True)
    length = digits.str.len().to_numpy(dtype="int64", na_value=0)
    hidden = np.where(length <= 4, length, length - 4)
    bullets = np.array([MASK * k for k in range(int(hidden.max(initial=0)) + 1)], dtype=object)
    shown = digits.str[-4:].where(length > 4, "").to_numpy(dtype=object)
    return pd.Series(bullets[hidden] + shown, index=numbers.index, dtype="str")


def masked_callers(numbers: pd.Series) -> pd.Series:
    """model.mask_caller over a column: only the last 4 digits show (empty stays empty)."""
    return _per_distinct(numbers, _mask_distinct)


def number_key(numbers: pd.Series, digits: int = 10) -> pd.Series:
    """Digits only, the last `digits` of them: "+1 617-555-0101" and "916175550101" match "6175550101"."""
    return _per_distinct(numbers, lambda u: u.str.replace(r"\D", "", regex=True).str[-digits:])
