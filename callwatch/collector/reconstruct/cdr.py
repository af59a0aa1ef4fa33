"""Call reconstruction: the rows and events of one physical call become ONE `Call`.

The one place that knows how a PBX log describes a call: which CDR rows
belong together, which leg rang and which answered first, whether the caller
reached voicemail, hung up, or timed out. Logs are streamed: rows are held in
a bounded buffer only until no more rows of their call can be expected.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from callwatch.collector.reconstruct.cdr_legs import FAILED_DISPOSITIONS, Leg, legs_of
from callwatch.collector.reconstruct.cdr_origin import find_origin
from callwatch.collector.reconstruct.channels import (
    CallContext,
    base_channel,
    caller_number,
    extension_of,
    is_extension,
    ring_limit,
    where,
)
from callwatch.collector.sources.master_csv import CdrRow
from callwatch.model import Call, Direction, Outcome, RingQuality, Source

__all__ = [
    "CallContext", "CdrGrouper", "Note", "ResumePoint", "Span", "Why", "base_channel", "call_from_rows",
    "calls_from_cdr_rows", "extension_of",
]

# How long after a call's last row another row of it may still be written:
# Master.csv is written per channel at its hang-up, so a transferred caller's
# row follows the first staff leg's row by the rest of the conversation.
SETTLE = timedelta(hours=1)
MAX_BUFFERED_ROWS = 200_000
# The explanation of a call: (field, why it has its value) in the order they were decided.
Why = list[tuple[str, str]]
Note = Callable[[tuple[str, str]], None]


@dataclass(slots=True)
class Span:
    """The bytes of the file one call's rows were read from."""

    first: int
    last: int


class ResumePoint:
    """Where the next read of a growing file must start so that no call is split.

    A call still open at the end of the file is read again next time, in
    full; so is any call whose rows interleave with it.
    """

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._prune_at = 4096

    def done(self, span: Span, live_first: int | None) -> None:
        self.spans.append(span)
        if len(self.spans) > self._prune_at and live_first is not None:
            # Calls that ended before every buffered call began cannot interleave with an open one.
            self.spans = [s for s in self.spans if s.last >= live_first]
            # Doubling keeps pruning linear overall while one long call holds many spans back.
            self._prune_at = max(4096, 2 * len(self.spans))

    def offset(self, open_spans: Iterable[Span], eof: int) -> int:
        start = min((s.first for s in open_spans), default=eof)
        changed = True
        while changed:
            changed = False
            for s in self.spans:
                if s.first < start <= s.last:
                    start, changed = s.first, True
        return start


RowT = TypeVar("RowT")
KeyT = TypeVar("KeyT")


@dataclass(slots=True)
class RowGroup(Generic[RowT, KeyT]):
    """The rows of one call so far (rows or their indexes), the keys that join rows to it, where it lies."""

    rows: list[RowT]
    keys: set[KeyT]
    span: Span
    last_end: datetime

    def absorb(self, other: RowGroup[RowT, KeyT]) -> None:
        """Take in a group a new row showed to be the same call (it shares a key with both)."""
        self.rows.extend(other.rows)
        self.keys |= other.keys
        self.span.first = min(self.span.first, other.span.first)
        self.span.last = max(self.span.last, other.span.last)
        self.last_end = max(self.last_end, other.last_end)


