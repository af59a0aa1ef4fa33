"""Business hours, holidays and local days in America/New_York, across both DST changes of 2026.

Spring forward: Sunday 8 March 2026 (EST UTC-5 -> EDT UTC-4).
Fall back: Sunday 1 November 2026 (EDT -> EST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from support.calls import PARAMS, call, prepared

from callwatch.metrics.hours import local_day_bounds
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import after_hours_counts, summarize


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _flags(at_utc: list[str], params: MetricParams = PARAMS) -> list[tuple[str, bool]]:
    p = prepared([call("answered", 3, at=utc(t)) for t in at_utc], params)
    return [(f"{t:%a %H:%M}", bool(a)) for t, a in zip(p["local_arrived"], p["after_hours"], strict=True)]


def test_opening_follows_local_clock_across_spring_forward() -> None:
    # The same UTC time is 07:30 (closed) on the Friday before and 08:30 (open) on the Monday after.
    assert _flags(["2026-03-06 12:30", "2026-03-06 13:30", "2026-03-09 11:30", "2026-03-09 12:30"]) == [
        ("Fri 07:30", True), ("Fri 08:30", False), ("Mon 07:30", True), ("Mon 08:30", False),
    ]
    # Closing at 17:00 local: 21:59 UTC is 16:59 EST but 17:59 EDT.
    assert _flags(["2026-03-06 21:59", "2026-03-09 20:59", "2026-03-09 21:59"]) == [
        ("Fri 16:59", False), ("Mon 16:59", False), ("Mon 17:59", True),
    ]


def test_opening_follows_local_clock_across_fall_back() -> None:
    assert _flags(["2026-10-30 12:30", "2026-11-02 12:30", "2026-11-02 13:30", "2026-11-02 21:59"]) == [
        ("Fri 08:30", False), ("Mon 07:30", True), ("Mon 08:30", False), ("Mon 16:59", False),
    ]


def test_open_and_close_edges() -> None:
    # [open, close): 08:00 sharp is open, 17:00 sharp is after hours.
    p = prepared([call(at="2026-03-09 08:00"), call(at="2026-03-09 07:59:59"), call(at="2026-03-09 17:00")])
    assert p["after_hours"].tolist() == [False, True, True]


def test_repeated_hour_of_fall_back_maps_to_local_time() -> None:
    p = prepared([call("answered", 3, at=utc("2026-11-01 05:30")), call("answered", 3, at=utc("2026-11-01 06:30"))])
    assert [f"{t:%H:%M}" for t in p["local_arrived"]] == ["01:30", "01:30"]
    assert p["date"].tolist() == [datetime(2026, 11, 1)] * 2


def test_holidays_split_out_by_local_date() -> None:
    thanksgiving = MetricParams(holidays=frozenset({date(2026, 11, 26)}))
    calls = [
        call("answered", 3, at="2026-11-26 10:00"),  # holiday, inside normal hours
        call("voicemail", 20, at=utc("2026-11-27 03:00"), left_message=True),  # 22:00 on the holiday, local
        call("missed", 20, at=utc("2026-11-26 04:30")),  # 23:30 the evening before: after hours, no holiday
        call("answered", 3, at="2026-11-25 10:00"),  # an ordinary Wednesday
    ]
    p = prepared(calls, thanksgiving)
    assert p["holiday"].tolist() == [True, True, False, False]
    assert p["after_hours"].tolist() == [True, True, True, False]
    assert summarize(p, thanksgiving)["offered"] == 1
    counts = after_hours_counts(p)
    assert (counts["calls"], counts["holiday_calls"], counts["answered"], counts["voicemail"]) == (3, 2, 1, 1)


def test_local_days_become_utc_bounds_across_dst() -> None:
    # 8 March 2026 has 23 hours in New York; 1 November has 25.
    assert local_day_bounds(PARAMS, date(2026, 3, 8), date(2026, 3, 8)) == (
        utc("2026-03-08 05:00"), utc("2026-03-09 04:00"),
    )
    assert local_day_bounds(PARAMS, date(2026, 11, 1), date(2026, 11, 1)) == (
        utc("2026-11-01 04:00"), utc("2026-11-02 05:00"),
    )
    assert local_day_bounds(PARAMS, None, None) == (None, None)


def test_business_hours_from_settings_shape() -> None:
    from callwatch.config.settings import Settings

    settings = Settings.model_validate({
        "timezone": "Europe/London", "ring_cycle_seconds": 3, "holidays": ["2026-12-25"],
        "business_hours": {"mon": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "18:00"}]},
    })
    params = MetricParams.from_settings(settings)
    assert params.timezone == "Europe/London" and params.target_seconds == 9
    assert params.holidays == frozenset({date(2026, 12, 25)})
    assert len(params.business_hours[0]) == 2 and params.business_hours[1] == ()
    p = prepared([call(at=utc("2026-03-09 12:30")), call(at=utc("2026-03-09 13:30"))], params)  # GMT = UTC
    assert p["after_hours"].tolist() == [True, False]
