"""Time buckets: the stretches of UTC time inside which nothing a metric reads about the clock changes.

The database counts calls per bucket; Python knows, per bucket, the practice-local
date, weekday and hour, whether the practice was open and whether it was a
holiday — computed with the same functions prepare() uses on each call
(hours.to_local, open_now, is_holiday), so a call counted in a bucket gets the
same after-hours, date and hour as prepare() gives it.

A bucket is a UTC hour, split where a local boundary falls inside it: local
hours and midnights fall on UTC hour marks in whole-hour time zones, but not
in Asia/Kolkata (+05:30); an office opening at 8:30 splits its UTC hour at :30.
`cuts` holds those splits as seconds past the UTC hour; a call's part is the
number of cuts at or before its own seconds past the hour (whole seconds: a
boundary is a whole second, so a call at 8:29:59.9 is before an 8:30 opening).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from callwatch.metrics import hours
from callwatch.metrics.params import MetricParams

_HOUR = 3600


@dataclass(frozen=True)
class Buckets:
    """Every bucket of a UTC range; `frame` has one row per bucket.

    frame columns: id (0..n-1), hour_start (naive UTC datetime of its hour),
    part (0..len(cuts)), day (days since 1970-01-01 of the local date),
    week (day number of its Monday), month (day number of its 1st), weekday
    (0 = Monday), hour (local), open (business hours, not a holiday), holiday.
    """

    cuts: tuple[int, ...]
    frame: pd.DataFrame


def _cuts(params: MetricParams, first: date, last: date) -> tuple[int, ...]:
    """Seconds past the UTC hour where a local hour, midnight, opening or closing falls (0 excluded)."""
    tz = params.tz
    offsets = set()
    for i in range((last - first).days + 2):
        offset = datetime.combine(first + timedelta(days=i), datetime.min.time(), tzinfo=tz).utcoffset()
        offsets.add(int(offset.total_seconds()) if offset is not None else 0)
    local_marks = {0}
    for day in params.business_hours:
        for opens, closes in day:
            for moment in (opens, closes):
                local_marks.add(moment.hour * _HOUR + moment.minute * 60 + moment.second)
    found = {(mark - offset) % _HOUR for mark in local_marks for offset in offsets}
    return tuple(sorted(found - {0}))


def make_buckets(params: MetricParams, start: datetime, end: datetime) -> Buckets:
    """The buckets covering the UTC range [start, end) (aware datetimes), whole UTC hours at both ends."""
    first_hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    last = end.astimezone(UTC).replace(tzinfo=None)
    count = max(int(np.ceil((last - first_hour).total_seconds() / _HOUR)), 1)
    local_first = start.astimezone(params.tz).date() - timedelta(days=1)
    local_last = end.astimezone(params.tz).date() + timedelta(days=1)
    cuts = _cuts(params, local_first, local_last)
    starts = np.array([0, *cuts], dtype="int64")
    hour_starts = np.datetime64(first_hour, "s") + np.arange(count, dtype="int64") * np.timedelta64(_HOUR, "s")
    begins = (hour_starts[:, None] + starts[None, :].astype("timedelta64[s]")).ravel()
    utc = pd.Series(pd.DatetimeIndex(begins.astype("datetime64[us]")).tz_localize("UTC"))
    local = hours.to_local(utc, params)
    holiday = hours.is_holiday(local, params).to_numpy()
    days = local.dt.normalize()
    day_number = (days.to_numpy().astype("datetime64[D]")).astype("int64")
    weekday = local.dt.day_of_week.to_numpy().astype("int64")
    frame = pd.DataFrame({
        "id": np.arange(len(begins), dtype="int64"),
        "hour_start": np.repeat(hour_starts.astype("datetime64[us]"), len(starts)),
        "part": np.tile(np.arange(len(starts), dtype="int64"), count),
        "day": day_number,
        "week": day_number - weekday,
        "month": day_number - (local.dt.day.to_numpy().astype("int64") - 1),
        "weekday": weekday,
        "hour": local.dt.hour.to_numpy().astype("int64"),
        "open": hours.open_now(local, params).to_numpy() & ~holiday,
        "holiday": holiday,
    })
    return Buckets(cuts, frame)