@dataclass(slots=True)
class CdrGrouper:
    """Groups Master.csv rows into calls: by linkedid, else by Local channel halves, uniqueid and channel."""

    settle: timedelta = SETTLE
    max_rows: int = MAX_BUFFERED_ROWS
    # An OrderedDict, not a dict: a dict used as a queue makes "the oldest" cost more the more was removed.
    groups: OrderedDict[int, RowGroup[CdrRow, str]] = field(default_factory=OrderedDict)
    owner: dict[str, int] = field(default_factory=dict)
    resume: ResumePoint = field(default_factory=ResumePoint)
    latest_end: datetime | None = None
    _horizon: datetime | None = None
    buffered: int = 0
    _next_id: int = 0

    @staticmethod
    def keys(row: CdrRow) -> list[str]:
        if row.linkedid:
            return ["l:" + row.linkedid]
        keys = ["c:" + base_channel(row.channel)]
        if row.dstchannel:
            keys.append("c:" + base_channel(row.dstchannel))
        if row.uniqueid:
            keys.append("u:" + row.uniqueid)
        return keys

    def add(self, row: CdrRow) -> list[list[CdrRow]]:
        """Buffer a row; return the groups that are now complete (usually none)."""
        keys = self.keys(row)
        owner = self.owner
        uid_key = "u:" + row.uniqueid
        if row.uniqueid and not row.linkedid and uid_key in owner and self._reused(row, owner[uid_key]):
            # Another caller's channel with this uniqueid: a reused id, not a leg of that call.
            keys.remove(uid_key)
        found = [owner[k] for k in keys if k in owner]
        if found:
            gid = min(found)
            group = self.groups[gid]
            for other_id in {g for g in found if g != gid}:
                other = self.groups.pop(other_id)
                group.absorb(other)
                for k in other.keys:
                    self.owner[k] = gid
            group.rows.append(row)
            group.span.last = row.offset  # rows arrive in file order
            if row.end > group.last_end:
                group.last_end = row.end
        else:
            gid = self._next_id
            self._next_id += 1
            group = RowGroup([row], set(), Span(row.offset, row.offset), row.end)
            self.groups[gid] = group
        for k in keys:
            if k not in group.keys:
                group.keys.add(k)
                self.owner[k] = gid
        self.buffered += 1
        if self.latest_end is None or row.end > self.latest_end:
            self.latest_end = row.end
            self._horizon = row.end - self.settle
        return self._expire()

    def _reused(self, row: CdrRow, gid: int) -> bool:
        """`row`'s uniqueid already names another caller's channel in group `gid`."""
        same = [r for r in self.groups[gid].rows if r.uniqueid == row.uniqueid]
        channel = base_channel(row.channel)
        return any(base_channel(r.channel) != channel and r.src and row.src and r.src != row.src for r in same)

    def _expire(self) -> list[list[CdrRow]]:
        horizon = self._horizon
        done = []
        while self.groups:
            gid, group = next(iter(self.groups.items()))
            if (horizon is None or group.last_end >= horizon) and self.buffered <= self.max_rows:
                break
            done.append(self._pop(gid))
        return done

    def _pop(self, gid: int) -> list[CdrRow]:
        group = self.groups.pop(gid)
        for k in group.keys:
            if self.owner.get(k) == gid:
                del self.owner[k]
        self.buffered -= len(group.rows)
        live_first = next(iter(self.groups.values())).span.first if self.groups else None
        self.resume.done(group.span, live_first)
        return group.rows

    def finish(self, eof: int) -> tuple[list[list[CdrRow]], int]:
        """Every buffered group (best knowledge now), and the offset the next read must start at."""
        horizon = self.latest_end - self.settle if self.latest_end else None
        open_spans = [Span(g.span.first, g.span.last) for g in self.groups.values()
                      if horizon is None or g.last_end >= horizon]
        rows = [self._pop(gid) for gid in list(self.groups)]
        return rows, self.resume.offset(open_spans, eof)


def calls_from_cdr_rows(rows: Iterable[CdrRow], ctx: CallContext) -> Iterator[Call]:
    """Calls from CDR rows that are not a file (a `cdr` table): grouped as a file's rows are, every call once."""
    grouper = CdrGrouper()
    for row in rows:
        for group in grouper.add(row):
            call = call_from_rows(group, ctx)
            if call is not None:
                yield call
    for group in grouper.finish(0)[0]:
        call = call_from_rows(group, ctx)
        if call is not None:
            yield call


def unique_rows(rows: list[CdrRow]) -> list[CdrRow]:
    """The rows without exact copies: two CDR backends loaded at once write every row twice."""
    seen: dict[tuple[object, ...], CdrRow] = {}
    for r in rows:
        seen.setdefault(r.content(), r)
    return list(seen.values())


