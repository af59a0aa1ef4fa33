"""Small, named fixtures for the dashboard tests: one practice day of calls whose
numbers are easy to check by hand, a real SQLite store, a logged-in client."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from callwatch import store
from callwatch.config.settings import Settings
from callwatch.model import Call
from support.clock import local
from support.settings import make_settings

DAY = date(2026, 3, 3)  # a Tuesday, EST (UTC-5)
USER, PASSWORD = "frontdesk", "correct horse battery"
TRAINING = {"date": "2026-03-03", "title": "Phone manner"}
# Values a spreadsheet would run as formulas: they arrive from the PBX as queue or staff names.
FORMULA_QUEUE = "=HYPERLINK(\"http://x\")"
FORMULA_STAFF = "@SUM(1+1)"


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    """make_settings with a dashboard user and one training date."""
    values: dict[str, Any] = {"dashboard": {"users": {USER: generate_password_hash(PASSWORD)}}, "trainings": [TRAINING]}
    return make_settings(tmp_path, **{**values, **extra})


def call(call_id: str, clock: str, outcome: str | None, ring: float | None = 5.0, *, day: date = DAY,
         caller: str = "+16175550100", direction: str = "inbound", **fields: Any) -> Call:
    arrived = local(day, clock)
    ring_start = arrived + timedelta(seconds=2) if ring is not None else None
    answered = ring_start + timedelta(seconds=ring) if outcome == "answered" and ring_start is not None else None
    # An unanswered call's ring time runs to its end (DESIGN.md), so it ends when the ringing does.
    ended = answered + timedelta(seconds=60) if answered else (ring_start or arrived) + timedelta(seconds=ring or 0)
    return Call(call_id=call_id, site=fields.pop("site", "main-office"), direction=direction, caller=caller,
                arrived_at=arrived, ring_started_at=ring_start, answered_at=answered, ended_at=ended,
                outcome=outcome, source="csv", ring_quality=fields.pop("ring_quality", "exact"), **fields)


def practice_day(day: date = DAY) -> list[Call]:
    """Business hours 8-17: 2 answered (one within 3 rings), 1 voicemail, 1 abandoned, 1 missed,
    1 short abandon (not counted), 1 after-hours voicemail, 1 call-back to the voicemail caller."""
    p = day.isoformat()
    return [
        call(f"{p}-a1", "10:00", "answered", 5, day=day, caller="+16175550101", answered_by="201", queue="reception"),
        call(f"{p}-a2", "10:05", "answered", 25, day=day, caller="+16175550102", answered_by=FORMULA_STAFF),
        call(f"{p}-v1", "11:00", "voicemail", 30, day=day, caller="+16175550103", left_message=True),
        call(f"{p}-b1", "11:30", "abandoned", 12, day=day, caller="+16175550104", queue=FORMULA_QUEUE),
        call(f"{p}-m1", "13:00", "missed", 40, day=day, caller="+16175550105"),
        call(f"{p}-s1", "12:00", "abandoned", 2, day=day, caller="+16175550106"),
        call(f"{p}-n1", "20:00", "voicemail", 20, day=day, caller="+16175550107"),
        call(f"{p}-o1", "14:00", None, None, day=day, caller="+16175550103", direction="outbound"),
    ]


def seeded_engine(settings: Settings, calls: list[Call]) -> sa.Engine:
    engine = store.create_engine(settings.database_url)
    store.init_db(engine)
    store.save_calls(engine, calls)
    return engine


def login(client: Any, username: str = USER, password: str = PASSWORD, next_path: str = "/live") -> Any:
    page = client.get("/login").text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": username, "password": password, "token": token,
                                       "next": next_path})


def callback_payload(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]],
                     state: list[tuple[str, str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """The JSON the Dash renderer posts to /_dash-update-component."""
    def spec(items: Any) -> list[dict[str, Any]]:
        return [{"id": i, "property": p, "value": v} for i, p, v in items]

    multi = len(outputs) > 1
    output = ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".." if multi else f"{outputs[0][0]}.{outputs[0][1]}"
    out_spec = [{"id": i, "property": p} for i, p in outputs]
    return {"output": output, "outputs": out_spec if multi else out_spec[0], "inputs": spec(inputs),
            "state": spec(state), "changedPropIds": []}


def calls_callback(day: date = DAY) -> dict[str, Any]:
    """The Calls page's table callback for one day, no other filter."""
    return callback_payload(
        [("calls-table", "data"), ("calls-summary", "children"), ("calls-download", "href")],
        [("calls-start", "value", day.isoformat()), ("calls-end", "value", day.isoformat()),
         ("calls-site", "value", None), ("calls-queue", "value", None), ("calls-outcome", "value", None),
         ("calls-staff", "value", ""), ("calls-counted", "value", [])],
        [("calls-slot", "data", {"weekday": None, "hour": None})],
    )
