"""The effect of one training on one daily measure: estimate, 95 % interval, p-value, verdict.

One model, used by every screen that judges a training (DESIGN.md "Training
verdict"): a segmented regression on daily values, fitted by weighted least
squares with each day weighted by its calls,

    value_d = a + b*t + weekday_d + step*[t > 0] + ramp*min(t / RAMP_DAYS, 1)*[t > 0]

t = days since the training (the training day itself is left out). `b` is the
trend that was already under way, carried through the after window, so a
steady drift is not credited to the training; `step` and `ramp` together let
the change arrive at once or build up over two weeks. The effect is
step + ramp: how far the measure sits above the trend once the change has
settled (from RAMP_DAYS on). Its interval uses the residual scatter between
days (quasi-binomial: day-to-day staffing noise beyond binomial chance counts)
and Student's t; the calibration study in tests/test_training_calibration.py
checks the interval covers the truth in about 95 % of synthetic histories.

Pure: a daily frame in, an `Effect` out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

Verdict = Literal["improved", "worsened", "no clear change", "too little data"]
VERDICTS: tuple[Verdict, ...] = ("improved", "worsened", "no clear change", "too little data")

RAMP_DAYS = 14  # training settles in over about two weeks
BEFORE_DAYS = 84  # twelve weeks to learn the trend and the weekday pattern
AFTER_DAYS = 42  # six weeks: four of them after the change has settled
SIGNIFICANCE = 0.05
# Below these the model has too little to stand on.
MIN_DAYS_BEFORE = 15
MIN_SETTLED_DAYS = 5  # days at or past RAMP_DAYS with calls
MIN_CALLS_BEFORE = 100
MIN_CALLS_SETTLED = 50


@dataclass(frozen=True)
class Effect:
    """A training's estimated effect on one measure (a fraction for rates, seconds for speed)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: Verdict
    trend_per_week: float | None  # the trend before the training, per 7 days
    days_before: int
    days_after: int
    reason: str = ""  # why there is too little data

    @property
    def judged(self) -> bool:
        return self.verdict != "too little data"


def ramp(t: np.ndarray) -> np.ndarray:
    """0 before the training, rising to 1 at RAMP_DAYS after it."""
    return np.where(t > 0, np.minimum(t / RAMP_DAYS, 1.0), 0.0)


def _design(t: np.ndarray, weekday: np.ndarray) -> pd.DataFrame:
    design = pd.DataFrame({"const": 1.0, "t": t.astype(float), "step": (t > 0).astype(float), "ramp": ramp(t)})
    for day in sorted(set(weekday.tolist()))[1:]:
        design[f"wd{day}"] = (weekday == day).astype(float)
    return design


def _too_little(reason: str, before: int, after: int) -> Effect:
    return Effect(None, None, None, None, "too little data", None, before, after, reason)


def _judge(estimate: float, p_value: float, higher_is_better: bool) -> Verdict:
    if not p_value < SIGNIFICANCE or estimate == 0:
        return "no clear change"
    return "improved" if (estimate > 0) == higher_is_better else "worsened"


def fit_effect(daily: pd.DataFrame, higher_is_better: bool) -> tuple[Effect, pd.DataFrame | None]:
    """The training's effect from one row per day: t (days since training), weekday, value, weight.

    Days with weight 0 or a missing value are ignored; so is the training day
    (t == 0). Returns the Effect and the fitted lines for a chart (t, fitted,
    without_training: weekday-averaged), or None when there is too little data.
    """
    rows = daily[(daily["weight"] > 0) & daily["value"].notna() & (daily["t"] != 0)].sort_values("t")
    t = rows["t"].to_numpy(dtype=float)
    before, after = int((t < 0).sum()), int((t > 0).sum())
    settled = t >= RAMP_DAYS
    calls_before = float(rows["weight"][t < 0].sum())
    calls_settled = float(rows["weight"][settled].sum())
    if before < MIN_DAYS_BEFORE or calls_before < MIN_CALLS_BEFORE:
        return _too_little(f"{before} days with calls before the training; {MIN_DAYS_BEFORE} are needed",
                           before, after), None
    if int(settled.sum()) < MIN_SETTLED_DAYS or calls_settled < MIN_CALLS_SETTLED:
        return _too_little(f"{int(settled.sum())} days with calls from {RAMP_DAYS} days after the training on; "
                           f"{MIN_SETTLED_DAYS} are needed", before, after), None
    weekday = rows["weekday"].to_numpy(dtype=int)
    design = _design(t, weekday)
    weights = rows["weight"].to_numpy(dtype=float)
    fit = sm.WLS(rows["value"].to_numpy(dtype=float), design, weights=weights).fit()
    contrast = np.zeros(design.shape[1])
    contrast[[design.columns.get_loc("step"), design.columns.get_loc("ramp")]] = 1.0
    test = fit.t_test(contrast)
    estimate = float(np.squeeze(test.effect))
    low, high = (float(v) for v in np.squeeze(test.conf_int(alpha=SIGNIFICANCE)))
    p_value = float(np.squeeze(test.pvalue))
    if not math.isfinite(p_value):
        # Every day the same (all answered, say): no scatter to judge a change by.
        return _too_little("the days do not vary at all, so a change cannot be judged", before, after), None
    effect = Effect(estimate, low, high, p_value, _judge(estimate, p_value, higher_is_better),
                    float(fit.params["t"]) * 7, before, after)
    return effect, _lines(fit, design, weights, t)


def _lines(fit: object, design: pd.DataFrame, weights: np.ndarray, t: np.ndarray) -> pd.DataFrame:
    """Fitted values with the weekday effects averaged out (weighted like the days), with and without the training."""
    params = fit.params  # type: ignore[attr-defined]
    weekday_cols = [c for c in design.columns if c.startswith("wd")]
    mean_weekday = float((design[weekday_cols].to_numpy() * weights[:, None]).sum(axis=0) @ params[weekday_cols]
                         / weights.sum()) if weekday_cols else 0.0
    base = params["const"] + params["t"] * t + mean_weekday
    change = params["step"] * (t > 0) + params["ramp"] * ramp(t)
    return pd.DataFrame({"t": t.astype(int), "fitted": base + change, "without_training": base})

