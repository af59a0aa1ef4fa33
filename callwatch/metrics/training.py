"""Did a training move the numbers at its office, and is the change real?

`training_impact` takes ONE office's prepared calls and judges one training
with metrics.effect's model, measure by measure: the four rates and the time
to answer, each from its daily values (business hours, counted calls). The
answer rate's verdict is the training's verdict: one primary measure, decided
in advance, so five chances to find "something" do not become five times the
false alarms. The Training page, the weekly report, the Trends markers and
`callwatch training` all print this one object.

The plain before/after comparison (SIMPLE_DAYS each side) stays as context;
`explanation` says in one sentence why it differs from the effect when it does.

Pure: a prepared DataFrame (`frame.prepare`) in, a `TrainingImpact` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from callwatch.formatting import DAY_NAMES
from callwatch.metrics.effect import AFTER_DAYS, BEFORE_DAYS, RAMP_DAYS, Effect, Verdict, fit_effect

SIMPLE_DAYS = 28  # the plain comparison: four weeks each side
# When the two simple windows differ this much, the comparison can mislead.
VOLUME_RATIO_WARNING = 1.25
WEEKDAY_MIX_WARNING = 0.10  # total variation distance between weekday shares
# The simple difference and the effect "differ" when this far apart (points or seconds).
DIFFERENT_RATE = 0.01
DIFFERENT_SECONDS = 1.0

Unit = Literal["rate", "seconds"]
# key, words, unit, is higher better
MEASURES: tuple[tuple[str, str, Unit, bool], ...] = (
    ("answer_rate", "answer rate", "rate", True),
    ("within_target_rate", "answered within target", "rate", True),
    ("voicemail_rate", "voicemail rate", "rate", False),
    ("abandonment_rate", "abandonment rate", "rate", False),
    ("speed_of_answer", "mean time to answer", "seconds", False),
)
RATE_KEYS: tuple[str, ...] = tuple(m[0] for m in MEASURES if m[2] == "rate")
PRIMARY = "answer_rate"


@dataclass(frozen=True)
class MeasureImpact:
    """One measure around one training: the plain before/after and the model's effect."""

    metric: str
    label: str
    unit: Unit
    higher_is_better: bool
    before: float | None  # SIMPLE_DAYS before, pooled (calls or answered calls weigh)
    after: float | None  # SIMPLE_DAYS after
    before_n: int
    after_n: int
    effect: Effect
    daily: pd.DataFrame = field(repr=False)  # date, t, value, weight, fitted, without_training

    @property
    def simple_change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def verdict(self) -> Verdict:
        return self.effect.verdict


@dataclass(frozen=True)
class TrainingImpact:
    training_date: date
    site: str | None  # the office judged
    measures: tuple[MeasureImpact, ...]
    headline: str
    explanation: str | None  # why the plain difference and the effect differ, when they do
    warnings: tuple[str, ...]
    before_window: tuple[date, date]  # the model's days, inclusive
    after_window: tuple[date, date]

    def measure(self, metric: str) -> MeasureImpact:
        return next(m for m in self.measures if m.metric == metric)

    @property
    def primary(self) -> MeasureImpact:
        return self.measure(PRIMARY)

    @property
    def verdict(self) -> Verdict:
        return self.primary.verdict


def amount(value: float, unit: Unit, signed: bool = True) -> str:
    """A change in a measure's own terms: '+6.1 points' or '-2.0 s'."""
    if unit == "rate":
        return f"{100 * value:+.1f} points" if signed else f"{100 * abs(value):.1f} points"
    return f"{value:+.1f} s" if signed else f"{abs(value):.1f} s"


def _daily(counted: pd.DataFrame, training_date: date) -> dict[str, pd.DataFrame]:
    """Per measure: one row per local date with calls (date, t, weekday, value, weight)."""
    day = counted["date"]
    answered = counted["outcome"] == "answered"
    ring = counted["ring_seconds"].where(answered & counted["ring_seconds"].notna())
    flags = pd.DataFrame({
        "date": day,
        "n": 1,
        "answer_rate": answered.astype(int),
        "within_target_rate": (counted["within_target"].fillna(False).astype(bool) & answered).astype(int),
        "voicemail_rate": (counted["outcome"] == "voicemail").astype(int),
        "abandonment_rate": (counted["outcome"] == "abandoned").astype(int),
        "ring_sum": ring.fillna(0.0),
        "timed": ring.notna().astype(int),
    })
    sums = flags.groupby("date").sum()
    dates = pd.DatetimeIndex(sums.index)
    base = pd.DataFrame({
        "date": dates.date,
        "t": (dates - pd.Timestamp(training_date)).days.to_numpy(),
        "weekday": dates.day_of_week.to_numpy(),
    })
    out = {key: base.assign(value=(sums[key] / sums["n"]).to_numpy(), weight=sums["n"].to_numpy(dtype=float))
           for key in RATE_KEYS}
    timed = sums["timed"].to_numpy(dtype=float)
    out["speed_of_answer"] = base.assign(
        value=np.divide(sums["ring_sum"].to_numpy(), timed, out=np.full(len(timed), np.nan), where=timed > 0),
        weight=timed,
    )
    return out