def dial_timeout(row: CdrRow) -> float | None:
    """The ring limit the dialplan gave this row's application (channels.ring_limit)."""
    return ring_limit(row.lastapp, row.lastdata)


def call_from_rows(rows: list[CdrRow], ctx: CallContext, why: Why | None = None) -> Call | None:
    """The one Call these rows describe, or None when they are not a call; `why` collects the reasons."""
    note: Note = why.append if why is not None else _silent
    rows = unique_rows(rows)
    origin = find_origin(rows, ctx)
    if origin is None:
        return None
    note(("direction", f"{'inbound' if origin.inbound else 'not inbound'}: {origin.reason}"))
    pair = sorted((r for r in rows if base_channel(r.channel) == origin.base), key=lambda r: (r.start, r.offset))
    own = [r for r in pair if r.channel == origin.leg]
    if not origin.inbound:
        return _placed_call(rows, own, origin.call_id, ctx, note)
    note(("call_id", f"{origin.call_id} (linkedid, or the originating channel's uniqueid)"))
    note(("leg", f"the call's own rows are channel {origin.leg}: {', '.join(where(r) for r in own)}"))
    legs = legs_of(rows, own)
    answered = [leg for leg in legs if leg.answered is not None]
    first = min(answered, key=lambda leg: leg.answered) if answered else None  # type: ignore[arg-type,return-value]
    ringing = min(legs, key=lambda leg: leg.ring_from) if legs else None
    ring_started = ringing.ring_from if ringing else None
    if ringing is not None:
        note(("ring_started_at", f"{ring_started} from {where(ringing.ring_row)} ({ringing.ring_row.channel} "
              f"began, dialled by {where(ringing.row)})"))
    else:
        note(("ring_started_at", "empty: no phone rang and no queue was joined (greeting, IVR or closed mode)"))
    queue = next((r.lastdata.split(",")[0] for r in own if r.lastapp.lower() == "queue"), None)
    voicemail = [r for r in own if r.lastapp.lower() == "voicemail" or r.dst in ctx.voicemail_extensions]
    voicemail += [leg.voicemail for leg in legs if leg.voicemail is not None]
    left_message: bool | None = None
    ring_ended: datetime | None = None
    if first is not None and first.answer_row is not None:
        outcome = Outcome.ANSWERED
        note(("answered_at", f"{first.answered}: the earliest answer by a person, on the leg to "
              f"{first.row.dstchannel} ({where(first.row)}), seen on {where(first.answer_row)} "
              f"({first.answer_row.channel}); {len(answered)} leg(s) answered in all"))
        note(("answered_by", f"{first.answered_by} (the first to pick up; later transfers do not change it)"))
    elif voicemail:
        outcome = Outcome.VOICEMAIL
        reached = min(voicemail, key=lambda r: r.start)
        stayed = max((r.end - r.start).total_seconds() for r in voicemail)
        left_message = stayed >= ctx.voicemail_message_seconds
        ring_ended = reached.start
        note(("outcome", f"voicemail: {reached.lastapp} {reached.lastdata} on {where(reached)}, nobody answered"))
        note(("left_message", f"{left_message}: {stayed:.0f} s in voicemail (threshold "
              f"{ctx.voicemail_message_seconds:.0f} s)"))
    else:
        outcome = _unanswered(own, legs, ring_started, note)
    caller_row = own[0]
    # Only when nothing else says when ringing began: a pickup's leg has no rows of its own in this
    # call either (they carry the picker's linkedid), yet another leg rang before it was answered.
    incomplete = (first is not None and first.incomplete and ring_started is not None
                  and first.answered is not None and first.answered <= ring_started)
    if incomplete and first is not None:
        # Answered (the caller's row says so), but when is unknown: no ring time rather than a guess of 0 s.
        ring_started = None
        note(("incomplete", f"the answering leg {first.row.dstchannel} has no rows of its own (cut short or "
              "rejected): when it was answered is unknown"))
    return Call(
        call_id=origin.call_id,
        site=ctx.site,
        direction=Direction.INBOUND,
        caller=caller_number(caller_row.src or caller_row.cnum, caller_row.clid),
        arrived_at=pair[0].start,
        ring_started_at=ring_started,
        answered_at=first.answered if first and not incomplete else None,
        ended_at=max(r.end for r in pair),
        outcome=outcome,
        answered_by=first.answered_by if first else None,
        queue=queue,
        left_message=left_message,
        source=Source.CDR_CSV,
        ring_ended_at=ring_ended,
        # CDR times are whole seconds, and a leg's start includes the greeting before the Dial.
        ring_quality=RingQuality.UNKNOWN if incomplete else RingQuality.DERIVED,
        aliases=queue_aliases(own, origin.call_id),
        incomplete=incomplete,
    )


