"""Synthetic daily answer-rate histories around a training, for calibrating the verdict.

Each history is one office's business days around a training date: calls per
day drawn like sample.history's offices (Poisson, Monday busiest), an answer
chance with weekday effects, day-to-day staffing noise beyond binomial chance,
an optional steady drift and an optional effect that ramps in over
`ramp_days`. Cheap enough (numpy only) for hundreds of histories in a test;
bench/training_calibration.py runs the larger study quoted in the README.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from callwatch.metrics.effect import AFTER_DAYS, BEFORE_DAYS, fit_effect
from callwatch.metrics.effect import Effect as Effect
from callwatch.sample.history import WEEKDAY_VOLUME

# Answer chance by weekday relative to the office's base (Monday's rush answers worse).
WEEKDAY_ANSWER = np.array([-0.05, 0.0, 0.01, 0.01, 0.02, 0.0, 0.0])


@dataclass(frozen=True)
class Scenario:
    calls_per_day: float = 60.0  # an ordinary Wednesday
    base_rate: float = 0.80
    effect: float = 0.0  # the true effect once settled, as a fraction (0.05 = +5 points)
    ramp_days: int = 14  # 0: a step on the day after the training
    drift_per_week: float = 0.0  # a trend already under way, fraction per 7 days
    day_noise: float = 0.03  # sd of the day's answer chance (someone off sick, a new hire)


def daily_history(rng: np.random.Generator, scenario: Scenario) -> pd.DataFrame:
    """One office's weekdays from BEFORE_DAYS before to AFTER_DAYS after a training (t = 0, a Wednesday)."""
    t = np.arange(-BEFORE_DAYS, AFTER_DAYS + 1)
    weekday = (t + 2) % 7  # the training on a Wednesday
    open_day = weekday < 5
    t, weekday = t[open_day], weekday[open_day]
    calls = rng.poisson(scenario.calls_per_day * WEEKDAY_VOLUME[weekday])
    settled = np.clip(t / scenario.ramp_days, 0, 1) if scenario.ramp_days else np.ones(len(t))
    chance = (scenario.base_rate + WEEKDAY_ANSWER[weekday] + scenario.drift_per_week * t / 7
              + scenario.effect * settled * (t > 0) + rng.normal(0, scenario.day_noise, len(t)))
    answered = rng.binomial(calls, np.clip(chance, 0.01, 0.99))
    value = np.divide(answered, calls, out=np.full(len(t), np.nan), where=calls > 0)
    return pd.DataFrame({"t": t, "weekday": weekday, "value": value, "weight": calls.astype(float)})


@dataclass(frozen=True)
class Calibration:
    runs: int
    improved: int
    worsened: int
    covered: int  # the 95 % interval held the true effect
    too_little: int

    @property
    def false_verdict_rate(self) -> float:
        return (self.improved + self.worsened) / self.runs

    @property
    def improved_rate(self) -> float:
        return self.improved / self.runs

    @property
    def coverage(self) -> float:
        return self.covered / self.runs


def calibrate(scenario: Scenario, runs: int, seed: int) -> Calibration:
    """Fit the verdict on `runs` independent histories of `scenario` and count what it said."""
    improved = worsened = covered = too_little = 0
    for run in range(runs):
        effect, _ = fit_effect(daily_history(np.random.default_rng([seed, run]), scenario), higher_is_better=True)
        improved += effect.verdict == "improved"
        worsened += effect.verdict == "worsened"
        too_little += effect.verdict == "too little data"
        covered += _covers(effect, scenario.effect)
    return Calibration(runs, improved, worsened, covered, too_little)


def _covers(effect: Effect, truth: float) -> bool:
    return effect.ci_low is not None and effect.ci_high is not None and effect.ci_low <= truth <= effect.ci_high
