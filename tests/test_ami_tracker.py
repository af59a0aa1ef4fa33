"""The call logic on the real set-A capture, fed straight into the tracker (no sockets)."""

from __future__ import annotations

from support.ami import EVENTS, check_calls, inbound_truth

from callwatch.collector.ami.protocol import decode, event_time, parse
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.config import Settings
from callwatch.model import Call
from callwatch.store import call_row


def _run(events=EVENTS, settings: Settings | None = None) -> tuple[AmiTracker, list[Call], dict[str, float | None]]:
    tracker = AmiTracker(settings or Settings())
    calls: list[Call] = []
    ring_left: dict[str, float | None] = {}
    for ev in events:
        msg = parse(decode(ev.raw))
        for call in tracker.feed(msg, event_time(msg, ev.t)):
            calls.append(call)
            state = tracker.last_finished
            assert state is not None
            if state.ring_started_at is not None and state.ring_ended_at is not None:
                ring_left[call.caller] = state.ring_ended_at - state.ring_started_at
    return tracker, calls, ring_left


def test_every_inbound_call_matches_ground_truth():
    _tracker, calls, _ = _run()
    assert check_calls([call_row(c) for c in calls]) == []


def test_voicemail_ring_time_is_until_voicemail_answers():
    _tracker, calls, ring_left = _run()
    by_caller = {c.caller: c for c in calls}
    for gt in inbound_truth():
        if gt["outcome"] == "voicemail":
            assert abs(ring_left[gt["caller"]] - float(gt["ring"])) <= 0.5, gt["name"]
            assert abs(by_caller[gt["caller"]].ring_seconds - float(gt["ring"])) <= 0.5, gt["name"]


def test_ring_group_counts_once():
    _tracker, calls, _ = _run()
    group = [c for c in calls if c.caller in ("6175550114", "6175550115")]
    assert [(c.caller, c.answered_by) for c in group] == [("6175550114", "102"), ("6175550115", "101")]


def test_transfer_after_answer_stays_one_call_answered_by_the_first_person():
    _tracker, calls, _ = _run()
    (call,) = [c for c in calls if c.caller == "6175550122"]
    assert call.answered_by == "101" and call.outcome == "answered"


def test_outbound_call_is_not_inbound():
    _tracker, calls, _ = _run()
    outbound = [c for c in calls if c.direction != "inbound"]
    assert [(c.direction, c.caller, c.answered_by) for c in outbound] == [("outbound", "95550999", "101")]
    assert not [c for c in calls if c.caller == "101" and c.direction == "inbound"]


def test_caller_hanging_up_during_greeting_never_rang():
    _tracker, calls, _ = _run()
    (call,) = [c for c in calls if c.caller == "6175550119"]
    assert call.outcome == "abandoned" and call.ring_started_at is None


def test_finished_calls_leave_no_state():
    tracker, calls, _ = _run()
    assert len(calls) == 29
    assert tracker.calls == {}
    assert tracker.live() == []


def test_live_view_while_ringing_and_queued():
    tracker = AmiTracker(Settings())
    seen: set[tuple[str, str, str]] = set()
    for ev in EVENTS:
        msg = parse(decode(ev.raw))
        tracker.feed(msg, event_time(msg, ev.t))
        seen.update((c.caller, c.state, c.location) for c in tracker.live())
    assert ("6175550101", "ringing", "101") in seen
    assert ("6175550114", "ringing", "101, 102") in seen
    assert ("6175550121", "queued", "frontdesk") in seen
    assert not any(caller == "6175550119" for caller, _, _ in seen)  # greeting only: never rang


def test_missed_when_the_pbx_gives_up():
    """Dial times out and the dialplan hangs up (no voicemail): missed, not abandoned."""
    base = [ev for ev in EVENTS if ev.headers.get("Linkedid") == "1795553444.454"]  # front desk, no answer
    cut = [ev for ev in base if ev.headers.get("Application") != "VoiceMail"]
    tracker = AmiTracker(Settings())
    calls = []
    for ev in cut:
        msg = parse(decode(ev.raw))
        if msg.get("Event") == "Hangup" and msg.get("Uniqueid") == "1795553444.454":
            tracker.feed({**msg, "Event": "Newexten", "Application": "Hangup"}, float(msg["Timestamp"]))
        calls.extend(tracker.feed(msg, event_time(msg, ev.t)))
    assert [c.outcome for c in calls] == ["missed"]


def test_events_of_unknown_or_broken_shape_are_ignored():
    tracker = AmiTracker(Settings())
    for msg in ({}, {"Event": "Hangup"}, {"Event": "DialBegin", "Linkedid": "x"}, {"Event": "FooBar", "Linkedid": "1"}):
        assert tracker.feed(msg, 1.0) == []
    assert tracker.calls == {}
