"""Report periods: ISO weeks in the practice's own time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """Local dates first..last, both inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def is_iso_week(self) -> bool:
        return self.first.weekday() == 0 and self.days == 7

    @property
    def noun(self) -> str:
        """What to call it in a sentence: 'week' or 'period'."""
        return "week" if self.days == 7 else "period"

    @property
    def label(self) -> str:
        """'2026-W47' for an ISO week, '2026-11-01_2026-11-14' otherwise (safe in file names)."""
        if self.is_iso_week:
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first:%Y-%m-%d}_{self.last:%Y-%m-%d}"

    @property
    def title(self) -> str:
        """'week 47, Nov 16 – 22, 2026' — for people."""
        span = _span(self.first, self.last)
        if self.is_iso_week:
            return f"week {self.first.isocalendar()[1]}, {span}"
        return span

    def shifted(self, periods: int) -> Period:
        """The period `periods` lengths later (negative: earlier)."""
        step = timedelta(days=self.days * periods)
        return Period(self.first + step, self.last + step)


def _span(first: date, last: date) -> str:
    if first.year != last.year:
        return f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"
    if first.month != last.month:
        return f"{first:%b} {first.day} – {last:%b} {last.day}, {last.year}"
    return f"{first:%b} {first.day} – {last.day}, {last.year}"


def parse_week(text: str) -> Period:
    """'2026-W47' (or '2026W47') -> Monday..Sunday of that ISO week."""
    match = _WEEK.match(text.strip())
    if not match:
        raise ValueError(f"week {text!r} is not an ISO week like 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"week {text!r} does not exist ({year} has no week {week})") from None
    return Period(monday, monday + timedelta(days=6))


def last_complete_week(now: datetime, timezone: str) -> Period:
    """The most recent Monday..Sunday that has fully ended in the practice's time zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(ZoneInfo(timezone)).date()
    this_monday = today - timedelta(days=today.weekday())
    return Period(this_monday - timedelta(days=7), this_monday - timedelta(days=1))
