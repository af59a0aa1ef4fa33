"""The calibration study behind the README's training-verdict figures.

    .venv/bin/python bench/training_calibration.py [--runs 1000]

Fits the verdict (callwatch.metrics.effect) on `runs` synthetic histories per
scenario (callwatch.sample.daily_history: 12 weeks before and 6 after a
training, weekdays only, day-to-day staffing noise) and prints how often it
said improved or worsened, and how often its 95 % interval held the truth.
Not a timed benchmark: the ratios are of verdicts, not of seconds.
"""

from __future__ import annotations

import argparse

from callwatch.sample.daily_history import Scenario, calibrate

SCENARIOS: tuple[tuple[str, Scenario], ...] = (
    ("no effect, 60 calls/day", Scenario()),
    ("no effect, steady drift +1 pt/week", Scenario(drift_per_week=0.01)),
    ("+5 pts over 2 weeks, 60 calls/day", Scenario(effect=0.05)),
    ("+8 pts over 2 weeks, 60 calls/day", Scenario(effect=0.08)),
    ("+8 pts at once, 60 calls/day", Scenario(effect=0.08, ramp_days=0)),
    ("+5 pts over 2 weeks, 150 calls/day", Scenario(effect=0.05, calls_per_day=150)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(f"{'scenario':<38} {'improved':>9} {'worsened':>9} {'95% CI covers truth':>20}")
    for i, (name, scenario) in enumerate(SCENARIOS):
        r = calibrate(scenario, args.runs, seed=args.seed + i)
        print(f"{name:<38} {r.improved / r.runs:>9.1%} {r.worsened / r.runs:>9.1%} {r.coverage:>20.1%}")


if __name__ == "__main__":
    main()
