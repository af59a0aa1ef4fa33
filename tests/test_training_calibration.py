"""The training verdict is calibrated: a simulation study over synthetic histories.

200 histories per scenario (about 5 s each on one core): 60 calls on an
ordinary day, day-to-day staffing noise, Monday answering worse. The README
quotes the larger study of bench/training_calibration.py.
"""

from __future__ import annotations

from callwatch.sample.daily_history import Scenario, calibrate

RUNS = 200


def test_no_effect_rarely_gets_a_verdict() -> None:
    result = calibrate(Scenario(effect=0.0), RUNS, seed=1)
    assert result.too_little == 0
    assert result.false_verdict_rate <= 0.10, result  # about 5 % expected


def test_interval_covers_a_planted_effect() -> None:
    result = calibrate(Scenario(effect=0.06, ramp_days=14), RUNS, seed=2)
    assert result.coverage >= 0.90, result  # about 95 % expected
    assert result.worsened == 0


def test_interval_covers_a_planted_step() -> None:
    result = calibrate(Scenario(effect=0.08, ramp_days=0, calls_per_day=120), RUNS, seed=3)
    assert result.coverage >= 0.90, result
    assert result.improved_rate >= 0.80, result  # a big step at a busy office is found


def test_a_steady_drift_is_not_credited_to_the_training() -> None:
    result = calibrate(Scenario(effect=0.0, drift_per_week=0.01), RUNS, seed=4)
    assert result.improved_rate <= 0.10, result
