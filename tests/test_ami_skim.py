"""Replay's skim reads a journal line's headers from its bytes: it must say what the full decode says, or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from callwatch.collector.ami import journal as jr
from callwatch.collector.ami.protocol import event_time, parse
from callwatch.collector.ami.service import feed_record
from callwatch.collector.ami.skim import lines, skim
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.config import Settings

SET_A = Path(__file__).parent / "data" / "asterisk-set-a"
BASE = "Event: Newstate\r\nPrivilege: call,all\r\nTimestamp: 1795553420.500000\r\nChannel: PJSIP/100-1\r\n"
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
    BASE.replace("Newstate", "Hangup") + "Linkedid: 1795553420.1",
    BASE + "Linkedid: 1795553420.1\r\n\rLinkedid: 2",
]


def _capture() -> list[str]:
    data = (SET_A / "ami-events.txt").read_bytes()
    body = data[data.index(b"\r\n") + 2 :]
    return [m.decode("utf-8", "replace") for m in body.split(b"\r\n\r\n") if m.strip()]


def _journal(tmp_path: Path, messages: list[str]) -> Path:
    journal = jr.Journal(tmp_path / "journal.log")
    journal.append_many([jr.Record(t=1795553400.25 + i, message=m) for i, m in enumerate(messages)])
    journal.append(jr.Record(t=1795560000.0, control="disconnected", detail="reset : by peer"))
    journal.close()
    return journal.path


def test_skim_agrees_with_the_full_decode_on_every_line(tmp_path):
    tracker = AmiTracker(Settings())
    path = _journal(tmp_path, _capture() + TRICKY)
    skimmed = 0
    for _start, line in lines(path):
        got = skim(line, tracker.reads)
        record = jr.decode_line(line)
        assert record is not None
        if got is None:
            continue
        skimmed += 1
        assert record.message is not None, line
        msg = parse(record.message)
        assert not tracker.reads(msg.get("Event"), msg.get("Variable")), line
        linkedid = msg.get("Linkedid") if msg.get("Event") is not None else None
        assert got == (linkedid, event_time(msg, record.t)), line
    assert skimmed > len(_capture()) // 2  # most of a real capture is skimmed, not decoded


def test_tricky_lines_are_decoded_or_skimmed_right(tmp_path):
    tracker = AmiTracker(Settings())
    path = _journal(tmp_path, TRICKY)
    got = [skim(line, tracker.reads) for _start, line in lines(path)]
    assert got[0] == ("1795553420.1", 1795553420.5)
    assert got[1:7] == [None] * 6  # spacing, escapes, non-ASCII, quotes: the full parse decides
    assert got[7] == ("1795553420.1", 1795553420.5)  # no space after the colon, and the first one wins
    assert got[8] is None  # no numeric Timestamp line in the opening
    assert got[9] is None  # "Linkedid" first appears inside another key
    assert got[10] is None  # VMSTATUS is read by the tracker
    assert got[11] == ("1795553420.1", 1795553420.5)  # any other VarSet only moves the clocks
    assert got[12] is None  # Hangup is read
    assert got[-1] is None  # the disconnect control record


def test_lines_match_the_journal_reader_offsets(tmp_path):
    path = _journal(tmp_path, _capture()[:50])
    with path.open("ab") as f:
        f.write(b'{"t":1.0,"m":"Event: Cut')  # a crash cut the last line short
    expected = [(start, json.loads(line) if line.strip() else None)
                for start, _end, line in jr.read_lines(path) if line.endswith(b"\n")]
    got = [(start, json.loads(line)) for start, line in list(lines(path))[: len(expected)]]
    assert got == expected
    assert list(lines(path))[-1][1] == b'{"t":1.0,"m":"Event: Cut'


def test_replay_skimming_builds_what_feeding_every_record_builds(tmp_path):
    path = _journal(tmp_path, _capture())
    full, fast = AmiTracker(Settings()), AmiTracker(Settings())
    calls_full = [c for start, _end, record in jr.read_records(path) for c in feed_record(full, record, start)]
    calls_fast = []
    for start, line in lines(path):
        clocks = skim(line, fast.reads)
        if clocks is not None:
            fast.tick(*clocks)
            continue
        record = jr.decode_line(line)
        assert record is not None
        calls_fast += feed_record(fast, record, start)
    assert len(calls_full) == 29
    assert calls_fast == calls_full
    assert fast.last_event_at == full.last_event_at and fast.gap_started_at == full.gap_started_at
    assert {k: v.last_event_at for k, v in fast.calls.items()} == {k: v.last_event_at for k, v in full.calls.items()}
