"""AMI events -> one Call per physical call, plus what is ringing right now.

One call is one Linkedid; its root channel (Uniqueid == Linkedid) is the
caller's channel. Everything else (Local ;1/;2 halves, ring-group legs, queue
member attempts, transfer targets) is a leg of that call and only moves its
milestones: ring start, answer, voicemail, hang-up. The first answer wins, so a
ring group or a later transfer never makes a second call or a second answer.

The tracker keeps no clock of its own: every time comes from the event
(Timestamp header or the receive time recorded in the journal), so replaying
the journal reproduces exactly what the live service computed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from callwatch.collector.ami.callstate import CallState, LiveCall, person, utc
from callwatch.collector.ami.protocol import Message
from callwatch.collector.reconstruct.channels import matches_channel
from callwatch.config import Settings
from callwatch.model import Call, Direction, Outcome, RingQuality, Source

log = logging.getLogger(__name__)

# Pseudo-applications Asterisk reports for the outgoing side of a dial; they
# say nothing about where the call's own dialplan runs.
_PSEUDO_APPS = {"AppDial", "AppDial2", "AppQueue", ""}
_UNKNOWN_IDS = {"", "<unknown>", "unknown", "anonymous"}
_RING_FAILED = {"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"}
# What the PBX runs on the channel that handles a caller; of a Local trunk's two halves the one
# that runs these is the real inbound leg (set D: `;2`; set A: `;1`), the other is the outside caller.
_HANDLING_APPS = {"Dial", "Queue", "VoiceMail", "BackGround", "WaitExten", "Read", "Park", "Page", "FollowMe"}
_RECENTLY_FINISHED = 2048


class AmiTracker:
    """Feed it AMI messages in order; it returns the calls that just ended."""

    def __init__(self, settings: Settings) -> None:
        self.site = settings.site
        self.inbound_contexts = set(settings.inbound_contexts)
        self.inbound_dids = set(settings.inbound_dids)
        self.inbound_channels = tuple(settings.inbound_channels)
        self.voicemail_extensions = set(settings.voicemail_extensions)
        self.voicemail_message_seconds = settings.voicemail_message_seconds
        self.max_in_flight = settings.ami.max_calls_in_flight
        self.dropped_in_flight = 0
        self.calls: dict[str, CallState] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._seq = 0
        self._gap_started_at: float | None = None
        self._resync_seq: int | None = None
        self._resync_seen: set[str] = set()
        self.live_changed = False
        self.last_event_at: float | None = None
        # The state behind the most recent Call returned, for diagnostics and tests
        # (it knows when ringing stopped, which the Call record does not carry).
        self.last_finished: CallState | None = None

    # -- entry points -------------------------------------------------------------------------

    @property
    def gap_started_at(self) -> float | None:
        """When the link to the PBX was lost and not yet resynchronised (epoch seconds), else None."""
        return self._gap_started_at

    def feed(self, msg: Message, t: float, journal_pos: int | None = None) -> list[Call]:
        """Apply one message received (or stamped) at epoch `t`; return calls that ended."""
        self._seq += 1
        self.last_event_at = t
        name = msg.get("Event")
        if name is None:
            return []
        if name == "CoreShowChannel":
            self._resync_channel(msg, t, journal_pos)
            return []
        if name == "CoreShowChannelsComplete":
            return self._resync_complete(t)
        if name == "QueueEntry":
            self._resync_queue_entry(msg, t)
            return []
        lid = msg.get("Linkedid")
        if not lid:
            return []
        uid = msg.get("Uniqueid", "")
        if name == "Hangup" and uid != lid and uid in self.calls:
            # A call's root channel joined another call (a pickup, a park retrieval, a transfer) and took
            # that call's linkedid: its hang-up ends its own call too, or the state would never leave.
            ended_own = _on_hangup(self, self.calls[uid], {**msg, "Linkedid": uid}, t)
            return [ended_own] if ended_own is not None else []
        state = self.calls.get(lid)
        if state is None:
            if name == "Newchannel" and msg.get("Uniqueid") == lid and lid not in self._finished:
                state = self._new_call(msg, t, journal_pos)
            else:
                return []
        state.last_event_at = t
        handler = _HANDLERS.get(name)
        if handler is None:
            return []
        ended = handler(self, state, msg, t)
        return [ended] if ended is not None else []

    def reads(self, event: str | None, variable: str | None = None) -> bool:
        """Whether feed() looks at more of a message than its Event, Linkedid and time.

        For any other message feed() only moves the clocks, which tick() does
        without the message (replay skips decoding those).
        """
        if event is None or event not in _READS:
            return False
        return event != "VarSet" or variable in _VARSETS_READ

    def headers(self, event: str) -> frozenset[str] | None:
        """Every header feed() may read of this event (None: the whole message may matter).

        Replay decodes only these from a journal line; an incomplete entry would change
        calls, which tests/test_ami_skim.py checks against the full decode on sets A and D.
        """
        return _HEADERS.get(event)

    @property
    def variables_read(self) -> frozenset[str]:
        """The VarSet variables feed() reads; any other VarSet only moves the clocks."""
        return _VARSETS_READ

    def tick(self, linkedid: str | None, t: float) -> None:
        """What feed() does with a message whose event it does not read: the clocks move, nothing else."""
        self._seq += 1
        self.last_event_at = t
        if linkedid:
            state = self.calls.get(linkedid)
            if state is not None:
                state.last_event_at = t

    def disconnected(self, t: float) -> None:
        """The link to the PBX dropped: anything may happen to calls in flight until we resync.

        The gap starts at the last event heard (on the PBX's clock, like every
        other time here), not at `t`, our clock, which the PBX's may not match.
        """
        if self._gap_started_at is None:
            self._gap_started_at = self.last_event_at if self.last_event_at is not None else t

    def resync_started(self, t: float) -> None:
        """We asked CoreShowChannels; calls first seen after this are not judged by its answer."""
        self._resync_seq = self._seq
        self._resync_seen = set()

    def live(self) -> list[LiveCall]:
        """Inbound calls ringing or waiting in a queue right now."""
        out = []
        for s in self.calls.values():
            if s.direction is not Direction.INBOUND or not s.ringing:
                continue
            if s.queued:
                state, location = "queued", s.queue or ""
            else:
                state, location = "ringing", ", ".join(sorted({p for p in s.open_dials.values() if p}))
            out.append(
                LiveCall(s.call_id, s.caller, state, utc(s.arrived_at), utc(s.ring_started_at), location, s.queue)
            )
        return out

    def oldest_journal_pos(self) -> int | None:
        """Journal position of the oldest call in flight (replay from there after a crash)."""
        positions = [s.journal_pos for s in self.calls.values() if s.journal_pos is not None]
        return min(positions) if positions else None

    # -- call lifecycle -----------------------------------------------------------------------

    def _new_call(self, msg: Message, t: float, journal_pos: int | None) -> CallState:
        state = CallState(call_id=msg["Linkedid"], arrived_at=t, root_channel=msg.get("Channel", ""))
        state.own_ids.add(state.call_id)
        state.seq = self._seq
        state.journal_pos = journal_pos
        self._set_caller(state, msg)
        if matches_channel(state.root_channel, self.inbound_channels):
            state.direction = Direction.INBOUND  # a trunk's channel, whatever context it runs
        self._decide_direction(state, msg.get("Context", ""), msg.get("Exten", ""), only_inbound=True)
        self.calls[state.call_id] = state
        if len(self.calls) > self.max_in_flight:
            self._drop_oldest()
        return state

    def _drop_oldest(self) -> None:
        """Calls that never hang up (a flood, a PBX bug) must not grow memory without bound."""
        oldest = next(iter(self.calls))  # dicts keep creation order
        del self.calls[oldest]
        self.live_changed = True
        self.dropped_in_flight += 1
        # One warning for the first and then one per thousand: a flood must not flood the log too.
        if self.dropped_in_flight % 1000 == 1:
            log.warning(
                "more than %d calls in flight (calls that never hang up?): dropped the oldest without storing it "
                "(%d so far; ami.max_calls_in_flight)", self.max_in_flight, self.dropped_in_flight,
            )

    def _set_caller(self, state: CallState, msg: Message) -> None:
        # Once something rang, a new caller ID on the caller's channel is a connected-line update
        # (after a pickup, a park retrieval or a transfer a Local `;1` half shows the staff member).
        if state.caller and (state.ring_started_at is not None or state.answered_at is not None):
            return
        number = msg.get("CallerIDNum", "")
        if number.lower() not in _UNKNOWN_IDS:
            state.caller = number

    def _decide_direction(self, state: CallState, context: str, exten: str, *, only_inbound: bool = False) -> None:
        """Inbound when the caller's channel runs an inbound context or DID; else by what it dials."""
        if state.direction is not None:
            return
        if context in self.inbound_contexts or (exten and exten in self.inbound_dids):
            state.direction = Direction.INBOUND
        elif not only_inbound:
            # Staff placing a call: a number longer than an extension leaves the building.
            digits = exten.lstrip("+")
            state.direction = Direction.OUTBOUND if digits.isdigit() and len(digits) >= 7 else Direction.INTERNAL
            state.dialled = exten

    def _finish(self, state: CallState, t: float, *, in_gap: bool = False) -> Call | None:
        self.calls.pop(state.call_id, None)
        self._finished[state.call_id] = None
        if len(self._finished) > _RECENTLY_FINISHED:
            self._finished.popitem(last=False)
        self.live_changed = True
        if state.direction is None:
            # Hung up before its dialplan ran anywhere we recognise (e.g. an Originate).
            return None
        if state.direction is Direction.INTERNAL:
            return None
        if state.ring_started_at is not None and state.ring_ended_at is None and state.answered_at is None:
            state.ring_ended_at = t
        left_message = None
        if state.answered_at is not None:
            outcome = Outcome.ANSWERED
        elif state.voicemail_at is not None:
            outcome = Outcome.VOICEMAIL
            left_message = state.vm_status == "SUCCESS" or (t - state.voicemail_at) >= self.voicemail_message_seconds
        elif state.pbx_hung_up or (state.ring_end_status in _RING_FAILED and not state.ringing):
            outcome = Outcome.MISSED  # the PBX gave up (ring timeout, busy) rather than the caller
        else:
            outcome = Outcome.ABANDONED  # the caller left during greeting, ringing or queue
        if in_gap or state.resynced:
            log.warning("call %s ended while the collector was not listening; times are approximate", state.call_id)
        self.last_finished = state
        caller, answered_by = state.caller, state.answered_by
        if state.direction is Direction.OUTBOUND:
            # For a call the practice placed, the number that matters (for follow-ups) is the
            # one dialled, and the person is the extension that placed it.
            caller = state.dialled or caller
            answered_by = person(state.root_channel) if state.answered_at is not None else None
        return Call(
            call_id=state.call_id,
            site=self.site,
            direction=state.direction,
            caller=caller,
            arrived_at=utc(state.arrived_at),
            ring_started_at=utc(state.ring_started_at),
            answered_at=utc(state.answered_at),
            ended_at=utc(t),
            outcome=outcome,
            answered_by=answered_by,
            queue=state.queue,
            left_message=left_message,
            source=Source.AMI,
            # Ringing as the PBX reported it; a call picked up after a reconnect only has the
            # snapshot's times, which are approximate.
            ring_quality=RingQuality.DERIVED if in_gap or state.resynced else RingQuality.EXACT,
            answered_by_name=state.answered_by_name if answered_by == state.answered_by else None,
            ring_ended_at=utc(state.ring_ended_at) if state.answered_at is None else None,
            aliases=tuple(sorted(state.queue_ids - {state.call_id})),
        )

    # -- ringing ------------------------------------------------------------------------------

    def _ring(self, state: CallState, t: float) -> None:
        if state.ring_started_at is None:
            state.ring_started_at = t
        state.ring_ended_at = None
        self.live_changed = True

    def _stop_ringing_if_idle(self, state: CallState, t: float, status: str) -> None:
        if not state.open_dials and not state.queued and state.ring_started_at is not None:
            state.ring_ended_at = t
            state.ring_end_status = status
        self.live_changed = True

    def _answer(self, state: CallState, t: float, who: str | None, name: str | None = None) -> None:
        if state.answered_at is not None or state.voicemail_at is not None:
            return  # first answer counts; a transfer or a second leg is not a new answer
        state.answered_at = t
        state.answered_by = who
        state.answered_by_name = name
        if state.ring_started_at is not None and state.ring_started_at > t:
            state.ring_started_at = t  # a resync snapshot stamped later than the answer itself
        state.ring_ended_at = t
        state.open_dials.clear()
        state.queued = False
        self.live_changed = True

    # -- resynchronisation after a reconnect --------------------------------------------------

    def _resync_channel(self, msg: Message, t: float, journal_pos: int | None) -> None:
        lid = msg.get("Linkedid") or msg.get("Uniqueid", "")
        if not lid:
            return
        self._resync_seen.add(lid)
        if msg.get("Uniqueid") != lid or lid in self.calls or lid in self._finished:
            return
        # A call that started while we were away: rebuild what we can from its snapshot.
        arrived = t - _hms(msg.get("Duration", ""))
        state = CallState(call_id=lid, arrived_at=arrived, root_channel=msg.get("Channel", ""))
        state.seq = self._seq
        state.journal_pos = journal_pos
        state.resynced = True
        state.last_event_at = t
        self._set_caller(state, msg)
        self._decide_direction(state, msg.get("Context", ""), msg.get("Exten", msg.get("Extension", "")))
        app = msg.get("Application", "")
        if app == "VoiceMail":
            state.voicemail_at = t
        elif msg.get("BridgeId"):
            state.ring_started_at = t
            state.answered_at = t
            state.answered_by = msg.get("ConnectedLineNum") or None
        elif app in ("Dial", "Queue"):
            state.ring_started_at = t
            state.open_dials["?"] = ""  # ringing somewhere; the snapshot does not say where
            state.queued = app == "Queue"
        self.calls[lid] = state
        self.live_changed = True
        log.info("resync: picked up call %s already in progress (%s)", lid, app or "no application")

    def _resync_queue_entry(self, msg: Message, t: float) -> None:
        state = self.calls.get(msg.get("Linkedid") or msg.get("Uniqueid", ""))
        if state is None or not state.resynced:
            return
        try:
            wait = float(msg.get("Wait", "0"))
        except ValueError:
            wait = 0.0
        state.queue = msg.get("Queue") or state.queue
        state.queued = True
        state.ring_started_at = t - wait
        self.live_changed = True

    def _resync_complete(self, t: float) -> list[Call]:
        """Calls we were tracking that the PBX no longer has ended while we could not hear."""
        if self._resync_seq is None:
            return []
        ended = []
        for state in list(self.calls.values()):
            if state.seq <= self._resync_seq and state.call_id not in self._resync_seen:
                stop = max(self._gap_started_at or state.last_event_at, state.last_event_at)
                call = self._finish(state, stop, in_gap=True)
                if call is not None:
                    ended.append(call)
        self._resync_seq = None
        self._resync_seen = set()
        self._gap_started_at = None
        return ended


