"""Speed of answer (DESIGN.md): how long callers rang before a person picked up.

Over answered calls that have a ring time (a call with no ring_started_at
cannot say how long it rang and is left out): mean, median and 90th
percentile (linear interpolation, as numpy/pandas quantile) of ring_seconds,
and the same statistics of each call's rings = floor(ring_seconds /
ring_cycle_seconds) + 1 — "median 2 rings" is the median call's ring count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from callwatch.metrics.frame import Scope, in_scope
from callwatch.metrics.params import MetricParams
from callwatch.model import Outcome

SPEED_KEYS: tuple[str, ...] = (
    "asa_mean_s", "asa_median_s", "asa_p90_s", "asa_mean_rings", "asa_median_rings", "asa_p90_rings",
)


def answered_with_ring_time(scoped: pd.DataFrame) -> pd.DataFrame:
    """The answered calls of an (already scoped) prepared frame that have a ring time."""
    mask = (scoped["outcome"] == Outcome.ANSWERED.value).to_numpy(dtype=bool, na_value=False)
    return scoped[mask & scoped["ring_seconds"].notna().to_numpy()]


def speed_of_answer(scoped: pd.DataFrame) -> dict[str, float | None]:
    """asa_* (SPEED_KEYS) over the answered calls of an already scoped frame; None when there are none."""
    answered = answered_with_ring_time(scoped)
    if not len(answered):
        return dict.fromkeys(SPEED_KEYS)
    seconds = answered["ring_seconds"].to_numpy(dtype="float64")
    rings = answered["rings"].to_numpy(dtype="float64", na_value=np.nan)
    s_median, s_p90 = np.quantile(seconds, [0.5, 0.9])
    r_median, r_p90 = np.quantile(rings, [0.5, 0.9])
    return {
        "asa_mean_s": float(seconds.mean()), "asa_median_s": float(s_median), "asa_p90_s": float(s_p90),
        "asa_mean_rings": float(rings.mean()), "asa_median_rings": float(r_median), "asa_p90_rings": float(r_p90),
    }


def ring_distribution(
    prepared: pd.DataFrame, params: MetricParams, *, max_rings: int = 6, scope: Scope = "business_hours"
) -> pd.DataFrame:
    """How many answered calls were picked up on ring 1, 2, ... max_rings or later.

    Columns: rings (1..max_rings; the last row counts max_rings and later),
    label ("1".."6+"), answered, share (of answered calls with a ring time),
    cumulative_share, on_target (the ring lies within target_rings). Every
    row is present, zero or not, so a chart keeps its axis.
    """
    answered = answered_with_ring_time(prepared[in_scope(prepared, scope)])
    rings = np.minimum(answered["rings"].to_numpy(dtype="float64", na_value=np.nan), max_rings)
    counts = np.bincount(rings.astype("int64"), minlength=max_rings + 1)[1 : max_rings + 1]
    total = counts.sum()
    share = counts / total if total else np.full(max_rings, np.nan)
    numbers = np.arange(1, max_rings + 1)
    labels = [str(n) for n in numbers[:-1]] + [f"{max_rings}+"]
    return pd.DataFrame({
        "rings": numbers,
        "label": pd.Series(labels, dtype="str"),
        "answered": counts.astype("int64"),
        "share": share,
        "cumulative_share": np.cumsum(share) if total else share,
        "on_target": numbers <= params.target_rings,
    })
