"""Call reconstruction: the rows and events of one physical call become ONE `Call`.

The one place that knows how a PBX log describes a call: which CDR rows
belong together, which leg rang and which answered first, whether the caller
reached voicemail, hung up, or timed out. Logs are streamed: rows are held in
a bounded buffer only until no more rows of their call can be expected.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callwatch.collector.sources.master_csv import CdrRow
from callwatch.model import Call, Direction, Outcome, Source

# How long after a call's last row another row of it may still be written:
# Master.csv is written per channel at its hang-up, so a transferred caller's
# row follows the first staff leg's row by the rest of the conversation.
SETTLE = timedelta(hours=1)
MAX_BUFFERED_ROWS = 200_000
RING_APPS = frozenset({"dial", "queue", "followme", "page"})
FAILED_DISPOSITIONS = frozenset({"BUSY", "CONGESTION", "FAILED", "CHANUNAVAIL"})
EXTENSION = re.compile(r"^[^/]+/([^@;/]+?)(?:@|-[0-9a-f]+(?:;\d)?$|;|$)")
NUMBER_IN_CLID = re.compile(r"<([^>]*)>")
INTERNAL_NUMBER = re.compile(r"^\d{2,5}$")


@dataclass(slots=True)
class CallContext:
    """What reconstruction needs from the settings."""

    site: str
    inbound_contexts: frozenset[str]
    inbound_dids: frozenset[str]
    voicemail_extensions: frozenset[str]
    voicemail_message_seconds: float


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


def base_channel(channel: str) -> str:
    """Both halves of a Local channel pair (`...;1` and `...;2`) name one leg."""
    if len(channel) > 2 and channel[-2] == ";" and channel[-1] in "12":
        return channel[:-2]
    return channel


def extension_of(channel: str) -> str | None:
    """`Local/101@staff-000000d4;1` and `PJSIP/101-0000002a` are extension 101."""
    match = EXTENSION.match(channel)
    return match.group(1) if match else None


def caller_number(src: str, clid: str) -> str:
    if src:
        return src
    match = NUMBER_IN_CLID.search(clid)
    return match.group(1) if match else clid


@dataclass(slots=True)
class _Group:
    rows: list[CdrRow]
    keys: set[str]
    span: Span
    last_end: datetime


@dataclass(slots=True)
class CdrGrouper:
    """Groups Master.csv rows into calls: by linkedid, else by Local channel halves, uniqueid and channel."""

    settle: timedelta = SETTLE
    max_rows: int = MAX_BUFFERED_ROWS
    # An OrderedDict, not a dict: a dict used as a queue makes "the oldest" cost more the more was removed.
    groups: OrderedDict[int, _Group] = field(default_factory=OrderedDict)
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
        found = [owner[k] for k in keys if k in owner]
        if found:
            gid = min(found)
            group = self.groups[gid]
            for other_id in {g for g in found if g != gid}:
                other = self.groups.pop(other_id)
                group.rows.extend(other.rows)
                group.keys |= other.keys
                group.span.first = min(group.span.first, other.span.first)
                group.span.last = max(group.span.last, other.span.last)
                group.last_end = max(group.last_end, other.last_end)
                for k in other.keys:
                    self.owner[k] = gid
            group.rows.append(row)
            group.span.last = row.offset  # rows arrive in file order
            if row.end > group.last_end:
                group.last_end = row.end
        else:
            gid = self._next_id
            self._next_id += 1
            group = _Group([row], set(), Span(row.offset, row.offset), row.end)
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


def call_id_for(row: CdrRow) -> str:
    """linkedid, else the caller channel's uniqueid: the queue_log callid and AMI Linkedid of the same call."""
    if row.linkedid:
        return row.linkedid
    if row.uniqueid:
        return row.uniqueid
    digest = hashlib.sha1(f"{row.channel}|{row.start.isoformat()}".encode()).hexdigest()[:20]
    return "cdr-" + digest


def dial_timeout(row: CdrRow) -> float | None:
    """The ring limit the dialplan gave: Dial(targets,TIMEOUT) or Queue(name,opts,url,announce,TIMEOUT)."""
    args = row.lastdata.split(",")
    index = {"dial": 1, "queue": 4}.get(row.lastapp.lower())
    if index is None or len(args) <= index:
        return None
    try:
        return float(args[index])
    except ValueError:
        return None


@dataclass(slots=True)
class _Leg:
    """One party the caller's channel rang: when it began ringing, answered, stopped."""

    target: str
    ring_from: datetime
    answered: datetime | None
    stopped: datetime
    row: CdrRow


