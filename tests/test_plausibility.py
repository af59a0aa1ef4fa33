"""Calls that cannot be real (1970, 2099, 9999, hour-long rings) are rejected and kept, from every source."""

from __future__ import annotations

import logging
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.data import MASTER_CSV, QUEUE_LOG
from support.imports import open_engine, read_rows, write_cdr
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.metrics.rollup_store import refresh_written_rollups
from callwatch.model import Call, Direction, Outcome, Source

# Three set-A calls, each moved wholesale to an impossible date.
MOVED = {"6175550111": "9999-12-31", "6175550112": "1970-01-01", "6175550113": "2099-06-01"}


def _moved(tmp_path: Path) -> Path:
    rows = read_rows(MASTER_CSV)
    for row in rows:
        if row[1] in MOVED:
            for i in (9, 10, 11):
                if row[i]:
                    row[i] = MOVED[row[1]] + row[i][10:]
    return write_cdr(tmp_path / "Master.csv", rows)


def test_impossible_dates_are_rejected_kept_and_counted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    moved_rows = sum(1 for row in read_rows(MASTER_CSV) if row[1] in MOVED)
    summary = import_file(engine, settings, _moved(tmp_path))
    assert summary.rejected == moved_rows
    assert summary.calls_written == 26
    callers = {c["caller"] for c in store.select_calls(engine)}
    assert not callers & set(MOVED)
    rejects = Path(summary.rejects_path or "").read_text()
    assert rejects.count("implausible call") == moved_rows
    assert "9999-12-31" in rejects and "2099" in rejects and "before 2000-01-01" in rejects
    assert stat.S_IMODE(Path(summary.rejects_path or "").stat().st_mode) == 0o600  # it holds caller numbers


def test_ring_time_is_bounded_by_a_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, plausibility={"max_ring_seconds": 15})
    engine = open_engine(settings)
    summary = import_file(engine, settings, MASTER_CSV)
    rings = [(c["answered_at"] or c["ring_ended_at"] or c["ended_at"]) - c["ring_started_at"]
             for c in store.select_calls(engine) if c["ring_started_at"] is not None]
    assert rings and max(r.total_seconds() for r in rings) <= 15
    assert summary.rejected > 0 and "max_ring_seconds" in Path(summary.rejects_path or "").read_text()


def test_queue_log_and_csv_exports_are_checked_too(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, plausibility={"future_seconds": 0, "max_ring_seconds": 5},
                             column_maps={"pbx": {"columns": {"arrived_at": "When", "caller": "From"}}})
    engine = open_engine(settings)
    export = tmp_path / "calls.csv"
    export.write_text("When,From\n2099-01-01T09:00:00,6175550101\n2026-11-24T09:00:00,6175550102\n")
    csv_summary = import_file(engine, settings, export, "csv:pbx")
    assert (csv_summary.calls_written, csv_summary.rejected) == (1, 1)
    queue_summary = import_file(engine, settings, QUEUE_LOG)
    assert queue_summary.rejected > 0  # set A's queue waits are longer than 5 s


def test_one_impossible_stored_call_never_stops_the_rollups(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    end_of_time = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    # What 0.1.0 stored before these rules existed.
    store.save_calls(engine, [Call("old-9999", settings.site, Direction.INBOUND, "6175550199", end_of_time,
                                   end_of_time, Outcome.ABANDONED, source=Source.CDR_CSV)])
    with caplog.at_level(logging.WARNING):
        import_file(engine, settings, MASTER_CSV)
        refresh_written_rollups(engine, settings)  # what `callwatch import` does after its files
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with engine.connect() as conn:
        days = {row[0] for row in conn.execute(sa.select(store.rollup_days.c.date))}
    assert date(2026, 11, 24) in days
