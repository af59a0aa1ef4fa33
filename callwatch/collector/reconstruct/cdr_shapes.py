"""The common shape of an inbound CDR group, rebuilt without call_from_rows' general search.

Most calls of a busy office look alike: one caller channel pair that came in
through an inbound context, and the parties it rang (ring group members,
queue members), each a Local channel with one row of its own that dialled
nobody further. For such a group every step of call_from_rows (find_origin,
handling_half, legs_of, _follow, _unanswered) has one possible path; this
module takes that path directly. `simple_inbound_call` checks the shape first
and returns NOT_SIMPLE for anything else (a second origin, a chain of Local
channels, a linkedid or a `did`, duplicate rows, a party without rows, an
inbound sign other than the context): those groups go to call_from_rows
unchanged, so every trap it handles still goes through it.
tests/test_import_columns.py compares the two on every group of set A, set D
and generated files.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from callwatch.collector.reconstruct.cdr import queue_aliases
from callwatch.collector.reconstruct.cdr_legs import FAILED_DISPOSITIONS
from callwatch.collector.reconstruct.cdr_origin import HANDLING_APPS, RING_APPS
from callwatch.collector.reconstruct.channels import (
    CallContext,
    base_channel,
    extension_of,
    ring_limit,
    uniqueid_order,
)
from callwatch.collector.sources.master_csv import CdrRow
from callwatch.model import Call, Direction, Outcome, RingQuality, Source

NOT_SIMPLE: Final = "not simple"
_SECOND = timedelta(seconds=1)


class _Leg:
    """cdr_legs.Leg, with the fields the common shape needs."""

    __slots__ = ("answered", "by", "ring_from", "row", "stopped", "voicemail")

    def __init__(self, row: CdrRow, ring_from: datetime, answered: datetime | None, by: str | None,
                 voicemail: CdrRow | None, stopped: datetime) -> None:
        self.row = row
        self.ring_from = ring_from
        self.answered = answered
        self.by = by
        self.voicemail = voicemail
        self.stopped = stopped


def simple_inbound_call(rows: list[CdrRow], ctx: CallContext) -> Call | str:
    """call_from_rows(rows, ctx) for a group of the common inbound shape; NOT_SIMPLE for any other group."""
    if ctx.inbound_channels:
        return NOT_SIMPLE
    root: list[CdrRow] = []
    parties: dict[str, CdrRow] = {}
    dialled: dict[str, str] = {}  # dstchannel -> its base channel
    seen: set[tuple[str, str, datetime, datetime, str]] = set()
    for r in rows:
        if r.linkedid or r.did or r.cnum or not r.uniqueid:
            return NOT_SIMPLE
        # Two rows alike in these are not provably distinct: unique_rows may have to drop one.
        sig = (r.channel, r.dstchannel, r.start, r.end, r.lastapp)
        if sig in seen:
            return NOT_SIMPLE
        seen.add(sig)
        if r.dstchannel:
            dialled[r.dstchannel] = base_channel(r.dstchannel)
    dialled_bases = set(dialled.values())
    origin = ""
    for r in rows:
        base = base_channel(r.channel)
        if base in dialled_bases:
            if base in parties or r.dstchannel or base == r.channel:
                return NOT_SIMPLE  # a party with two rows, dialling on, or not a Local pair
            parties[base] = r
        elif base == r.channel or (origin and base != origin):
            return NOT_SIMPLE  # not one of a Local pair's halves, or a second origin
        else:
            origin = base
            root.append(r)
    if not root or len(parties) != len(dialled_bases):
        return NOT_SIMPLE  # nothing originated, or a party with no rows of its own (cut short)
    halves: dict[str, int] = {}
    for r in root:
        app = r.lastapp.lower()
        # cdr_origin.handling_half's score (no row has a did).
        points = 2 if r.dstchannel or app in RING_APPS or app == "voicemail" else 1 if app in HANDLING_APPS else 0
        halves[r.channel] = halves.get(r.channel, 0) + points
    # inbound_reason: no did, no inbound_channels; the context is the one sign taken here.
    if not any(r.dcontext in ctx.inbound_contexts for r in root):
        return NOT_SIMPLE
    # find_origin's other signs (a Local name's context or DID) would give the same answer, inbound.
    leg = max(halves, key=lambda ch: (halves[ch], ch.endswith(";2")))
    orders = []
    for r in root:
        order = uniqueid_order(r.uniqueid)
        if order is None:
            return NOT_SIMPLE
        orders.append((order, r.uniqueid))
    call_id = min(orders)[1]
    pair = sorted(root, key=lambda r: (r.start, r.offset))
    own = [r for r in pair if r.channel == leg]
    if any(r.dstchannel for r in root if r.channel != leg):
        return NOT_SIMPLE  # the other half dialled someone: legs_of would not see it as a leg
    caller_row = own[0]
    if not caller_row.src:
        return NOT_SIMPLE  # channels.caller_number would read the caller ID text
    return _call(pair, own, {ch: parties[base] for ch, base in dialled.items()}, call_id, ctx)


def _call(pair: list[CdrRow], own: list[CdrRow], party_of: dict[str, CdrRow], call_id: str,
          ctx: CallContext) -> Call:
    legs: list[_Leg] = []
    for r in own:
        if r.dstchannel:
            legs.append(_dialled(r, party_of[r.dstchannel]))
        elif r.lastapp.lower() in RING_APPS:
            legs.append(_Leg(r, r.start, None, None, None, r.end))
    answered = [leg for leg in legs if leg.answered is not None]
    first = min(answered, key=lambda leg: leg.answered) if answered else None  # type: ignore[arg-type,return-value]
    ring_started = min(legs, key=lambda leg: leg.ring_from).ring_from if legs else None
    queue = next((r.lastdata.split(",")[0] for r in own if r.lastapp.lower() == "queue"), None)
    voicemail = [r for r in own if r.lastapp.lower() == "voicemail" or r.dst in ctx.voicemail_extensions]
    voicemail += [leg.voicemail for leg in legs if leg.voicemail is not None]
    left_message: bool | None = None
    ring_ended: datetime | None = None
    if first is not None:
        outcome = Outcome.ANSWERED
    elif voicemail:
        outcome = Outcome.VOICEMAIL
        ring_ended = min(voicemail, key=lambda r: r.start).start
        left_message = max((r.end - r.start).total_seconds() for r in voicemail) >= ctx.voicemail_message_seconds
    else:
        outcome = _unanswered(own, legs, ring_started)
    return Call(
        call_id=call_id,
        site=ctx.site,
        direction=Direction.INBOUND,
        caller=own[0].src,
        arrived_at=pair[0].start,
        ring_started_at=ring_started,
        answered_at=first.answered if first else None,
        ended_at=max(r.end for r in pair),
        outcome=outcome,
        answered_by=first.by if first else None,
        queue=queue,
        left_message=left_message,
        source=Source.CDR_CSV,
        ring_ended_at=ring_ended,
        ring_quality=RingQuality.DERIVED,
        aliases=queue_aliases(own, call_id),
        incomplete=False,
    )


def _dialled(r: CdrRow, p: CdrRow) -> _Leg:
    """cdr_legs._dialled when the party has one row and dials nobody: that row answered, reached
    voicemail, or only rang."""
    app = p.lastapp.lower()
    answered: datetime | None = None
    by: str | None = None
    voicemail: CdrRow | None = None
    if app == "voicemail":
        voicemail = p
    elif p.disposition == "ANSWERED" and p.answer and app not in ("appdial", "appdial2"):
        # _Reach.offer, then the caller's row as a second witness, then _Reach.settled.
        first = p.answer
        witnesses = [first]
        if r.disposition == "ANSWERED" and r.answer:
            witnesses.append(max(r.answer, r.start))
        near = [w for w in witnesses if abs((w - first).total_seconds()) <= 1.0]
        answered = first + sum((w - first for w in near), timedelta()) / len(near)
        by = extension_of(p.channel)
    stopped = min(answered or r.end, p.end)
    return _Leg(r, p.start, answered, by, voicemail, stopped)


def _unanswered(own: list[CdrRow], legs: list[_Leg], ring_started: datetime | None) -> Outcome:
    """cdr._unanswered, without the explanation."""
    if ring_started is None:
        return Outcome.MISSED if own[-1].disposition in FAILED_DISPOSITIONS else Outcome.ABANDONED
    if all(leg.row.disposition in FAILED_DISPOSITIONS for leg in legs):
        return Outcome.MISSED
    last = max(own, key=lambda r: (r.end, r.start, r.offset))
    if last.lastapp.lower() in ("hangup", "congestion", "busy") and last.start >= ring_started:
        return Outcome.MISSED
    for leg in legs:
        timeout = ring_limit(leg.row.lastapp, leg.row.lastdata)
        if timeout is not None:
            rang = (max(x.stopped for x in legs if x.row.lastapp == leg.row.lastapp) - ring_started).total_seconds()
            if rang >= timeout - 1:
                return Outcome.MISSED
    return Outcome.ABANDONED
