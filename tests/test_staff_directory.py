"""Staff by name: `staff:` in callwatch.yaml, names the PBX reports, and a renamed extension's history."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support.ami import EVENTS
from support.calls import call, prepared

from callwatch import store
from callwatch.cli import main
from callwatch.collector.ami.protocol import decode, event_time, parse
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.collector.importer import import_file
from callwatch.config import ConfigError, Settings, load_settings
from callwatch.metrics.frame import prepare
from callwatch.metrics.loader import load_calls, load_staff_seen
from callwatch.metrics.params import MetricParams
from callwatch.metrics.staff_member import staff_vs_office
from callwatch.metrics.summary import summarize_by
from callwatch.report.build import build_report
from callwatch.report.html import render_html
from callwatch.report.periods import Period

STAFF_YAML = """\
database_url: sqlite:///{db}
staff:
  201: Ann Lee
  "202":
    - name: Bob Stone
      until: 2026-03-31
    - name: Carla Diaz
      from: 2026-04-01
"""


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env={"CALLWATCH_DATABASE_URL": None, "CALLWATCH_CONFIG": None})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "callwatch.yaml"
    path.write_text(STAFF_YAML.format(db=tmp_path / "calls.db"), encoding="utf-8")
    engine = store.create_engine(f"sqlite:///{tmp_path / 'calls.db'}")
    store.init_db(engine)
    store.save_calls(engine, [
        call("answered", 4, at="2026-03-30 09:00", answered_by="202", call_id="bob-1"),
        call("answered", 30, at="2026-03-31 16:59", answered_by="202", call_id="bob-2"),
        call("answered", 6, at="2026-04-01 08:01", answered_by="202", call_id="carla-1"),
        call("answered", 10, at="2026-04-01 09:00", answered_by="201", call_id="ann-1"),
        call("voicemail", 24, at="2026-04-01 10:00", call_id="vm-1"),
    ])
    return path


def test_staff_config_accepts_numbers_and_dated_names(config: Path) -> None:
    settings = load_settings(config)
    assert [n.name for n in settings.staff["201"]] == ["Ann Lee"]
    assert [(n.name, str(n.since), str(n.until)) for n in settings.staff["202"]] == [
        ("Bob Stone", "None", "2026-03-31"), ("Carla Diaz", "2026-04-01", "None")]


def test_overlapping_names_for_one_extension_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "callwatch.yaml"
    path.write_text("staff:\n  202: [{name: Bob}, {name: Carla, from: 2026-04-01}]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "staff" in str(err.value) and "'Bob' and 'Carla' overlap" in str(err.value)


def test_renamed_extension_keeps_the_old_name_on_old_calls(config: Path) -> None:
    out = run("calls", "--config", str(config)).output
    rows = {r["call_id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert [rows[i]["staff_name"] for i in ("bob-1", "bob-2", "carla-1", "ann-1")] == [
        "Bob Stone", "Bob Stone", "Carla Diaz", "Ann Lee"]
    assert rows["carla-1"]["answered_by"] == "202" and rows["vm-1"]["staff_name"] == ""


def test_metrics_by_staff_shows_each_person_by_name(config: Path) -> None:
    out = run("metrics", "--by", "staff", "--config", str(config)).output
    table = out.split("By staff")[1].splitlines()
    people = [line.strip().split("  ")[0] for line in table[3:] if line.strip()]
    assert people == ["(none)", "Ann Lee (201)", "Bob Stone (202)", "Carla Diaz (202)"]
    payload = json.loads(run("metrics", "--by", "staff", "--format", "json", "--config", str(config)).output)
    assert [(g["answered_by"], g["staff_name"], g["answered"]) for g in payload["groups"]] == [
        ("(none)", "", 0), ("201", "Ann Lee", 1), ("202", "Bob Stone", 2), ("202", "Carla Diaz", 1)]


def test_a_staff_member_against_the_office(config: Path) -> None:
    settings = load_settings(config)
    calls = prepared(
        [call("answered", r, at="2026-03-30 09:00", answered_by="202") for r in (4, 6, 30)]
        + [call("answered", r, at="2026-03-30 10:00", answered_by="201") for r in (2, 3, 5, 40)],
        MetricParams.from_settings(settings))
    numbers = staff_vs_office(calls, MetricParams.from_settings(settings), "Bob Stone")
    bob, office = numbers["staff"], numbers["office"]
    assert (bob["answered"], bob["share_of_answered"], bob["asa_median_s"]) == (3, pytest.approx(3 / 7), 6.0)
    assert bob["within_target_share"] == pytest.approx(2 / 3) and office["within_target_share"] == pytest.approx(5 / 7)
    assert (office["answered"], office["asa_median_s"]) == (7, 5.0)


def _ami_calls() -> list:
    tracker = AmiTracker(Settings())
    found = []
    for ev in EVENTS:
        msg = parse(decode(ev.raw))
        found.extend(tracker.feed(msg, event_time(msg, ev.t)))
    return found


def test_names_learnt_from_the_pbx_fill_calls_that_lack_one(tmp_path: Path) -> None:
    ami = _ami_calls()
    named = {(c.answered_by, c.answered_by_name) for c in ami if c.answered_by_name}
    # The queue reports MemberName for the interface Local/201@staff/n; the callers' own names
    # (which Asterisk copies onto the ringing phone's channel) never become a staff member's.
    assert named == {("201", "Alice"), ("202", "Bob")}
    engine = store.create_engine(f"sqlite:///{tmp_path / 'ami.db'}")
    store.init_db(engine)
    store.save_calls(engine, ami)
    seen = load_staff_seen(engine)
    assert sorted(zip(seen["extension"], seen["name"], strict=True)) == [("201", "Alice"), ("202", "Bob")]
    # A call read later from a log that does not name people (Master.csv) takes the learnt name,
    later = call("answered", 5, at="2026-11-30 10:00", answered_by="201", call_id="from-cdr", site="main-office")
    store.save_calls(engine, [later])
    loaded = load_calls(engine)
    assert loaded.set_index("call_id").loc["from-cdr", "answered_by_name"] == "Alice"
    # and a name configured in callwatch.yaml wins over what the PBX said.
    configured = Settings.model_validate({"staff": {"201": "Alice Smith"}})
    names = prepare(loaded, MetricParams.from_settings(configured)).set_index("call_id")["staff_name"]
    assert names["from-cdr"] == "Alice Smith"
    assert set(summarize_by(prepare(loaded, MetricParams()), MetricParams(), "staff")["staff_name"]) >= {
        "Alice", "Bob"}


def test_weekly_report_names_staff_with_the_extension_beside(config: Path) -> None:
    settings = load_settings(config)
    engine = store.create_engine(settings.database_url)
    report = build_report(engine, settings, Period(date(2026, 3, 30), date(2026, 4, 5)), site="main",
                          now=datetime(2026, 4, 6, 12, tzinfo=UTC))
    html = render_html(report)
    assert "Bob Stone <small class='ext'>202</small>" in html
    assert "Carla Diaz <small class='ext'>202</small>" in html
    assert "Ann Lee <small class='ext'>201</small>" in html


PRESETS = Path(__file__).parent / "data" / "presets"


@pytest.mark.parametrize(("file", "quality"), [
    ("yeastar-pseries.csv", "exact"), ("8x8-cdr.csv", "derived"), ("ringcentral-call-log.json", "unknown")])
def test_vendor_presets_store_their_ring_time_quality_and_who_answered_by_name(
        tmp_path: Path, file: str, quality: str) -> None:
    settings = Settings.model_validate({"database_url": f"sqlite:///{tmp_path / 'p.db'}",
                                        "rejects_dir": str(tmp_path / "rejects")})
    engine = store.create_engine(settings.database_url)
    store.init_db(engine)
    import_file(engine, settings, PRESETS / file)
    inbound = [c for c in store.select_calls(engine) if c["direction"] == "inbound"]
    # "Anna Lee<1001>" (Yeastar call_to), 8x8's Callee Name, RingCentral's legs[].to.name; the caller's
    # own name ("PATIENT ONE") is never taken for a staff member's.
    answered = {c["answered_by_name"] for c in inbound if c["outcome"] == "answered"}
    assert "Anna Lee" in answered and "PATIENT ONE" not in answered
    assert {c["ring_quality"] for c in inbound if c["outcome"] == "answered"} == {quality}
    seen = load_staff_seen(engine)
    assert "Anna Lee" in set(seen["name"]) and "PATIENT ONE" not in set(seen["name"])
