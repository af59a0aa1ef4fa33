"""A call log without answer times: rates yes, ring-time numbers nowhere, and every place says why.

The export below is a cloud phone system's call history as a practice
downloads it: start time, duration, result and who answered, but no ring,
wait or answer-time column. callwatch must give the answer, voicemail and
abandonment rates, and show "ring time: not in this export" instead of a speed
of answer, rings or within-target rate in the CLI, the weekly report and the
dashboard.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import plotly.utils
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from support.calls import PARAMS, call, prepared

from callwatch import store
from callwatch.cli import main
from callwatch.config import load_settings
from callwatch.dashboard import data
from callwatch.dashboard.app import create_app
from callwatch.dashboard.live_panels import today_panel
from callwatch.metrics.quality import NOT_IN_EXPORT, ring_time_note
from callwatch.metrics.summary import summarize
from callwatch.store import merge_call, migrations

HEADER = "Date,From,Duration,Result,Answered By,Ext\n"
# Mon 16 - Fri 20 Nov 2026, practice-local (America/New_York): 6 answered, 2 voicemail, 2 hung up = 10 offered.
ROWS = [
    "2026-11-16 09:00:00,+16175550101,95,Answered,Ann Lee,201\n",
    "2026-11-16 09:30:00,+16175550102,40,Voicemail,,\n",
    "2026-11-17 10:00:00,+16175550103,120,Answered,Ann Lee,201\n",
    "2026-11-17 10:15:00,+16175550104,2,Hang Up,,\n",
    "2026-11-18 11:00:00,+16175550105,60,Answered,Bob Stone,202\n",
    "2026-11-18 11:20:00,+16175550106,33,Voicemail,,\n",
    "2026-11-19 14:00:00,+16175550107,80,Answered,Bob Stone,202\n",
    "2026-11-19 14:40:00,+16175550108,15,Hang Up,,\n",
    "2026-11-20 15:00:00,+16175550109,45,Answered,Ann Lee,201\n",
    "2026-11-20 15:30:00,+16175550110,70,Answered,Bob Stone,202\n",
]
CONFIG = """\
database_url: sqlite:///{db}
rejects_dir: {tmp}/rejects
journal_path: {tmp}/journal.log
column_maps:
  cloud:
    columns: {{arrived_at: Date, caller: From, duration_seconds: Duration, outcome: Result,
               answered_by_name: Answered By, answered_by: Ext}}
    outcomes: {{Answered: answered, Voicemail: voicemail, Hang Up: abandoned}}
    time_format: "%Y-%m-%d %H:%M:%S"
