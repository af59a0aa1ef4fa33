"""summarize / summarize_by / after_hours_counts computed by the database: memory that does not grow with calls.

The database counts calls per time bucket (metrics.buckets), outcome and
ring-time class, and returns the ring times of answered business-hours calls
as a histogram (one row per distinct whole-microsecond ring time: about a
hundred for whole-second sources). Every count, rate and mean follows from the
counts; the median and 90th percentile from the histogram, by the same linear
interpolation numpy (summarize) and pandas (summarize_by) use on the raw
values — so the numbers are those of summary.py over prepare()d calls.

Not here: follow-ups, trainings and call lists, which need the calls themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from callwatch.metrics.buckets import make_buckets
from callwatch.metrics.loader import RankTargets, RingLimits, arrival_span, load_bucket_numbers
from callwatch.metrics.params import MetricParams
from callwatch.metrics.speed import SPEED_KEYS
from callwatch.metrics.staff import configured_names
from callwatch.metrics.summary import (
    COUNT_KEYS,
    GROUPINGS,
    NONE_LABEL,
    RATE_KEYS,
    rates_from_counts,
)
from callwatch.model import Outcome

_US = 1_000_000
Sites = str | Sequence[str] | None
_BUCKET_KEYS = {"day": ("day",), "week": ("week",), "month": ("month",), "hour": ("hour",),
                "weekday_hour": ("weekday", "hour"), "staff": (), "queue": (), "site": ()}
_CALL_KEYS = {"staff": ("answered_by", "answered_by_name"), "queue": ("queue",), "site": ("site",)}


class Numbers(NamedTuple):
    """What `callwatch metrics` prints: calls stored, business-hours summary, after hours, groups."""

    calls: int
    summary: dict[str, Any]
    after_hours: dict[str, int]
    groups: pd.DataFrame | None  # summarize_by's frame when `by` was asked for


def _limits(params: MetricParams) -> RingLimits:
    return RingLimits(round(params.short_abandon_seconds * _US), round(params.target_seconds * _US),
                      round(params.ring_cycle_seconds * _US))


def _flag(values: pd.Series) -> np.ndarray:
    return values.astype("boolean").to_numpy(dtype=bool, na_value=False)


def _flags(counts: pd.DataFrame) -> pd.DataFrame:
    """summary.outcome_flags, weighted: each row stands for `n` calls of the same class."""
    n = counts["n"].to_numpy(dtype="int64")
    outcome = counts["outcome"]
    known, has_ring = _flag(counts["known"]), _flag(counts["has_ring"])
    short = (outcome == Outcome.ABANDONED.value).to_numpy() & known & (~has_ring | _flag(counts["lt_short"]))
    kept = ~short
    answered = (outcome == Outcome.ANSWERED.value).to_numpy() & kept
    timed = answered & has_ring
    ring_sum = counts["ring_us_sum"].to_numpy(dtype="float64", na_value=0.0)
    out = pd.DataFrame({
        "offered": n * kept, "answered": n * answered,
        "voicemail": n * ((outcome == Outcome.VOICEMAIL.value).to_numpy() & kept),
        "abandoned": n * ((outcome == Outcome.ABANDONED.value).to_numpy() & kept),
        "short_abandoned": n * short, "missed": n * ((outcome == Outcome.MISSED.value).to_numpy() & kept),
        "within_target": n * (answered & has_ring & _flag(counts["le_target"])),
        "answered_timed": n * timed, "offered_timed": n * (kept & known),
        "ring_seconds_sum": np.where(timed, ring_sum / _US, 0.0),
        "rings_sum": np.where(timed, counts["rings_sum"].to_numpy(dtype="float64", na_value=0.0), 0.0),
    }, index=counts.index)
    return out


class _Histogram:
    """Ring times of one group's answered business-hours calls: whole-second bins, exact where needed.

    A bin whose ring times are all whole seconds (fraction 0) is exact as it
    is; a bin with sub-second ring times is exact only from the exact values
    (ring_us ascending, with their counts) that the second scan fetched.
    """

    def __init__(self, seconds: np.ndarray, counts: np.ndarray, fraction: np.ndarray,
                 exact_us: np.ndarray | None = None, exact_n: np.ndarray | None = None) -> None:
        order = np.argsort(seconds, kind="stable")
        seconds, counts, fraction = seconds[order], counts[order], fraction[order]
        starts = np.flatnonzero(np.r_[True, seconds[1:] != seconds[:-1]]) if len(seconds) else np.array([], int)
        self.seconds = seconds[starts]
        self.fraction = np.maximum.reduceat(fraction, starts) if len(starts) else fraction
        self.cum = np.cumsum(np.add.reduceat(counts, starts)) if len(starts) else counts
        self.n = int(self.cum[-1]) if len(self.cum) else 0
        self.exact_us = exact_us if exact_us is not None else np.array([], dtype="int64")
        self.exact_cum = np.cumsum(exact_n) if exact_n is not None else np.array([], dtype="int64")

    def ranks(self) -> set[int]:
        """0-based ranks that numpy's and pandas' linear median and 90th percentile read."""
        found: set[int] = set()
        if not self.n:
            return found
        for q in (0.5, 0.9):
            for position in (self.n * q + (1 + q * (1 - 1 - 1)) - 1, q * (self.n - 1)):
                below = min(max(int(np.floor(position)), 0), self.n - 1)
                found.update({below, min(below + 1, self.n - 1)})
        return found

    def bin_of(self, rank: int) -> int:
        return int(np.searchsorted(self.cum, rank, side="right"))

    def seconds_needing_exact(self) -> set[int]:
        bins = {self.bin_of(rank) for rank in self.ranks()}
        return {int(self.seconds[i]) for i in bins if self.fraction[i] > 0}

    def offsets_needing_exact(self) -> dict[int, set[int]]:
        """{second: the ranks within its bin (0: its shortest ring time)} that the quantiles read, where exact
        values are needed; the database may return just those values (see ring_us)."""
        found: dict[int, set[int]] = {}
        for rank in self.ranks():
            i = self.bin_of(rank)
            if self.fraction[i] > 0:
                found.setdefault(int(self.seconds[i]), set()).add(rank - (int(self.cum[i - 1]) if i else 0))
        return found

    def ring_us(self, rank: int) -> int:
        """The ring time (µs) of the call at `rank` (0-based) in ascending order.

        exact_us/exact_n may hold every exact value of a bin, or only the values at
        the ranks offsets_needing_exact named, each with the count of ranks up to it
        since the previous one (k1 + 1, k2 - k1, ...): the search below then
        lands on the same value for those ranks.
        """
        i = self.bin_of(rank)
        second = int(self.seconds[i])
        if self.fraction[i] <= 0:
            return second * _US
        # Exact values below this second come first in exact_us; skip them and the bins before.
        first = int(np.searchsorted(self.exact_us, second * _US, side="left"))
        skipped = int(self.exact_cum[first - 1]) if first else 0
        before = int(self.cum[i - 1]) if i else 0
        index = int(np.searchsorted(self.exact_cum, skipped + rank - before, side="right"))
        return int(self.exact_us[index])


def _numpy_quantile(value: Any, n: int, q: float) -> float:
    """np.quantile(method="linear") over n sorted values, value(rank) giving each."""
    virtual = n * q + (1 + q * (1 - 1 - 1)) - 1  # numpy's _compute_virtual_index, alpha = beta = 1
    below = min(max(int(np.floor(virtual)), 0), n - 1)
    a, b = value(below), value(min(below + 1, n - 1))
    t = virtual - np.floor(virtual)
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)


def _pandas_quantile(value: Any, n: int, q: float) -> float:
    """DataFrameGroupBy.quantile (linear) over n sorted values, value(rank) giving each."""
    position = q * (n - 1)
    index = int(position)
    frac = position % 1
    first = value(index)
    if frac == 0.0 or index + 1 >= n:
        return float(first)
    return float(first + (value(index + 1) - first) * frac)


def _speed(hist: _Histogram, params: MetricParams, quantile: Any) -> dict[str, float | None]:
    """Median and p90 of seconds and rings (the means come from the counts' sums)."""
    if not hist.n:
        return dict.fromkeys(("asa_median_s", "asa_p90_s", "asa_median_rings", "asa_p90_rings"))
    cycle_us = float(round(params.ring_cycle_seconds * _US))

    def seconds(rank: int) -> float:
        return float(hist.ring_us(rank)) / _US

    def rings(rank: int) -> float:
        return float(np.floor(float(hist.ring_us(rank)) / cycle_us) + 1)

    return {
        "asa_median_s": quantile(seconds, hist.n, 0.5), "asa_p90_s": quantile(seconds, hist.n, 0.9),
        "asa_median_rings": quantile(rings, hist.n, 0.5), "asa_p90_rings": quantile(rings, hist.n, 0.9),
    }


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else value


def _after_hours(closed: pd.DataFrame) -> dict[str, int]:
    n = closed["n"].to_numpy(dtype="int64")
    result = {"calls": int(n.sum()), "holiday_calls": int(n[closed["holiday"].to_numpy(dtype=bool)].sum())}
    for outcome in Outcome:
        result[outcome.value] = int(n[(closed["outcome"] == outcome.value).to_numpy()].sum())
    result["left_message"] = int(closed["left_message"].to_numpy(dtype="float64", na_value=0.0).sum())
    return result


def _dates(day_numbers: pd.Series) -> pd.Series:
    return pd.Series(day_numbers.to_numpy(dtype="int64").astype("datetime64[D]").astype("datetime64[us]"),
                     index=day_numbers.index)


def _group_keys(frame: pd.DataFrame, by: str, params: MetricParams) -> pd.DataFrame:
    """The columns summarize_by groups on, built from bucket and call keys as _with_group_columns does."""
    keys = pd.DataFrame(index=frame.index)
    if by == "day":
        keys["date"] = _dates(frame["day"])
    elif by in ("week", "month"):
        keys[by] = _dates(frame[by])
    elif by in ("hour", "weekday_hour"):
        for name in GROUPINGS[by]:
            keys[name] = frame[name].astype("int8")
    elif by == "staff":
        named = configured_names(frame["answered_by"].astype("str"), _dates(frame["day"]), params.staff)
        keys["answered_by"] = frame["answered_by"].astype("str").fillna(NONE_LABEL)
        keys["staff_name"] = named.fillna(frame["answered_by_name"].astype("str")).fillna("")
    else:
        keys[by] = frame[by].astype("str").fillna(NONE_LABEL)
    return keys


def _with_day(frame: pd.DataFrame, by: str | None, params: MetricParams) -> pd.DataFrame:
    # Staff names depend on the date only when callwatch.yaml names staff; the
    # database then groups by day too, else no day column is read.
    return frame.assign(day=0) if by == "staff" and not params.staff else frame


def _coarse_arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (frame["hist_s"].to_numpy(dtype="int64"), frame["n"].to_numpy(dtype="int64"),
            frame["fraction_max"].to_numpy(dtype="float64", na_value=0.0))


def _exact_arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Exact ring times ascending with their counts (one group's, or all merged)."""
    values, inverse = np.unique(frame["ring_us"].to_numpy(dtype="int64"), return_inverse=True)
    return values, np.bincount(inverse, weights=frame["n"].to_numpy(dtype="int64"), minlength=len(values)).astype(
        "int64")


def _split(keys: pd.DataFrame) -> tuple[list[Any], np.ndarray]:
    """(the distinct group keys, each row's index into them) as groupby(names, dropna=False) sees them."""
    index = pd.MultiIndex.from_frame(keys)
    codes, uniques = pd.factorize(index)
    names = list(keys.columns)
    labels = [u if len(names) > 1 else u[0] for u in uniques]
    return labels, codes


def _histograms(
    business: pd.DataFrame, exact: pd.DataFrame | None, by: str | None, params: MetricParams,
    overall_exact: pd.DataFrame | None = None,
) -> tuple[_Histogram, dict[Any, _Histogram]]:
    """The histogram of all answered business-hours calls, and one per summarize_by group.

    overall_exact: the overall histogram's exact values when `exact` holds only each group's (RankTargets).
    """
    coarse = business[business["hist_s"].notna().to_numpy()]
    has_exact = exact is not None and len(exact) > 0
    mine = overall_exact if overall_exact is not None else exact
    overall = _Histogram(*_coarse_arrays(coarse),
                         *(_exact_arrays(mine) if mine is not None and len(mine) else (None, None)))
    groups: dict[Any, _Histogram] = {}
    if by is None or not len(coarse):
        return overall, groups
    labels, codes = _split(_group_keys(_with_day(coarse, by, params), by, params))
    seconds, counts, fraction = _coarse_arrays(coarse)
    exact_rows: dict[Any, pd.DataFrame] = {}
    if has_exact:
        assert exact is not None
        exact_labels, exact_codes = _split(_group_keys(_with_day(exact, by, params), by, params))
        exact_rows = {exact_labels[c]: exact.iloc[np.flatnonzero(exact_codes == c)] for c in range(len(exact_labels))}
    for code, label in enumerate(labels):
        rows = codes == code
        found = exact_rows.get(label)
        groups[label] = _Histogram(seconds[rows], counts[rows], fraction[rows],
                                   *(_exact_arrays(found) if found is not None else (None, None)))
    return overall, groups


def _raw_keys(business: pd.DataFrame, by: str, params: MetricParams, bucket_keys: Sequence[str],
              call_keys: Sequence[str]) -> dict[Any, tuple[Any, ...]] | None:
    """{group label: its (bucket key values..., call key values...)} as the counts hold them, when each
    group is exactly one such combination; None when a group gathers several (e.g. staff names by date),
    and the database cannot number a group's calls by its keys alone."""
    coarse = business[business["hist_s"].notna().to_numpy()]
    labels, codes = _split(_group_keys(_with_day(coarse, by, params), by, params))
    columns: list[list[Any]] = [coarse[name].to_numpy(dtype="int64").tolist() for name in bucket_keys]
    columns += [[None if pd.isna(v) else str(v) for v in coarse[name].to_numpy(dtype=object)] for name in call_keys]
    found: dict[Any, tuple[Any, ...]] = {}
    for code, raw in zip(codes.tolist(), zip(*columns, strict=True) if columns else [()] * len(codes), strict=True):
        label = labels[code]
        if found.setdefault(label, raw) != raw:
            return None
    return found


def _groups(business: pd.DataFrame, groups: dict[Any, _Histogram], by: str, params: MetricParams) -> pd.DataFrame:
    keys = _group_keys(_with_day(business, by, params), by, params)
    names = list(keys.columns)
    flags = pd.concat([_flags(business), keys], axis=1)
    result = rates_from_counts(flags.groupby(names, sort=True, dropna=False).sum())
    keys = [key if len(names) > 1 else (key[0] if isinstance(key, tuple) else key) for key in groups]
    speeds = [_speed(hist, params, _pandas_quantile) for hist in groups.values()]
    # One assignment per column (rates_from_counts left them float64 NaN): .loc per group and
    # column cost 0.07 s for the 168 weekday-hours.
    rows = result.index.get_indexer(keys) if keys else np.array([], dtype="int64")
    if (rows < 0).any():  # not expected (the groups come from the same rows); as .loc would, add the row
        for key, got in zip(keys, speeds, strict=True):
            for name, value in got.items():
                result.loc[key, name] = value
        return result.reset_index()
    for name in speeds[0] if speeds else ():
        column = result[name].to_numpy(dtype="float64", copy=True)
        column[rows] = [np.nan if got[name] is None else got[name] for got in speeds]
        result[name] = column
    return result.reset_index()


def database_numbers(
    engine: Engine, params: MetricParams, start: datetime | None, end: datetime | None, site: Sites,
    by: str | None = None,
) -> Numbers:
    """The numbers of summarize, after_hours_counts and summarize_by(by) over calls in [start, end).

    start/end: UTC-aware bounds as from hours.local_day_bounds (None: from the first / to the last call).
    """
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {sorted(GROUPINGS)}, not {by!r}")
    if start is None or end is None:
        span = arrival_span(engine, site)
        if span is None:
            empty = {k: 0 for k in COUNT_KEYS} | dict.fromkeys(RATE_KEYS) | dict.fromkeys(SPEED_KEYS)
            return Numbers(0, empty, _after_hours(pd.DataFrame(columns=["n", "holiday", "outcome", "left_message"])),
                           None)
        start = start or span[0]
        end = end or span[1] + timedelta(microseconds=1)
    buckets = make_buckets(params, start, end)
    call_keys = list(_CALL_KEYS.get(by or "", ()))
    bucket_keys = list(_BUCKET_KEYS.get(by or "", ()))
    if by == "staff" and params.staff:
        bucket_keys = ["day"]  # a configured name depends on the call's date

    def exact_seconds(counts: pd.DataFrame) -> set[int] | dict[int, set[int]] | RankTargets:
        business = counts[counts["open"].to_numpy(dtype=bool)]
        overall, groups = _histograms(business, None, by, params)
        if by is None:
            return overall.offsets_needing_exact()  # a mapping: the database may fetch only these ranks
        raw = _raw_keys(business, by, params, bucket_keys, call_keys) if engine.dialect.name == "postgresql" \
            else None
        if raw is not None:
            # Only the ranks each group's quantiles read, numbered by the database per group and second.
            wanted = {raw[label]: hist.offsets_needing_exact() for label, hist in groups.items()}
            return RankTargets(overall.offsets_needing_exact(), {k: v for k, v in wanted.items() if v})
        needed = overall.seconds_needing_exact()
        for hist in groups.values():
            needed |= hist.seconds_needing_exact()
        return needed

    got = load_bucket_numbers(engine, buckets, start=start, end=end, site=site, limits=_limits(params),
                              call_keys=call_keys, bucket_keys=bucket_keys, exact_seconds=exact_seconds)
    counts = got.counts
    business = counts[counts["open"].to_numpy(dtype=bool)].reset_index(drop=True)
    overall, groups = _histograms(business, got.exact, by, params, got.ranked)
    row = rates_from_counts(_flags(business).sum().to_frame().T).iloc[0]
    summary: dict[str, Any] = {key: int(row[key]) for key in COUNT_KEYS}
    summary |= {key: _none_if_nan(float(row[key])) for key in (*RATE_KEYS, *SPEED_KEYS)}
    summary |= _speed(overall, params, _numpy_quantile)
    after = _after_hours(counts[~counts["open"].to_numpy(dtype=bool)])
    frame = _groups(business, groups, by, params) if by is not None else None
    return Numbers(got.calls, summary, after, frame)
