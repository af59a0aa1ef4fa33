"""One verdict per training and office, the same in the CLI, the Training page and the weekly report.

Three offices share one store, each with its own training on the same day: at
one the answer rate steps up 8 points the day after, at one nothing changes,
at one the rate was already drifting up before the training and keeps going.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import plotly
import pytest
import yaml
from click.testing import CliRunner

from callwatch import store
from callwatch.cli import main
from callwatch.config.settings import Settings
from callwatch.dashboard.app import create_app
from callwatch.report.build import build_report
from callwatch.report.html import render_html
from callwatch.report.periods import Period
from callwatch.sample import history

START, END = date(2026, 1, 5), date(2026, 5, 18)
TRAINING = date(2026, 3, 25)  # a Wednesday: 11 weeks of history before it, 7 after
STEP, STILL, DRIFT = "main-office", "northside", "riverside"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("verdicts")
    base = history.make_offices(3, START, END, seed=11, calls_per_day=60)
    offices = [
        dataclasses.replace(base[0], calls_per_day=150, answer_rate=0.76, training=TRAINING, training_gain=0.08,
                            training_ramp_days=0),
        dataclasses.replace(base[1], answer_rate=0.80, training=None, training_gain=0.0),
        dataclasses.replace(base[2], answer_rate=0.70, training=None, training_gain=0.0, drift_per_week=0.007),
    ]
    frame = history.generate_frame(offices, START, END, seed=11)
    engine = store.create_engine(f"sqlite:///{tmp / 'cw.db'}")
    store.init_db(engine)
    store.upsert_rows(engine, store.calls, list(history.frame_rows(frame)), keys=("site", "call_id"))
    for office in (STEP, STILL, DRIFT):
        store.add_training(engine, office, TRAINING, "Phone manner", "")
    config = tmp / "callwatch.yaml"
    config.write_text(yaml.safe_dump({"database_url": f"sqlite:///{tmp / 'cw.db'}"}), encoding="utf-8")
    return config


def _cli_json(config: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["training", "--format", "json", *args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_says_improved_no_clear_change_and_not_improved(db: Path) -> None:
    rows = {row["office"]: row for row in _cli_json(db)}
    assert set(rows) == {STEP, STILL, DRIFT}
    assert all(row["site"] == row["office"] and row["date"] == TRAINING.isoformat() for row in rows.values())
    step = rows[STEP]["answer_rate"]
    assert rows[STEP]["verdict"] == "improved"
    assert step["ci_low"] <= 0.08 <= step["ci_high"] and step["ci_low"] > 0
    assert rows[STILL]["verdict"] == "no clear change"
    assert rows[STILL]["answer_rate"]["ci_low"] <= 0 <= rows[STILL]["answer_rate"]["ci_high"]
    assert rows[DRIFT]["verdict"] != "improved"
    # The plain before/after shows the drift as a rise; the effect does not credit it to the training.
    assert rows[DRIFT]["answer_rate"]["after"] > rows[DRIFT]["answer_rate"]["before"]
    for row in rows.values():
        for key in ("answer_rate", "within_target_rate", "voicemail_rate", "abandonment_rate"):
            assert set(row[key]) >= {"before", "after", "change", "ci_low", "ci_high", "p_value"}


def test_cli_site_filter_and_text_list(db: Path) -> None:
    assert [row["office"] for row in _cli_json(db, "--site", STILL)] == [STILL]
    result = CliRunner().invoke(main, ["training", "--config", str(db)])
    assert result.exit_code == 0
    assert "improved" in result.output and "no clear change" in result.output and "0.000" not in result.output


def _page_text(component: Any) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def test_training_page_and_weekly_report_say_what_the_cli_says(db: Path) -> None:
    cli = {row["office"]: row for row in _cli_json(db)}
    settings = Settings.model_validate(yaml.safe_load(db.read_text()))
    app = create_app(settings)
    from callwatch.dashboard import data
    from callwatch.dashboard.pages import training

    with app.server.test_request_context("/training"):
        ctx = data.context()
        for office, row in cli.items():
            [judged] = data.judged_trainings(ctx, office)
            assert judged.impact.verdict == row["verdict"]
            assert judged.impact.primary.effect.estimate == pytest.approx(row["answer_rate"]["change"])
            page = _page_text(training.body(ctx, office))
            assert judged.impact.headline in page and "0.000" not in page
            if row["answer_rate"]["p_value"] < 0.001:
                assert "< 0.001" in page
            # "better" never appears; the verdict column is the model's.
            assert "better" not in page
    engine = store.create_engine(settings.database_url)
    week = Period(TRAINING + timedelta(days=19), TRAINING + timedelta(days=25))
    for office, row in cli.items():
        report = build_report(engine, settings, week, site=office, now=datetime(2026, 5, 19, tzinfo=UTC))
        [result] = report.trainings
        assert result.impact.verdict == row["verdict"]
        assert result.impact.headline in render_html(report).replace("&#x27;", "'")


def test_add_and_remove_a_training_for_every_office(db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(main, ["training", "add", "2026-02-11", "Hold etiquette", "--config", str(db)])
    assert added.exit_code == 0, added.output
    rows = [r for r in _cli_json(db) if r["title"] == "Hold etiquette"]
    assert {r["office"] for r in rows} == {STEP, STILL, DRIFT} and all(r["site"] is None for r in rows)
    # Now each office has another training within the weeks measured: the caveat says so, at that office.
    [step] = [r for r in _cli_json(db, "--site", STEP) if r["title"] == "Phone manner"]
    assert any("Another training at this office (11 Feb 2026)" in w for w in step["warnings"])
    removed = runner.invoke(main, ["training", "remove", "2026-02-11", "--config", str(db)])
    assert removed.exit_code == 0, removed.output
    assert not [r for r in _cli_json(db) if r["title"] == "Hold etiquette"]
    [step] = [r for r in _cli_json(db, "--site", STEP) if r["title"] == "Phone manner"]
    assert not any("Another training" in w for w in step["warnings"])
