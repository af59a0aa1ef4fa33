"""The database-counted numbers (metrics.in_database, what `callwatch metrics` prints) equal the pandas path's.

On real recordings (sets A and D) and on a generated history in an office
opening at 8:30 in Asia/Kolkata (+05:30: local hours fall mid UTC hour) with a
holiday, on SQLite and PostgreSQL: every count, rate, mean, median and 90th
percentile, overall, after hours, and per hour, day, staff member, site and queue.
"""

from __future__ import annotations

import math
from datetime import date, time
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from support.data import MASTER_CSV, QUEUE_LOG, SET_A
from support.ground_truth import set_d_settings
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.metrics import loader
from callwatch.metrics.frame import prepare
from callwatch.metrics.hours import local_day_bounds
from callwatch.metrics.in_database import database_numbers
from callwatch.metrics.loader import load_calls
from callwatch.metrics.params import MetricParams
from callwatch.metrics.staff import StaffEntry
from callwatch.metrics.summary import after_hours_counts, summarize, summarize_by
from callwatch.sample import history

SET_D = SET_A.parent / "asterisk-set-d"  # the copy under tests/data/
BYS = ("hour", "day", "week", "weekday_hour", "staff", "site", "queue")


def _same(expected: Any, got: Any) -> bool:
    if expected is None or got is None:
        return expected is got
    return math.isclose(expected, got, rel_tol=1e-12, abs_tol=1e-12)


def _assert_same_numbers(
    engine: sa.Engine, params: MetricParams, first: date | None, last: date | None
) -> dict[str, Any]:
    """Both paths over the calls of local days first..last; returns the summary."""
    start, end = local_day_bounds(params, first, last)
    prepared = prepare(load_calls(engine, start=start, end=end), params)
    assert len(prepared), "the data set must have calls"
    fast = database_numbers(engine, params, start, end, None)
    assert fast.calls == len(prepared)
    expected = summarize(prepared, params)
    for key, value in expected.items():
        assert _same(value, fast.summary[key]), (key, value, fast.summary[key])
    assert fast.after_hours == after_hours_counts(prepared)
    for by in BYS:
        groups = database_numbers(engine, params, start, end, None, by).groups
        assert groups is not None
        pd.testing.assert_frame_equal(groups, summarize_by(prepared, params, by), check_dtype=False, rtol=1e-12)
    return expected


