"""Every number in the weekly report's observations is one the report computes
and shows in its own tables, never the count of rows it had room to print."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from support.dashboard import call
from support.history import history

from callwatch import store
from callwatch.config.settings import Settings
from callwatch.formatting import pct
from callwatch.report.build import MAX_AWAITING_ROWS, build_report
from callwatch.report.html import render_html
from callwatch.report.model import WeeklyReport
from callwatch.report.observations import observations

FIRST_MONDAY = date(2026, 9, 28)
WEEK = date(2026, 11, 16)  # the week reported: Mon 16 - Sun 22 Nov
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _missed(prefix: str, day: date, count: int) -> list:
    """`count` distinct callers, each missed once at 11:00-ish on `day`, never called back."""
    return [call(f"{prefix}{i}", f"{11 + i // 60:02d}:{i % 60:02d}", "missed", 30, day=day,
                 caller=f"+1212555{i:04d}" if prefix == "in" else f"+1313555{i:04d}") for i in range(count)]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> WeeklyReport:
    tmp = tmp_path_factory.mktemp("observations")
    engine = store.create_engine(f"sqlite:///{tmp / 'cw.db'}")
    store.init_db(engine)
    # More waiting callers than the report prints (25), some first missed the week before.
    extra = _missed("in", WEEK + timedelta(days=1), 40) + _missed("before", WEEK - timedelta(days=3), 9)
    store.save_calls(engine, history(FIRST_MONDAY, 8, date(2026, 10, 28)) + extra)
    settings = Settings(database_url=f"sqlite:///{tmp / 'cw.db'}", journal_path=str(Path(tmp) / "j.log"))
    return build_report(engine, settings, now=NOW)


def _every_candidate(report: WeeklyReport) -> list[str]:
    return observations(report, count=99)


def test_waiting_callers_sentence_counts_every_caller_of_the_week_not_the_printed_rows(report: WeeklyReport) -> None:
    assert report.period.first == WEEK
    sentence = next(s for s in _every_candidate(report) if "still waiting for a call back" in s)
    waiting = int(re.match(r"(\d+) callers? from this week", sentence).group(1))  # type: ignore[union-attr]
    overdue_match = re.search(r", (\d+) of them past the follow-up window", sentence)
    overdue = int(overdue_match.group(1)) if overdue_match else 0
    assert waiting == report.awaiting_total > MAX_AWAITING_ROWS == len(report.awaiting)
    assert overdue == report.awaiting_overdue
    # The printed rows are a part of them, and every one began waiting inside the week.
    assert int(report.awaiting["overdue"].sum()) <= overdue
    assert (report.awaiting["first_arrived_local"].dt.date >= WEEK).all()
    # A caller still waiting is a call of the week not followed up, or one whose window is still open.
    f = report.follow_up
    assert waiting <= f["not_followed_up"] + f["pending"]
    assert overdue <= f["not_followed_up"]
    assert f"Still awaiting a call back ({waiting})" in render_html(report)


def test_answer_rate_sentence_matches_the_metric_table(report: WeeklyReport) -> None:
    sentence = next(s for s in _every_candidate(report) if s.startswith("The answer rate was"))
    line = report.metric("answer_rate")
    assert sentence.startswith(f"The answer rate was {pct(line.value)}")
    if line.previous is not None and round(line.value * 100) != round(line.previous * 100):
        gap = abs(line.value - line.previous) * 100
        assert f" {gap:.0f} point" in sentence


def test_lost_hour_sentence_matches_the_lost_hours_table(report: WeeklyReport) -> None:
    found = [s for s in _every_candidate(report) if " lost " in s and "unanswered calls" in s]
    if not found:
        pytest.skip("no hour stands out in this history")
    top = report.lost_hours.iloc[0]
    assert f"lost {int(top['lost'])} call" in found[0]
    assert f"of the week's {report.lost_total} unanswered calls" in found[0]
