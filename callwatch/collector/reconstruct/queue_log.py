"""Calls from queue_log alone: one record per caller uniqueid.

A queue_log knows the queue, who answered and how long the caller waited, but
not what happened after the caller left the queue: a timeout followed by
voicemail is "missed" here, and the CDR (richer, it wins the merge) turns it
into "voicemail" when both are imported.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from callwatch.collector.reconstruct.cdr import SETTLE, ResumePoint, Span
from callwatch.collector.sources.master_csv import epoch_of_uniqueid
from callwatch.collector.sources.queue_log import SYSTEM_CALLIDS, QueueEvent
from callwatch.model import Call, Direction, Outcome, RingQuality, Source

LEFT_UNANSWERED = {
    "ABANDON": Outcome.ABANDONED,
    "EXITWITHTIMEOUT": Outcome.MISSED,
    "EXITEMPTY": Outcome.MISSED,
    "EXITWITHKEY": Outcome.MISSED,
}
CALL_ENDED = frozenset({"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})


@dataclass(slots=True)
class _QueueCall:
    callid: str
    span: Span
    first_event: datetime
    last_event: datetime
    entered: datetime | None = None
    caller: str = ""
    queue: str | None = None
    answered: datetime | None = None
    holdtime: float | None = None
    member: str | None = None
    outcome: Outcome | None = None
    ended: datetime | None = None

    def finished(self) -> bool:
        return self.ended is not None


@dataclass(slots=True)
class QueueLogCalls:
    """Feeds queue_log events in file order; yields a Call each time one leaves the queue or hangs up."""

    site: str
    settle: timedelta = SETTLE
    calls: OrderedDict[str, _QueueCall] = field(default_factory=OrderedDict)  # a queue: see CdrGrouper.groups
    resume: ResumePoint = field(default_factory=ResumePoint)
    latest: datetime | None = None
    # Calls seen only in a re-read tail were written by the import that first read them.
    emit_from: int = 0

    def add(self, ev: QueueEvent) -> Iterator[Call]:
        if ev.callid in SYSTEM_CALLIDS:
            return
        if self.latest is None or ev.time > self.latest:
            self.latest = ev.time
        state = self.calls.get(ev.callid)
        if state is None:
            state = _QueueCall(ev.callid, Span(ev.offset, ev.offset), ev.time, ev.time)
            self.calls[ev.callid] = state
        state.span.last = ev.offset
        state.last_event = max(state.last_event, ev.time)
        if ev.queue and ev.queue != "NONE" and state.queue is None:
            state.queue = ev.queue
        emit = self._apply(state, ev)
        if emit and state.span.last >= self.emit_from:
            yield self.call(state)
        yield from self._expire()

    @staticmethod
    def _apply(state: _QueueCall, ev: QueueEvent) -> bool:
        """Update the call; True when it has just left the queue or ended."""
        if ev.event == "ENTERQUEUE":
            if state.entered is None:
                state.entered = ev.time
                state.caller = ev.data[1] if len(ev.data) > 1 else ""
            return False
        if ev.event == "CONNECT":
            if state.answered is None:
                state.answered = ev.time
                state.member = ev.member or None
                state.holdtime = _number(ev.data[0]) if ev.data else None
                state.outcome = Outcome.ANSWERED
            return False
        if ev.event in LEFT_UNANSWERED:
            if state.answered is None:
                state.outcome = LEFT_UNANSWERED[ev.event]
            state.ended = ev.time
            return True
        if ev.event in CALL_ENDED:
            if state.answered is None:
                # A COMPLETE without a CONNECT in this file: the CONNECT was before the first line we read.
                state.answered = ev.time
                state.member = ev.member or None
                state.outcome = Outcome.ANSWERED
            state.ended = ev.time
            return True
        return False

    def _expire(self) -> Iterator[Call]:
        assert self.latest is not None
        horizon = self.latest - self.settle
        while self.calls:
            callid, state = next(iter(self.calls.items()))
            if state.last_event >= horizon:
                return
            del self.calls[callid]
            live_first = next(iter(self.calls.values())).span.first if self.calls else None
            self.resume.done(state.span, live_first)
            if not state.finished() and state.answered is not None and state.span.last >= self.emit_from:
                yield self.call(state)

    def finish(self, eof: int) -> tuple[list[Call], int]:
        """Calls answered but not yet hung up (best knowledge), and where the next read must start."""
        horizon = self.latest - self.settle if self.latest else None
        open_spans = [s.span for s in self.calls.values() if horizon is None or s.last_event >= horizon]
        pending = [self.call(s) for s in self.calls.values()
                   if not s.finished() and s.answered is not None and s.span.last >= self.emit_from]
        return pending, self.resume.offset(open_spans, eof)

    def call(self, s: _QueueCall) -> Call:
        entered = s.entered
        if entered is None and s.answered is not None and s.holdtime is not None:
            entered = s.answered - timedelta(seconds=s.holdtime)
        first_seen = min(t for t in (entered, s.first_event) if t is not None)
        return Call(
            call_id=s.callid,
            site=self.site,
            direction=Direction.INBOUND,
            caller=s.caller,
            arrived_at=_arrival(s.callid, first_seen),
            ring_started_at=entered,
            answered_at=s.answered,
            ended_at=s.ended,
            outcome=s.outcome,
            answered_by=s.member,
            queue=s.queue,
            source=Source.QUEUE_LOG,
            # The queue's exit is when ringing stopped; what follows (voicemail) is not in this log.
            ring_ended_at=s.ended if s.answered is None else None,
            # The queue stamps joining and connecting itself (and CONNECT carries the hold time):
            # to the second, the wait as the queue measured it.
            ring_quality=RingQuality.EXACT,
        )


def _arrival(callid: str, entered: datetime) -> datetime:
    """The caller channel's creation time, from its uniqueid: before a greeting, not at queue entry."""
    epoch = epoch_of_uniqueid(callid)
    if epoch is not None:
        created = datetime.fromtimestamp(epoch, UTC)
        if entered - timedelta(hours=1) <= created <= entered:
            return created
    return entered


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
