"""What the tracker knows about one call in flight, and what the live view shows of it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import overload

from callwatch.model import Direction

# Local/101@staff-000000d4;1 -> 101; PJSIP/101-0000002a -> 101; SIP/alice-1 -> alice
_PERSON = re.compile(r"^(?:Local/)?(?:[A-Za-z0-9_]+/)?([^@/;-]+)")


def person(channel: str) -> str:
    """The extension (or endpoint name) a channel rings."""
    if channel.startswith("Local/"):
        channel = channel[6:]
        return channel.split("@", 1)[0]
    match = _PERSON.match(channel)
    return match.group(1) if match else channel


@dataclass(slots=True)
class CallState:
    """What we know so far about one call in flight (times are epoch seconds)."""

    call_id: str
    arrived_at: float
    root_channel: str
    caller: str = ""
    # The root channel's uniqueid and, when it is a Local channel, its other half's: a trunk that is
    # a Local channel runs the PBX's dialplan (Hangup, VoiceMail) on whichever half is not the caller.
    own_ids: set[str] = field(default_factory=set)
    handler_id: str = ""  # which of own_ids first ran Dial, Queue, VoiceMail or an IVR
    direction: Direction | None = None
    dialled: str = ""
    ring_started_at: float | None = None
    ring_ended_at: float | None = None
    ring_end_status: str = ""
    answered_at: float | None = None
    answered_by: str | None = None
    answered_by_name: str | None = None  # what the PBX called them (a queue's MemberName), if it said
    answered_in_queue: bool = False
    voicemail_at: float | None = None
    vm_status: str = ""
    queue: str | None = None
    queued: bool = False
    queue_ids: set[str] = field(default_factory=set)  # uniqueids that joined a queue: queue_log's name for the call
    open_dials: dict[str, str] = field(default_factory=dict)  # dest uniqueid -> person
    pbx_hung_up: bool = False
    last_event_at: float = 0.0
    seq: int = 0  # tracker sequence number when the call was first seen
    journal_pos: int | None = None  # where the journal holds its first event (for crash recovery)
    resynced: bool = False

    @property
    def ringing(self) -> bool:
        return self.answered_at is None and self.voicemail_at is None and (bool(self.open_dials) or self.queued)


@dataclass(slots=True, frozen=True)
class LiveCall:
    call_id: str
    caller: str
    state: str  # 'ringing' | 'queued'
    arrived_at: datetime
    ring_started_at: datetime | None
    location: str
    queue: str | None


@overload
def utc(t: float) -> datetime: ...
@overload
def utc(t: float | None) -> datetime | None: ...
def utc(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)
