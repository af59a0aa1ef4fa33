"""Follow-ups: missed/abandoned/voicemail callers matched by number to a later contact within N business days."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from support.calls import PARAMS, call, local, prepared

from callwatch.metrics.follow_ups import (
    FOLLOW_UP_COLUMNS,
    awaiting_follow_up,
    follow_up_summary,
    follow_up_summary_by,
    follow_ups,
)
from callwatch.metrics.params import MetricParams

ALICE = "6175550101"
BOB = "6175550102"
CAROL = "6175550103"


def _rows(calls: list, params: MetricParams = PARAMS) -> pd.DataFrame:
    return follow_ups(prepared(calls, params), params).set_index("call_id")


def test_callback_by_outbound_call_within_window() -> None:
    rows = _rows([
        call("missed", 20, at="2026-03-06 16:00", caller=ALICE, call_id="missed-fri"),  # Friday
        # Monday 09:00, dialled with the outside-line 9 and the country code: still Alice.
        call("abandoned", 10, at="2026-03-09 09:00", caller="916175550101", direction="outbound", call_id="back"),
    ])
    assert set(rows.reset_index().columns) == set(FOLLOW_UP_COLUMNS)
    row = rows.loc["missed-fri"]
    assert row["followed_up"]
    assert row["follow_up_kind"] == "called_back" and row["follow_up_call_id"] == "back"
    # Fri 16:00 EST -> Mon 09:00 EDT: 65 h of wall clock, 64 h really elapsed (spring forward).
    assert row["follow_up_seconds"] == 64 * 3600
    assert row["window_ends_local"] == datetime(2026, 3, 10)  # end of Monday, one business day on
    assert row["caller_masked"] == "••••••0101" and row["caller"] == ALICE


def test_caller_got_through_later() -> None:
    rows = _rows([
        call("voicemail", 24, at="2026-03-09 10:00", caller="+1 617-555-0102", call_id="vm"),
        call("answered", 4, at="2026-03-09 11:30", caller=BOB, call_id="through"),
    ])
    row = rows.loc["vm"]
    assert row["followed_up"] and row["follow_up_kind"] == "got_through"
    assert row["follow_up_at"] == pd.Timestamp(local("2026-03-09 11:30:04"))  # when a person answered
    assert row["follow_up_seconds"] == 90 * 60 + 4


def test_not_followed_up() -> None:
    rows = _rows([
        call("missed", 20, at="2026-03-06 16:00", caller=ALICE, call_id="late"),
        call("answered", 3, at="2026-03-10 09:00", caller=ALICE, direction="outbound"),  # Tuesday: too late
        call("abandoned", 12, at="2026-03-09 10:00", caller=CAROL, call_id="other-site"),
        call("answered", 3, at="2026-03-09 10:05", caller=CAROL, direction="outbound", site="annex"),
        call("missed", 20, at="2026-03-09 10:00", caller=BOB, call_id="never"),
        call("answered", 3, at="2026-03-09 09:00", caller=BOB, direction="outbound"),  # before the call
    ])
    assert not rows["followed_up"].any()
    assert rows["follow_up_at"].isna().all() and rows["follow_up_seconds"].isna().all()


def test_which_calls_need_a_follow_up() -> None:
    rows = _rows([
        call("answered", 3, caller=ALICE),
        call("abandoned", 2, caller=ALICE),  # short abandon: a likely wrong number
        call("missed", 9, caller="anonymous"),  # no number to call back
        call("missed", 9, caller=ALICE, direction="internal"),
        call("voicemail", 30, at="2026-03-09 20:00", caller=BOB, call_id="after-hours-vm", left_message=True),
    ])
    assert rows.index.tolist() == ["after-hours-vm"]


def test_window_counts_business_days_and_skips_holidays() -> None:
    closed_thursday = MetricParams(holidays=frozenset({date(2026, 3, 12)}))
    rows = _rows([
        call("missed", 9, at="2026-03-11 10:00", caller=ALICE, call_id="wed"),  # Thursday is a holiday
        call("answered", 3, at="2026-03-13 16:00", caller=ALICE, direction="outbound"),  # Friday: in window
        call("missed", 9, at="2026-03-14 10:00", caller=BOB, call_id="sat"),  # Saturday: window ends Monday
        call("answered", 3, at="2026-03-16 16:59", caller=BOB, direction="outbound"),
    ], closed_thursday)
    assert rows["followed_up"].tolist() == [True, True]
    assert rows["window_ends_local"].tolist() == [datetime(2026, 3, 14), datetime(2026, 3, 17)]
    same_day = MetricParams(follow_up_window_business_days=0)
    rows = _rows([
        call("missed", 9, at="2026-03-09 10:00", caller=ALICE, call_id="mon"),
        call("answered", 3, at="2026-03-10 08:30", caller=ALICE, direction="outbound"),
    ], same_day)
    assert not rows.loc["mon", "followed_up"] and rows.loc["mon", "window_ends_local"] == datetime(2026, 3, 10)


def test_awaiting_follow_up_one_row_per_caller_oldest_first() -> None:
    calls = [
        call("missed", 9, at="2026-03-09 09:00", caller=BOB, call_id="bob-1"),
        call("voicemail", 30, at="2026-03-09 09:30", caller=ALICE, call_id="alice-1", left_message=True),
        call("abandoned", 9, at="2026-03-09 11:00", caller=BOB, call_id="bob-2"),
        call("missed", 9, at="2026-03-09 10:00", caller=CAROL, call_id="carol-1"),
        call("answered", 3, at="2026-03-09 12:00", caller=CAROL, direction="outbound"),  # Carol was called back
        call("missed", 9, at="2026-03-09 13:00", caller="6175550104", call_id="dave-1"),
        call("answered", 3, at="2026-03-09 18:00", caller="6175550104"),  # Dave gets through after `now`
    ]
    p = prepared(calls)
    now = local("2026-03-09 15:00")
    waiting = awaiting_follow_up(p, PARAMS, now)
    assert waiting["call_id"].tolist() == ["bob-2", "alice-1", "dave-1"]
    assert waiting["caller_masked"].tolist() == ["••••••0102", "••••••0101", "••••••0104"]
    assert waiting["caller"].tolist() == [BOB, ALICE, "6175550104"]
    assert waiting["calls"].tolist() == [2, 1, 1]
    assert waiting["left_message"].tolist() == [False, True, False]
    assert waiting["waiting_seconds"].tolist() == [6 * 3600, 5.5 * 3600, 2 * 3600]
    assert not waiting["overdue"].any()
    assert awaiting_follow_up(p, PARAMS, local("2026-03-11 08:00"))["overdue"].tolist() == [True, True]

    handled = pd.DataFrame({
        "site": ["main"], "call_id": ["bob-2"], "handled_at": [pd.Timestamp(local("2026-03-09 14:00"))],
        "handled_by": ["front"],
    })
    assert awaiting_follow_up(p, PARAMS, now, handled)["call_id"].tolist() == ["alice-1", "dave-1"]


def test_follow_up_rate_and_median_time() -> None:
    rows = follow_ups(prepared([
        call("missed", 9, at="2026-03-09 09:00", caller=ALICE),
        call("answered", 3, at="2026-03-09 10:00", caller=ALICE, direction="outbound"),  # 1 h
        call("missed", 9, at="2026-03-09 09:00", caller=BOB),
        call("answered", 3, at="2026-03-09 12:00", caller=BOB, direction="outbound"),  # 3 h
        call("voicemail", 30, at="2026-03-09 09:00", caller=CAROL),  # nobody called Carol
        call("missed", 9, at="2026-03-12 09:00", caller="6175550104"),  # Thursday: window still open
    ]), PARAMS)
    summary = follow_up_summary(rows)
    assert (summary["needing"], summary["followed_up"], summary["follow_up_rate"]) == (4, 2, 0.5)
    assert summary["median_follow_up_seconds"] == 2 * 3600
    open_now = follow_up_summary(rows, now=local("2026-03-12 12:00"), params=PARAMS)
    assert (open_now["pending"], open_now["decided"]) == (1, 3)
    assert open_now["follow_up_rate"] == pytest.approx(2 / 3)
    weekly = follow_up_summary_by(rows, "week")
    assert weekly["period"].tolist() == [pd.Timestamp("2026-03-09")] and weekly["needing"].tolist() == [4]
    assert follow_up_summary(rows.iloc[:0])["follow_up_rate"] is None


def test_no_calls_no_follow_ups() -> None:
    p = prepared([])
    rows = follow_ups(p, PARAMS)
    assert len(rows) == 0 and set(rows.columns) == set(FOLLOW_UP_COLUMNS)
    assert len(awaiting_follow_up(p, PARAMS, local("2026-03-12 10:00"))) == 0
    assert follow_up_summary(rows)["needing"] == 0 and len(follow_up_summary_by(rows)) == 0
