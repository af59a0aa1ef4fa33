"""The parties an inbound leg rang, followed through Local channels to the phone that answered.

A CDR row of the caller's leg names the channel it dialled (`dstchannel`); when
that is a Local channel (a FreePBX ring-group member `Local/201@from-internal`,
a queue member `Local/201@from-queue`, a follow-me `Local/FMPR-201@…`), the
channel's own rows say when it began ringing and which channel it dialled in
turn, down to the phone that picked up. The caller's row cannot tell: its
`answer` is when the *caller's* channel was answered, which an IVR or a queue's
Answer() did long before any phone rang.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callwatch.collector.reconstruct.cdr_origin import RING_APPS
from callwatch.collector.reconstruct.channels import base_channel, extension_of
from callwatch.collector.sources.master_csv import CdrRow

FAILED_DISPOSITIONS = frozenset({"BUSY", "CONGESTION", "FAILED", "CHANUNAVAIL"})


@dataclass(slots=True)
class Leg:
    """One party the caller's channel rang: when it began ringing, who answered when, where it ended."""

    row: CdrRow  # the caller's row that dialled it
    ring_from: datetime
    ring_row: CdrRow
    answered: datetime | None
    answered_by: str | None
    answer_row: CdrRow | None
    voicemail: CdrRow | None  # the party's own chain reached VoiceMail (a follow-me or group fallback)
    stopped: datetime
    # A dialled Local channel without its own rows (cut short, rejected): when it rang and was
    # picked up is unknown, and the caller's row would pass its instant bridge off as an answer.
    incomplete: bool = False


@dataclass(slots=True)
class _Reach:
    answered: datetime | None = None
    by: str | None = None
    row: CdrRow | None = None
    voicemail: CdrRow | None = None
    # Every row down the chain that saw the answer: a CDR table knows an answer only as
    # calldate + duration - billsec (two truncated numbers), so several witnesses beat one.
    witnesses: list[datetime] = field(default_factory=list)

    def offer(self, answered: datetime, by: str | None, row: CdrRow) -> None:
        self.witnesses.append(answered)
        if self.answered is None or answered < self.answered:
            self.answered, self.by, self.row = answered, by, row

    def settled(self) -> datetime | None:
        """The mean of the witnesses within a second of the earliest answer (the same moment, seen twice)."""
        if self.answered is None:
            return None
        first = self.answered
        near = [w for w in self.witnesses if abs((w - first).total_seconds()) <= 1.0]
        return first + sum((w - first for w in near), timedelta()) / len(near)


def legs_of(rows: list[CdrRow], own: list[CdrRow]) -> list[Leg]:
    """Every ringing leg of the caller's rows `own`, in row order."""
    leg_channels = {r.channel for r in own}
    by_base: dict[str, list[CdrRow]] = {}
    for r in rows:
        if r.channel not in leg_channels:
            by_base.setdefault(base_channel(r.channel), []).append(r)
    legs = []
    for r in own:
        if r.dstchannel:
            legs.append(_dialled(r, by_base, leg_channels))
        elif r.lastapp.lower() in RING_APPS:
            # Queue or Dial with nobody reachable: the caller waited from this row's start.
            legs.append(Leg(r, r.start, r, None, None, None, None, r.end))
    return legs


def _dialled(r: CdrRow, by_base: dict[str, list[CdrRow]], leg_channels: set[str]) -> Leg:
    target = base_channel(r.dstchannel)
    far = by_base.get(target, [])
    if not far:
        # A phone (PJSIP/201-…) has no rows of its own: the caller's row is all there is.
        answer = max(r.answer, r.start) if r.disposition == "ANSWERED" and r.answer else None
        return Leg(r, r.start, r, answer, extension_of(r.dstchannel) if answer else None, r if answer else None,
                   None, answer or r.end, incomplete=answer is not None and r.dstchannel.startswith("Local/"))
    reach = _Reach()
    _follow(target, by_base, {target} | {base_channel(c) for c in leg_channels}, reach)
    if reach.answered is not None and r.disposition == "ANSWERED" and r.answer:
        reach.witnesses.append(max(r.answer, r.start))
    answered = reach.settled()
    # The `;2` half is the phone's own side; its `;1` row may be a pickup's masquerade.
    first = min(far, key=lambda p: (p.start, not p.channel.endswith(";2"), p.offset))
    stopped = min(answered or r.end, max(p.end for p in far))
    return Leg(r, first.start, first, answered, reach.by, reach.row, reach.voicemail, stopped)


def _follow(base: str, by_base: dict[str, list[CdrRow]], seen: set[str], reach: _Reach) -> None:
    """The earliest answer by a person anywhere down the chain of channels `base` dialled."""
    for p in by_base.get(base, []):
        app = p.lastapp.lower()
        if p.dstchannel:
            sub = base_channel(p.dstchannel)
            if sub in seen:
                continue
            seen.add(sub)
            if sub in by_base:
                _follow(sub, by_base, seen, reach)
                if p.disposition == "ANSWERED" and p.answer and reach.answered is not None:
                    reach.witnesses.append(max(p.answer, p.start))
            elif p.disposition == "ANSWERED" and p.answer:
                reach.offer(max(p.answer, p.start), extension_of(p.dstchannel), p)
        elif app == "voicemail":
            reach.voicemail = reach.voicemail or p
        elif p.disposition == "ANSWERED" and p.answer and app not in ("appdial", "appdial2"):
            reach.offer(p.answer, extension_of(p.channel), p)
