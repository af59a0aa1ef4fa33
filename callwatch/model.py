"""The contract between collector and metrics: one `Call` per physical call.

Field names are exactly DESIGN.md's; the metrics DataFrame uses the same names
as columns, so a newcomer can follow a field from source to report.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Outcome(StrEnum):
    ANSWERED = "answered"
    VOICEMAIL = "voicemail"
    ABANDONED = "abandoned"
    MISSED = "missed"


class Source(StrEnum):
    AMI = "ami"
    CDR_CSV = "cdr-csv"
    CEL = "cel"
    QUEUE_LOG = "queue-log"
    CSV = "csv"


class RingQuality(StrEnum):
    """How well a call's source knows how long it rang (DESIGN.md "Data quality").

    exact: the PBX reported ringing as it happened (AMI events) or the export
    has a documented ring/wait column; derived: answer time minus start time
    from whole-second timestamps (Master.csv: the start includes the
    greeting); unknown: the source cannot say when the phone was answered.
    """

    EXACT = "exact"
    DERIVED = "derived"
    UNKNOWN = "unknown"


# Better ring-time knowledge wins when two sources describe one call.
RING_QUALITY_RANK: dict[str, int] = {RingQuality.EXACT: 2, RingQuality.DERIVED: 1, RingQuality.UNKNOWN: 0}


# Sources ranked by how much they know about one call. When two sources
# describe the same call, the richer one wins the fields it knows (a queue_log
# sees a timeout as "missed"; the CDR also sees the voicemail that followed).
# CEL ranks above the CDR: it knows when each phone began ringing to the
# microsecond, who picked a call up, and where it was transferred.
SOURCE_RANK: dict[str, int] = {
    Source.AMI: 4,
    Source.CEL: 3,
    Source.CDR_CSV: 2,
    Source.CSV: 1,
    Source.QUEUE_LOG: 0,
}


@dataclass(slots=True)
class Call:
    call_id: str
    site: str
    direction: Direction
    caller: str
    arrived_at: datetime
    ended_at: datetime | None
    outcome: Outcome | None
    ring_started_at: datetime | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    queue: str | None = None
    left_message: bool | None = None
    source: Source = Source.AMI
    # When ringing stopped without an answer: voicemail picked up, the queue
    # gave up, or the caller hung up. Without it a voicemail call's ring time
    # would run on through the message to the hang-up.
    ring_ended_at: datetime | None = None
    # How far this call's ring time can be trusted; a source that does not say is "unknown",
    # so no ring-time number is ever shown from it.
    ring_quality: RingQuality = RingQuality.UNKNOWN
    # The name the PBX gave the person who answered (an AMI queue MemberName, a
    # vendor's "Answered By" column), as it was on the day of the call.
    answered_by_name: str | None = None
    # Other ids a source knows this call by, kept apart from the record (store.call_aliases):
    # queue_log names a call by the uniqueid of the channel that joined the queue, which
    # behind a Local-channel trunk is not the linkedid the other sources use.
    aliases: tuple[str, ...] = dataclasses.field(default=(), metadata={"stored": False})

    def __post_init__(self) -> None:
        for name in ("arrived_at", "ring_started_at", "answered_at", "ring_ended_at", "ended_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Call.{name} must be timezone-aware (UTC), got {value!r}")
        self.direction = Direction(self.direction)
        if self.outcome is not None:
            self.outcome = Outcome(self.outcome)
        self.source = Source(self.source)
        self.ring_quality = RingQuality(self.ring_quality)

    @property
    def ring_seconds(self) -> float | None:
        return ring_seconds(self)

    @property
    def pre_ring_seconds(self) -> float | None:
        if self.ring_started_at is None:
            return None
        return (self.ring_started_at - self.arrived_at).total_seconds()

    def as_dict(self) -> dict[str, object]:
        """The stored fields (CALL_FIELDS) by name."""
        return {name: getattr(self, name) for name in CALL_FIELDS}


# The fields of the stored record, the frame's columns (aliases live in their own table).
CALL_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Call) if f.metadata.get("stored", True))


def ring_seconds(call: Call) -> float | None:
    """answered_at (or the moment the call left ringing) - ring_started_at.

    A call that never rang (hung up during the greeting) has no ring time.
    Sources that cannot tell when ringing stopped leave ring_ended_at empty,
    and the hang-up stands in for it. A source that cannot know when the
    phone was answered (ring_quality unknown) has no ring time either.
    """
    if call.ring_started_at is None or call.ring_quality == RingQuality.UNKNOWN:
        return None
    stop = call.answered_at or call.ring_ended_at or call.ended_at
    if stop is None:
        return None
    return max(0.0, (stop - call.ring_started_at).total_seconds())


def rings(seconds: float, ring_cycle_seconds: float) -> int:
    """rings = floor(ring_seconds / ring_cycle_seconds) + 1 (DESIGN.md)."""
    return math.floor(seconds / ring_cycle_seconds) + 1


def mask_caller(number: str | None) -> str:
    """Show only the last 4 digits: caller numbers are patient data."""
    if not number:
        return ""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) <= 4:
        # Internal extensions are not patient numbers, but a 4-digit caller id
        # could still be one; show it masked all the same.
        return "•" * len(digits)
    return "•" * (len(digits) - 4) + digits[-4:]
