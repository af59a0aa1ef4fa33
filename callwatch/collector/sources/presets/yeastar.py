"""Yeastar P-Series CDR (the `cdr/list` API fields, or the CDR page's export with the same items).

Columns and status words: Yeastar's "Query CDR list" / "Search specific CDR" API
pages and the P-Series "Call Detail Record (CDR) Overview" (docs/presets.md).
`ring_duration` is "the time between the call started and the call answered":
an exact ring time. A call with several legs shares its `uid`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from callwatch.collector.sources.presets.base import (
    Preset,
    PresetContext,
    Row,
    later,
    parse_seconds,
    parse_time,
    split_party,
    word,
)
from callwatch.model import Call, Direction, Outcome, Source

# "The time format depends on the date and time display format of PBX."
TIME_FORMATS = (
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %I:%M:%S %p",
    "%Y-%m-%d %H:%M:%S",
)
STATUS = {
    "ANSWERED": Outcome.ANSWERED,
    "VOICEMAIL": Outcome.VOICEMAIL,
    # Yeastar's NO ANSWER is "the callee didn't answer": it covers a ring timeout and a caller
    # who gave up while it rang alike, so it is counted as missed (docs/presets.md).
    "NO ANSWER": Outcome.MISSED,
    "BUSY": Outcome.MISSED,
    "FAILED": Outcome.MISSED,
    # Cloud Edition's CDR details add ABANDONED.
    "ABANDONED": Outcome.ABANDONED,
}
DIRECTIONS = {"Inbound": Direction.INBOUND, "Outbound": Direction.OUTBOUND, "Internal": Direction.INTERNAL}
# Several legs: the best thing that happened to the call wins.
RANK = (Outcome.ANSWERED, Outcome.VOICEMAIL, Outcome.ABANDONED, Outcome.MISSED)


def _start(row: Row, ctx: PresetContext) -> datetime:
    if row.get("timestamp"):
        try:
            return datetime.fromtimestamp(int(row.get("timestamp")), UTC)
        except (ValueError, OverflowError):
            raise ValueError(f"timestamp {row.get('timestamp')!r} is not epoch seconds") from None
    return parse_time(row.get("time"), ctx.zone, TIME_FORMATS, "time")


def to_call(rows: list[Row], ctx: PresetContext) -> Call:
    legs = []
    for row in rows:
        start = _start(row, ctx)
        status = word(STATUS, row.get("disposition"), "disposition")
        ring = parse_seconds(row.get("ring_duration") or "0", "ring_duration")
        total = parse_seconds(row.get("duration"), "duration") if row.get("duration") else None
        legs.append((start, status, ring, total, row))
    legs.sort(key=lambda leg: leg[0])
    first = legs[0]
    outcome = min((leg[1] for leg in legs), key=RANK.index)
    chosen = next(leg for leg in legs if leg[1] is outcome)
    start, _, ring, _, row = chosen
    stop = later(start, ring)
    ends = [later(leg[0], leg[3]) for leg in legs if leg[3] is not None]
    direction = word(DIRECTIONS, first[4].get("call_type") or "Inbound", "call_type")
    inbound = direction is Direction.INBOUND
    # An outbound call's caller is the number dialled (follow-ups match on it); the extension placed it.
    caller = split_party(first[4].get("call_from" if inbound else "call_to"))[1]
    name = ""
    if inbound:
        name, answered_by = split_party(row.get("call_to")) if outcome is Outcome.ANSWERED else ("", None)
    else:
        answered_by = split_party(first[4].get("call_from"))[1]
    return Call(
        call_id="yeastar-" + (first[4].get("uid") or f"{first[0].timestamp():.0f}-{first[4].get('call_from')}"),
        site=ctx.site,
        direction=direction,
        caller=caller,
        arrived_at=first[0],
        # The caller has waited since the first leg began ringing, not since the answering leg did.
        ring_started_at=first[0],
        answered_at=stop if outcome is Outcome.ANSWERED else None,
        ring_ended_at=None if outcome is Outcome.ANSWERED else stop,
        ended_at=max((e for e in ends if e is not None), default=None),
        outcome=outcome,
        answered_by=answered_by or None,
        answered_by_name=name or None,  # "Leo Ball<1001>": the staff directory learns 1001 is Leo Ball
        source=Source.CSV,
    )


YEASTAR = Preset(
    name="yeastar-pseries",
    vendor="Yeastar P-Series",
    export="CDR list (API cdr/list fields, or the CDR page export)",
    docs=(
        "https://help.yeastar.com/zh-cn/p-series-cloud-edition/developer-guide/query-cdr-list.html",
        "https://help.yeastar.com/en/p-series-cloud-edition/developer-guide/search-specific-cdr.html",
        "https://help.yeastar.com/en/p-series-cloud-edition/administrator-guide/call-detail-record-cdr-overview.html",
    ),
    ring_time="exact",
    staff_name_column="call_to",
    columns={
        "time": ("time", "Time"),
        "timestamp": ("timestamp",),
        "uid": ("uid", "ID"),
        "call_from": ("call_from", "Call From"),
        "call_to": ("call_to", "Call To"),
        "duration": ("duration", "Call Duration"),
        "ring_duration": ("ring_duration", "Ring Duration"),
        "talk_duration": ("talk_duration", "Talk Duration"),
        "disposition": ("disposition", "Status"),
        "call_type": ("call_type", "Communication Type"),
    },
    required=("time", "call_from", "call_to", "ring_duration", "talk_duration", "disposition", "call_type"),
    meaning={
        "time": "arrived_at (PBX display format, practice time zone; `timestamp` wins when present)",
        "uid": "call_id; rows sharing it are legs of one call",
        "call_from": "caller (the number inside 'Name<number>')",
        "call_to": "answered_by (extension) and the staff name",
        "duration": "ended_at = time + duration",
        "ring_duration": "ring time, exact (start to answer)",
        "talk_duration": "read for checking only",
        "disposition": "outcome: ANSWERED, VOICEMAIL, NO ANSWER/BUSY/FAILED -> missed, ABANDONED",
        "call_type": "direction: Inbound, Outbound, Internal",
    },
    group_by=lambda row: row.get("uid") or f"line-{row.line}",
    to_call=to_call,
)