# Open around the clock: every recorded call is a business-hours call.
ALWAYS_OPEN = {d: [(time(0), time(23, 59, 59))] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_set_a_numbers_from_the_database_equal_the_pandas_path(engine: sa.Engine, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=_url(engine))
    import_file(engine, settings, MASTER_CSV)
    import_file(engine, settings, QUEUE_LOG)
    assert _assert_same_numbers(engine, MetricParams.from_settings(settings), None, None)["answered"] > 0


def test_set_d_numbers_from_the_database_equal_the_pandas_path(engine: sa.Engine, tmp_path: Path) -> None:
    settings = set_d_settings(tmp_path, database_url=_url(engine))
    import_file(engine, settings, SET_D / "Master.csv")
    params = MetricParams.from_settings(settings)
    assert _assert_same_numbers(engine, params, None, None)["answered"] == 0  # recorded after hours
    # Closing at 23:59:59 cuts every UTC hour at an odd second (PostgreSQL: hour and part, not slots).
    open_params = MetricParams(timezone=params.timezone, business_hours=ALWAYS_OPEN)
    assert _assert_same_numbers(engine, open_params, None, None)["answered"] > 0


def test_a_generated_history_gives_the_same_numbers_on_each_backend(engine: sa.Engine) -> None:
    first, last = date(2025, 3, 1), date(2025, 3, 31)
    offices = history.make_offices(2, first, last, seed=3, calls_per_day=30)
    store.save_calls(engine, history.iter_calls(history.generate_frame(offices, first, last, 3)))
    params = MetricParams(
        timezone="Asia/Kolkata", holidays=frozenset({date(2025, 3, 14)}),
        business_hours={d: [(time(8, 30), time(12, 0)), (time(13, 0), time(17, 45))]
                        for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    assert _assert_same_numbers(engine, params, date(2025, 3, 3), date(2025, 3, 30))["answered"] >= 10
    # America/New_York across the spring DST change, default hours.
    assert _assert_same_numbers(engine, MetricParams(), first, last)["answered"] > 100
    # A ring cycle and short-abandon limit of fractions of a second (PostgreSQL then sums ring counts in SQL).
    odd = MetricParams(ring_cycle_seconds=4.5, short_abandon_seconds=7.25)
    assert _assert_same_numbers(engine, odd, first, last)["answered"] > 100


def test_dst_changes_and_odd_offsets_give_the_same_numbers_on_each_backend(engine: sa.Engine) -> None:
    """Fall-back and spring-forward days, a +05:45 zone, a 30-minute DST shift, an opening at 8:15.

    On PostgreSQL a month is counted in several time slices and the class of a
    call is looked up per 15-, 30- or 60-minute slot of UTC time.
    """
    first, last = date(2025, 3, 25), date(2025, 4, 12)
    late_first, late_last = date(2025, 10, 25), date(2025, 11, 12)
    offices = history.make_offices(2, first, last, seed=5, calls_per_day=30)
    store.save_calls(engine, history.iter_calls(history.generate_frame(offices, first, last, 5)))
    offices = history.make_offices(2, late_first, late_last, seed=6, calls_per_day=30)
    store.save_calls(engine, history.iter_calls(history.generate_frame(offices, late_first, late_last, 6)))
    days = ("mon", "tue", "wed", "thu", "fri", "sat")
    quarter = {d: [(time(8, 15), time(12, 45)), (time(13, 30), time(17, 45))] for d in days}
    # The generated calls arrive in North American office hours: far zones open all day to see them.
    long_day = {d: [(time(0, 15), time(11, 45)), (time(12, 30), time(23, 45))] for d in days}
    for zone, hours in (("America/New_York", quarter), ("Europe/London", quarter),
                        ("Asia/Kathmandu", long_day), ("Australia/Lord_Howe", long_day)):
        params = MetricParams(timezone=zone, business_hours=hours, holidays=frozenset({date(2025, 11, 3)}))
        assert _assert_same_numbers(engine, params, first, last)["answered"] > 10, zone
        assert _assert_same_numbers(engine, params, late_first, late_last)["answered"] > 10, zone


def test_groups_sharing_one_second_read_only_their_ranks(engine: sa.Engine, monkeypatch: Any) -> None:
    """Several offices (and hours, weekday-hours, staff) whose medians and p90s fall in the same one-second
    bins of sub-second ring times: on PostgreSQL the database numbers each group's calls within the second
    (loader.RankTargets) and returns only the ranks read; the numbers equal the pandas path's."""
    first, last = date(2025, 3, 3), date(2025, 3, 16)
    offices = history.make_offices(4, first, last, seed=11, calls_per_day=40)
    store.save_calls(engine, history.iter_calls(history.generate_frame(offices, first, last, 11)))
    asked: list[loader.RankTargets] = []
    real = loader._pg_group_ranks

    def spy(eng: sa.Engine, targets: loader.RankTargets, *args: Any, **kwargs: Any) -> Any:
        asked.append(targets)
        return real(eng, targets, *args, **kwargs)

    monkeypatch.setattr(loader, "_pg_group_ranks", spy)
    params = MetricParams(business_hours=ALWAYS_OPEN)
    _assert_same_numbers(engine, params, first, last)
    if engine.dialect.name != "postgresql":
        assert not asked  # SQLite reads every value of the seconds named
        return
    assert len(asked) == len(BYS)  # every grouping here maps a group to one set of keys
    by_site = next(t for t in asked if len(t.groups) == 4 and all(len(k) == 1 for k in t.groups))
    shared = [s for s in {s for ranks in by_site.groups.values() for s in ranks}
              if sum(s in ranks for ranks in by_site.groups.values()) > 1]
    assert shared, "the offices' quantiles should share a second bin"


def test_staff_named_by_date_reads_whole_seconds(engine: sa.Engine, tmp_path: Path, monkeypatch: Any) -> None:
    """A group that gathers several key combinations (staff named in callwatch.yaml: the day is a key) is
    not numbered by the database: every value of its seconds is read, and the numbers still agree."""
    first, last = date(2025, 3, 3), date(2025, 3, 9)
    offices = history.make_offices(2, first, last, seed=12, calls_per_day=40)
    frame = history.generate_frame(offices, first, last, 12)
    store.save_calls(engine, history.iter_calls(frame))
    asked: list[Any] = []
    monkeypatch.setattr(loader, "_pg_group_ranks", lambda *a, **k: asked.append(a))  # must not be called
    extension = str(frame["answered_by"].dropna().iloc[0])
    params = MetricParams(business_hours=ALWAYS_OPEN, staff=(StaffEntry(extension, "Front desk"),))
    start, end = local_day_bounds(params, first, last)
    prepared = prepare(load_calls(engine, start=start, end=end), params)
    groups = database_numbers(engine, params, start, end, None, "staff").groups
    assert groups is not None and not asked
    pd.testing.assert_frame_equal(groups, summarize_by(prepared, params, "staff"), check_dtype=False, rtol=1e-12)
