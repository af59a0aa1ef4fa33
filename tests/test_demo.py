"""The demo generator: deterministic, realistic patterns, and `callwatch demo` writes an idempotent history."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from callwatch import store
from callwatch.cli import main
from callwatch.metrics.frame import prepare
from callwatch.metrics.params import MetricParams
from callwatch.model import Call
from callwatch.sample import history

START, END = date(2025, 1, 6), date(2025, 5, 5)


@pytest.fixture(scope="module")
def generated() -> tuple[list[history.Office], pd.DataFrame]:
    offices = history.make_offices(3, START, END, seed=5)
    return offices, history.generate_frame(offices, START, END, seed=5)


def test_same_seed_same_calls(generated: tuple[list[history.Office], pd.DataFrame]) -> None:
    _, frame = generated
    again = history.generate_frame(history.make_offices(3, START, END, seed=5), START, END, seed=5)
    pd.testing.assert_frame_equal(frame, again)
    other = history.generate_frame(history.make_offices(3, START, END, seed=6), START, END, seed=6)
    assert len(other) != len(frame) or not other["caller"].equals(frame["caller"])


def test_call_ids_unique_per_site_and_records_valid(generated: tuple[list[history.Office], pd.DataFrame]) -> None:
    _, frame = generated
    assert not frame.duplicated(["site", "call_id"]).any()
    calls = list(history.iter_calls(frame.head(500)))
    assert all(isinstance(c, Call) and c.arrived_at.tzinfo is not None for c in calls)
    inbound = frame[frame["direction"] == "inbound"]
    answered = inbound[inbound["outcome"] == "answered"]
    assert answered["answered_at"].notna().all() and answered["answered_by"].notna().all()
    assert (answered["answered_at"] >= answered["ring_started_at"]).all()
    assert (frame["ended_at"] >= frame["arrived_at"]).all()
    assert inbound.loc[inbound["outcome"] != "voicemail", "left_message"].isna().all()


def test_weekly_and_daily_patterns(generated: tuple[list[history.Office], pd.DataFrame]) -> None:
    _, frame = generated
    df = prepare(frame, MetricParams())
    counted = df[df["counted"]]
    per_weekday = counted.groupby("weekday").size() / counted.groupby("weekday")["date"].nunique()
    assert per_weekday.idxmax() == 0  # Monday peak
    answered = counted["outcome"] == "answered"
    lunch = counted["hour"] == 12
    assert answered[lunch].mean() < answered[~lunch].mean() - 0.05
    after = df[(df["direction"] == "inbound") & df["after_hours"]]
    assert len(after) > 0 and set(after["outcome"]) <= {"voicemail", "abandoned"}


def test_missed_callers_are_followed_up(generated: tuple[list[history.Office], pd.DataFrame]) -> None:
    _, frame = generated
    outbound = frame[frame["direction"] == "outbound"]
    assert len(outbound) > 0
    unanswered = frame[(frame["direction"] == "inbound") & (frame["outcome"] != "answered")]
    assert set(outbound["caller"]) <= set(unanswered["caller"])
    local = outbound["arrived_at"].dt.tz_convert("America/New_York")
    assert local.dt.day_of_week.max() <= 4 and local.dt.hour.between(8, 16).all()  # call-backs in opening hours


def test_training_improves_answering(generated: tuple[list[history.Office], pd.DataFrame]) -> None:
    offices, frame = generated
    df = prepare(frame, MetricParams())
    office = offices[0]
    assert office.training is not None and START < office.training < END
    mine = df[(df["site"] == office.site) & df["counted"]]
    day = pd.Timestamp(office.training)
    before = mine[mine["date"] < day]
    after = mine[mine["date"] >= day + pd.Timedelta(days=14)]
    assert (after["outcome"] == "answered").mean() > (before["outcome"] == "answered").mean() + 0.02


def test_demo_command_writes_calls_and_trainings_once(tmp_path: pytest.TempPathFactory) -> None:
    db = tmp_path / "demo.db"  # type: ignore[operator]
    cfg = tmp_path / "callwatch.yaml"  # type: ignore[operator]
    cfg.write_text(f"site: downtown\ndatabase_url: sqlite:///{db}\n")
    args = ["demo", "--config", str(cfg), "--offices", "2", "--months", "1", "--seed", "9", "--end", "2025-03-31"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    engine = store.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        n_calls = conn.execute(sa.select(sa.func.count()).select_from(store.calls)).scalar_one()
        sites = set(conn.execute(sa.select(store.calls.c.site).distinct()).scalars())
        n_trainings = conn.execute(sa.select(sa.func.count()).select_from(store.trainings)).scalar_one()
    assert n_calls > 1000 and "downtown" in sites and len(sites) == 2
    assert n_trainings >= 1
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.calls)).scalar_one() == n_calls
        assert conn.execute(sa.select(sa.func.count()).select_from(store.trainings)).scalar_one() == n_trainings


def test_demo_command_history_ends_now_not_later_today(tmp_path: pytest.TempPathFactory) -> None:
    from datetime import UTC, datetime

    db = tmp_path / "now.db"  # type: ignore[operator]
    cfg = tmp_path / "callwatch.yaml"  # type: ignore[operator]
    cfg.write_text(f"database_url: sqlite:///{db}\n")
    result = CliRunner().invoke(main, ["demo", "--config", str(cfg), "--offices", "1", "--months", "1"])
    assert result.exit_code == 0, result.output
    latest = max(c["arrived_at"] for c in store.select_calls(store.create_engine(f"sqlite:///{db}")))
    assert latest <= datetime.now(UTC)


def test_call_backs_wait_for_the_office_to_reopen_after_lunch() -> None:
    from datetime import time

    hours = [((time(8), time(12)), (time(13), time(17)))] * 5 + [(), ()]
    offices = history.make_offices(2, START, END, seed=5)
    frame = history.generate_frame(offices, START, END, seed=5, business_hours=hours)
    local = frame.loc[frame["direction"] == "outbound", "arrived_at"].dt.tz_convert("America/New_York")
    assert len(local) > 100 and not (local.dt.hour == 12).any()
    assert (local.dt.hour == 13).any()  # a morning miss is called back after lunch, not the next day
