"""A hosted PBX's CSV export, mapped onto Call fields by `column_maps` in the settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.imports import open_engine
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.collector.sources import SourceError
from callwatch.config import Settings

HOSTED_MAP = {
    "columns": {
        "caller": "From",
        "arrived_at": "Start Time",
        "ring_seconds": "Ring",
        "duration_seconds": "Duration",
        "outcome": "Result",
        "direction": "Direction",
        "answered_by": "Handled By",
    },
    "outcomes": {"Accepted": "answered", "Missed": "missed", "Voicemail": "voicemail", "Hang Up": "abandoned"},
    "directions": {"Incoming": "inbound", "Outgoing": "outbound"},
    "time_format": "%m/%d/%Y %I:%M:%S %p",
}
HEADER = "Start Time,From,Direction,Result,Ring,Duration,Handled By\n"
ROWS = [
    "11/24/2026 09:00:05 AM,+16175550101,Incoming,Accepted,7,95,Alice\n",
    "11/24/2026 09:03:00 AM,+16175550102,Incoming,Voicemail,24,40,\n",
    "11/24/2026 09:04:30 AM,+16175550103,Incoming,Hang Up,11,11,\n",
    "11/24/2026 09:10:00 AM,+16175550102,Outgoing,Accepted,5,60,Alice\n",
]


def _settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, column_maps={"hosted": HOSTED_MAP})


def _write(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(rows))
    return path


def test_rows_become_calls_through_the_column_map(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, _write(tmp_path / "export.csv", *ROWS), source="csv:hosted")
    assert (summary.rows_read, summary.calls_written, summary.rejected) == (4, 4, 0)
    calls = store.select_calls(engine)
    first = calls[0]
    # Naive export times are the practice's local time (America/New_York, EST in November).
    assert first["arrived_at"] == datetime(2026, 11, 24, 14, 0, 5, tzinfo=UTC)
    assert (first["outcome"], first["answered_by"], first["source"]) == ("answered", "Alice", "csv")
    assert (first["answered_at"] - first["ring_started_at"]).total_seconds() == 7
    assert [c["outcome"] for c in calls] == ["answered", "voicemail", "abandoned", "answered"]
    assert [c["direction"] for c in calls] == ["inbound", "inbound", "inbound", "outbound"]
    assert (calls[2]["ended_at"] - calls[2]["ring_started_at"]).total_seconds() == 11


def test_format_is_detected_from_the_header(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    summary = import_file(open_engine(settings), settings, _write(tmp_path / "export.csv", *ROWS))
    assert summary.source == "csv:hosted"


def test_call_id_is_a_stable_hash_of_the_row(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, _write(tmp_path / "monday.csv", *ROWS[:3]))
    # A later export that repeats two of the same rows: they are the same calls.
    import_file(engine, settings, _write(tmp_path / "tuesday.csv", *ROWS[1:]))
    calls = store.select_calls(engine)
    assert len(calls) == 4
    assert all(c["call_id"].startswith("csv-") for c in calls)


def test_bad_rows_are_rejected_with_a_reason_and_good_rows_kept(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engine = open_engine(settings)
    bad = [
        "yesterday,+16175550104,Incoming,Accepted,3,10,Bob\n",
        "11/24/2026 10:00:00 AM,+16175550105,Incoming,Transferred to Mars,3,10,Bob\n",
        "11/24/2026 10:01:00 AM,+16175550106\n",
        "11/24/2026 10:02:00 AM,+16175550107,Incoming,Accepted,soon,10,Bob\n",
    ]
    summary = import_file(engine, settings, _write(tmp_path / "export.csv", ROWS[0], *bad, ROWS[1]))
    assert (summary.rejected, summary.calls_written) == (4, 2)
    assert summary.rejects_path is not None
    reasons = [line.split("\t") for line in Path(summary.rejects_path).read_text().splitlines()]
    assert [r[2] for r in reasons] == ["3", "4", "5", "6"]
    assert "time format" in reasons[0][3]
    assert "outcomes" in reasons[1][3]
    assert "columns" in reasons[2][3]
    assert "seconds" in reasons[3][3]


def test_a_grown_export_reads_only_the_new_rows(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engine = open_engine(settings)
    export = _write(tmp_path / "export.csv", *ROWS[:2])
    assert import_file(engine, settings, export).rows_read == 2
    with export.open("a") as fh:
        fh.writelines(ROWS[2:])
    second = import_file(engine, settings, export)
    assert (second.rows_read, second.calls_written) == (2, 2)
    assert len(store.select_calls(engine)) == 4


def test_a_header_without_the_mapped_columns_cannot_be_imported(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    export = tmp_path / "other.csv"
    export.write_text("when,who\n2026-11-24 09:00:00,6175550101\n")
    with pytest.raises(SourceError, match="not in the header"):
        import_file(open_engine(settings), settings, export, source="csv:hosted")
    with pytest.raises(SourceError, match="matches no column map"):
        import_file(open_engine(settings), settings, export)
