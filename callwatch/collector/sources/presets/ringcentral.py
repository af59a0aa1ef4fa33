"""RingCentral Call Log API (Detailed view) saved as JSON: records with `legs`, one call per `sessionId`.

Fields and result words: RingCentral's call log guide and the call log record
reference (docs/presets.md). "The session_id value should be used if you want
to associate multiple Call Logs as part of a given single call." Records carry
a start time and a duration but no answer time: ring time is unknown.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from callwatch.collector.sources.presets.base import Preset, PresetContext, Row, parse_time, record, word
from callwatch.model import Call, Direction, Outcome, Source

# Result words of a voice call, from RingCentral's call log record and leg reference (its SDKs' `result`
# enum lists them; RingCentral defines none of them). Fax, SMS and in-progress words are not here: a
# record with one is rejected, not guessed.
ACCEPTED = ("Accepted", "Call accepted", "Call connected")
RESULTS = {
    **{w: Outcome.ANSWERED for w in ACCEPTED},
    "Voicemail": Outcome.VOICEMAIL,
    "Abandoned": Outcome.ABANDONED,
    "Missed": Outcome.MISSED,
    "No Answer": Outcome.MISSED,
    # Reasons given with a result ("Line Busy", "Not Answered") fall under missed as well.
    "Busy": Outcome.MISSED,
    "Line Busy": Outcome.MISSED,
    "Not Answered": Outcome.MISSED,
    "Rejected": Outcome.MISSED,
    "Declined": Outcome.MISSED,
    # Not defined by RingCentral: who hung up is not said, so it is not counted as the caller giving up.
    "Hang up": Outcome.MISSED,
    **{w: Outcome.MISSED for w in (
        "Blocked", "Call Failed", "Call Failure", "Internal Error", "IP Phone offline", "Restricted Number",
        "Wrong Number", "International Disabled", "International Restriction", "Poor Line Quality", "Stopped")},
}
DIRECTIONS = {"Inbound": Direction.INBOUND, "Outbound": Direction.OUTBOUND}


def _accepted(item: dict) -> bool:
    return str(item.get("result", "")).strip().lower() in {w.lower() for w in ACCEPTED}


def _party(party: object, key: str) -> str:
    return str(party.get(key, "") or "") if isinstance(party, dict) else ""


def to_call(rows: list[Row], ctx: PresetContext) -> Call:
    items: list[dict] = [record(r) for r in rows]
    starts = [parse_time(str(r.get("startTime", "")), ctx.zone, (), "startTime") for r in items]
    first = items[starts.index(min(starts))]
    direction = word(DIRECTIONS, str(first.get("direction", "")), "direction")
    legs: list[dict] = [leg for r in items for leg in (r.get("legs") or [r]) if isinstance(leg, dict)]
    if direction is not Direction.INBOUND:
        # Only inbound outcomes are counted; an outbound call is kept for follow-ups whatever its result word.
        placed = any(_accepted(x) for x in (*legs, *items))
        return _call(first, starts, items, direction, Outcome.ANSWERED if placed else Outcome.MISSED, None, ctx)
    results = [word(RESULTS, str(x.get("result", "")), "result") for x in (*legs, *items)]
    # Answered only when a leg was accepted by an extension: an auto-receptionist "accepts" too.
    accepted = next((leg for leg in legs if _accepted(leg) and _party(leg.get("to"), "extensionNumber")), None)
    if accepted is not None:
        outcome = Outcome.ANSWERED
    elif Outcome.VOICEMAIL in results:
        outcome = Outcome.VOICEMAIL
    elif Outcome.ANSWERED in results:
        raise ValueError("accepted, but by no extension (an auto-receptionist?): "
                         "the log does not say whether a person answered")
    elif Outcome.ABANDONED in results:
        outcome = Outcome.ABANDONED
    else:
        outcome = Outcome.MISSED
    return _call(first, starts, items, direction, outcome, accepted, ctx)


def _call(first: dict, starts: list[datetime], items: list[dict], direction: Direction, outcome: Outcome,
          accepted: dict | None, ctx: PresetContext) -> Call:
    ends = [s + timedelta(seconds=float(r.get("duration") or 0)) for s, r in zip(starts, items, strict=True)]
    inbound = direction is Direction.INBOUND
    return Call(
        call_id="rc-" + str(first.get("sessionId") or first.get("id")),
        site=ctx.site,
        direction=direction,
        caller=_party(first.get("from"), "phoneNumber") if inbound else _party(first.get("to"), "phoneNumber"),
        arrived_at=min(starts),
        # Start and duration only: no answer time, so ring time stays unknown (never 0).
        ring_started_at=None,
        answered_at=None,
        ended_at=max(ends),
        outcome=outcome,
        answered_by=_party(accepted.get("to"), "extensionNumber") if accepted and inbound
        else None if inbound else _party(first.get("from"), "extensionNumber") or None,
        answered_by_name=_party(accepted.get("to"), "name") or None if accepted and inbound else None,
        source=Source.CSV,
    )


RINGCENTRAL_JSON = Preset(
    name="ringcentral-json",
    vendor="RingCentral",
    export="Call Log API, view=Detailed, saved as JSON",
    docs=(
        "https://developers.ringcentral.com/guide/voice/call-log/api",
        "https://ringcentral.github.io/ringcentral-java/javadoc/com/ringcentral/definitions/CallLogRecord.html",
        "https://ringcentral.github.io/RingCentral.Net/html/classRingCentral_1_1CallLogRecordLegInfo.html",
        "https://github.com/ringcentral/RingCentral.Net/blob/master/RingCentral/Definitions/Generated/CallLogRecordLegInfo.cs",
    ),
    ring_time="unknown",
    staff_name_column="legs[].to.name",
    columns={"sessionId": ("sessionId",)},
    required=("sessionId",),
    meaning={
        "sessionId": "call_id; records sharing it are one call",
        "startTime": "arrived_at (earliest record)",
        "duration": "ended_at = startTime + duration; no answer time, so ring time is unknown",
        "from.phoneNumber": "caller of an inbound call",
        "result / legs[].result": "outcome: Accepted/Call accepted/Call connected (by an extension) -> answered, "
        "Voicemail, Abandoned, Missed (No Answer, Busy, Rejected, Declined, Hang up, failures -> missed)",
        "legs[].to.extensionNumber": "answered_by (the accepting leg)",
    },
    fmt="json",
    group_by=lambda row: row.get("sessionId") or f"record-{row.line}",
    to_call=to_call,
    json_lists=("records",),
    json_markers=('"sessionId"',),
    vendor_notes=("RingCentral's log cannot see a caller who hangs up in the auto-receptionist (IVR).",),
)
