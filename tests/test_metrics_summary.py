"""summarize / summarize_by / rollups against numbers worked out by hand (DESIGN.md "Metrics")."""

from __future__ import annotations

import math
from datetime import time

import pandas as pd
import pytest
from support.calls import PARAMS, call, prepared

from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import daily_rollup, summarize_rollup
from callwatch.metrics.summary import SUMMARY_KEYS, after_hours_counts, summarize, summarize_by


def _ten_offered_two_short() -> list:
    return [
        *(call("answered", ring) for ring in (2, 5, 8, 11, 20, 30)),
        call("voicemail", 25), call("voicemail", 25),
        call("abandoned", 10),
        call("missed", 40),
        call("abandoned", 3),  # short abandon: a likely wrong number
        call("abandoned", None, pre_ring=4),  # hung up during the greeting: never rang
    ]


def test_rates_sum_to_one_hundred_percent() -> None:
    s = summarize(prepared(_ten_offered_two_short()), PARAMS)
    assert (s["offered"], s["answered"], s["voicemail"], s["abandoned"], s["missed"]) == (10, 6, 2, 1, 1)
    assert (s["answer_rate"], s["voicemail_rate"], s["abandonment_rate"], s["missed_rate"]) == (0.6, 0.2, 0.1, 0.1)
    assert math.isclose(s["answer_rate"] + s["voicemail_rate"] + s["abandonment_rate"] + s["missed_rate"], 1.0)
    assert set(s) == set(SUMMARY_KEYS)


def test_short_abandon_leaves_denominator() -> None:
    base = summarize(prepared(_ten_offered_two_short()), PARAMS)
    assert base["short_abandoned"] == 2
    more = summarize(prepared([*_ten_offered_two_short(), call("abandoned", 4.999), call("abandoned", 0)]), PARAMS)
    assert more["offered"] == 10 and more["short_abandoned"] == 4
    assert more["answer_rate"] == base["answer_rate"]
    # Exactly short_abandon_seconds of ringing is no longer "short": it is offered and abandoned.
    at_limit = summarize(prepared([*_ten_offered_two_short(), call("abandoned", 5.0)]), PARAMS)
    assert (at_limit["offered"], at_limit["abandoned"], at_limit["short_abandoned"]) == (11, 2, 2)


def test_within_target_boundary_is_exact() -> None:
    # 3 rings x 6 s = 18 s: exactly 18 s is on target, 18.001 s is not.
    s = summarize(prepared([call("answered", 18.0), call("answered", 18.001)]), PARAMS)
    assert s["within_target_rate"] == 0.5
    # 3 x 2.2 is 6.6000000000000005 in floating point; 6.6 s must still be on target.
    uk = MetricParams(ring_cycle_seconds=2.2, target_rings=3)
    s = summarize(prepared([call("answered", 6.6), call("answered", 6.601)], uk), uk)
    assert s["within_target_rate"] == 0.5


def test_within_target_is_over_offered() -> None:
    calls = [call("answered", 4), call("answered", 30), call("voicemail", 25), call("missed", 9)]
    s = summarize(prepared(calls), PARAMS)
    assert s["within_target_rate"] == 0.25


def test_speed_of_answer_in_seconds_and_rings() -> None:
    calls = [call("answered", ring) for ring in (2, 5, 8, 11, 20)] + [call("voicemail", 30)]
    s = summarize(prepared(calls), PARAMS)
    # rings = floor(s / 6) + 1 -> 1, 1, 2, 2, 4
    assert s["asa_mean_s"] == pytest.approx(9.2)
    assert s["asa_median_s"] == pytest.approx(8.0)
    assert s["asa_p90_s"] == pytest.approx(11 + 0.6 * 9)  # linear between the 4th and 5th value
    assert s["asa_mean_rings"] == pytest.approx(2.0)
    assert s["asa_median_rings"] == pytest.approx(2.0)
    assert s["asa_p90_rings"] == pytest.approx(2 + 0.6 * 2)


def test_only_inbound_counts() -> None:
    calls = [call("answered", 3), call("answered", 3, direction="outbound"), call("missed", 9, direction="internal")]
    s = summarize(prepared(calls), PARAMS)
    assert (s["offered"], s["answered"], s["missed"]) == (1, 1, 0)


