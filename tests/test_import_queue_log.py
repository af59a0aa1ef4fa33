"""queue_log alone, and queue_log with the Master.csv of the same period: one record per call."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.data import MASTER_CSV, QUEUE_LOG, ground_truth
from support.imports import calls_by_caller, open_engine, read_rows, seconds, with_linkedid, write_cdr
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file

QUEUE_CALLERS = {"6175550121", "6175550124", "6175550128", "6175550129"}


def _import(tmp_path: Path, *paths: Path) -> dict[str, dict]:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    for path in paths:
        summary = import_file(engine, settings, path)
        assert summary.rejected == 0
    return calls_by_caller(engine)


def test_queue_calls_from_queue_log_alone(tmp_path: Path) -> None:
    calls = _import(tmp_path, QUEUE_LOG)
    assert set(calls) == QUEUE_CALLERS
    truth = {t["caller"]: t for t in ground_truth()}
    for caller, call in calls.items():
        expected = truth[caller]
        assert call["queue"] == "frontdesk"
        assert call["source"] == "queue-log"
        assert call["direction"] == "inbound"
        if expected["outcome"] == "answered":
            assert call["outcome"] == "answered"
            assert call["answered_by"] in expected["answered_by"].split("|")
            ring = seconds(call["ring_started_at"], call["answered_at"])
        else:
            ring = seconds(call["ring_started_at"], call["ended_at"])
        assert abs(ring - float(expected["ring"])) <= 1, caller
    assert calls["6175550128"]["outcome"] == "abandoned"


def test_queue_timeout_is_missed_from_queue_log_alone(tmp_path: Path) -> None:
    # The queue_log cannot see the voicemail that followed the timeout.
    assert _import(tmp_path, QUEUE_LOG)["6175550129"]["outcome"] == "missed"


@pytest.mark.parametrize("order", ["cdr-first", "queue-log-first"])
def test_both_logs_give_one_record_per_call(tmp_path: Path, order: str) -> None:
    paths = (MASTER_CSV, QUEUE_LOG) if order == "cdr-first" else (QUEUE_LOG, MASTER_CSV)
    calls = _import(tmp_path, *paths)
    assert len(calls) == len(ground_truth())
    timeout = calls["6175550129"]
    assert (timeout["outcome"], timeout["left_message"], timeout["source"]) == ("voicemail", True, "cdr-csv")
    assert calls["6175550124"]["answered_by"] in ("Bob", "202")
    assert calls["6175550128"]["outcome"] == "abandoned"


def test_linkedid_cdr_and_queue_log_give_one_record_per_call(tmp_path: Path) -> None:
    variant = write_cdr(tmp_path / "Master.csv", with_linkedid(read_rows(MASTER_CSV)))
    calls = _import(tmp_path, QUEUE_LOG, variant)
    assert len(calls) == len(ground_truth())
    assert calls["6175550129"]["outcome"] == "voicemail"


def test_system_events_are_neither_calls_nor_rejects(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(
        "1795553000|NONE|NONE|NONE|QUEUESTART|\n"
        "1795553001|NONE|frontdesk|Alice|ADDMEMBER|\n"
        "1795553002|NONE|frontdesk|Alice|PAUSE||lunch\n"
        + QUEUE_LOG.read_text()
    )
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, log)
    assert (summary.rejected, summary.calls_written) == (0, 4)
    assert len(store.select_calls(engine)) == 4


def test_answered_call_still_talking_at_end_of_log_is_kept(tmp_path: Path) -> None:
    lines = QUEUE_LOG.read_text().splitlines(keepends=True)
    log = tmp_path / "queue_log"
    log.write_text("".join(lines[:2]))  # ENTERQUEUE and CONNECT, no COMPLETE yet
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, log)
    (call,) = store.select_calls(engine)
    assert (call["outcome"], call["answered_by"], call["ended_at"]) == ("answered", "Alice", None)
    with log.open("a") as fh:
        fh.write(lines[2])
    import_file(engine, settings, log)
    (call,) = store.select_calls(engine)
    assert call["ended_at"] is not None


def test_an_unanswered_cdr_record_is_not_given_the_queue_logs_answer() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    queue_log = {"call_id": "1.1", "source": "queue-log", "outcome": "answered", "answered_at": at,
                 "answered_by": "Alice", "queue": "frontdesk", "ended_at": None}
    cdr = {"call_id": "1.1", "source": "cdr-csv", "outcome": "abandoned", "answered_at": None,
           "answered_by": None, "queue": None, "ended_at": at}
    merged = store.merge_call(queue_log, cdr)
    assert (merged["outcome"], merged["answered_at"], merged["answered_by"]) == ("abandoned", None, None)
    assert merged["queue"] == "frontdesk"
