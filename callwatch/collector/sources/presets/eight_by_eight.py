"""8x8 Work Analytics Call Detail Records, one row per leg.

Columns and the Missed/Abandoned flags: 8x8's "Call Detail Record Scenarios"
and the CDR column definitions (docs/presets.md). All legs of one call share its
Call ID; a transferred or forwarded call's legs also carry the Parent Call ID,
so rows are grouped by Parent Call ID when there is one. The export has start
and answer times only: ring time is derived (answer - start, whole seconds).
"""

from __future__ import annotations

from datetime import datetime

from callwatch.collector.sources.presets.base import Preset, PresetContext, Row, parse_flag, parse_time, word
from callwatch.model import Call, Direction, Outcome, Source

TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")
DIRECTIONS = {"Incoming": Direction.INBOUND, "Outgoing": Direction.OUTBOUND, "Internal": Direction.INTERNAL}


class _Leg:
    __slots__ = ("abandoned", "answer", "missed", "row", "start", "stop")

    def __init__(self, row: Row, ctx: PresetContext) -> None:
        self.row = row
        self.start = parse_time(row.get("start_time"), ctx.zone, TIME_FORMATS, "Start Time")
        self.answer = parse_time(row.get("answer_time"), ctx.zone, TIME_FORMATS, "Answer Time") \
            if row.get("answer_time") else None
        self.stop = parse_time(row.get("stop_time"), ctx.zone, TIME_FORMATS, "Stop Time") \
            if row.get("stop_time") else None
        self.missed = parse_flag(row.get("missed"), "Missed")
        self.abandoned = parse_flag(row.get("abandoned"), "Abandoned")


def _outcome(legs: list[_Leg]) -> tuple[Outcome, _Leg | None]:
    """8x8's scenario: the leg to a person "Missed and abandoned", the voicemail leg "Missed but
    not abandoned because the call advanced to voicemail"; a leg not missed was answered."""
    answered = [leg for leg in legs if not leg.missed and leg.answer is not None]
    if answered:
        return Outcome.ANSWERED, min(answered, key=lambda leg: leg.answer)  # type: ignore[arg-type,return-value]
    advanced = [leg for leg in legs if leg.missed and not leg.abandoned]
    if advanced:
        return Outcome.VOICEMAIL, advanced[0]
    if any(leg.abandoned for leg in legs):
        return Outcome.ABANDONED, None
    return Outcome.MISSED, None


def to_call(rows: list[Row], ctx: PresetContext) -> Call:
    legs = sorted((_Leg(r, ctx) for r in rows), key=lambda leg: (leg.start, leg.row.get("leg_id")))
    first = legs[0]
    outcome, leg = _outcome(legs)
    direction = word(DIRECTIONS, first.row.get("direction"), "Direction")
    stops: list[datetime] = [x.stop for x in legs if x.stop is not None]
    inbound = direction is Direction.INBOUND
    return Call(
        call_id="8x8-" + (first.row.get("parent_call_id") or first.row.get("call_id")),
        site=ctx.site,
        direction=direction,
        caller=first.row.get("caller") if inbound else first.row.get("callee"),
        arrived_at=first.start,
        ring_started_at=first.start,
        answered_at=leg.answer if outcome is Outcome.ANSWERED and leg else None,
        ring_ended_at=leg.start if outcome is Outcome.VOICEMAIL and leg else None,
        ended_at=max(stops, default=None),
        outcome=outcome,
        answered_by=(leg.row.get("callee") or None) if outcome is Outcome.ANSWERED and leg and inbound
        else None if inbound else first.row.get("caller") or None,
        answered_by_name=(leg.row.get("callee_name") or None) if outcome is Outcome.ANSWERED and leg and inbound
        else None,
        source=Source.CSV,
    )


EIGHT_BY_EIGHT = Preset(
    name="8x8-cdr",
    vendor="8x8 Work Analytics",
    export="Call Detail Records (one row per leg)",
    docs=(
        "https://docs.8x8.com/8x8WebHelp/8x8Analytics/Content/CallDetailRecordScenarios/CallDetailRecordScenarios.htm",
        "https://developer.8x8.com/analytics/docs/work-analytics-historical-cdr-process",
        "https://support.efficiencyit.com/portal/en/kb/articles/definitions-for-call-detail-records-in-analytics-for-8x8-work",
    ),
    ring_time="derived",
    staff_name_column="Callee Name",
    columns={
        "call_id": ("Call ID",),
        "leg_id": ("Leg ID",),
        "parent_call_id": ("Parent Call ID",),
        "start_time": ("Start Time",),
        "answer_time": ("Answer Time",),
        "stop_time": ("Stop Time",),
        "caller": ("Caller",),
        "callee": ("Callee",),
        "callee_name": ("Callee Name",),
        "direction": ("Direction",),
        "missed": ("Missed",),
        "abandoned": ("Abandoned",),
    },
    required=("call_id", "leg_id", "start_time", "answer_time", "caller", "callee", "direction", "missed", "abandoned"),
    meaning={
        "call_id": "call_id; legs sharing it (or a Parent Call ID) are one call",
        "parent_call_id": "groups a transferred/forwarded call's legs with its first call",
        "start_time": "arrived_at and ring start (first leg)",
        "answer_time": "answered_at of the answering leg; ring time derived, whole seconds",
        "stop_time": "ended_at (last leg)",
        "caller": "caller",
        "callee": "answered_by (the answering leg's callee)",
        "callee_name": "the staff name of who answered",
        "direction": "direction: Incoming, Outgoing",
        "missed": "with Abandoned: a leg not missed was answered",
        "abandoned": "missed and not abandoned = advanced to voicemail",
    },
    group_by=lambda row: row.get("parent_call_id") or row.get("call_id"),
    to_call=to_call,
)
