"""Replay's skim reads a journal line's headers from its bytes: it must say what the full decode says, or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.amiserver import load_capture
from support.ground_truth import SET_A, SET_D
from support.imports import open_engine
from support.settings import make_settings

from callwatch import store
from callwatch.collector.ami import journal as jr
from callwatch.collector.ami.protocol import decode, event_time, parse
from callwatch.collector.ami.replay import FileReplay, replay_journal
from callwatch.collector.ami.service import feed_record
from callwatch.collector.ami.skim import Skimmer, lines
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.config import Settings

BASE = "Event: Newstate\r\nPrivilege: call,all\r\nTimestamp: 1795553420.500000\r\nChannel: PJSIP/100-1\r\n"
EXTEN = BASE.replace("Newstate", "Newexten")
# Messages a PBX (or a corrupted journal) may hold where reading bytes would go wrong.
TRICKY = [
    BASE + "Linkedid: 1795553420.1",
    BASE + " Linkedid: 1795553420.9\r\nLinkedid: 1795553420.1",  # a spaced key comes first
    BASE + "Linkedid : 1795553420.9\r\nLinkedid: 1795553420.1",
    BASE + "Value: a\\nLinkedid: x\r\nLinkedid: 1795553420.1",  # a backslash inside a value
    BASE + "Linkedid: 1795553420.1 \u00a0",  # non-ASCII space: str.strip removes it
    BASE + "Linkedid: 1795553420.1\tX",
    BASE + 'CallerIDName: "Dr" Who\r\nLinkedid: 1795553420.1',
    BASE + "Linkedid:1795553420.1\r\nLinkedid: 1795553420.2",
    BASE.replace("Timestamp: 1795553420.500000", "Timestamp: soon") + "Linkedid: 1795553420.1",
    BASE + "DestLinkedid: 1795553420.7\r\nLinkedid: 1795553420.1",
    BASE.replace("Newstate", "VarSet") + "Variable: VMSTATUS\r\nValue: SUCCESS\r\nLinkedid: 1795553420.1",
    BASE.replace("Newstate", "VarSet") + "Variable: FOO\r\nValue: 1\r\nLinkedid: 1795553420.1",
    BASE.replace("Newstate", "Hangup") + "Uniqueid: 1795553420.1\r\nLinkedid: 1795553420.1",
    BASE.replace("Timestamp: 1795553420.500000\r\n", "") + "Linkedid: 1795553420.1",  # timestampevents=no
    BASE.replace("Timestamp: 1795553420.500000\r\n", "") + "Timestamp: 1795553499.0\r\nLinkedid: 1",
    EXTEN + "Application:  Dial \r\nApplication: Queue\r\nLinkedid: 1795553420.1\r\nExten: 200",
    EXTEN + "Application : Dial\r\nLinkedid: 1795553420.1",  # a spaced key the table reads
    EXTEN + "Context: \u00e9cole\r\nLinkedid: 1795553420.1",
    BASE.replace("Newstate", "CoreShowChannel") + "Linkedid: 1795553420.1",  # resync answers: in full
    BASE + "Linkedid: 1795553420.1\r\n\rLinkedid: 2",
    BASE + "Value: Linkedid: 1795553420.9\r\nLinkedid: 1795553420.1",  # the word in a value after a space
    BASE + "LinkedidX: 1795553420.9\r\nLinkedid: 1795553420.1",
]


def _capture(folder: Path = SET_A) -> list[str]:
    data = (folder / "ami-events.txt").read_bytes()
    body = data[data.index(b"\r\n") + 2 :]
    return [m.decode("utf-8", "replace") for m in body.split(b"\r\n\r\n") if m.strip()]


def _journal(tmp_path: Path, messages: list[str]) -> Path:
    journal = jr.Journal(tmp_path / "journal.log")
    journal.append_many([jr.Record(t=1795553400.25 + i, message=m) for i, m in enumerate(messages)])
    journal.append(jr.Record(t=1795560000.0, control="disconnected", detail="reset : by peer"))
    journal.close()
    return journal.path


def _skimmer(tracker: AmiTracker) -> Skimmer:
    return Skimmer(tracker.reads, tracker.headers, tracker.variables_read)


def _expected(tracker: AmiTracker, line: bytes) -> tuple[dict[str, str] | None, str | None, float] | None:
    """What the skim must say of a line it reads: from json.loads and protocol.parse."""
    record = jr.decode_line(line)
    assert record is not None and record.message is not None, line
    msg = parse(record.message)
    event = msg.get("Event")
    t = event_time(msg, record.t)
    if not tracker.reads(event, msg.get("Variable")):
        return None, msg.get("Linkedid") if event is not None else None, t
    wanted = tracker.headers(event) if event is not None else None
    assert wanted is not None, line
    return {k: v for k, v in msg.items() if k in wanted}, None, t


@pytest.mark.parametrize("folder", [SET_A, SET_D], ids=["set-a", "set-d"])
def test_skim_agrees_with_the_full_decode_on_every_line(tmp_path, folder):
    tracker = AmiTracker(Settings())
    skimmer = _skimmer(tracker)
    path = _journal(tmp_path, _capture(folder) + TRICKY)
    ticked = fed = 0
    for _start, line in lines(path):
        got = skimmer.read(line)
        if got is None:
            continue
        assert got == _expected(tracker, line), line
        ticked += got[0] is None
        fed += got[0] is not None
    # Most of a real capture is read from the bytes, not decoded (set D: the ASCII lines).
    assert ticked > len(_capture(folder)) // 3 and fed > len(_capture(folder)) // 5


def test_tricky_lines_are_decoded_or_skimmed_right(tmp_path):
    tracker = AmiTracker(Settings())
    skimmer = _skimmer(tracker)
    path = _journal(tmp_path, TRICKY)
    got = [skimmer.read(line) for _start, line in lines(path)]
    assert got[0] == (None, "1795553420.1", 1795553420.5)
    assert got[1:7] == [None] * 6  # spacing, escapes, non-ASCII, quotes: the full parse decides
    assert got[7] == (None, "1795553420.1", 1795553420.5)  # no space after the colon, and the first one wins
    assert got[8] is None  # no numeric Timestamp line in the opening, and one further down
    assert got[9] == (None, "1795553420.1", 1795553420.5)  # "Linkedid" inside another key is another key
    vmstatus = got[10]
    assert vmstatus is not None and vmstatus[0] is not None and vmstatus[0]["Value"] == "SUCCESS"  # read
    assert got[11] == (None, "1795553420.1", 1795553420.5)  # any other VarSet only moves the clocks
    assert got[12] == ({"Event": "Hangup", "Uniqueid": "1795553420.1", "Linkedid": "1795553420.1"},
                       None, 1795553420.5)
    assert got[13] == (None, "1795553420.1", 1795553400.25 + 13)  # no Timestamp: the journal's time
    assert got[14] is None  # a Timestamp line after the opening
    assert got[15] == ({"Event": "Newexten", "Application": "Dial", "Linkedid": "1795553420.1", "Exten": "200"},
                       None, 1795553420.5)  # stripped, and the first of a repeated key wins
    assert got[16:19] == [None] * 3  # a spaced key, a non-ASCII value, a resync answer
    assert got[-3] is None  # the word after a space: maybe a spaced key
    assert got[-2] == (None, "1795553420.1", 1795553420.5)  # another key that starts with the word
    assert got[-1] is None  # the disconnect control record


def test_lines_json_cannot_read_are_left_to_the_full_decode(tmp_path):
    """Journal never writes these, but a damaged file may hold them: json.loads refuses, so does the skim."""
    skimmer = _skimmer(AmiTracker(Settings()))
    good = json.dumps({"t": 1795553400.25, "m": BASE + "Linkedid: 1795553420.1"}, separators=(",", ":")).encode()
    assert skimmer.read(good) == (None, "1795553420.1", 1795553420.5)
    for bad in (good.replace(b"PJSIP", b"PJ\tSIP"), good.replace(b"PJSIP", b"PJ\\qSIP"),
                good.replace(b'"t":1795553400.25', b'"t":01795553400.25'), good[:-1]):
        assert jr.decode_line(bad) is None
        assert skimmer.read(bad) is None


def test_lines_match_the_journal_reader_offsets(tmp_path):
    path = _journal(tmp_path, _capture()[:50])
    with path.open("ab") as f:
        f.write(b'{"t":1.0,"m":"Event: Cut')  # a crash cut the last line short
    expected = [(start, json.loads(line) if line.strip() else None)
                for start, _end, line in jr.read_lines(path) if line.endswith(b"\n")]
    got = [(start, json.loads(line)) for start, line in list(lines(path))[: len(expected)]]
    assert got == expected
    assert list(lines(path))[-1][1] == b'{"t":1.0,"m":"Event: Cut'


@pytest.mark.parametrize("folder", [SET_A, SET_D], ids=["set-a", "set-d"])
def test_replay_stores_what_feeding_every_decoded_record_stores(tmp_path, folder):
    """`callwatch replay` (skim, header tables, tick) against json.loads + protocol.parse of every line."""
    settings = make_settings(tmp_path)
    journal = jr.Journal(Path(settings.journal_path))
    records = [jr.Record(t=ev.t, message=decode(ev.raw)) for ev in load_capture(folder)]
    # A dropped link and a resync in the middle: the calls then in flight end at their last event,
    # which the skimmed lines' clocks decide.
    middle, at = len(records) // 2, records[len(records) // 2].t
    complete = "Event: CoreShowChannelsComplete\r\nPrivilege: system,all\r\nEventList: Complete\r\nListItems: 0"
    records[middle:middle] = [jr.Record(t=at, control="disconnected"), jr.Record(t=at, control="resync"),
                              jr.Record(t=at, message=complete)]
    journal.append_many(records + [jr.Record(t=records[-1].t + 1, message=m) for m in TRICKY])
    journal.close()

    full = AmiTracker(settings)
    calls = [c for start, _end, record in jr.read_records(journal.path) for c in feed_record(full, record, start)]
    assert len(calls) > 25 and any(c.ring_quality.value == "derived" for c in calls)  # some ended in the gap
    reference = open_engine(make_settings(tmp_path / "full"))
    store.save_calls(reference, calls)

    engine = open_engine(settings)
    summary = replay_journal(engine, settings)
    assert summary.calls == len(calls) and summary.in_flight == len(full.calls)
    assert summary.records == len(records) + len(TRICKY)
    assert store.select_calls(engine) == store.select_calls(reference)


@pytest.mark.parametrize("folder", [SET_A, SET_D], ids=["set-a", "set-d"])
def test_replay_moves_every_clock_as_feeding_every_record_does(tmp_path, folder):
    """Cut mid-way, with calls in flight: the tracker's clocks and each call's last event agree."""
    messages = _capture(folder)
    path = _journal(tmp_path, messages[: len(messages) // 2])
    full = AmiTracker(Settings())
    calls_full = [c for start, _end, record in jr.read_records(path) for c in feed_record(full, record, start)]
    fast = AmiTracker(Settings())
    calls_fast = [c for ended in FileReplay(fast).feed_file(path) for c in ended]
    assert calls_fast == calls_full
    assert full.calls  # in flight at the cut
    assert fast.last_event_at == full.last_event_at and fast.gap_started_at == full.gap_started_at
    assert {k: (v.last_event_at, v.seq, v.journal_pos) for k, v in fast.calls.items()} == {
        k: (v.last_event_at, v.seq, v.journal_pos) for k, v in full.calls.items()
    }
