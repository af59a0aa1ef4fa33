"""`callwatch calls` and `callwatch metrics` through click's CliRunner on real SQLite files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support.calls import call

from callwatch import store
from callwatch.cli import main
from callwatch.cli.calls import CALL_COLUMNS
from callwatch.formatting import opening_hours, safe_cell
from callwatch.metrics.params import MetricParams

ALICE = "6175550101"


def _config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'calls.db'}\n{extra}", encoding="utf-8")
    return config


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = _config(tmp_path, "holidays: [2026-03-11]\n")
    engine = store.create_engine(f"sqlite:///{tmp_path / 'calls.db'}")
    store.init_db(engine)
    store.save_calls(engine, [
        call("answered", 18, at="2026-03-09 09:00", caller=ALICE, answered_by="101", queue="front", call_id="a1"),
        call("answered", 18.001, at="2026-03-09 09:10", answered_by="102", queue="front", call_id="a2"),
        call("answered", 2, at="2026-03-10 10:00", answered_by="101", call_id="a3"),
        call("voicemail", 24, at="2026-03-10 11:00", left_message=True, call_id="v1"),
        call("abandoned", 12, at="2026-03-10 11:30", call_id="ab1"),
        call("abandoned", 3, at="2026-03-10 12:00", call_id="short1"),  # short abandon
        call("missed", 30, at="2026-03-10 13:00", call_id="m1"),
        call("voicemail", 30, at="2026-03-09 20:30", caller="=1+2", call_id="late1"),  # after hours, ends in UTC 10th
        call("answered", 5, at="2026-03-11 10:00", call_id="hol1"),  # holiday
        call("answered", 5, at="2026-03-10 10:30", direction="outbound", caller="@SUM(A1)", call_id="out1"),
    ])
    return path


def run(*args: str) -> Result:
    runner = CliRunner()
    result = runner.invoke(main, list(args), env={"CALLWATCH_DATABASE_URL": None, "CALLWATCH_CONFIG": None})
    assert result.exit_code == 0, result.output
    return result


def test_metrics_table(config: Path) -> None:
    out = run("metrics", "--config", str(config)).output
    lines = out.splitlines()
    assert lines[0] == "Calls answered — all sites (10 calls stored, times in America/New_York)"
    assert lines[1] == "Business hours: mon–fri 08:00–17:00; 1 holiday(s). Rates are over offered."
    assert "\n".join(lines[3:16]) == "\n".join([
        "  offered                6   inbound calls minus short abandons",
        "  answered               3     50.0 %",
        "  voicemail              1     16.7 %",
        "  abandoned              1     16.7 %",
        "  missed                 1     16.7 %",
        "  within target          2     33.3 %   answered within 3 rings (18 s)",
        "  short abandoned        1   not offered: hung up before 5 s of ringing (likely wrong numbers)",
        "  speed of answer",
        "    mean             12.7 s (3.0 rings)",  # (18 + 18.001 + 2) / 3; rings 4, 4, 1
        "    median           18.0 s (4.0 rings)",
        "    90th percentile  18.0 s (4.0 rings)",
        "",
        "After hours and holidays (not counted above): 2 inbound calls — 1 answered, 1 voicemail "
        "(0 left a message), 0 abandoned, 0 missed; 1 on holidays",
    ])


def test_metrics_dates_are_practice_local_and_to_is_inclusive(config: Path) -> None:
    # 20:30 on 9 March in New York is 00:30 UTC on the 10th: it belongs to the 9th.
    data = json.loads(run("metrics", "--config", str(config), "--from", "2026-03-09", "--to", "2026-03-09",
                          "--format", "json").output)
    assert data["calls"] == 3 and data["from"] == data["to"] == "2026-03-09"
    assert data["business_hours"]["offered"] == 2 and data["after_hours"]["calls"] == 1


def test_metrics_json_parses_with_percentages(config: Path) -> None:
    data = json.loads(run("metrics", "--config", str(config), "--format", "json", "--by", "week").output)
    hours = data["business_hours"]
    assert (hours["offered"], hours["answer_rate_pct"], hours["within_target_rate_pct"]) == (6, 50.0, 33.33)
    total = sum(hours[k] for k in ("answer_rate_pct", "voicemail_rate_pct", "abandonment_rate_pct", "missed_rate_pct"))
    assert total == pytest.approx(100, abs=0.02)
    assert data["timezone"] == "America/New_York" and data["settings"]["target_seconds"] == 18
    assert [g["week"][:10] for g in data["groups"]] == ["2026-03-09"]


def test_metrics_by_staff_and_day_tables(config: Path) -> None:
    out = run("metrics", "--config", str(config), "--by", "staff").output
    assert "By staff (business hours):" in out
    table = out.split("By staff (business hours):\n")[1].splitlines()
    assert table[0].split() == ["staff", "offered", "answered", "voicemail", "abandoned", "missed", "on", "target",
                                "short", "ab.", "mean", "s", "median", "s", "p90", "s"]
    assert [line.split()[0] for line in table[2:]] == ["(none)", "101", "102"]
    days = run("metrics", "--config", str(config), "--by", "day").output.split("By day (business hours):\n")[1]
    assert [line.split()[:2] for line in days.splitlines()[2:]] == [["2026-03-09", "2"], ["2026-03-10", "4"]]


def test_metrics_without_calls_says_so(tmp_path: Path) -> None:
    out = run("metrics", "--config", str(_config(tmp_path))).output
    assert out.startswith("No calls stored for all sites.\n")
    assert "callwatch import" in out
    data = json.loads(run("metrics", "--config", str(_config(tmp_path)), "--format", "json").output)
    assert data["calls"] == 0 and data["business_hours"]["answer_rate_pct"] is None and "note" in data


def test_metrics_rejects_to_before_from(config: Path) -> None:
    args = ["metrics", "--config", str(config), "--from", "2026-03-10", "--to", "2026-03-09"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "before --from" in result.output


def _csv_rows(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output)))


def test_calls_csv_masks_callers_by_default(config: Path) -> None:
    rows = _csv_rows(run("calls", "--config", str(config)).output)
    assert list(rows[0]) == list(CALL_COLUMNS)
    assert len(rows) == 10
    first = rows[0]
    assert first["call_id"] == "a1" and first["caller"] == "••••••0101" and first["ring_seconds"] == "18"
    assert first["arrived_at"] == "2026-03-09T13:00:00+00:00"  # 09:00 EDT
    assert ALICE not in "".join(r["caller"] for r in rows)


def test_calls_unmasked_and_csv_injection_guarded(config: Path) -> None:
    rows = {r["call_id"]: r for r in _csv_rows(run("calls", "--config", str(config), "--unmasked").output)}
    assert rows["a1"]["caller"] == ALICE
    assert rows["late1"]["caller"] == "'=1+2"
    assert rows["out1"]["caller"] == "'@SUM(A1)"
    for row in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())


def test_calls_json_parses_and_filters_by_local_day(config: Path) -> None:
    out = run("calls", "--config", str(config), "--format", "json", "--from", "2026-03-09", "--to", "2026-03-09").output
    records = json.loads(out)
    assert [r["call_id"] for r in records] == ["a1", "a2", "late1"]
    assert records[0]["caller"] == "••••••0101" and records[0]["ring_seconds"] == 18.0
    assert records[1]["answered_at"] == "2026-03-09T13:10:18.001000+00:00"
    assert records[2]["left_message"] is None and records[2]["outcome"] == "voicemail"


def test_calls_without_calls(tmp_path: Path) -> None:
    result = run("calls", "--config", str(_config(tmp_path)), "--format", "json")
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK()", "'=HYPERLINK()"), ("+1 617", "'+1 617"), ("-2", "'-2"), ("@x", "'@x"), ("a=b", "a=b"), ("", ""),
])
def test_safe_cell(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


def test_opening_hours_joins_runs_of_equal_days() -> None:
    from datetime import time

    split = [(time(8), time(12)), (time(13), time(18))]
    params = MetricParams(business_hours={"mon": split, "tue": split, "wed": [(time(8), time(12))], "fri": split})
    expected = "mon–tue 08:00–12:00, 13:00–18:00; wed 08:00–12:00; fri 08:00–12:00, 13:00–18:00"
    assert opening_hours(params.business_hours) == expected
    assert opening_hours(MetricParams(business_hours={}).business_hours) == "no opening hours configured"
