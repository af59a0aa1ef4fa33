"""Zoom Phone call logs / call history, saved from Zoom's Phone API as JSON; one call per `call_id`.

Two record shapes are read, both from Zoom's Phone API reference (docs/presets.md):
- call logs (`GET /phone/call_logs`, `GET /phone/users/{userId}/call_logs`): `date_time`,
  `answer_start_time`, `call_end_time`, `result` ("Call connected", "Voicemail", "Missed", ...),
  `has_voicemail`, `accepted_by`, `waiting_time`;
- call history (`GET /phone/call_history`): `start_time`, `answer_time`, `end_time`, `call_result`
  (answered, voicemail, abandoned, no_answer, ...).
"One call id might contain multiple call log ID": records sharing `call_id` are one call.
Start and answer times only: ring time is derived (answer - start, whole seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callwatch.collector.sources.presets.base import Preset, PresetContext, Row, parse_time, record, word
from callwatch.model import Call, Direction, Outcome, Source

# `result` of the call logs, Zoom's own list of words. Zoom does not define them; where a word does
# not say whether a person answered (Park, Recorded, ...) the record is rejected, not guessed.
LOG_RESULTS: dict[str, Outcome | None] = {
    "Call connected": Outcome.ANSWERED,
    # This member's ring was answered by another member of the queue or group: the call was answered.
    "Answered by Other Member": Outcome.ANSWERED,
    "Voicemail": Outcome.VOICEMAIL,
    "Missed": Outcome.MISSED, "No Answer": Outcome.MISSED, "Rejected": Outcome.MISSED, "Busy": Outcome.MISSED,
    # Zoom does not say who cancelled; a caller's hang-up may be among these, so it counts as missed.
    "Call Cancel": Outcome.MISSED, "Call Cancelled": Outcome.MISSED,
    "Blocked": Outcome.MISSED, "Wrong Number": Outcome.MISSED, "International Disabled": Outcome.MISSED,
    "Internal Error": Outcome.MISSED, "Call failed": Outcome.MISSED, "Restricted Number": Outcome.MISSED,
    "Blocked by non-GAL": Outcome.MISSED, "Blocked by info-Barriers": Outcome.MISSED,
    "Message": None, "Park": None, "Parked": None, "Recording Failure": None, "Recorded": None,
    "Auto Recorded": None,
}
# `call_result` of the call history ("The final call result of the call logs"), Zoom's enum.
HISTORY_RESULTS: dict[str, Outcome] = {
    "answered": Outcome.ANSWERED, "accepted": Outcome.ANSWERED, "picked_up": Outcome.ANSWERED,
    "connected": Outcome.ANSWERED, "succeeded": Outcome.ANSWERED,
    "voicemail": Outcome.VOICEMAIL,
    "abandoned": Outcome.ABANDONED,
    # Undefined by Zoom, and none says a person answered or that the caller gave up: missed.
    **{w: Outcome.MISSED for w in (
        "hang_up", "canceled", "call_failed", "unconnected", "rejected", "busy", "ring_timeout", "overflowed",
        "no_answer", "invalid_key", "invalid_operation", "system_blocked", "service_unavailable")},
}
DIRECTIONS = {"inbound": Direction.INBOUND, "outbound": Direction.OUTBOUND}
RANK = (Outcome.ANSWERED, Outcome.VOICEMAIL, Outcome.ABANDONED, Outcome.MISSED)


@dataclass(slots=True)
class _Log:
    start: datetime
    answer: datetime | None
    end: datetime | None
    outcome: Outcome
    direction: Direction
    caller: str
    callee: str
    extension: str | None  # the extension that accepted the call, when the record names one


def _time(item: dict[str, Any], key: str, ctx: PresetContext) -> datetime | None:
    text = str(item.get(key) or "").strip()
    return parse_time(text, ctx.zone, (), key) if text else None


def _log(item: dict[str, Any], ctx: PresetContext) -> _Log:
    direction = word(DIRECTIONS, str(item.get("direction", "")), "direction")
    if "call_result" in item:  # call history
        outcome = word(HISTORY_RESULTS, str(item.get("call_result", "")), "call_result")
        start, answer, end = (_time(item, k, ctx) for k in ("start_time", "answer_time", "end_time"))
        caller = str(item.get("caller_did_number") or item.get("caller_ext_number") or "")
        callee = str(item.get("callee_did_number") or item.get("callee_ext_number") or "")
        extension = str(item.get("callee_ext_number") or "") or None
    else:  # call logs
        said = str(item.get("result", ""))
        found = word(LOG_RESULTS, said, "result")
        if found is None:
            raise ValueError(f"result {item.get('result')!r} does not say whether a person answered")
        outcome = Outcome.VOICEMAIL if found is not Outcome.ANSWERED and item.get("has_voicemail") is True \
            else found
        start, answer, end = (_time(item, k, ctx) for k in ("date_time", "answer_start_time", "call_end_time"))
        caller, callee = str(item.get("caller_number") or ""), str(item.get("callee_number") or "")
        accepted = item.get("accepted_by")
        extension = str(accepted.get("extension_number") or "") or None if isinstance(accepted, dict) else None
        # "Answered by Other Member": this log's callee did not answer, someone else did.
        elsewhere = said.strip().lower() == "answered by other member"
        if extension is None and outcome is Outcome.ANSWERED and not elsewhere and item.get("callee_number_type") == 1:
            extension = callee or None  # "1 - Extension number"
    if start is None:
        raise ValueError("no start time (date_time / start_time)")
    return _Log(start, answer, end, outcome, direction, caller, callee, extension)


def to_call(rows: list[Row], ctx: PresetContext) -> Call:
    logs = sorted((_log(record(r), ctx) for r in rows), key=lambda log: log.start)
    first = logs[0]
    outcome = min((log.outcome for log in logs), key=RANK.index)
    # The log that says when and by whom it was answered wins over one that only says someone answered.
    chosen = min((log for log in logs if log.outcome is outcome), key=lambda log: (log.answer is None, log.start))
    inbound = first.direction is Direction.INBOUND
    answered = chosen.answer if outcome is Outcome.ANSWERED else None
    # Ringing stopped at the answer; when a voicemail or a give-up has no such time, the call's end stands in
    # only where nothing else followed (missed, abandoned) - a voicemail's end is after the message.
    if outcome is Outcome.ANSWERED:
        stop = answered
    elif outcome is Outcome.VOICEMAIL:
        stop = chosen.answer
    else:
        stop = chosen.end
    ends = [log.end for log in logs if log.end is not None]
    return Call(
        call_id="zoom-" + str(rows[0].get("call_id")),
        site=ctx.site,
        direction=first.direction,
        caller=first.caller if inbound else first.callee,
        arrived_at=first.start,
        # Derived ring time only where both ends are in the log; otherwise unknown, never a guess.
        ring_started_at=first.start if stop is not None else None,
        answered_at=answered,
        ring_ended_at=stop if outcome is not Outcome.ANSWERED else None,
        ended_at=max(ends, default=None),
        outcome=outcome,
        answered_by=chosen.extension if outcome is Outcome.ANSWERED and inbound else None,
        source=Source.CSV,
    )


ZOOM = Preset(
    name="zoom-phone",
    vendor="Zoom Phone",
    export="call logs or call history (Phone API response saved as JSON)",
    docs=(
        "https://developers.zoom.us/docs/api/phone/#tag/call-logs",
        "https://developers.zoom.us/docs/phone/understanding-call-history/",
        "https://github.com/api-evangelist/zoom-phone/blob/main/openapi/zoom-phone-api-openapi.json",
    ),
    ring_time="derived",
    staff_name_column="accepted_by.name / callee_name",
    columns={"call_id": ("call_id",), "direction": ("direction",)},
    required=("call_id", "direction"),
    meaning={
        "call_id": "call_id; records sharing it are one call",
        "date_time / start_time": "arrived_at and ring start (earliest record)",
        "answer_start_time / answer_time": "answered_at; ring time derived (answer - start, whole seconds)",
        "call_end_time / end_time": "ended_at; ring end of a missed or abandoned call",
        "result / call_result": "outcome: Call connected/answered -> answered, Voicemail, abandoned, "
        "Missed/No Answer/... -> missed; Park, Recorded, ... rejected",
        "has_voicemail": "an unanswered call that left a voicemail -> voicemail",
        "accepted_by.extension_number / callee_ext_number": "answered_by",
        "caller_number / caller_did_number": "caller of an inbound call",
        "waiting_time": "not used: Zoom defines it per queue member on one endpoint and per user on the other",
    },
    fmt="json",
    group_by=lambda row: row.get("call_id") or f"record-{row.line}",
    to_call=to_call,
    json_lists=("call_logs", "call_history"),
    json_markers=('"call_id"', '"direction"'),
    vendor_notes=(
        "Zoom's legacy `result` words have no abandoned word: a caller who hangs up while it rings is counted "
        "as missed there (the call history's `abandoned` is counted as abandoned).",
    ),
)
