"""3CX reports read from 3CX's XAPI (its OData REST API), saved as JSON: the call log and the
abandoned queue calls report.

Fields: 3CX's own OpenAPI document of the XAPI (swagger.yaml in github.com/3cx/xapi-tutorial):
`Pbx.CallLogData` (returned by ReportCallLogData/Pbx.GetCallLogData) and `Pbx.AbandonedQueueCalls`
(ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData). Durations are ISO 8601 ("PT7S"), times
ISO 8601 with an offset. See docs/presets.md for what the spec does not say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callwatch.collector.sources.presets.base import (
    Preset,
    PresetContext,
    Row,
    parse_iso_duration,
    parse_time,
    record,
)
from callwatch.model import Call, Direction, Outcome, Source

# 3CX's own XAPI example repository; its swagger.yaml is the API's OpenAPI document (XAPI 20.0.9).
XAPI_SPEC = "https://github.com/3cx/xapi-tutorial/blob/main/swagger.yaml"
XAPI_README = "https://github.com/3cx/xapi-tutorial"


def _direction(text: str) -> Direction:
    """The spec leaves `Direction` a free string; anything but these words is a row error, not a guess."""
    key = text.strip().lower()
    if key.startswith("inbound"):  # "Inbound", and "Inbound Queue" for a call that reached a queue
        return Direction.INBOUND
    if key in ("outbound", "internal"):
        return Direction(key)
    raise ValueError(f"Direction {text!r} is not Inbound, Outbound or Internal")


def _seconds(item: dict[str, Any], key: str) -> float:
    text = str(item.get(key) or "").strip()
    return parse_iso_duration(text, key) if text else 0.0


@dataclass(slots=True)
class _Segment:
    start: datetime
    ringing: float
    talking: float
    answered: bool
    item: dict[str, Any]

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.ringing + self.talking)


def _segment(item: dict[str, Any], ctx: PresetContext) -> _Segment:
    start = parse_time(str(item.get("StartTime") or ""), ctx.zone, (), "StartTime")
    answered = item.get("Answered")
    if not isinstance(answered, bool):
        raise ValueError(f"Answered {answered!r} is not true/false")
    return _Segment(start, _seconds(item, "RingingDuration"), _seconds(item, "TalkingDuration"), answered, item)


def call_log_call(rows: list[Row], ctx: PresetContext) -> Call:
    segments = sorted((_segment(record(r), ctx) for r in rows), key=lambda s: (s.start, s.item.get("SegmentId") or 0))
    first = segments[0]
    direction = _direction(str(first.item.get("Direction") or ""))
    inbound = direction is Direction.INBOUND
    # The person the call ended up with: the last answered segment (an IVR or queue segment comes first).
    answered = [s for s in segments if s.answered]
    taker = answered[-1] if answered else None
    last = segments[-1]
    return Call(
        call_id="3cx-" + (rows[0].get("MainCallHistoryId") or rows[0].get("CallHistoryId")),
        site=ctx.site,
        direction=direction,
        caller=str(first.item.get("SourceCallerId" if inbound else "DestinationCallerId") or ""),
        arrived_at=first.start,
        # RingingDuration is 3CX's own ring column: the caller rang from the first segment's start.
        ring_started_at=first.start,
        answered_at=taker.start + timedelta(seconds=taker.ringing) if taker else None,
        ring_ended_at=None if taker else last.start + timedelta(seconds=last.ringing),
        ended_at=max(s.end for s in segments),
        # The spec documents no Status or Reason words: an unanswered call cannot be told apart as voicemail,
        # a caller's hang-up or a timeout, so it is missed (docs/presets.md).
        outcome=Outcome.ANSWERED if taker else Outcome.MISSED,
        answered_by=(str(taker.item.get("DestinationDn") or "") or None) if taker and inbound
        else None if inbound else str(first.item.get("SourceDn") or "") or None,
        source=Source.CSV,
    )


def abandoned_call(rows: list[Row], ctx: PresetContext) -> Call:
    item = record(rows[0])
    start = parse_time(str(item.get("CallTime") or ""), ctx.zone, (), "CallTime")
    wait = _seconds(item, "WaitTime")
    gave_up = start + timedelta(seconds=wait)
    return Call(
        # Its own id space: the spec does not say this CallHistoryId is the call log's MainCallHistoryId.
        call_id="3cx-abandoned-" + rows[0].get("CallHistoryId"),
        site=ctx.site,
        direction=Direction.INBOUND,
        caller=str(item.get("CallerId") or ""),
        arrived_at=start,
        # WaitTime of an abandoned queue call: how long the caller waited before giving up - the ring time.
        ring_started_at=start,
        ring_ended_at=gave_up,
        ended_at=gave_up,
        outcome=Outcome.ABANDONED,
        queue=str(item.get("QueueDn") or "") or None,
        source=Source.CSV,
    )


THREECX_CALL_LOG = Preset(
    name="3cx-call-log",
    vendor="3CX",
    export="call log report (XAPI ReportCallLogData/Pbx.GetCallLogData, saved as JSON)",
    docs=(XAPI_SPEC, XAPI_README),
    ring_time="exact",
    staff_name_column="DestinationDisplayName",
    columns={c: (c,) for c in ("CallHistoryId", "StartTime", "RingingDuration", "TalkingDuration", "Answered",
                               "Direction", "SourceCallerId", "DestinationDn", "MainCallHistoryId")},
    required=("CallHistoryId", "StartTime", "RingingDuration", "TalkingDuration", "Direction"),
    meaning={
        "MainCallHistoryId / CallHistoryId": "call_id; segments sharing MainCallHistoryId are one call",
        "StartTime": "arrived_at and ring start (first segment)",
        "RingingDuration": "ring time, exact: answered_at = the answering segment's StartTime + RingingDuration",
        "TalkingDuration": "ended_at = StartTime + RingingDuration + TalkingDuration (last segment)",
        "Answered": "answered (the last answered segment took the call); not answered -> missed",
        "Direction": "direction: Inbound (and Inbound Queue), Outbound, Internal",
        "SourceCallerId": "caller of an inbound call",
        "DestinationDn / DestinationDisplayName": "answered_by and the staff name",
        "Status / Reason": "not used: their words are not in 3CX's spec",
    },
    fmt="json",
    group_by=lambda row: row.get("MainCallHistoryId") or row.get("CallHistoryId") or f"record-{row.line}",
    to_call=call_log_call,
    json_lists=("value",),
    json_markers=('"RingingDuration"', '"TalkingDuration"'),
    vendor_notes=(
        "3CX's call log has no documented voicemail or abandoned word: unanswered calls count as missed. "
        "Import the abandoned queue calls report too, to see queue abandonment.",
    ),
)

THREECX_ABANDONED = Preset(
    name="3cx-abandoned-queue",
    vendor="3CX",
    export="abandoned queue calls report (XAPI Pbx.GetAbandonedQueueCallsData, saved as JSON)",
    docs=(XAPI_SPEC, XAPI_README),
    ring_time="exact",
    staff_name_column=None,
    columns={c: (c,) for c in ("CallHistoryId", "CallTime", "WaitTime", "CallerId", "QueueDn")},
    required=("CallHistoryId", "CallTime", "WaitTime", "QueueDn"),
    meaning={
        "CallHistoryId": "call_id (not matched with the call log: import one report or the other for a period)",
        "CallTime": "arrived_at and ring start",
        "WaitTime": "ring time, exact: the caller hung up after WaitTime in the queue",
        "CallerId": "caller",
        "QueueDn": "queue",
        "every record": "outcome abandoned, direction inbound",
    },
    fmt="json",
    group_by=lambda row: row.get("CallHistoryId") or f"record-{row.line}",
    to_call=abandoned_call,
    json_lists=("value",),
    json_markers=('"WaitTime"', '"QueueDn"'),
)
