"""Calls from CEL alone: the events of one linkedid become ONE `Call`.

Asterisk gives every channel of a call the linkedid of the channel that
started it (a phone that picks the call up, or retrieves it from a parking
lot, takes the call's linkedid when it joins), and logs LINKEDID_END when the
last of them is gone. From the events of one linkedid:

- the originating channel is the one whose uniqueid is the linkedid; with its
  Local-channel partner (`;1`/`;2`) it is the caller's leg;
- ringing starts when the first callee channel is created (CHAN_START of a
  channel that is not the caller's), or when a ring application starts (APP_START);
- the call is answered when the caller's leg first shares a bridge with
  another channel (BRIDGE_ENTER): that channel's extension answered, so a
  pickup (PICKUP) is credited to who picked up, and a later transfer, park or
  retrieval does not change who answered first;
- voicemail starts at the caller leg's first event inside VoiceMail();
- the call ends when the caller's leg hangs up; HANGUP's `dialstatus` tells a
  PBX that gave up (NOANSWER, BUSY: missed) from a caller who did (CANCEL).

CEL specification: https://docs.asterisk.org/Configuration/Reporting/Channel-Event-Logging-CEL/CEL-Specification/
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callwatch.collector.reconstruct.cdr import SETTLE, Note, ResumePoint, Span, Why
from callwatch.collector.reconstruct.channels import (
    INTERNAL_NUMBER,
    CallContext,
    extension_of,
    matches_channel,
    ring_limit,
)
from callwatch.collector.sources.cel import CelEvent
from callwatch.model import Call, Direction, Outcome, RingQuality, Source

RING_APPS = frozenset({"dial", "queue", "followme", "page"})
DIALLER_APPS = frozenset({"", "appdial", "appdial2"})
PBX_GAVE_UP = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"})
LINE_FAILED = frozenset({"CHANUNAVAIL", "CONGESTION"})


def partner(channel: str) -> str:
    """The other half of a Local channel pair; the channel itself for any other technology."""
    if channel.startswith("Local/") and channel[-2:] in (";1", ";2"):
        return channel[:-1] + ("2" if channel[-1] == "1" else "1")
    return channel


@dataclass(slots=True)
class _Group:
    events: list[CelEvent]
    span: Span
    last_time: datetime


@dataclass(slots=True)
class CelCalls:
    """Feeds CEL events in log order; yields a Call when its linkedid ends (LINKEDID_END)."""

    ctx: CallContext
    settle: timedelta = SETTLE
    groups: OrderedDict[str, _Group] = field(default_factory=OrderedDict)  # a queue: see CdrGrouper.groups
    resume: ResumePoint = field(default_factory=ResumePoint)
    latest: datetime | None = None
    # Calls seen only in a re-read tail were written by the import that first read them.
    emit_from: int = 0

    def add(self, ev: CelEvent) -> Iterator[Call]:
        key = ev.linkedid or ev.uniqueid
        if self.latest is None or ev.time > self.latest:
            self.latest = ev.time
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group([], Span(ev.offset, ev.offset), ev.time)
        group.events.append(ev)
        group.span.last = ev.offset
        group.last_time = max(group.last_time, ev.time)
        if ev.eventtype == "LINKEDID_END":
            del self.groups[key]
            yield from self._done(group)
        yield from self._expire()

    def _done(self, group: _Group) -> Iterator[Call]:
        live_first = next(iter(self.groups.values())).span.first if self.groups else None
        self.resume.done(group.span, live_first)
        if group.span.last >= self.emit_from:
            call = call_from_events(group.events, self.ctx)
            if call is not None:
                yield call

    def _expire(self) -> Iterator[Call]:
        # Without LINKEDID_END in cel.conf's event list a call ends when nothing more was heard of it.
        assert self.latest is not None
        horizon = self.latest - self.settle
        while self.groups:
            key, group = next(iter(self.groups.items()))
            if group.last_time >= horizon:
                return
            del self.groups[key]
            yield from self._done(group)

    def finish(self, eof: int) -> tuple[list[Call], int]:
        """Calls still open (best knowledge now), and where the next read must start to see them whole."""
        open_spans = [g.span for g in self.groups.values()]
        pending = [call_from_events(g.events, self.ctx) for g in self.groups.values() if g.span.last >= self.emit_from]
        return [c for c in pending if c is not None], self.resume.offset(open_spans, eof)


@dataclass(slots=True)
class _Answer:
    time: datetime
    channel: str
    event: CelEvent


def _at(e: CelEvent) -> str:
    """How an explanation names an event: its type and line in the file."""
    return f"{e.eventtype} line {e.line}"


def _silent(item: tuple[str, str]) -> None:
    """Where nobody asked why."""


def call_from_events(events: list[CelEvent], ctx: CallContext, why: Why | None = None) -> Call | None:
    """The one Call these events describe, or None when they are no call (a phone that only picked up).

    `why` collects (field, reason) as each field is decided, for `calls --explain`.
    """
    note: Note = why.append if why is not None else _silent
    events = sorted(events, key=lambda e: (e.time, e.offset))
    linkedid = events[0].linkedid or events[0].uniqueid
    starts = {e.uniqueid: e for e in events if e.eventtype == "CHAN_START"}
    origin = starts.get(linkedid) or events[0]
    legs = {origin.channel, partner(origin.channel)}
    own = [e for e in events if e.channel in legs]
    callees = [e for e in starts.values() if e.channel not in legs]
    # The trunk's context shows on the leg's first events (Local-channel trunks: on either half).
    inbound = any(e.context in ctx.inbound_contexts or (e.exten and e.exten in ctx.inbound_dids)
                  or matches_channel(e.channel, ctx.inbound_channels) for e in own)
    if not inbound and not callees:
        return None
    note(("call_id", f"{linkedid}: the linkedid; the caller's leg is {' and '.join(sorted(legs))} "
          f"(created at {_at(origin)})"))
    note(("direction", "inbound: the caller's leg ran in an inbound context, DID or trunk" if inbound
          else "not inbound: no inbound context, DID or trunk on the caller's leg"))
    handling = _handling_leg(own, origin.channel)
    ring_from = [(e.time, e) for e in callees]
    ring_from += [(e.time, e) for e in own if e.eventtype == "APP_START" and e.appname.lower() in RING_APPS]
    ring_started = min((t for t, _ in ring_from), default=None)
    if ring_from:
        first_ring = min(ring_from, key=lambda te: (te[0], te[1].offset))[1]
        what = (f"{first_ring.channel} was created" if first_ring.eventtype == "CHAN_START"
                else f"{first_ring.appname}({first_ring.appdata}) started")
        note(("ring_started_at", f"{ring_started} from {_at(first_ring)}: {what}"))
    else:
        note(("ring_started_at", "empty: no phone channel was created and no Dial/Queue started"))
    answer = _first_answer(events, legs)
    voicemail = next((e.time for e in own if e.appname.lower() == "voicemail"
                      or (e.exten and e.exten in ctx.voicemail_extensions and e.eventtype != "CHAN_START")), None)
    ended = max(e.time for e in own)
    hangup = next((e for e in reversed(own) if e.eventtype == "HANGUP" and e.channel == handling), None)
    left_message: bool | None = None
    ring_ended: datetime | None = None
    _note_handling(note, events, own, answer, hangup)
    if answer is not None:
        outcome = Outcome.ANSWERED
        note(("outcome", "answered: the caller's leg shared a bridge with a phone"))
    elif voicemail is not None and inbound:
        outcome = Outcome.VOICEMAIL
        left_message = (ended - voicemail).total_seconds() >= ctx.voicemail_message_seconds
        ring_ended = voicemail
        if ring_started is None or ring_started > voicemail:
            # Straight to voicemail (closed office, busy): it rang for no time at all.
            ring_started = voicemail
            note(("ring_started_at", f"{voicemail}: straight to voicemail, it rang for no time at all"))
        note(("outcome", f"voicemail: the caller's leg reached voicemail at {voicemail}, nobody answered"))
        note(("left_message", f"{left_message}: {(ended - voicemail).total_seconds():.0f} s in voicemail "
              f"(threshold {ctx.voicemail_message_seconds:.0f} s)"))
    else:
        outcome = _unanswered(own, ring_started, ended, hangup)
        note(("outcome", f"{outcome.value}: {_unanswered_reason(outcome, hangup)}"))
    queue = next((e.appdata.split(",")[0] for e in own if e.appname.lower() == "queue" and e.appdata), None)
    if inbound:
        direction = Direction.INBOUND
        caller = _caller_number(own, handling)
        answered_by = extension_of(answer.channel) if answer else None
    else:
        dialled = next((e.exten for e in own if e.appname.lower() in RING_APPS and e.exten), origin.exten)
        direction = Direction.INTERNAL if INTERNAL_NUMBER.match(dialled) else Direction.OUTBOUND
        caller, answered_by = dialled, extension_of(origin.channel)
    return Call(
        call_id=linkedid,
        site=ctx.site,
        direction=direction,
        caller=caller,
        arrived_at=origin.time,
        ring_started_at=ring_started,
        answered_at=answer.time if answer else None,
        ended_at=ended,
        outcome=outcome,
        answered_by=answered_by,
        queue=queue,
        left_message=left_message,
        source=Source.CEL,
        ring_ended_at=ring_ended,
        # Each phone's channel creation and the answer are logged as they happened.
        ring_quality=RingQuality.EXACT,
        # queue_log names a queued call by the uniqueid of the channel that ran Queue()
        # (any event logged while that channel was in the Queue application shows it).
        aliases=tuple(sorted({e.uniqueid for e in events
                              if e.appname.lower() == "queue" and e.uniqueid and e.uniqueid != linkedid})),
    )


def _note_handling(note: Note, events: list[CelEvent], own: list[CelEvent], answer: _Answer | None,
                   hangup: CelEvent | None) -> None:
    """The reasons for the answer, pickups and transfers, the hang-up and the end of the linkedid."""
    if answer is not None:
        note(("answered_at", f"{answer.time} from {_at(answer.event)} ({answer.event.channel}): the first "
              "time the caller's leg shared a bridge with another channel"))
        note(("answered_by", f"{extension_of(answer.channel)} ({answer.channel}; later transfers, parks and "
              "retrievals do not change who answered first)"))
    for e in events:
        if e.eventtype == "PICKUP":
            note(("pickup", f"{_at(e)}: {e.channel} picked up by "
                  f"{e.extra_field('pickup_channel') or e.peer or 'another phone'}"))
        elif e.eventtype in ("BLINDTRANSFER", "ATTENDEDTRANSFER", "PARK_START"):
            note(("transfer", f"{_at(e)} on {e.channel} (after the answer: does not change who answered)"))
    ended = max(own, key=lambda e: (e.time, e.offset))
    note(("ended_at", f"{ended.time} from {_at(ended)}: the caller's leg's last event"))
    if hangup is not None:
        cause = ", ".join(f"{k} {hangup.extra_field(k)}" for k in ("hangupcause", "hangupsource", "dialstatus")
                          if hangup.extra_field(k))
        note(("hangup", f"{_at(hangup)} on {hangup.channel}: {cause or 'no cause logged'}"))
    end = next((e for e in events if e.eventtype == "LINKEDID_END"), None)
    note(("linkedid_end", f"{_at(end)}: the last channel of the call was gone" if end is not None
          else "none logged: the call ended when nothing more was heard of it"))


def _unanswered_reason(outcome: Outcome, hangup: CelEvent | None) -> str:
    dialstatus = hangup.extra_field("dialstatus") if hangup else ""
    source = hangup.extra_field("hangupsource") if hangup else ""
    if outcome is Outcome.MISSED:
        return (f"the PBX gave up (hangupsource {source or '-'}, dialstatus {dialstatus or '-'}, "
                "or it rang for the dialplan's whole limit)")
    return f"the caller hung up first (hangupsource {source or '-'}, dialstatus {dialstatus or '-'})"


def _handling_leg(own: list[CelEvent], origin: str) -> str:
    """The half of the caller's leg that runs the dialplan (a Local trunk's `;2`), else the origin channel.

    The other half of a Local pair only ever runs AppDial/AppDial2 (it is the
    "dialled" side); a half seen in any other application runs the dialplan.
    """
    score: dict[str, int] = {}
    for e in own:
        app = e.appname.lower()
        points = 2 if app not in DIALLER_APPS else -1 if app else 0
        score[e.channel] = max(score.get(e.channel, points), points)
    if not score:
        return origin
    return max(score, key=lambda ch: (score[ch], ch.endswith(";2")))


def _caller_number(own: list[CelEvent], handling: str) -> str:
    # The dialplan leg keeps the caller's number; the other half of a Local pair shows connected-line updates.
    for channel_first in (True, False):
        for e in own:
            if (e.channel == handling) == channel_first and e.cid_num:
                return e.cid_num
    return next((e.cid_ani for e in own if e.cid_ani), "")


def _first_answer(events: list[CelEvent], legs: set[str]) -> _Answer | None:
    """The first moment the caller's leg shares a bridge with another channel, and that channel."""
    members: dict[str, set[str]] = {}
    for e in events:
        if e.eventtype not in ("BRIDGE_ENTER", "BRIDGE_EXIT"):
            continue
        bridge = e.extra_field("bridge_id") or e.peer
        inside = members.setdefault(bridge, set())
        if e.eventtype == "BRIDGE_EXIT":
            inside.discard(e.channel)
            continue
        inside.add(e.channel)
        if e.channel in legs and e.peer and e.peer not in legs:
            return _Answer(e.time, e.peer, e)
        if e.channel not in legs and (e.peer in legs or inside & legs):
            return _Answer(e.time, e.channel, e)
        others = inside - legs
        if e.channel in legs and others:
            return _Answer(e.time, min(others), e)
    return None


def _unanswered(own: list[CelEvent], ring_started: datetime | None, ended: datetime,
                hangup: CelEvent | None) -> Outcome:
    """Abandoned (the caller gave up) or missed (the PBX gave up: no answer in time, busy, no line).

    HANGUP's extra says who hung up (`hangupsource`: "dialplan/..." when the
    dialplan ended the call) and how the last Dial ended (`dialstatus`; stale
    after a Queue, so only a busy or failed line is taken from it).
    """
    dialstatus = hangup.extra_field("dialstatus") if hangup else ""
    by_pbx = hangup is not None and hangup.extra_field("hangupsource").startswith("dialplan/")
    if ring_started is None:
        return Outcome.MISSED if dialstatus in LINE_FAILED else Outcome.ABANDONED
    if by_pbx or dialstatus in PBX_GAVE_UP - {"NOANSWER"}:
        return Outcome.MISSED
    rang = (ended - ring_started).total_seconds()
    for e in own:
        timeout = _ring_limit(e)
        if timeout is not None and rang >= timeout - 1:
            return Outcome.MISSED
    return Outcome.ABANDONED


def _ring_limit(e: CelEvent) -> float | None:
    return ring_limit(e.appname, e.appdata)
