"""Every inbound call of the recorded sets A and D, exact from each source that sees it.

Exact: outcome, answered_by, ring within 1 s (0.6 s from AMI), pre-ring, one
record per call, and no outbound or internal call counted as inbound. The
checker is tests/support/ground_truth.py; the sources are the real recorded files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.amiserver import load_capture
from support.ground_truth import SET_A, SET_D, cdr_table_rows, problems, set_d_settings, truth
from support.imports import open_engine
from support.settings import make_settings

from callwatch import store
from callwatch.collector.ami.protocol import decode, event_time, parse
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.collector.importer import import_file
from callwatch.collector.reconstruct.cdr import calls_from_cdr_rows
from callwatch.collector.reconstruct.channels import CallContext
from callwatch.config import Settings


def _not_inbound_kept_apart(rows: list[dict], data: Path, internal_stored: bool = True) -> None:
    """Calls the practice placed are stored as placed (the AMI collector does not keep internal ones)."""
    placed = {r["caller"]: r["direction"] for r in rows if r["direction"] != "inbound"}
    for gt in truth(data):
        if gt["outcome"] == "outbound" and (internal_stored or len(gt["did"]) > 5):
            assert gt["did"] in placed, gt["name"]


def test_set_a_from_master_csv(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, SET_A / "Master.csv")
    rows = store.select_calls(engine)
    assert problems(rows, SET_A) == []
    _not_inbound_kept_apart(rows, SET_A)


def test_set_d_from_master_csv(tmp_path: Path) -> None:
    settings = set_d_settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, SET_D / "Master.csv")
    assert (summary.rows_read, summary.rejected) == (235, 0)
    rows = store.select_calls(engine)
    assert problems(rows, SET_D) == []
    _not_inbound_kept_apart(rows, SET_D)
    assert len(rows) == 35


def test_set_d_from_the_cdr_table(tmp_path: Path) -> None:
    """cdr-table.csv is the PBX's `cdr` table (cdr_sqlite3_custom): calldate, duration, billsec, did, linkedid."""
    settings = set_d_settings(tmp_path)
    engine = open_engine(settings)
    store.save_calls(engine, calls_from_cdr_rows(cdr_table_rows(SET_D, settings.timezone),
                                                 CallContext.from_settings(settings)))
    rows = store.select_calls(engine)
    assert problems(rows, SET_D) == []
    _not_inbound_kept_apart(rows, SET_D)


def test_master_csv_and_cdr_table_of_one_pbx_make_one_record_per_call(tmp_path: Path) -> None:
    """Master.csv has no linkedid; its call_id is the originating channel's uniqueid, which is the linkedid."""
    settings = set_d_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, SET_D / "Master.csv")
    store.save_calls(engine, calls_from_cdr_rows(cdr_table_rows(SET_D, settings.timezone),
                                                 CallContext.from_settings(settings)))
    rows = store.select_calls(engine)
    assert len(rows) == 35
    assert problems(rows, SET_D) == []


@pytest.mark.parametrize("data", [SET_A, SET_D], ids=["set-a", "set-d"])
def test_from_ami_replay(data: Path) -> None:
    """The capture fed to the tracker with its own clock (set D has no Timestamp: the receive times)."""
    tracker = AmiTracker(Settings())
    calls = []
    for ev in load_capture(data):
        msg = parse(decode(ev.raw))
        calls += tracker.feed(msg, event_time(msg, ev.t))
    rows = [store.call_row(c) for c in calls]
    assert problems(rows, data, tolerance=0.6) == []
    _not_inbound_kept_apart(rows, data, internal_stored=False)
    assert tracker.calls == {}


def test_ami_inbound_channels_make_a_trunk_call_inbound_whatever_its_context() -> None:
    """With no inbound context at all, the trunk's channel pattern alone finds set D's 32 inbound calls."""
    tracker = AmiTracker(Settings(inbound_contexts=[], inbound_channels=["Local/*@from-trunk-*"]))
    calls = []
    for ev in load_capture(SET_D):
        msg = parse(decode(ev.raw))
        calls += tracker.feed(msg, event_time(msg, ev.t))
    assert problems([store.call_row(c) for c in calls], SET_D, tolerance=0.6) == []


@pytest.mark.parametrize("other", ["Master.csv", "cel-custom.csv"])
@pytest.mark.parametrize("queue_log_first", [False, True])
def test_set_d_queue_log_with_another_source_is_one_record_per_call(tmp_path: Path, other: str,
                                                                     queue_log_first: bool) -> None:
    """queue_log names a queued call by its Local trunk half's uniqueid, the others by the linkedid.

    Whichever file comes first, the 7 queue calls are stored once each (not 42 records for 35
    calls), every inbound call stays exact, and each queued call keeps its queue.
    """
    settings = set_d_settings(tmp_path)
    engine = open_engine(settings)
    files = [SET_D / other, SET_D / "queue_log"]
    for path in reversed(files) if queue_log_first else files:
        import_file(engine, settings, path)
    rows = store.select_calls(engine)
    assert problems(rows, SET_D) == []
    assert len(rows) == 35
    assert sorted(r["queue"] for r in rows if r["queue"]) == ["billing"] * 2 + ["frontdesk"] * 2 + ["support"] * 3


def test_set_d_queue_log_with_ami_is_one_record_per_call(tmp_path: Path) -> None:
    settings = set_d_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, SET_D / "queue_log")
    tracker = AmiTracker(settings)
    calls = []
    for event in load_capture(SET_D):
        message = parse(decode(event.raw))
        calls.extend(tracker.feed(message, event_time(message, event.t)))
    store.save_calls(engine, calls)
    rows = [r for r in store.select_calls(engine) if r["direction"] == "inbound"]
    assert problems(rows, SET_D) == []
    assert len(rows) == 32


def test_set_d_queue_calls_from_queue_log_alone(tmp_path: Path) -> None:
    """queue_log sees only the queued calls: each one exact, except what it cannot see.

    The timeout that went on to voicemail is, to queue_log, a caller the queue gave
    up on (missed); the CDR or CEL turns it into the voicemail it was.
    """
    settings = set_d_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, SET_D / "queue_log")
    rows = [r for r in store.select_calls(engine) if r["direction"] == "inbound"]
    queued = [gt for gt in truth(SET_D) if "queue" in gt["name"]]
    assert len(rows) == len(queued) == 7
    found = problems(rows, SET_D)
    # Every call queue_log cannot see is reported missing; of the 7 it sees, only the voicemail differs.
    seen = [p for p in found if not p.endswith("0 inbound records, expected 1")]
    assert seen and all(p.startswith("queue-billing-timeout-voicemail:") for p in seen), seen
    assert "queue-billing-timeout-voicemail: outcome missed, expected voicemail" in seen
