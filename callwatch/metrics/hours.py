"""Business hours, holidays and business days in the practice's own time zone.

Opening hours are local wall-clock times ("8:00 to 17:00"), so every UTC
instant is first turned into practice-local time; converting *from* UTC is
never ambiguous, which keeps the after-hours flag right across DST changes
(8:30 is open in both EST and EDT). Local dates go back to UTC through
`local_day_bounds` for range queries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from callwatch.metrics.params import MetricParams


def to_local(utc: pd.Series, params: MetricParams) -> pd.Series:
    """UTC-aware datetimes -> naive practice-local wall-clock datetimes (µs)."""
    return utc.dt.tz_convert(params.timezone).dt.tz_localize(None).astype("datetime64[us]")


def open_now(local: pd.Series, params: MetricParams) -> pd.Series:
    """True where the local wall-clock time falls inside the weekday's opening hours.

    Intervals are [open, close): a call at 17:00 sharp is after hours.
    Holidays are not considered here (see `closed`).
    """
    weekday = local.dt.day_of_week.to_numpy()
    seconds = ((local - local.dt.normalize()) // pd.Timedelta(seconds=1)).to_numpy()
    inside = np.zeros(len(local), dtype=bool)
    for day, intervals in enumerate(params.business_hours):
        if not intervals:
            continue
        on_day = weekday == day
        for opens, closes in intervals:
            start = opens.hour * 3600 + opens.minute * 60 + opens.second
            stop = closes.hour * 3600 + closes.minute * 60 + closes.second
            inside |= on_day & (seconds >= start) & (seconds < stop)
    return pd.Series(inside, index=local.index)


def is_holiday(local: pd.Series, params: MetricParams) -> pd.Series:
    """True where the local date is one of the practice's holidays."""
    if not params.holidays:
        return pd.Series(False, index=local.index)
    holidays = pd.DatetimeIndex(sorted(params.holidays)).astype("datetime64[us]")
    return local.dt.normalize().isin(holidays)


def after_hours(local: pd.Series, params: MetricParams) -> pd.Series:
    """The practice was closed: outside the weekday's hours, or on a holiday."""
    return ~open_now(local, params) | is_holiday(local, params)


def local_day_bounds(
    params: MetricParams, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """Practice-local dates [first, last] (last inclusive) -> UTC [start, end) for load_calls."""
    tz = params.tz

    def midnight(day: date) -> datetime:
        # Local midnight can be skipped by a DST jump in a few zones; take the
        # first instant of that day instead of raising.
        local = datetime.combine(day, time(0), tzinfo=tz)
        return local.astimezone(UTC)

    start = midnight(first) if first is not None else None
    end = midnight(last + timedelta(days=1)) if last is not None else None
    return start, end


def _weekmask(params: MetricParams) -> list[int]:
    mask = [int(d) for d in params.business_weekmask]
    # A practice with no opening hours configured still needs a calendar.
    return mask if any(mask) else [1] * 7


def business_day_calendar(params: MetricParams) -> np.busdaycalendar:
    """Weekdays with opening hours, minus holidays, for business-day arithmetic."""
    holidays = np.array(sorted(params.holidays), dtype="datetime64[D]")
    return np.busdaycalendar(weekmask=_weekmask(params), holidays=holidays)


def follow_up_deadline(local: pd.Series, params: MetricParams) -> pd.Series:
    """End (local midnight) of the last business day a follow-up may happen on.

    N = follow_up_window_business_days: the window closes at the end of the
    Nth business day after the call's local date (Friday or Saturday +1 ->
    end of Monday). N = 0 means the same business day, or the next one when
    the practice was closed that day.
    """
    days = local.dt.normalize().to_numpy().astype("datetime64[D]")
    calendar = business_day_calendar(params)
    n = params.follow_up_window_business_days
    if n > 0:
        last = np.busday_offset(days, n, roll="backward", busdaycal=calendar)
    else:
        last = np.busday_offset(days, 0, roll="forward", busdaycal=calendar)
    end = (last + np.timedelta64(1, "D")).astype("datetime64[us]")
    return pd.Series(end, index=local.index)
