"""Did a training session move the numbers, and is the change real?

`training_impact` compares the N days before a training with the N days after
(business hours, counted calls, the training day itself left out), metric by
metric, and says in words what changed and how likely chance is. When both
sides have enough days it also fits an interrupted time series on the daily
answer rate (level and slope change at the training date, allowing for
weekday), which becomes the headline: it is less fooled by a slow drift that
was already under way.

Pure: a prepared DataFrame (`frame.prepare`) and MetricParams in, a
`TrainingImpact` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from callwatch.formatting import DAY_NAMES, pct, seconds
from callwatch.metrics import catalog
from callwatch.metrics.params import MetricParams
from callwatch.metrics.stats import (
    MedianShift,
    ProportionTest,
    SegmentedFit,
    chance_words,
    median_shift,
    segmented_regression,
    two_proportion_test,
)
from callwatch.model import rings as rings_of

# Below these, a difference says more about luck than about the front desk.
MIN_CALLS_PER_WINDOW = 30
MIN_EXPECTED_PER_CELL = 5  # the normal approximation behind the z-test needs it
MIN_ANSWERED_PER_WINDOW = 20
MIN_ITS_DAYS_PER_SIDE = 10
MIN_CALLS_PER_ITS_DAY = 5
# When the two windows differ this much, the comparison can mislead.
VOLUME_RATIO_WARNING = 1.25
WEEKDAY_MIX_WARNING = 0.10  # total variation distance between weekday shares



@dataclass(frozen=True)
class RateChange:
    metric: str
    label: str
    before_count: int
    before_n: int
    after_count: int
    after_n: int
    higher_is_better: bool
    test: ProportionTest | None  # None when there is too little data to tell
    verdict: str

    @property
    def before(self) -> float | None:
        return self.before_count / self.before_n if self.before_n else None

    @property
    def after(self) -> float | None:
        return self.after_count / self.after_n if self.after_n else None

    @property
    def improved(self) -> bool | None:
        """True/False when the change is unlikely to be chance (p < 0.05), None otherwise."""
        if self.test is None or self.test.p_value >= 0.05 or self.test.difference == 0:
            return None
        return (self.test.difference > 0) == self.higher_is_better


@dataclass(frozen=True)
class SpeedChange:
    before_n: int
    after_n: int
    test: MedianShift | None
    verdict: str

    @property
    def improved(self) -> bool | None:
        if self.test is None or self.test.p_value >= 0.05 or self.test.difference == 0:
            return None
        return self.test.difference < 0


@dataclass(frozen=True)
class TrainingImpact:
    training_date: date
    days: int
    before_window: tuple[date, date]  # inclusive
    after_window: tuple[date, date]  # inclusive
    rates: tuple[RateChange, ...]
    speed: SpeedChange
    its: SegmentedFit | None
    its_verdict: str | None
    headline: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def enough_data(self) -> bool:
        return any(r.test is not None for r in self.rates)

    def rate(self, metric: str) -> RateChange:
        return next(r for r in self.rates if r.metric == metric)

    def lines(self) -> list[str]:
        """Headline, per-metric verdicts and warnings, as a manager reads them."""
        return [self.headline, *(r.verdict for r in self.rates), self.speed.verdict, *self.warnings]


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.date


def _windows(training_date: date, days: int) -> tuple[tuple[date, date], tuple[date, date]]:
    before = (training_date - timedelta(days=days), training_date - timedelta(days=1))
    after = (training_date + timedelta(days=1), training_date + timedelta(days=days))
    return before, after


def _rate_change(metric: str, label: str, higher: bool, x1: int, n1: int, x2: int, n2: int) -> RateChange:
    enough = (
        min(n1, n2) >= MIN_CALLS_PER_WINDOW
        and min(x1 + x2, (n1 - x1) + (n2 - x2)) * min(n1, n2) / (n1 + n2) >= MIN_EXPECTED_PER_CELL
    )
    if not enough:
        verdict = (
            f"{label}: too little data to tell ({pct(x1 / n1) if n1 else '–'} of {n1} calls before, "
            f"{pct(x2 / n2) if n2 else '–'} of {n2} after; at least {MIN_CALLS_PER_WINDOW} calls on each side "
            "are needed)"
        )
        return RateChange(metric, label, x1, n1, x2, n2, higher, None, verdict)
    test = two_proportion_test(x1, n1, x2, n2)
    before, after = pct(test.before), pct(test.after)
    if before == after:
        verdict = f"{label} held at {after}; no change to speak of"
    else:
        moved = "rose" if test.difference > 0 else "fell"
        verdict = f"{label} {moved} from {before} to {after}; {chance_words(test.p_value)}"
    return RateChange(metric, label, x1, n1, x2, n2, higher, test, verdict)


def _speed_change(before: np.ndarray, after: np.ndarray, ring_cycle: float) -> SpeedChange:
    if min(len(before), len(after)) < MIN_ANSWERED_PER_WINDOW:
        return SpeedChange(
            len(before),
            len(after),
            None,
            f"speed of answer: too little data to tell ({len(before)} answered calls before, {len(after)} after; "
            f"at least {MIN_ANSWERED_PER_WINDOW} on each side are needed)",
        )
    test = median_shift(before, after)
    b, a = seconds(test.before_median), seconds(test.after_median)
    rings = f" (ring {rings_of(test.before_median, ring_cycle)} to ring {rings_of(test.after_median, ring_cycle)})"
    if b == a:
        verdict = f"median time to answer held at {a}; {chance_words(test.p_value)}"
    else:
        moved = "fell" if test.difference < 0 else "rose"
        verdict = f"median time to answer {moved} from {b} to {a}{rings}; {chance_words(test.p_value)}"
    return SpeedChange(len(before), len(after), test, verdict)


def _its(counted: pd.DataFrame, training_date: date) -> tuple[SegmentedFit | None, str | None]:
    daily = counted.groupby("_date").agg(offered=("_answered", "size"), answered=("_answered", "sum"))
    daily = daily[daily["offered"] >= MIN_CALLS_PER_ITS_DAY]
    t = np.array([(d - training_date).days for d in daily.index])
    days_before, days_after = int((t < 0).sum()), int((t > 0).sum())
    if min(days_before, days_after) < MIN_ITS_DAYS_PER_SIDE:
        return None, None
    frame = pd.DataFrame(
        {
            "t": t,
            "value": (daily["answered"] / daily["offered"]).to_numpy(),
            "weekday": [d.weekday() for d in daily.index],
        }
    )
    fit = segmented_regression(frame)
    step = fit.level_change * 100
    lo, hi = (v * 100 for v in fit.level_ci)
    direction = "stepped up" if step > 0 else "stepped down"
    text = (
        f"The daily answer rate {direction} by {abs(step):.1f} points at the training, allowing for weekday and "
        f"the trend before it (95% CI {lo:+.1f} to {hi:+.1f} points); {chance_words(fit.level_p)}"
    )
    if fit.slope_p < 0.05:
        per_week = fit.slope_change * 700
        trend = "improved" if per_week > 0 else "worsened"
        text += f", and the trend {trend} by {abs(per_week):.1f} points a week after it"
    return fit, text + "."


def _warnings(
    counted: pd.DataFrame,
    in_before: pd.Series,
    in_after: pd.Series,
    coverage_end: date | None,
    after_end: date,
    days: int,
) -> list[str]:
    out: list[str] = []
    before, after = counted[in_before], counted[in_after]
    days_b, days_a = before["_date"].nunique(), after["_date"].nunique()
    if days_b and days_a:
        per_b, per_a = len(before) / days_b, len(after) / days_a
        if max(per_b, per_a) / max(min(per_b, per_a), 1e-9) >= VOLUME_RATIO_WARNING:
            out.append(
                f"Call volume differs between the windows ({per_b:.0f} calls a day before, {per_a:.0f} after): "
                "a busier or quieter period can move the rates on its own."
            )
        share_b = before["_weekday"].value_counts(normalize=True).reindex(range(7), fill_value=0.0)
        share_a = after["_weekday"].value_counts(normalize=True).reindex(range(7), fill_value=0.0)
        gap = share_a - share_b
        if 0.5 * gap.abs().sum() > WEEKDAY_MIX_WARNING:
            day = int(gap.abs().idxmax())
            out.append(
                f"The windows have a different weekday mix ({DAY_NAMES[day]}s were {pct(share_b[day])} of calls "
                f"before and {pct(share_a[day])} after): busy days answer differently, so this can mislead."
            )
    if coverage_end is not None and coverage_end < after_end:
        have = max(0, days - (after_end - coverage_end).days)
        out.append(f"Only {have} of the {days} days after the training have data so far; the picture may still change.")
    return out


def training_impact(
    prepared_df: pd.DataFrame,
    params: MetricParams,
    training_date: date,
    days: int = 28,
    *,
    other_trainings: tuple[date, ...] = (),
) -> TrainingImpact:
    """Before/after comparison of one training date; see the module docstring."""
    frame = prepared_df.assign(_date=_dates(prepared_df["date"])) if len(prepared_df) else prepared_df.assign(_date=[])
    coverage_end = max(frame["_date"]) if len(frame) else None
    counted = frame[frame["counted"].astype(bool)].reset_index(drop=True)
    counted["_answered"] = (counted["outcome"] == "answered").astype(int)
    counted["_weekday"] = [d.weekday() for d in counted["_date"]]
    (b_start, b_end), (a_start, a_end) = _windows(training_date, days)
    in_before = (counted["_date"] >= b_start) & (counted["_date"] <= b_end)
    in_after = (counted["_date"] >= a_start) & (counted["_date"] <= a_end)
    numerators = {
        "answered": counted["outcome"] == "answered",
        "within_target": counted["within_target"].fillna(False).astype(bool) & (counted["outcome"] == "answered"),
        "voicemail": counted["outcome"] == "voicemail",
        "abandoned": counted["outcome"] == "abandoned",
    }
    n1, n2 = int(in_before.sum()), int(in_after.sum())
    rates = tuple(
        _rate_change(
            m.key,
            m.words,
            bool(m.higher_is_better),
            int((numerators[m.counts] & in_before).sum()),
            n1,
            int((numerators[m.counts] & in_after).sum()),
            n2,
        )
        for m in map(catalog.metric, catalog.TRAINING_RATES)
        if m.counts is not None
    )
    answered = counted[counted["outcome"] == "answered"]
    ring = answered["ring_seconds"].astype(float)
    speed = _speed_change(
        ring[in_before[answered.index] & ring.notna()].to_numpy(),
        ring[in_after[answered.index] & ring.notna()].to_numpy(),
        params.ring_cycle_seconds,
    )
    window = counted[in_before | in_after]
    its, its_verdict = _its(window, training_date) if len(window) else (None, None)
    warnings = _warnings(counted, in_before, in_after, coverage_end, a_end, days)
    for other in sorted(other_trainings):
        if other != training_date and b_start <= other <= a_end:
            warnings.append(
                f"Another training ({other:%b %d}) falls inside these windows; the two effects cannot be separated."
            )
    # The time series is the headline when there are enough days: a drift that
    # was already under way does not pass for an effect of the training.
    headline = its_verdict or f"{rates[0].verdict[0].upper()}{rates[0].verdict[1:]}."
    return TrainingImpact(
        training_date=training_date,
        days=days,
        before_window=(b_start, b_end),
        after_window=(a_start, a_end),
        rates=rates,
        speed=speed,
        its=its,
        its_verdict=its_verdict,
        headline=headline,
        warnings=tuple(warnings),
    )