def call_from_rows(rows: list[CdrRow], ctx: CallContext) -> Call | None:
    """The one Call these rows describe, or None when they are not a call (the far side of a Local pair)."""
    inbound = [r for r in rows if r.dcontext in ctx.inbound_contexts or r.dst in ctx.inbound_dids]
    if inbound:
        origin = min(inbound, key=lambda r: (r.start, r.offset))
        direction = Direction.INBOUND
    else:
        dialled = {base_channel(r.dstchannel) for r in rows if r.dstchannel}
        roots = [r for r in rows if r.dstchannel and base_channel(r.channel) not in dialled]
        if not roots:
            return None
        origin = min(roots, key=lambda r: (r.start, r.offset))
        direction = Direction.INTERNAL if INTERNAL_NUMBER.match(origin.dst) else Direction.OUTBOUND
    own = sorted((r for r in rows if r.channel == origin.channel), key=lambda r: (r.start, r.offset))
    legs = _legs(rows, own, origin.channel)
    answered = [leg for leg in legs if leg.answered is not None]
    first = min(answered, key=_answered_at) if answered else None
    ring_started = min((leg.ring_from for leg in legs), default=None)
    ended = max(r.end for r in own)
    queue = next((r.lastdata.split(",")[0] for r in own if r.lastapp.lower() == "queue"), None)
    voicemail = [r for r in own if r.lastapp.lower() == "voicemail" or r.dst in ctx.voicemail_extensions]
    left_message: bool | None = None
    ring_ended: datetime | None = None
    if first is not None:
        outcome = Outcome.ANSWERED
    elif voicemail and direction is Direction.INBOUND:
        outcome = Outcome.VOICEMAIL
        stayed = max((r.end - r.start).total_seconds() for r in voicemail)
        left_message = stayed >= ctx.voicemail_message_seconds
        ring_ended = min(r.start for r in voicemail)
    else:
        outcome = _unanswered(origin, legs, ring_started)
    if direction is Direction.INBOUND:
        caller = caller_number(origin.src, origin.clid)
        answered_by = extension_of(first.target) if first else None
    else:
        # The far party is the number a follow-up is matched on; the extension that dialled is who "handled" it.
        caller = origin.dst
        answered_by = extension_of(origin.channel)
    return Call(
        call_id=call_id_for(origin),
        site=ctx.site,
        direction=direction,
        caller=caller,
        arrived_at=min(r.start for r in own),
        ring_started_at=ring_started,
        answered_at=first.answered if first else None,
        ended_at=ended,
        outcome=outcome,
        answered_by=answered_by,
        queue=queue,
        left_message=left_message,
        source=Source.CDR_CSV,
        ring_ended_at=ring_ended,
    )


def _answered_at(leg: _Leg) -> datetime:
    assert leg.answered is not None, "only answered legs are compared"
    return leg.answered


def _legs(rows: list[CdrRow], own: list[CdrRow], origin_channel: str) -> list[_Leg]:
    # The dialled party's own row (the `;2` half of a Local channel) knows when
    # it rang and when it was picked up; the caller's row does not.
    far: dict[str, list[CdrRow]] = {}
    for r in rows:
        if r.channel != origin_channel:
            far.setdefault(base_channel(r.channel), []).append(r)
    legs = []
    for r in own:
        if r.lastapp.lower() not in RING_APPS and not r.dstchannel:
            continue
        if not r.dstchannel:
            legs.append(_Leg("", r.start, None, r.end, r))
            continue
        party = far.get(base_channel(r.dstchannel))
        if party:
            answers = [p.answer for p in party if p.answer is not None]
            answer = min(answers) if answers else None
            ring_from = min(p.start for p in party)
            stopped = min(answer or r.end, max(p.end for p in party))
        else:
            answer = r.answer if r.disposition == "ANSWERED" else None
            ring_from, stopped = r.start, answer or r.end
        legs.append(_Leg(r.dstchannel, ring_from, answer, stopped, r))
    return legs


def _unanswered(origin: CdrRow, legs: list[_Leg], ring_started: datetime | None) -> Outcome:
    """Abandoned (the caller gave up) or missed (the PBX gave up: busy, no line, ring timeout)."""
    if ring_started is None:
        # Hung up during the greeting or IVR: abandoned, unless the line itself failed.
        return Outcome.MISSED if origin.disposition in FAILED_DISPOSITIONS else Outcome.ABANDONED
    if all(leg.row.disposition in FAILED_DISPOSITIONS for leg in legs):
        return Outcome.MISSED
    for leg in legs:
        timeout = dial_timeout(leg.row)
        if timeout is not None:
            rang = (max(x.stopped for x in legs if x.row.lastapp == leg.row.lastapp) - ring_started).total_seconds()
            if rang >= timeout - 1:
                return Outcome.MISSED
    return Outcome.ABANDONED