def queue_aliases(own: list[CdrRow], call_id: str) -> tuple[str, ...]:
    """The uniqueids queue_log may name this call by: the call's channels that ran Queue()."""
    return tuple(sorted({r.uniqueid for r in own if r.lastapp.lower() == "queue" and r.uniqueid} - {call_id}))


def _placed_call(rows: list[CdrRow], own: list[CdrRow], call_id: str, ctx: CallContext,
                 note: Note) -> Call | None:
    """An outbound or internal call: who dialled what, answered or not."""
    dialling = [r for r in own if r.dstchannel]
    if not dialling:
        return None
    origin = dialling[0]
    direction = Direction.INTERNAL if is_extension(origin.dst) else Direction.OUTBOUND
    legs = legs_of(rows, own)
    answered = [leg.answered for leg in legs if leg.answered is not None]
    ring_started = min((leg.ring_from for leg in legs), default=None)
    return Call(
        call_id=call_id,
        site=ctx.site,
        direction=direction,
        # The far party is the number a follow-up is matched on; the extension that dialled is who "handled" it.
        caller=origin.dst,
        arrived_at=min(r.start for r in own),
        ring_started_at=ring_started,
        answered_at=min(answered) if answered else None,
        ended_at=max(r.end for r in own),
        outcome=Outcome.ANSWERED if answered else _unanswered(own, legs, ring_started, note),
        answered_by=extension_of(origin.channel),
        source=Source.CDR_CSV,
    )


def _silent(item: tuple[str, str]) -> None:
    """Where nobody asked why."""


def _unanswered(own: list[CdrRow], legs: list[Leg], ring_started: datetime | None, say: Note) -> Outcome:
    """Abandoned (the caller gave up) or missed (the PBX gave up: busy, no line, ring timeout, hang-up)."""
    if ring_started is None:
        # Hung up during the greeting or IVR: abandoned, unless the line itself failed.
        failed = own[-1].disposition in FAILED_DISPOSITIONS
        say(("outcome", f"{'missed: the line failed' if failed else 'abandoned: hung up before anything rang'} "
             f"({where(own[-1])})"))
        return Outcome.MISSED if failed else Outcome.ABANDONED
    if all(leg.row.disposition in FAILED_DISPOSITIONS for leg in legs):
        say(("outcome", "missed: every party was busy or unreachable"))
        return Outcome.MISSED
    last = max(own, key=lambda r: (r.end, r.start, r.offset))
    if last.lastapp.lower() in ("hangup", "congestion", "busy") and last.start >= ring_started:
        say(("outcome", f"missed: the PBX hung up after ringing ({last.lastapp} on {where(last)})"))
        return Outcome.MISSED
    for leg in legs:
        timeout = dial_timeout(leg.row)
        if timeout is not None:
            rang = (max(x.stopped for x in legs if x.row.lastapp == leg.row.lastapp) - ring_started).total_seconds()
            if rang >= timeout - 1:
                say(("outcome", f"missed: rang {rang:.0f} s, the dialplan's limit was {timeout:.0f} s "
                     f"({leg.row.lastapp} on {where(leg.row)})"))
                return Outcome.MISSED
    say(("outcome", f"abandoned: the caller hung up while it rang ({where(last)} ends {last.end})"))
    return Outcome.ABANDONED
