"""The weekly report over an 8-week history with a training in week 5 shows the improvement built into it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from support.history import history

from callwatch import store
from callwatch.cli import main
from callwatch.config.settings import Settings, Training
from callwatch.formatting import safe_cell
from callwatch.report.build import build_report
from callwatch.report.export import daily_csv
from callwatch.report.html import render_html
from callwatch.report.model import WeeklyReport
from callwatch.report.periods import Period, last_complete_week, parse_week

FIRST_MONDAY = date(2026, 9, 28)  # week 1 of 8: 2026-W40 .. 2026-W47
TRAINING = date(2026, 10, 28)  # Wednesday of week 5
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Monday 7:00 in New York


def write_config(tmp_path: Path, **report: object) -> Path:
    path = tmp_path / "callwatch.yaml"
    lines = [
        f"database_url: sqlite:///{tmp_path / 'cw.db'}",
        "timezone: America/New_York",
        "trainings:",
        f"  - {{date: {TRAINING.isoformat()}, title: Phone manner}}",
        "report:",
        f"  out_dir: {tmp_path / 'reports'}",
        *(f"  {k}: {v}" for k, v in report.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def seeded_engine(tmp_path: Path) -> Engine:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    store.init_db(engine)
    store.save_calls(engine, history(FIRST_MONDAY, 8, TRAINING))
    return engine


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> WeeklyReport:
    tmp = tmp_path_factory.mktemp("report")
    engine = seeded_engine(tmp)
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'cw.db'}", trainings=[Training(date=TRAINING, title="Phone manner")]
    )
    return build_report(engine, settings, now=NOW)


def test_default_period_is_the_last_complete_local_week() -> None:
    assert last_complete_week(NOW, "America/New_York") == Period(date(2026, 11, 16), date(2026, 11, 22))
    # Sunday 23:30 in New York is already Monday in UTC; the week is not over locally.
    sunday_night = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    assert last_complete_week(sunday_night, "America/New_York").label == "2026-W46"
    assert parse_week("2026-W47") == Period(date(2026, 11, 16), date(2026, 11, 22))
    with pytest.raises(ValueError, match="2026 has no week 54"):
        parse_week("2026-W54")


def test_report_shows_the_training_improvement(report: WeeklyReport) -> None:
    assert report.period.label == "2026-W47"
    [result] = report.trainings
    assert result.session.date == TRAINING
    answer = result.impact.measure("answer_rate")
    assert answer.before is not None and answer.after is not None
    assert answer.before < 0.80 < 0.85 < answer.after
    assert result.impact.verdict == "improved" == answer.verdict
    assert result.impact.measure("speed_of_answer").verdict == "improved"
    trend = report.trend.set_index("week")["answer_rate"]
    assert trend.iloc[:4].max() < trend.iloc[5:].min()
    html = render_html(report)
    assert "Phone manner" in html and "0.000" not in html
    assert result.impact.headline in html.replace("&#x27;", "'")


def test_report_compares_with_previous_week_four_weeks_and_goal(report: WeeklyReport) -> None:
    line = report.metric("answer_rate")
    assert line.value == pytest.approx(report.summary["answered"] / report.summary["offered"])
    assert line.goal == 0.90
    # The four weeks before week 8 include pre-training weeks: lower than the week itself.
    assert line.average is not None and line.average < line.value
    assert report.metric("asa_median_s").goal == 18.0
    assert list(report.daily["date"]) == [date(2026, 11, d) for d in range(16, 21)]
    assert report.daily["offered"].sum() == report.summary["offered"]


def test_report_finds_the_tuesday_lunch_hole(report: WeeklyReport) -> None:
    top = report.lost_hours.iloc[0]
    assert (int(top["weekday"]), int(top["hour"])) == (1, 12)
    assert report.observations[0].startswith(f"Tuesday 12–1 pm lost {int(top['lost'])} calls")
    assert len(report.observations) == 3


def test_report_masks_callers_and_lists_those_awaiting(report: WeeklyReport) -> None:
    html = render_html(report)
    assert report.awaiting_total > 0
    assert all(c.startswith("•") for c in report.awaiting["caller_masked"])
    assert "+1555" not in html and "1555" not in html.replace("•", "")
    assert 0 < report.follow_up["follow_up_rate"] < 1


def test_csv_cells_never_start_a_formula(report: WeeklyReport) -> None:
    rows = list(csv.reader(io.StringIO(daily_csv(report))))
    assert rows[0][:3] == ["date", "weekday", "calls_offered"]
    assert rows[-1][:2] == ["2026-W47", "total"]
    assert len(rows) == 1 + 5 + 1
    assert [safe_cell(v) for v in ("=1+2", "+1555", "-3", "@x", "ok", 5)] == [
        "'=1+2",
        "'+1555",
        "'-3",
        "'@x",
        "ok",
        "5",
    ]
    hostile = WeeklyReport(**{**report.__dict__, "site": "=HYPERLINK(1)"})
    assert all(
        not cell.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(daily_csv(hostile))) for cell in row
    )


def test_report_command_writes_html_and_csv(tmp_path: Path) -> None:
    seeded_engine(tmp_path)
    config = write_config(tmp_path)
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--config", str(config)])
    assert result.exit_code == 0, result.output
    html = tmp_path / "reports" / "callwatch-main-office-2026-W47.html"
    assert html.exists() and (tmp_path / "reports" / "callwatch-main-office-2026-W47.csv").exists()
    assert str(html) in result.output and "Tuesday 12–1 pm" in result.output
    ranged = CliRunner().invoke(
        main,
        ["report", "--from", "2026-11-02", "--to", "2026-11-15", "--out", str(tmp_path / "x"), "--config", str(config)],
    )
    assert ranged.exit_code == 0, ranged.output
    assert (tmp_path / "x" / "callwatch-main-office-2026-11-02_2026-11-15.html").exists()
    bad = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--from", "2026-11-02", "--config", str(config)])
    assert bad.exit_code == 2 and "either --week or --from/--to" in bad.output


def test_report_on_an_empty_store_says_so(tmp_path: Path) -> None:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    store.init_db(engine)
    empty = build_report(engine, Settings(), parse_week("2026-W47"), now=NOW)
    assert empty.summary["offered"] == 0
    assert empty.observations == ("No calls were offered in business hours this week, so there is nothing to measure.",)
    assert "week 47" in render_html(empty)


def test_sent_weeks_and_trainings_work_on_every_backend(engine: Engine) -> None:
    from callwatch.metrics.loader import load_trainings

    store.save_calls(engine, history(FIRST_MONDAY, 8, TRAINING))
    store.add_training(engine, "main-office", TRAINING, "Phone manner")
    settings = Settings()
    [session] = load_trainings(engine, settings, "main-office")
    assert (session.date, session.source) == (TRAINING, "database")
    report = build_report(engine, settings, now=NOW)
    assert report.trainings[0].impact.verdict == "improved"
    assert not store.report_sent(engine, "main-office", "2026-W47")
    store.record_report_run(engine, "main-office", "2026-W47", "emailed to m@x.example", NOW)
    store.record_report_run(engine, "main-office", "2026-W47", "emailed again?", NOW)  # an upsert, never a second row
    assert store.report_sent(engine, "main-office", "2026-W47")
