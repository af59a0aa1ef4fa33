"""Asterisk `queue_log`: `epoch|caller uniqueid|queue|member|EVENT|data...` (REFERENCE §3).

The callid is the uniqueid of the caller's channel, the same id the CDR and
AMI give the call, so a queue_log record and a CDR record of one call merge.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from callwatch.collector.sources import LineCursor, Reject, clip, read_lines

EVENT_NAME = re.compile(r"^[A-Z][A-Z_]*$")
# Queue events that are not about one call (boot, members logging in, pausing).
SYSTEM_CALLIDS = frozenset({"NONE", ""})


@dataclass(slots=True)
class QueueEvent:
    line: int
    offset: int
    time: datetime
    callid: str
    queue: str
    member: str
    event: str
    data: list[str]


def parse_line(line: int, offset: int, text: str) -> QueueEvent:
    parts = text.split("|")
    if len(parts) < 5:
        raise ValueError(f"{len(parts)} fields; queue_log lines have at least 5 (epoch|callid|queue|member|EVENT)")
    try:
        epoch = float(parts[0])
    except ValueError:
        raise ValueError(f"time {clip(parts[0], 30)!r} is not a Unix epoch") from None
    # Years 2000..2100: anything else is a corrupt line, not a call.
    if not 946_684_800 <= epoch < 4_102_444_800:
        raise ValueError(f"time {parts[0]} is not a plausible Unix epoch")
    event = parts[4].strip()
    if not EVENT_NAME.match(event):
        raise ValueError(f"event {clip(event, 30)!r} is not an event name")
    return QueueEvent(
        line=line,
        offset=offset,
        time=datetime.fromtimestamp(epoch, UTC),
        callid=parts[1],
        queue=parts[2],
        member=parts[3],
        event=event,
        data=parts[5:],
    )


def events(fh: BinaryIO, cursor: LineCursor) -> Iterator[QueueEvent | Reject]:
    offset = cursor.offset
    for text in read_lines(fh, cursor):
        start, offset = offset, cursor.offset
        if not text.strip():
            continue
        try:
            yield parse_line(cursor.line, start, text)
        except ValueError as exc:
            yield Reject(cursor.line, str(exc), clip(text), start)


def looks_like_queue_log(text: str) -> bool:
    parts = text.split("|")
    if len(parts) < 5:
        return False
    try:
        float(parts[0])
    except ValueError:
        return False
    return bool(EVENT_NAME.match(parts[4].strip()))
