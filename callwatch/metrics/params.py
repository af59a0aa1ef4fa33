"""MetricParams: every setting that shapes a number, passed in as one value.

Metrics are pure functions; the time zone, the ring target and the opening
hours arrive here instead of being read from a file or a clock, so the same
calls and the same params always give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from callwatch.config.settings import DEFAULT_BUSINESS_HOURS as _DEFAULT_HOURS
from callwatch.config.settings import WEEKDAYS, Settings
from callwatch.metrics.staff import StaffEntry, directory

# One weekday's opening intervals, local wall-clock time, [open, close).
DayHours = tuple[tuple[time, time], ...]
WeekHours = tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]



def _as_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def _interval(item: Any) -> tuple[time, time]:
    # Accept ("08:00", "12:00"), (time, time) or an OpeningHours-like object.
    if hasattr(item, "open") and hasattr(item, "close"):
        return _as_time(item.open), _as_time(item.close)
    opens, closes = item
    return _as_time(opens), _as_time(closes)


def normalize_business_hours(hours: Mapping[Any, Iterable[Any]] | Sequence[Iterable[Any]]) -> WeekHours:
    """Opening hours as a 7-tuple indexed by weekday (0 = Monday).

    Accepts a mapping keyed by "mon".."sun" or 0..6 (missing days are closed),
    or a 7-item sequence; intervals as (open, close) pairs or OpeningHours.
    """
    if isinstance(hours, Mapping):
        week: list[DayHours] = [() for _ in WEEKDAYS]
        for key, intervals in hours.items():
            index = WEEKDAYS.index(key.lower()[:3]) if isinstance(key, str) else int(key)
            week[index] = tuple(sorted(_interval(i) for i in intervals))
    else:
        if len(hours) != 7:
            raise ValueError(f"business_hours needs 7 weekdays, got {len(hours)}")
        week = [tuple(sorted(_interval(i) for i in day)) for day in hours]
    for day_name, day in zip(WEEKDAYS, week, strict=True):
        for opens, closes in day:
            if closes <= opens:
                raise ValueError(f"{day_name}: close {closes} must be after open {opens}")
    return (week[0], week[1], week[2], week[3], week[4], week[5], week[6])


# Settings' default (config.settings), in the one shape metrics uses.
DEFAULT_BUSINESS_HOURS: WeekHours = normalize_business_hours(_DEFAULT_HOURS)


@dataclass(frozen=True)
class MetricParams:
    """The settings that shape every metric (DESIGN.md "Settings").

    business_hours: 7-tuple (Monday first) of (open, close) local times;
    a dict keyed "mon".."sun" is accepted and normalised.
    holidays: local dates on which the practice is closed all day.
    """

    timezone: str = "America/New_York"
    ring_cycle_seconds: float = 6.0
    target_rings: int = 3
    short_abandon_seconds: float = 5.0
    business_hours: WeekHours = DEFAULT_BUSINESS_HOURS
    holidays: frozenset[date] = field(default_factory=frozenset)
    voicemail_message_seconds: float = 8.0
    follow_up_window_business_days: int = 1
    # callwatch.yaml `staff:` (metrics.staff): names, not numbers; no rollup depends on them.
    staff: tuple[StaffEntry, ...] = ()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # fail early on a bad zone name
        if self.ring_cycle_seconds <= 0:
            raise ValueError("ring_cycle_seconds must be > 0")
        if self.target_rings < 1:
            raise ValueError("target_rings must be >= 1")
        if self.follow_up_window_business_days < 0:
            raise ValueError("follow_up_window_business_days must be >= 0")
        object.__setattr__(self, "business_hours", normalize_business_hours(self.business_hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def target_seconds(self) -> float:
        """target_rings x ring_cycle_seconds: the within-target limit, inclusive."""
        return self.target_rings * self.ring_cycle_seconds

    @property
    def business_weekmask(self) -> tuple[bool, ...]:
        """Which weekdays (Monday first) have any opening hours."""
        return tuple(bool(day) for day in self.business_hours)

    @classmethod
    def from_settings(cls, settings: Settings) -> MetricParams:
        return cls(
            timezone=settings.timezone,
            ring_cycle_seconds=settings.ring_cycle_seconds,
            target_rings=settings.target_rings,
            short_abandon_seconds=settings.short_abandon_seconds,
            business_hours=normalize_business_hours(settings.business_hours),
            holidays=frozenset(settings.holidays),
            voicemail_message_seconds=settings.voicemail_message_seconds,
            follow_up_window_business_days=settings.follow_up_window_business_days,
            staff=directory(settings.staff),
        )

    def describe(self) -> str:
        """One line naming the settings behind a number, for "explain yourself" captions."""
        return (
            f"target {self.target_rings} rings x {self.ring_cycle_seconds:g} s = {self.target_seconds:g} s; "
            f"short abandon < {self.short_abandon_seconds:g} s; time zone {self.timezone}"
        )