def _hms(text: str) -> float:
    try:
        h, m, s = (int(x) for x in text.split(":"))
    except ValueError:
        return 0.0
    return h * 3600 + m * 60 + s


# -- event handlers: (tracker, call, message, time) -> the finished Call or None ------------------


def _on_newchannel(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    channel = m.get("Channel", "")
    if channel != s.root_channel and _local_pair(channel) == _local_pair(s.root_channel) != "":
        s.own_ids.add(m.get("Uniqueid", ""))


def _local_pair(channel: str) -> str:
    """`Local/x@ctx-0000001f;1` and `;2` are one Local channel; anything else pairs with nothing."""
    return channel[:-2] if channel.startswith("Local/") and channel[-2:] in (";1", ";2") else ""


def _on_callerid(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    if m.get("Uniqueid") in (s.call_id, s.handler_id):
        tr._set_caller(s, m)


def _on_newexten(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    app = m.get("Application", "")
    uid = m.get("Uniqueid", "")
    if uid in s.own_ids and not s.handler_id and app in _HANDLING_APPS:
        s.handler_id = uid
    if uid == s.call_id or uid == s.handler_id:
        tr._set_caller(s, m)
        if app not in _PSEUDO_APPS:
            tr._decide_direction(s, m.get("Context", ""), m.get("Exten", ""))
        if app == "Hangup":
            s.pbx_hung_up = True
    reached_voicemail = app == "VoiceMail" or m.get("Exten") in tr.voicemail_extensions
    if reached_voicemail and s.answered_at is None and s.voicemail_at is None:
        s.voicemail_at = t
        s.open_dials.clear()
        s.queued = False
        if s.ring_started_at is not None and s.ring_ended_at is None:
            s.ring_ended_at = t
        tr.live_changed = True


_VARSETS_READ = frozenset({"VMSTATUS"})


def _on_varset(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    if m.get("Variable") in _VARSETS_READ:
        s.vm_status = m.get("Value", "")


def _on_dial_begin(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    if not m.get("Channel"):
        return  # an Originate dials without a calling channel: not a phone ringing for this caller
    if s.answered_at is not None or s.voicemail_at is not None:
        return
    if m.get("Uniqueid") == s.call_id and s.direction is None:
        tr._decide_direction(s, m.get("Context", ""), m.get("Exten", ""))
    s.open_dials.pop("?", None)  # a resynced placeholder gives way to real legs
    s.open_dials[m.get("DestUniqueid", "")] = person(m.get("DestChannel", ""))
    tr._ring(s, t)


def _on_dial_end(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    if not m.get("Channel"):
        return
    status = m.get("DialStatus", "")
    if status == "ANSWER":
        who = person(m.get("DestChannel", ""))
        tr._answer(s, t, who, _answerer_name(m, who))
        return
    if s.open_dials.pop(m.get("DestUniqueid", ""), None) is not None:
        tr._stop_ringing_if_idle(s, t, status)


def _answerer_name(m: Message, extension: str) -> str | None:
    """The answering phone's name, when the caller's channel shows it as its connected line.

    The dialled channel's own CallerIDName is the caller's name (Asterisk copies
    it to the outgoing channel so the phone displays who calls), so only a
    connected line whose number is the answering extension names a staff member.
    """
    name = (m.get("ConnectedLineName") or "").strip()
    if not name or m.get("ConnectedLineNum") != extension:
        return None
    if name in (m.get("CallerIDName"), extension) or name.lower() in ("<unknown>", "unknown"):
        return None
    return name


def _on_queue_join(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    if s.answered_at is not None or s.voicemail_at is not None:
        return
    s.queue = m.get("Queue") or s.queue
    s.queued = True
    if m.get("Uniqueid"):
        s.queue_ids.add(m["Uniqueid"])
    tr._ring(s, t)


def _on_queue_leave(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    if s.queued:
        s.queued = False
        s.open_dials.clear()
        tr._stop_ringing_if_idle(s, t, "TIMEOUT")


def _on_queue_abandon(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    # Also sent when the queue's own timeout expires; what follows (voicemail,
    # hang-up) decides the outcome, so only remember how ringing ended.
    s.ring_end_status = "CANCEL"


def _on_agent_connect(tr: AmiTracker, s: CallState, m: Message, t: float) -> None:
    # The member's interface names the extension (Local/201@staff/n -> 201) and MemberName is
    # what the PBX calls that person ("Alice"): the staff directory learns one from the other.
    member = m.get("MemberName") or None
    extension = person(m.get("Interface", "")) or member
    name = member if member and member != extension else None
    if s.answered_at is None:
        tr._answer(s, t, extension, name)
    elif not s.answered_in_queue and s.voicemail_at is None and t - s.answered_at < 1.0:
        # The dial answered a moment earlier and knew only the channel; the queue knows the person.
        s.answered_by, s.answered_by_name = extension, name
    s.answered_in_queue = True


def _on_hangup(tr: AmiTracker, s: CallState, m: Message, t: float) -> Call | None:
    if m.get("Uniqueid") != s.call_id:
        return None
    return tr._finish(s, t)


_HANDLERS = {
    "Newchannel": _on_newchannel,
    "NewCallerid": _on_callerid,
    "Newexten": _on_newexten,
    "VarSet": _on_varset,
    "DialBegin": _on_dial_begin,
    "DialEnd": _on_dial_end,
    "QueueCallerJoin": _on_queue_join,
    "QueueCallerLeave": _on_queue_leave,
    "QueueCallerAbandon": _on_queue_abandon,
    "AgentConnect": _on_agent_connect,
    "Hangup": _on_hangup,
}
# Every event feed() reads beyond its Linkedid and time (the resync answers, then the handlers).
_READS = frozenset({"CoreShowChannel", "CoreShowChannelsComplete", "QueueEntry", *_HANDLERS})
# What feed() and each handler read of a message (the resync answers are absent: they read more,
# and are rare). Keep in step with the handlers above: a header missing here changes replayed calls.
_FEED_READS = ("Event", "Linkedid", "Uniqueid")
_NEW_CALL_READS = ("Channel", "CallerIDNum", "Context", "Exten")  # _new_call, for a root Newchannel
_HEADERS: dict[str, frozenset[str]] = {
    event: frozenset({*_FEED_READS, *reads})
    for event, reads in {
        "Newchannel": ("Channel", *_NEW_CALL_READS),
        "NewCallerid": ("CallerIDNum",),
        "Newexten": ("Application", "CallerIDNum", "Context", "Exten"),
        "VarSet": ("Variable", "Value"),
        "DialBegin": ("Channel", "Context", "Exten", "DestUniqueid", "DestChannel"),
        "DialEnd": ("Channel", "DialStatus", "DestChannel", "DestUniqueid", "ConnectedLineName",
                    "ConnectedLineNum", "CallerIDName"),
        "QueueCallerJoin": ("Queue",),
        "QueueCallerLeave": (),
        "QueueCallerAbandon": (),
        "AgentConnect": ("MemberName", "Interface"),
        "Hangup": (),
    }.items()
}