def test_no_calls_gives_none_rates() -> None:
    s = summarize(prepared([]), PARAMS)
    assert s["offered"] == 0
    assert all(s[k] is None for k in SUMMARY_KEYS if k.endswith("_rate") or k.startswith("asa_"))


def test_after_hours_reported_apart() -> None:
    calls = [call("answered", 3), call("voicemail", 20, at="2026-03-09 18:30", left_message=True),
             call("missed", 20, at="2026-03-07 11:00")]  # Saturday
    p = prepared(calls)
    assert summarize(p, PARAMS)["offered"] == 1
    assert after_hours_counts(p) == {
        "calls": 2, "holiday_calls": 0, "answered": 0, "voicemail": 1, "abandoned": 0, "missed": 1, "left_message": 1,
    }
    assert summarize(p, PARAMS, scope="after_hours")["offered"] == 2
    assert summarize(p, PARAMS, scope="all")["offered"] == 3


SEVEN_DAYS = MetricParams(business_hours={d: [(time(0), time(23, 59))] for d in range(7)})


def test_weekly_grouping_starts_monday() -> None:
    calls = [
        call("answered", 3, at="2026-03-08 10:00"),  # Sunday: the week of Monday 2 March
        call("answered", 3, at="2026-03-09 10:00"),  # Monday: a new week
        call("missed", 9, at="2026-03-15 10:00"),  # the next Sunday: still the week of 9 March
        call("answered", 3, at="2026-03-16 09:00"),
    ]
    weeks = summarize_by(prepared(calls, SEVEN_DAYS), SEVEN_DAYS, "week")
    assert [f"{w:%Y-%m-%d}" for w in weeks["week"]] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert weeks["offered"].tolist() == [1, 2, 1]
    assert weeks["answer_rate"].tolist() == [1.0, 0.5, 1.0]


def test_summarize_by_rows_equal_summarize_of_each_group() -> None:
    calls = [
        call("answered", 2, at="2026-03-09 08:15", answered_by="101", queue="front"),
        call("answered", 20, at="2026-03-09 08:45", answered_by="102", queue="front"),
        call("voicemail", 30, at="2026-03-09 14:10", queue="billing"),
        call("abandoned", 2, at="2026-03-10 09:00"),
        call("abandoned", 12, at="2026-03-10 09:30", queue="billing"),
        call("answered", 7, at="2026-03-10 16:59", answered_by="101", site="annex"),
    ]
    p = prepared(calls)
    by_column = {"day": "date", "hour": "hour", "staff": "answered_by", "queue": "queue", "site": "site"}
    for by, column in by_column.items():
        table = summarize_by(p, PARAMS, by)
        # By staff, each person is an extension and the name it had (empty: none known).
        names = ["staff_name"] if by == "staff" else []
        assert list(table.columns) == [column, *names, *SUMMARY_KEYS]
        for row in table.to_dict("records"):
            values = p[column].fillna("(none)") if p[column].dtype == "str" else p[column]
            expected = summarize(p[(values == row[column]).to_numpy()], PARAMS)
            for key in SUMMARY_KEYS:
                got = row[key]
                assert (expected[key] is None and pd.isna(got)) or got == pytest.approx(expected[key]), (by, key)
    grid = summarize_by(p, PARAMS, "weekday_hour")
    assert grid[["weekday", "hour", "offered"]].values.tolist() == [[0, 8, 2], [0, 14, 1], [1, 9, 1], [1, 16, 1]]


def test_rollup_gives_exact_counts_rates_and_mean_but_no_median() -> None:
    calls = [
        call("answered", 2, at="2026-03-09 08:15", queue="front"),
        call("answered", 20, at="2026-03-09 08:45"),
        call("voicemail", 30, at="2026-03-10 14:10", queue="front"),
        call("abandoned", 2, at="2026-03-10 09:00"),
        call("missed", 9, at="2026-03-10 19:00"),  # after hours
        call("answered", 7, at="2026-03-11 10:00", site="annex"),
    ]
    p = prepared(calls)
    rollup = daily_rollup(p, PARAMS)
    assert len(rollup) == 5  # main x 9th x (front, none), main x 10th x (front, none), annex x 11th
    assert rollup["after_hours_calls"].sum() == 1 and rollup["after_hours_missed"].sum() == 1
    whole = summarize(p, PARAMS)
    from_rollup = summarize_rollup(rollup)
    for key in SUMMARY_KEYS:
        if key in ("asa_median_s", "asa_p90_s", "asa_median_rings", "asa_p90_rings"):
            assert from_rollup[key] is None
        else:
            assert from_rollup[key] == pytest.approx(whole[key]), key
    weekly = summarize_rollup(rollup, "week")
    assert weekly["offered"].tolist() == [whole["offered"]]
    by_site = summarize_rollup(rollup, "site").set_index("site")
    assert by_site.loc["annex", "answered"] == 1