def _measure(key: str, label: str, unit: Unit, higher: bool, daily: pd.DataFrame) -> MeasureImpact:
    effect, lines = fit_effect(daily, higher)
    frame = daily.merge(lines, on="t", how="left") if lines is not None else daily.assign(
        fitted=np.nan, without_training=np.nan)

    def pooled(mask: pd.Series) -> tuple[float | None, int]:
        part = daily[mask & daily["value"].notna()]
        total = float(part["weight"].sum())
        return (float((part["value"] * part["weight"]).sum() / total) if total else None), int(total)

    before, before_n = pooled((daily["t"] < 0) & (daily["t"] >= -SIMPLE_DAYS))
    after, after_n = pooled((daily["t"] > 0) & (daily["t"] <= SIMPLE_DAYS))
    return MeasureImpact(key, label, unit, higher, before, after, before_n, after_n, effect, frame)


def headline(m: MeasureImpact) -> str:
    """The verdict in one sentence, as every screen prints it."""
    e = m.effect
    if e.estimate is None or e.ci_low is None or e.ci_high is None:
        return f"Too little data to judge the {m.label} yet: {e.reason}."
    ci = f"95 % CI {amount(e.ci_low, m.unit)} to {amount(e.ci_high, m.unit)}"
    where = "above" if e.estimate > 0 else "below"
    size = amount(e.estimate, m.unit, signed=False)
    settled = f"from {RAMP_DAYS} days after the training on"
    if e.verdict == "no clear change":
        return (f"No clear change: {settled}, the {m.label} is {amount(e.estimate, m.unit)} from where its earlier "
                f"trend was heading ({ci}); that could be chance.")
    return (f"{e.verdict.capitalize()}: {settled}, the {m.label} is {size} {where} where its earlier trend was "
            f"heading ({ci}).")


def explanation(m: MeasureImpact) -> str | None:
    """One sentence on why the plain before/after and the effect differ, or None when they agree."""
    simple, e = m.simple_change, m.effect
    if simple is None or e.estimate is None:
        return None
    gap = DIFFERENT_RATE if m.unit == "rate" else DIFFERENT_SECONDS
    if abs(simple - e.estimate) < gap and np.sign(simple) == np.sign(e.estimate):
        return None
    trend = amount(e.trend_per_week or 0.0, m.unit)
    return (f"The plain before/after difference ({amount(simple, m.unit)}) is not the training's effect "
            f"({amount(e.estimate, m.unit)}): the effect sets aside the trend already under way before it "
            f"({trend} a week), the weekday mix and the {RAMP_DAYS} days a change takes to settle.")


def _warnings(counted: pd.DataFrame, training_date: date, coverage_end: date | None,
              nearby: tuple[date, ...]) -> list[str]:
    out: list[str] = []
    t = (pd.DatetimeIndex(counted["date"]) - pd.Timestamp(training_date)).days.to_numpy()
    before, after = counted[(t < 0) & (t >= -SIMPLE_DAYS)], counted[(t > 0) & (t <= SIMPLE_DAYS)]
    days_b, days_a = before["date"].nunique(), after["date"].nunique()
    if days_b and days_a:
        per_b, per_a = len(before) / days_b, len(after) / days_a
        if max(per_b, per_a) / max(min(per_b, per_a), 1e-9) >= VOLUME_RATIO_WARNING:
            out.append(f"Call volume changed ({per_b:.0f} calls a day before, {per_a:.0f} after): a busier or "
                       "quieter period can move the rates on its own.")
        share_b = before["weekday"].value_counts(normalize=True).reindex(range(7), fill_value=0.0)
        share_a = after["weekday"].value_counts(normalize=True).reindex(range(7), fill_value=0.0)
        gap = share_a - share_b
        if 0.5 * gap.abs().sum() > WEEKDAY_MIX_WARNING:
            day = int(gap.abs().idxmax())
            out.append(f"The weekday mix changed ({DAY_NAMES[day]}s were {100 * share_b[day]:.0f} % of calls "
                       f"before and {100 * share_a[day]:.0f} % after); the effect allows for weekday, the plain "
                       "before/after does not.")
    end = training_date + timedelta(days=AFTER_DAYS)
    if coverage_end is not None and coverage_end < end:
        have = max(0, (coverage_end - training_date).days)
        out.append(f"Only {have} of the {AFTER_DAYS} days after the training have calls so far; "
                    "the verdict may still change.")
    for other in sorted(nearby):
        if other != training_date and training_date - timedelta(days=BEFORE_DAYS) <= other <= end:
            out.append(f"Another training at this office ({other:%d %b %Y}) falls within the weeks measured here; "
                       "the two effects cannot be separated.")
    return out


def training_impact(
    prepared_df: pd.DataFrame,
    training_date: date,
    *,
    site: str | None = None,
    other_trainings: tuple[date, ...] = (),
) -> TrainingImpact:
    """One office's training judged from that office's prepared calls; see the module docstring.

    other_trainings: the office's other training dates (its own and those for every office).
    """
    first, last = training_date - timedelta(days=BEFORE_DAYS), training_date + timedelta(days=AFTER_DAYS)
    day = prepared_df["date"]
    inside = ((day >= pd.Timestamp(first)) & (day <= pd.Timestamp(last))).to_numpy(dtype=bool)
    counted = prepared_df[inside & prepared_df["counted"].to_numpy(dtype=bool)]
    coverage_end = pd.Timestamp(day.max()).date() if len(prepared_df) else None
    daily = _daily(counted, training_date)
    measures = tuple(_measure(key, label, unit, higher, daily[key]) for key, label, unit, higher in MEASURES)
    primary = measures[0]
    return TrainingImpact(
        training_date=training_date,
        site=site,
        measures=measures,
        headline=headline(primary),
        explanation=explanation(primary),
        warnings=tuple(_warnings(counted, training_date, coverage_end, other_trainings)),
        before_window=(first, training_date - timedelta(days=1)),
        after_window=(training_date + timedelta(days=1), last),
    )
