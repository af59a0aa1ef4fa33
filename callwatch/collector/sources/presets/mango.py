"""Mango Voice call logs export, one row per call.

Columns and dispositions: Mango's "Call Logs" support page (docs/presets.md).
The export has only the call's length, so ring time is unknown. Mango's own
reports count a voicemail as "missed"; callwatch counts it as voicemail.
"""

from __future__ import annotations

from callwatch.collector.sources.presets.base import (
    Preset,
    PresetContext,
    Row,
    later,
    parse_seconds,
    parse_time,
    row_hash,
    word,
)
from callwatch.model import Call, Direction, Outcome, Source

# Mango's page does not say how Call Time is written; these are the US formats its portal shows.
TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
DISPOSITIONS = {
    "Answered": Outcome.ANSWERED,
    "Voicemail": Outcome.VOICEMAIL,
    # "hung up before any extension answered the call"
    "Hangup": Outcome.ABANDONED,
    # "the agent rejected the call and the call did not have a dial plan logic to continue on"
    "Rejected": Outcome.MISSED,
    # "forwarded to an external party": nobody at the practice answered; whether someone
    # outside did is not in the export.
    "External": Outcome.MISSED,
}
DIRECTIONS = {"inbound": Direction.INBOUND, "outbound": Direction.OUTBOUND, "internal": Direction.INTERNAL}


def to_call(rows: list[Row], ctx: PresetContext) -> Call:
    row = rows[0]
    if row.get("disposition").lower() == "unknown":
        raise ValueError("disposition 'Unknown': Mango could not tell what happened to this call")
    outcome = word(DISPOSITIONS, row.get("disposition"), "Disposition")
    direction = word(DIRECTIONS, row.get("direction"), "Direction")
    arrived = parse_time(row.get("call_time"), ctx.zone, TIME_FORMATS, "Call Time")
    duration = parse_seconds(row.get("duration"), "Duration") if row.get("duration") else None
    inbound = direction is Direction.INBOUND
    return Call(
        call_id=row_hash("mango", rows),
        site=ctx.site,
        direction=direction,
        caller=row.get("source_number") if inbound else row.get("destination_number"),
        arrived_at=arrived,
        # No ring or answer time in this export: ring time stays unknown, never 0.
        ring_started_at=None,
        answered_at=None,
        ended_at=later(arrived, duration),
        outcome=outcome,
        answered_by=(row.get("destination_ext") or None) if outcome is Outcome.ANSWERED and inbound
        else (row.get("source_ext") or None) if not inbound else None,
        source=Source.CSV,
    )


MANGO = Preset(
    name="mango",
    vendor="Mango Voice",
    export="Call Logs export",
    docs=("https://support.mangovoice.com/call-logs/",),
    ring_time="unknown",
    staff_name_column=None,
    columns={
        "call_time": ("Call Time",),
        "direction": ("Direction",),
        "source_number": ("Source Number",),
        "source_name": ("Source Name",),
        "source_ext": ("Source Ext.", "Source Ext"),
        "destination_number": ("Destination Number",),
        "destination_ext": ("Destination Ext", "Destination Ext."),
        "duration": ("Duration",),
        "disposition": ("Disposition",),
    },
    required=("call_time", "direction", "source_number", "destination_number", "duration", "disposition"),
    meaning={
        "call_time": "arrived_at (practice time zone)",
        "direction": "direction: inbound, outbound, internal",
        "source_number": "caller of an inbound call",
        "destination_number": "the number dialled (caller of an outbound call)",
        "destination_ext": "answered_by of an answered inbound call",
        "source_ext": "who placed an outbound call",
        "duration": "ended_at = Call Time + Duration (mm:ss); no ring time in this export",
        "disposition": "outcome: Answered, Voicemail, Hangup -> abandoned, Rejected/External -> missed",
    },
    to_call=to_call,
    vendor_notes=(
        "Mango counts a voicemail as missed; callwatch counts it as voicemail.",
        "External (forwarded to an outside number) counts as missed: nobody at the practice answered.",
    ),
)
