"""What a weekly report is: the numbers the HTML, the CSV and the email show, with no code that computes them.

build.py fills a WeeklyReport; observations.py, html.py, export.py and
run.py read one. Keeping the record here lets them all import it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from callwatch.metrics.quality import ring_time_note
from callwatch.metrics.training_verdicts import JudgedTraining
from callwatch.report.periods import Period


@dataclass(frozen=True)
class MetricLine:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    value: float | None
    previous: float | None  # the period before
    average: float | None  # the four periods before, pooled
    goal: float | None

    def meets_goal(self) -> bool | None:
        if self.value is None or self.goal is None:
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def change_is_good(self) -> bool | None:
        if self.value is None or self.previous is None or self.value == self.previous:
            return None
        return (self.value > self.previous) == self.higher_is_better


# A training judged at this report's office: the same object the CLI and the Training page print.
TrainingResult = JudgedTraining


@dataclass(frozen=True)
class WeeklyReport:
    site: str
    timezone: str
    period: Period
    generated_at: datetime
    params_note: str
    summary: dict[str, Any]
    metrics: tuple[MetricLine, ...]
    daily: pd.DataFrame  # one row per business day (and any day with calls)
    trend: pd.DataFrame  # one row per week: week (Monday), offered, answer_rate, within_target_rate
    lost_by_hour: pd.DataFrame  # weekday, hour, lost, offered, voicemail, abandoned, missed, share; most lost first
    # answered_by, staff_name ("" unknown), answered, answered_timed, share, within_target_share,
    # asa_median_s, asa_p90_s
    staff: pd.DataFrame
    follow_up: dict[str, Any]
    awaiting: pd.DataFrame  # caller_masked, first_arrived_local, calls, last_outcome, overdue
    awaiting_total: int  # callers whose wait began in the period and who still wait (all, not just printed)
    awaiting_overdue: int  # of awaiting_total, those past the follow-up window
    trainings: tuple[TrainingResult, ...]
    observations: tuple[str, ...]

    def metric(self, key: str) -> MetricLine:
        return next(m for m in self.metrics if m.key == key)

    @property
    def lost_hours(self) -> pd.DataFrame:
        """The five hours that lost the most calls."""
        return self.lost_by_hour[self.lost_by_hour["lost"] > 0].head(5)

    @property
    def ring_time_note(self) -> str | None:
        """Why the ring-time numbers are missing or partial this period (metrics.quality), else None."""
        return ring_time_note(self.summary)

    @property
    def lost_total(self) -> int:
        return int(self.summary["offered"] - self.summary["answered"])
