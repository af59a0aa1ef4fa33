"""Where a CDR group's call came from: the originating channel, whether it is inbound, and its real leg.

A group is every CDR row of one physical call (one linkedid). Deciding
"inbound" from `dst`/`dcontext` alone fails on real dialplans: FreePBX's
inbound route jumps to the destination, so the inbound leg's rows say
`201 ext-local`, `s ivr-main` or, after a transfer, the transfer target's
`202 from-internal` — never the inbound context. So the decision rests on the
call's *originating channel* (the linkedid's channel: the first one created)
and, in order, on what the PBX itself said about it: a `did` column (FreePBX
sets it only in inbound routes), a trunk channel pattern (`inbound_channels`),
the context or DID in a Local channel's own name, an inbound context or DID in
any of its rows, and last a caller that is not an extension on a channel that
is not a phone (see DESIGN.md, "How a CDR group becomes a call").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from callwatch.collector.reconstruct.channels import (
    CallContext,
    base_channel,
    caller_number,
    extension_of,
    is_extension,
    local_target,
    matches_channel,
    uniqueid_order,
    where,
)
from callwatch.collector.sources.master_csv import CdrRow

RING_APPS = frozenset({"dial", "queue", "followme", "page"})
# Applications a PBX runs on a caller's channel while it handles the call; a
# Local `;1` half that only carries an outgoing line (AppDial/AppDial2) or a
# simulated caller (Milliwatt, Wait) scores nothing and loses to the half that ran these.
HANDLING_APPS = RING_APPS | frozenset({
    "voicemail", "background", "playback", "read", "waitexten", "park", "hangup", "answer", "busy",
    "congestion", "macro", "gosub", "agi", "record", "directory", "confbridge", "meetme", "ringing", "progress",
})


@dataclass(slots=True)
class Origin:
    """The call's originating Local pair or channel, its handling leg, and the direction's reason."""

    base: str
    leg: str  # the channel whose rows are the call's own (rings, answers, voicemail)
    inbound: bool
    reason: str
    call_id: str


def find_origin(rows: list[CdrRow], ctx: CallContext) -> Origin | None:
    """The call's origin, or None when the rows hold no channel that started anything."""
    dialled = {base_channel(r.dstchannel) for r in rows if r.dstchannel}
    roots = sorted({base_channel(r.channel) for r in rows} - dialled, key=lambda b: _created(rows, b))
    if not roots:
        return None
    for base in roots:
        own = [r for r in rows if base_channel(r.channel) == base]
        reason = inbound_reason(own, ctx)
        if reason:
            return Origin(base, handling_half(own), True, reason, _call_id(rows, own))
    base = roots[0]
    own = [r for r in rows if base_channel(r.channel) == base]
    leg = handling_half(own)
    reason = _outside_caller(own, leg)
    return Origin(base, leg, reason is not None, reason or "no inbound sign on the originating channel",
                  _call_id(rows, own))


def _created(rows: list[CdrRow], base: str) -> tuple[int, tuple[int, int], object, int]:
    """Sort key: the linkedid's own channel first, then by creation (uniqueid), then by start."""
    own = [r for r in rows if base_channel(r.channel) == base]
    linked = any(r.uniqueid and r.uniqueid == r.linkedid for r in own)
    orders = [o for o in (uniqueid_order(r.uniqueid) for r in own) if o is not None]
    first = min(own, key=lambda r: (r.start, r.offset))
    return (0 if linked else 1, min(orders) if orders else (1 << 62, 0), first.start, first.offset)


def inbound_reason(own: list[CdrRow], ctx: CallContext) -> str | None:
    """Why the rows of one originating channel (both Local halves) make an inbound call, or None."""
    for r in own:
        if r.did:
            return f"did {r.did} on {where(r)} (set by the PBX's inbound route)"
    for r in own:
        pattern = matches_channel(r.channel, ctx.inbound_channels)
        if pattern:
            return f"channel {r.channel} matches inbound_channels {pattern!r}"
    for r in own:
        target = local_target(r.channel)
        if target and (target[1] in ctx.inbound_contexts or target[0] in ctx.inbound_dids):
            return f"channel {r.channel} was created in {target[0]}@{target[1]} (inbound context or DID)"
    for r in own:
        if r.dcontext in ctx.inbound_contexts:
            return f"dcontext {r.dcontext} on {where(r)} is in inbound_contexts"
        if r.dst in ctx.inbound_dids:
            return f"dst {r.dst} on {where(r)} is in inbound_dids"
    return None


def _outside_caller(own: list[CdrRow], leg: str) -> str | None:
    """Last resort: an outside number calling in on a channel that is not a phone's.

    After a transfer or an AMI Redirect every row of a call may show the
    target's dst/dcontext; a call must not vanish because of that.
    """
    mine = [r for r in own if r.channel == leg]
    if not any(r.dstchannel or r.lastapp.lower() in HANDLING_APPS for r in mine):
        return None  # nothing on it rang, answered or played: the far end of something, not a call
    first = min(mine, key=lambda r: (r.start, r.offset))
    number = caller_number(first.cnum or first.src, first.clid)
    phone = extension_of(leg) or ""
    if number and not is_extension(number) and not is_extension(phone):
        return f"caller {number} is not an extension and channel {leg} is not a phone's (no inbound setting matched)"
    return None


def handling_half(own: list[CdrRow]) -> str:
    """Of a Local pair's halves, the one that ran the PBX's dialplan for the call (either half can be)."""
    scores: dict[str, int] = {}
    for r in own:
        app = r.lastapp.lower()
        points = 3 if r.did else 0
        points += 2 if r.dstchannel or app in RING_APPS or app == "voicemail" else 1 if app in HANDLING_APPS else 0
        scores[r.channel] = scores.get(r.channel, 0) + points
    # A tie goes to `;2`, the half that runs the Local channel's own exten@context.
    return max(scores, key=lambda ch: (scores[ch], ch.endswith(";2")))


def _call_id(rows: list[CdrRow], own: list[CdrRow]) -> str:
    """linkedid; without one, the originating channel's uniqueid (what Asterisk makes the linkedid)."""
    for r in rows:
        if r.linkedid:
            return r.linkedid
    ids = [(uniqueid_order(r.uniqueid), r.uniqueid) for r in own if r.uniqueid]
    known = [pair for pair in ids if pair[0] is not None]
    if known:
        return min(known)[1]
    if ids:
        return min(ids)[1]
    first = min(own, key=lambda r: (r.start, r.offset))
    return "cdr-" + hashlib.sha1(f"{first.channel}|{first.start.isoformat()}".encode()).hexdigest()[:20]
