"""Practice-local wall times for fixtures: every fixture practice is in New York (MetricParams' default zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")


def local(day: date | str, clock: str = "00:00", *, seconds: float = 0.0) -> datetime:
    """A New York wall time as an aware UTC datetime.

    local(date(2026, 3, 3), "10:00"), local("2026-03-09 10:00:04"), or local(day, seconds=36_000)
    for seconds after local midnight.
    """
    if isinstance(day, str):
        stamp = datetime.fromisoformat(day)
        day, clock = stamp.date(), stamp.time().isoformat()
    wall = datetime.combine(day, time.fromisoformat(clock), tzinfo=TZ) + timedelta(seconds=seconds)
    return wall.astimezone(UTC)


def practice_today() -> date:
    """Today in the fixture practice (New York), which is what its pages call today: UTC's date is
    already tomorrow there from 19:00 or 20:00 local, which made "today" fixtures land in the future."""
    return datetime.now(TZ).date()


def midday_zone() -> str:
    """A fixed-offset zone where it is about noon now: a test that looks a few minutes ahead then stays
    on the practice's today, whatever hour it runs at (New York's midnight is 04:00-05:00 UTC)."""
    offset = 12 - datetime.now(UTC).hour  # -11 .. +12 hours from UTC
    return f"Etc/GMT{-offset:+d}"  # the Etc names count the other way round: Etc/GMT-5 is UTC+5
