"""Vendor exports read with their presets: one case per vendor, built from the vendor's documented columns.

Each file under tests/data/presets/ holds answered, voicemail, unanswered and
outbound calls (and, where the export has them, several legs of one call);
docs/presets.md says where each column and word comes from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.imports import calls_by_caller, open_engine
from support.settings import make_settings
from test_import_master_csv import assert_matches_ground_truth

from callwatch import store
from callwatch.cli import main
from callwatch.collector.importer import import_file
from callwatch.collector.sources import SourceError
from callwatch.collector.sources.presets import PRESETS, preset_named

DATA = Path(__file__).parent / "data" / "presets"
FILES = {
    "yeastar-pseries": "yeastar-pseries.csv",
    "mango": "mango.csv",
    "8x8-cdr": "8x8-cdr.csv",
    "ringcentral-json": "ringcentral-call-log.json",
    "freepbx-cdr": "freepbx-cdr.csv",
    "zoom-phone": "zoom-call-logs.json",
    "3cx-call-log": "3cx-call-log.json",
    "3cx-abandoned-queue": "3cx-abandoned-queue.json",
}
# caller -> (outcome, answered_by, ring seconds or None where the export cannot know it)
EXPECTED: dict[str, dict[str, tuple[str, str | None, float | None]]] = {
    "yeastar-pseries": {
        "+16175550101": ("answered", "1001", 7),
        "+16175550102": ("voicemail", None, 20),
        "+16175550103": ("missed", None, 11),  # NO ANSWER: Yeastar cannot tell a timeout from a hang-up
        "+16175550104": ("missed", None, 0),  # BUSY
        "+16175550105": ("answered", "1002", 16),  # two legs, one uid: 12 s at 1001, then 4 s at 1002
    },
    "mango": {
        "+16175550201": ("answered", "210", None),
        "+16175550202": ("voicemail", None, None),
        "+16175550203": ("abandoned", None, None),  # Hangup
        "+16175550204": ("missed", None, None),  # Rejected
        "+16175550205": ("missed", None, None),  # External: forwarded out, nobody at the practice answered
    },
    "8x8-cdr": {
        "+16175550301": ("answered", "1001", 4),
        "+16175550302": ("voicemail", None, 24),  # 8x8's own scenario: missed+abandoned, then missed only
        "+16175550303": ("abandoned", None, 11),
        "+16175550304": ("answered", "1002", 6),  # ring group: three legs, the second member answered
        "+16175550305": ("answered", "1001", 3),  # transferred: the new Call ID names its Parent Call ID
    },
    "ringcentral-json": {
        "+16175550401": ("answered", "101", None),
        "+16175550402": ("voicemail", None, None),
        "+16175550403": ("missed", None, None),
        "+16175550404": ("answered", "102", None),  # two records, one sessionId
        "+16175550405": ("abandoned", None, None),  # "Abandoned", a word of RingCentral's result list
    },
    "zoom-phone": {
        "+16175550501": ("answered", "1001", 7),
        "+16175550502": ("voicemail", None, None),  # Missed with has_voicemail; no answer time: ring time unknown
        "+16175550503": ("missed", None, 25),  # No Answer, rang until the call ended
        "+16175550504": ("answered", "1002", 9),  # one call_id: "Answered by Other Member" at 1001, connected at 1002
    },
    "3cx-call-log": {
        "+16175550701": ("answered", "1001", 8),  # queue segment 5 s, then 3 s ringing at 1001
        "+16175550702": ("missed", None, 20),  # not answered: the spec has no voicemail/abandoned word
        "+16175550703": ("answered", "1002", 4.5),
    },
    "3cx-abandoned-queue": {
        "+16175550801": ("abandoned", None, 42),
        "+16175550802": ("abandoned", None, 65),
    },
}
# The call history (the newer Zoom API) read with the same preset: call_result words.
ZOOM_HISTORY = {
    "+16175550601": ("answered", "1001", 4),
    "+16175550602": ("voicemail", None, 20),  # voicemail picked up at its answer_time
    "+16175550603": ("abandoned", None, 13),
    "+16175550604": ("missed", None, 30),
}
OUTBOUND = {"yeastar-pseries": "+16175550102", "mango": "+16175550202", "8x8-cdr": "+16175550302",
            "ringcentral-json": "+16175550402", "zoom-phone": "+16175550502", "3cx-call-log": "+16175550702"}


def _import(tmp_path: Path, name: str, source: str = "auto", file: str | None = None
            ) -> tuple[Any, dict[str, dict[str, Any]]]:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, DATA / (file or FILES[name]), source=source)
    # An outbound call to a patient shares the patient's number: key inbound calls only.
    inbound = {c["caller"]: c for c in store.select_calls(engine) if c["direction"] == "inbound"}
    assert len(inbound) == len([c for c in store.select_calls(engine) if c["direction"] == "inbound"])
    return summary, inbound


def _ring(call: dict[str, Any]) -> float | None:
    if call["ring_started_at"] is None:
        return None
    stop = call["answered_at"] or call["ring_ended_at"] or call["ended_at"]
    return (stop - call["ring_started_at"]).total_seconds()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_vendor_export_imports_to_the_right_records(tmp_path: Path, name: str) -> None:
    summary, calls = _import(tmp_path, name, source=f"preset:{name}")
    assert summary.source == f"preset:{name}"
    got = {caller: (c["outcome"], c["answered_by"], _ring(c)) for caller, c in calls.items()}
    assert got == EXPECTED[name]
    # A preset that cannot know ring time stores none: no call of it has a ring start to measure from.
    if PRESETS[name].ring_time == "unknown":
        assert all(c["ring_started_at"] is None for c in calls.values())


def test_zoom_call_history_reads_the_call_result_words(tmp_path: Path) -> None:
    summary, calls = _import(tmp_path, "zoom-phone", file="zoom-call-history.json")
    assert summary.source == "preset:zoom-phone"
    assert {caller: (c["outcome"], c["answered_by"], _ring(c)) for caller, c in calls.items()} == ZOOM_HISTORY


@pytest.mark.parametrize("name", sorted(OUTBOUND))
def test_outbound_calls_are_kept_under_the_number_dialled(tmp_path: Path, name: str) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, DATA / FILES[name], source=f"preset:{name}")
    outbound = [c for c in store.select_calls(engine) if c["direction"] == "outbound"]
    assert [c["caller"] for c in outbound] == [OUTBOUND[name]]


def test_freepbx_cdr_reports_go_through_the_asterisk_reconstruction(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, DATA / FILES["freepbx-cdr"], source="preset:freepbx-cdr")
    assert (summary.rows_read, summary.rejected) == (116, 0)
    # Set A's ground truth, from a table that keeps only calldate, duration and billsec.
    assert_matches_ground_truth(calls_by_caller(engine))


def test_rows_the_vendor_could_not_classify_are_rejected_with_a_reason(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    summary = import_file(open_engine(settings), settings, DATA / FILES["mango"])
    assert summary.rejected == 1
    line = Path(summary.rejects_path or "").read_text().split("\t")
    assert line[2] == "7" and "Unknown" in line[3]
    settings = make_settings(tmp_path / "rc")
    summary = import_file(open_engine(settings), settings, DATA / FILES["ringcentral-json"])
    assert summary.rejected == 1
    assert "auto-receptionist" in Path(summary.rejects_path or "").read_text()
    # Zoom's "Parked" does not say whether a person answered: the call is rejected, not guessed.
    settings = make_settings(tmp_path / "zoom")
    summary = import_file(open_engine(settings), settings, DATA / FILES["zoom-phone"])
    assert summary.rejected == 1
    assert "'Parked' does not say whether a person answered" in Path(summary.rejects_path or "").read_text()


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_vendor_is_detected_from_the_file(tmp_path: Path, name: str) -> None:
    settings = make_settings(tmp_path)
    assert import_file(open_engine(settings), settings, DATA / FILES[name]).source == f"preset:{name}"


def test_a_file_of_another_vendor_is_refused_naming_the_expected_columns(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(SourceError) as refused:
        import_file(open_engine(settings), settings, DATA / FILES["mango"], source="preset:yeastar-pseries")
    message = str(refused.value)
    assert "mango.csv" in message
    assert "ring_duration" in message and "disposition" in message and "call_type" in message
    with pytest.raises(SourceError, match=r"8x8-cdr\.csv.*sessionId"):
        import_file(open_engine(settings), settings, DATA / FILES["8x8-cdr"], source="preset:ringcentral-json")


@pytest.mark.parametrize(("name", "other", "expected"), [
    ("zoom-phone", "3cx-call-log", "call_id, direction"),
    ("zoom-phone", "ringcentral-json", "call_id, direction"),
    ("3cx-call-log", "zoom-phone", "CallHistoryId, StartTime, RingingDuration, TalkingDuration, Direction"),
    ("3cx-call-log", "3cx-abandoned-queue", "CallHistoryId, StartTime, RingingDuration, TalkingDuration, Direction"),
    ("3cx-abandoned-queue", "3cx-call-log", "CallHistoryId, CallTime, WaitTime, QueueDn"),
    ("3cx-abandoned-queue", "mango", "CallHistoryId, CallTime, WaitTime, QueueDn"),
])
def test_a_json_export_of_another_vendor_is_refused(tmp_path: Path, name: str, other: str, expected: str) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    with pytest.raises(SourceError) as refused:
        import_file(engine, settings, DATA / FILES[other], source=f"preset:{name}")
    message = str(refused.value)
    assert FILES[other] in message and f"preset {name} expects" in message and expected in message
    assert store.select_calls(engine) == []


def test_an_unsupported_system_says_why() -> None:
    with pytest.raises(ValueError, match="no missed or abandoned outcome"):
        preset_named("teams")
    with pytest.raises(ValueError, match="reason-terminated field are not documented"):
        preset_named("3cx-cdr")
    with pytest.raises(ValueError, match="column names"):
        preset_named("dialpad")


def test_first_import_shows_how_columns_were_read_and_one_masked_example(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'db.sqlite'}\nrejects_dir: {tmp_path / 'rejects'}\n")
    runner = CliRunner()
    path = str(DATA / FILES["yeastar-pseries"])
    first = runner.invoke(main, ["import", "--config", str(config), path])
    assert first.exit_code == 0, first.output
    assert "preset:yeastar-pseries: 7 rows, 6 calls written, 0 rejected" in first.output
    assert "'ring_duration' -> ring time, exact" in first.output
    assert "not used: id, did_number" in first.output
    assert "example: 2026-11-24 09:00:05 EST, inbound, caller •••••••0101, answered by 1001, ring 7 s" in first.output
    assert "16175550101" not in first.output
    again = runner.invoke(main, ["import", "--config", str(config), path])
    assert "example" not in again.output


def test_first_import_of_a_json_export_shows_its_fields_and_a_masked_example(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'db.sqlite'}\nrejects_dir: {tmp_path / 'rejects'}\n")
    result = CliRunner().invoke(main, ["import", "--config", str(config), str(DATA / FILES["3cx-abandoned-queue"])])
    assert result.exit_code == 0, result.output
    assert "preset:3cx-abandoned-queue: 2 rows, 2 calls written, 0 rejected" in result.output
    assert "WaitTime -> ring time, exact" in result.output
    assert "example: 2026-11-24 10:00:00 EST, inbound, caller •••••••0801, abandoned, ring 42 s" in result.output
    assert "16175550801" not in result.output