def test_ring_distribution_counts_each_ring_and_caps_the_last() -> None:
    from callwatch.metrics.speed import ring_distribution

    calls = [call("answered", ring) for ring in (0.5, 5.999, 6.0, 17.9, 18.0, 40, 90)] + [call("missed", 30)]
    table = ring_distribution(prepared(calls), PARAMS, max_rings=4)
    # rings = floor(s / 6) + 1 -> 1, 1, 2, 3, 4, 7, 16; 4 and later share the last row
    assert table["label"].tolist() == ["1", "2", "3", "4+"]
    assert table["answered"].tolist() == [2, 1, 1, 3]
    assert table["cumulative_share"].tolist()[-1] == pytest.approx(1.0)
    assert table["on_target"].tolist() == [True, True, True, False]
    empty = ring_distribution(prepared([]), PARAMS)
    assert empty["answered"].sum() == 0 and len(empty) == 6


def test_answered_without_ring_time_counts_but_has_no_speed() -> None:
    # A generic CSV may say "answered" without saying when it started ringing.
    p = prepared([call("answered", None), call("missed", 30)])
    s = summarize(p, PARAMS)
    assert (s["offered"], s["answer_rate"], s["within_target_rate"], s["asa_mean_s"]) == (2, 0.5, 0.0, None)
    table = summarize_by(p, PARAMS, "day")
    assert table["answered"].tolist() == [1] and table["asa_median_s"].isna().all()


def test_every_number_explains_itself() -> None:
    from callwatch.metrics.catalog import formula
    from callwatch.metrics.explain import calls_behind

    p = prepared(_ten_offered_two_short())
    s = summarize(p, PARAMS)
    assert "3 rings x 6 s = 18 s" in formula("within_target_rate", PARAMS)
    assert "less than 5 s" in formula("short_abandoned", PARAMS)
    for key in SUMMARY_KEYS:
        assert formula(key, PARAMS)
        behind = calls_behind(p, key)
        if key in ("offered", "answered", "voicemail", "abandoned", "missed", "short_abandoned"):
            assert len(behind) == s[key], key
        elif key.endswith("_rate"):
            assert len(behind) == s["offered"]
    assert len(calls_behind(p, "asa_median_s")) == 6
    assert calls_behind(p, "within_target_rate")["within_target"].sum() == s["within_target_rate"] * s["offered"]


def test_hourly_rollup_gives_the_weekday_hour_grid() -> None:
    calls = [
        call("answered", 2, at="2026-03-09 08:15"), call("missed", 9, at="2026-03-09 08:45"),
        call("answered", 20, at="2026-03-16 08:05"), call("voicemail", 30, at="2026-03-10 14:10"),
        call("missed", 9, at="2026-03-10 19:00"),
    ]
    p = prepared(calls)
    rollup = daily_rollup(p, PARAMS, hourly=True)
    assert list(rollup.columns[:4]) == ["site", "date", "hour", "queue"]
    grid = summarize_rollup(rollup, "weekday_hour")
    raw = summarize_by(p, PARAMS, "weekday_hour")
    assert grid[["weekday", "hour", "offered", "answered"]].values.tolist() == [[0, 8, 3, 2], [1, 14, 1, 0]]
    assert grid["answer_rate"].tolist() == raw["answer_rate"].tolist()
    assert summarize_rollup(rollup, "hour")["offered"].tolist() == [3, 1]
    with pytest.raises(ValueError, match="hourly=True"):
        summarize_rollup(daily_rollup(p, PARAMS), "hour")