"""
RING_NUMBER = re.compile(r"\d+(\.\d+)? s\b|\d+(\.\d+)? rings")


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env={"CALLWATCH_DATABASE_URL": None, "CALLWATCH_CONFIG": None})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cloud")
    config = tmp / "callwatch.yaml"
    config.write_text(CONFIG.format(db=tmp / "calls.db", tmp=tmp), encoding="utf-8")
    export = tmp / "call-history.csv"
    export.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    run("import", "--source", "csv:cloud", str(export), "--config", str(config))
    return config


def test_stored_calls_say_their_ring_time_is_unknown(imported: Path) -> None:
    rows = json.loads(run("calls", "--format", "json", "--config", str(imported)).output)
    assert len(rows) == 10
    assert {r["ring_quality"] for r in rows} == {"unknown"}
    assert all(r["ring_seconds"] is None for r in rows)


def test_cli_gives_rates_and_no_ring_numbers(imported: Path) -> None:
    out = run("metrics", "--config", str(imported)).output
    assert re.search(r"answered\s+6\s+60\.0 %", out), out
    assert re.search(r"voicemail\s+2\s+20\.0 %", out), out
    # The 2 s hang-up counts: nothing says it was short, so it is not dropped as a wrong number.
    assert re.search(r"abandoned\s+2\s+20\.0 %", out), out
    assert re.search(rf"within target\s+{NOT_IN_EXPORT}", out), out
    assert re.search(rf"speed of answer\s+{NOT_IN_EXPORT}", out), out
    assert "does not say when the phone was answered" in out
    assert not RING_NUMBER.search(out.split("Note")[0].replace("short_abandon", "")
                                  .replace("before 5 s of ringing", "")), out


def test_cli_json_has_rates_and_nulls_for_ring_numbers(imported: Path) -> None:
    payload = json.loads(run("metrics", "--format", "json", "--config", str(imported)).output)
    numbers = payload["business_hours"]
    assert (numbers["answer_rate_pct"], numbers["voicemail_rate_pct"], numbers["abandonment_rate_pct"]) == (
        60.0, 20.0, 20.0)
    assert numbers["within_target_rate_pct"] is None
    assert all(numbers[k] is None for k in numbers if k.startswith("asa_"))
    assert (numbers["offered_timed"], numbers["answered_timed"]) == (0, 0)
    assert payload["ring_time_note"].startswith(NOT_IN_EXPORT)


def test_cli_by_staff_shows_names_without_ring_numbers(imported: Path) -> None:
    out = run("metrics", "--by", "staff", "--config", str(imported)).output
    table = out.split("By staff")[1]
    assert "Ann Lee (201)" in table and "Bob Stone (202)" in table
    ann = next(line for line in table.splitlines() if "Ann Lee" in line)
    cells = ann.split()  # name, offered, 4 rates, on target, short abandons, mean, median, p90
    assert cells[3:5] == ["3", "100.0"] and cells[12] == "–" and cells[-3:] == ["–", "–", "–"], ann


def test_weekly_report_says_ring_time_is_not_in_the_export(imported: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    run("report", "--from", "2026-11-16", "--to", "2026-11-22", "--out", str(out), "--config", str(imported))
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert NOT_IN_EXPORT in html and "does not say when the phone was answered" in html.replace("<b>", "")
    assert "Answer rate</div><div class='value'>60.0 %" in html
    # No card, day row or staff row shows seconds to answer.
    assert re.findall(r">\d+ s<", html) == []
    assert "Ann Lee <small class='ext'>201</small>" in html


def _json(component: Any) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def test_dashboard_pages_say_why_instead_of_showing_ring_numbers(imported: Path) -> None:
    settings = load_settings(imported)
    app = create_app(settings)
    ctx = app.server.extensions["callwatch"]
    # Page modules register themselves with Dash, which needs an app first.
    from callwatch.dashboard.pages import calls as calls_page
    from callwatch.dashboard.pages import staffing

    rng = data.parse_range(ctx, "2026-11-16", "2026-11-20")
    page = _json(staffing.body(ctx, rng))
    assert NOT_IN_EXPORT in page and "does not say when the phone was answered" in page
    assert "Ann Lee" in page and "Bob Stone" in page
    calls = data.prepared_calls(ctx, rng)
    live = _json(today_panel(ctx, None, datetime(2026, 11, 20, 21, tzinfo=UTC), calls))
    assert live.count(NOT_IN_EXPORT) >= 2  # the within-target and speed-of-answer tiles
    assert not re.search(r"\d+\.\d s \(", live)  # no speed such as "12.3 s (2 rings)"
    table = data.call_rows(calls, data.CallFilter())
    assert set(table["ring_time"]) == {"not in this export"} and table["ring_seconds"].isna().all()
    assert set(table.loc[table["outcome"] == "answered", "answered_by"]) == {"Ann Lee", "Bob Stone"}
    assert calls_page.describe(rng, data.CallFilter(), len(table)).startswith("10 calls")
    # Trends and Group say why their speed lines and within-target numbers are empty.
    from callwatch.dashboard.pages import group, trends

    trend = _json(trends.body(ctx, rng, "day"))
    assert "trends-ring-time-note" in trend and "does not say when the phone was answered" in trend
    with app.server.app_context():
        week = _json(group.layout(week="2026-11-16"))
    assert "group-ring-time-note" in week and "does not say when the phone was answered" in week


def test_mixed_sources_compute_ring_numbers_over_the_calls_that_have_them() -> None:
    timed = [call("answered", 5), call("answered", 25), call("abandoned", 12), call("voicemail", 30)]
    untimed = [call("answered", 5, ring_quality="unknown") for _ in range(5)] + [
        call("abandoned", 2, ring_quality="unknown")]
    numbers = summarize(prepared(timed + untimed), PARAMS)
    assert (numbers["offered"], numbers["offered_timed"], numbers["answered_timed"]) == (10, 4, 2)
    assert numbers["answer_rate"] == pytest.approx(7 / 10)
    assert numbers["within_target_rate"] == pytest.approx(1 / 4)  # 5 s is within 18 s, 25 s is not; over 4
    assert numbers["asa_median_s"] == pytest.approx(15.0)
    assert ring_time_note(numbers) == (
        "ring time known for 4 of 10 offered calls: speed of answer, rings and the within-target rate are over "
        "those 4; the other calls come from a call log without answer times")


def test_merge_keeps_the_better_known_ring_time() -> None:
    at = datetime(2026, 11, 16, 14, tzinfo=UTC)
    cdr = {"site": "s", "call_id": "c", "source": "cdr-csv", "outcome": "answered", "arrived_at": at,
           "ring_started_at": at, "answered_at": at + timedelta(seconds=14), "ring_ended_at": None,
           "answered_by": "201", "queue": None, "ring_quality": "derived"}
    queue = {**cdr, "source": "queue-log", "ring_started_at": at + timedelta(seconds=9),
             "answered_at": at + timedelta(seconds=13), "queue": "front", "ring_quality": "exact"}
    for old, new in ((cdr, queue), (queue, cdr)):
        merged = merge_call(old, new)
        assert merged["source"] == "cdr-csv" and merged["queue"] == "front"  # the richer source still wins
        assert (merged["ring_quality"], merged["ring_started_at"]) == ("exact", queue["ring_started_at"])
    # A ring time that ends in an answer never joins a call the richer source says nobody answered.
    missed = {**cdr, "outcome": "voicemail", "answered_at": None, "answered_by": None}
    assert merge_call(queue, missed)["ring_quality"] == "derived"


def test_migration_gives_stored_calls_the_quality_their_source_implies(tmp_path: Path) -> None:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrations.upgrade(engine, "0002")
    at = "2026-11-16 14:00:00"
    with engine.begin() as conn:
        for call_id, source, answered, outcome in (("a", "ami", at, "answered"), ("m", "cdr-csv", at, "answered"),
                                                   ("q", "queue-log", None, "abandoned"),
                                                   ("c1", "csv", at, "answered"), ("c2", "csv", None, "answered"),
                                                   ("c3", "csv", None, "voicemail")):
            conn.execute(sa.text(
                "INSERT INTO calls (site, call_id, direction, caller, arrived_at, answered_at, outcome, source) "
                "VALUES ('s', :id, 'inbound', '1', :at, :answered, :outcome, :source)"),
                {"id": call_id, "at": at, "answered": answered, "outcome": outcome, "source": source})
    store.init_db(engine)
    quality = {r["call_id"]: r["ring_quality"] for r in store.select_calls(engine)}
    assert quality == {"a": "exact", "m": "derived", "q": "exact", "c1": "derived", "c2": "unknown",
                       "c3": "derived"}
