"""What the Live page and wall board read of the alerts (no browser): the loader's readers and the
Live callback's output for the board (open alerts of the office) and for the week's list."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from support.dashboard import callback_payload, login, practice_day, seeded_engine, settings_for

from callwatch.dashboard.app import create_app
from callwatch.metrics import loader
from callwatch.store import alert_log

LIVE_OUTPUTS = [("live-state", "data"), ("live-banner", "children"), ("live-today", "children"),
                ("live-last", "children"), ("live-clock", "children"), ("live-alert-log", "children"),
                ("live-seen", "data")]
NOW = datetime.now(UTC).replace(microsecond=0)


def _seed(engine: Any) -> dict[str, int]:
    """Alerts at main-office: one open now, one cleared 2 days ago (quiet hours), one 9 days old; one elsewhere."""
    ids = {
        "old": alert_log.fire_alert(engine, "main-office", "missed_calls", "3 calls were not answered in the last "
                                    "15 minutes.", NOW - timedelta(days=9)),
        "quiet": alert_log.fire_alert(engine, "main-office", "queue_wait", "1 caller is waiting in reception; "
                                      "the longest for 2 min (limit 1 min).", NOW - timedelta(days=2)),
        "open": alert_log.fire_alert(engine, "main-office", "ring_past_target", "A call has rung 40 s at "
                                     "Reception, past the 18 s target. Please pick up.", NOW - timedelta(minutes=1)),
        "north": alert_log.fire_alert(engine, "north", "collector_silent", "No word from the phone system.",
                                      NOW - timedelta(minutes=3)),
    }
    alert_log.clear_alert(engine, ids["old"], NOW - timedelta(days=9) + timedelta(minutes=5))
    alert_log.record_notification(engine, ids["quiet"], None, "quiet hours: the practice is closed")
    alert_log.clear_alert(engine, ids["quiet"], NOW - timedelta(days=2) + timedelta(minutes=2))
    alert_log.record_notification(engine, ids["open"], NOW - timedelta(seconds=59))
    return ids


def test_readers_give_the_offices_open_alerts_and_the_weeks_list_newest_first(tmp_path: Path) -> None:
    engine = seeded_engine(settings_for(tmp_path), [])
    ids = _seed(engine)
    opened = loader.load_open_alerts(engine, "main-office")
    assert [row["id"] for row in opened] == [ids["open"]]
    assert opened[0]["cleared_at"] is None and opened[0]["fired_at"].tzinfo is not None
    assert {row["id"] for row in loader.load_open_alerts(engine, None)} == {ids["open"], ids["north"]}
    week = loader.load_recent_alerts(engine, "main-office", NOW - timedelta(days=7))
    assert [row["id"] for row in week] == [ids["open"], ids["quiet"]]  # the 9-day-old one is out, north too
    assert week[1]["notify_error"].startswith("quiet hours") and week[1]["notified_at"] is None
    alert_log.clear_alert(engine, ids["open"], NOW)
    assert loader.load_open_alerts(engine, "main-office") == []


def _live(client: Any, site: str | None = None) -> dict[str, Any]:
    payload = callback_payload(LIVE_OUTPUTS, [("live-poll", "n_intervals", 1), ("live-site", "data", site)],
                               [("live-seen", "data", None)])
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    return dict(json.loads(response.text)["response"])


def _texts(part: Any) -> list[str]:
    """Every string inside a Dash component tree, in order."""
    if isinstance(part, str):
        return [part]
    if isinstance(part, list):
        return [t for item in part for t in _texts(item)]
    if isinstance(part, dict):
        return _texts(part.get("props", {}).get("children"))
    return []


def test_live_callback_sends_the_open_alert_to_the_board_and_the_week_as_a_headed_table(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, alerts={"chime": True})
    engine = seeded_engine(settings, practice_day(NOW.date()))
    ids = _seed(engine)
    client = create_app(settings, engine=engine).server.test_client()
    login(client)
    out = _live(client)
    state = out["live-state"]["data"]
    assert [a["id"] for a in state["alerts"]] == [ids["open"]]  # main-office only, open only
    assert "past the 18 s target" in state["alerts"][0]["message"]
    assert state["alerts"][0]["condition"] == "call ringing past target"
    assert state["chime"] is True
    table = out["live-alert-log"]["children"]
    assert table["type"] == "Table"
    head, body = table["props"]["children"][1], table["props"]["children"][2]
    assert _texts(head) == ["fired", "condition", "what happened", "cleared", "notification"]
    assert all(th["props"]["scope"] == "col" for th in head["props"]["children"]["props"]["children"])
    rows = body["props"]["children"]
    assert len(rows) == 2
    newest, older = _texts(rows[0]), _texts(rows[1])
    assert newest[1] == "call ringing past target" and newest[3] == "▲ still open" and newest[4].startswith("sent ")
    assert older[1] == "callers waiting too long" and older[4] == "quiet hours: the practice is closed"
    assert "still open" not in older[3]
    # The alert clears: the next refresh (after the 1-s shared answer) no longer carries it, and the list says so.
    alert_log.clear_alert(engine, ids["open"], datetime.now(UTC))
    time.sleep(1.1)
    out = _live(client)
    assert out["live-state"]["data"]["alerts"] == []
    assert "▲ still open" not in _texts(out["live-alert-log"]["children"])
    # Offices pooled on request (?site=all): the other office's open alert shows, and the list names offices.
    out = _live(client, "all")
    assert [a["id"] for a in out["live-state"]["data"]["alerts"]] == [ids["north"]]
    assert out["live-state"]["data"]["pooled"] is True
    assert "office" in _texts(out["live-alert-log"]["children"]["props"]["children"][1])


def test_no_alerts_says_so_and_the_chime_is_off_by_default(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    client = create_app(settings, engine=seeded_engine(settings, [])).server.test_client()
    login(client)
    out = _live(client)
    assert out["live-state"]["data"]["alerts"] == [] and out["live-state"]["data"]["chime"] is False
    assert _texts(out["live-alert-log"]["children"]) == ["No alerts in the last 7 days."]
