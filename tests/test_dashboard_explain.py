"""The Calls page's "Why these values?": one call's explanation, through the explainer the CLI injects, masked."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from support.dashboard import callback_payload, calls_callback, login, settings_for
from support.ground_truth import SET_D
from support.imports import open_engine

from callwatch.cli.dashboard import explainer
from callwatch.collector.importer import import_file
from callwatch.dashboard.app import create_app

CALL = "1796099417.104"  # set D: IVR -> queue frontdesk, answered by 204 (Dana)
DAY = date(2026, 11, 30)  # the practice-local (America/Chicago) day of set D's calls


def _explain_payload(row_id: str) -> dict[str, Any]:
    payload = callback_payload([("calls-explain", "children")],
                               [("calls-table", "active_cell", {"row": 0, "column": 0, "row_id": row_id})])
    payload["changedPropIds"] = ["calls-table.active_cell"]  # what the browser sends on a click
    return payload


def _client(tmp_path: Path, with_explainer: bool) -> Any:
    settings = settings_for(tmp_path, timezone="America/Chicago", cdr_gmt=False)
    engine = open_engine(settings)
    for name in ("cel-custom.csv", "queue_log"):
        import_file(engine, settings, SET_D / name)
    app = create_app(settings, engine=engine, explain=explainer(settings) if with_explainer else None)
    client = app.server.test_client()
    login(client)
    return client


def test_a_clicked_call_shows_its_events_and_reasons_masked(tmp_path: Path) -> None:
    client = _client(tmp_path, with_explainer=True)
    table = client.post("/_dash-update-component", json=calls_callback(DAY))
    assert table.status_code == 200
    rows = json.loads(table.text)["response"]["calls-table"]["data"]
    row_id = next(r["id"] for r in rows if r["call_id"] == CALL)  # the id a clicked cell carries
    response = client.post("/_dash-update-component", json=_explain_payload(row_id))
    assert response.status_code == 200
    text = json.loads(response.text)["response"]["calls-explain"]["children"]
    shown = json.dumps(text, ensure_ascii=False)
    assert "stored from source cel:" in shown
    assert "answered_at      2026-12-01 04:30:35.568517+00:00 from BRIDGE_ENTER line 527" in shown
    assert "queue-log: lines of this call in " in shown
    assert "answered_by      204" in shown
    # Masked exactly as `callwatch calls --explain` masks them.
    assert "3125550115" not in shown and "••••••0115" in shown


def test_without_an_explainer_the_page_says_so(tmp_path: Path) -> None:
    client = _client(tmp_path, with_explainer=False)
    response = client.post("/_dash-update-component", json=_explain_payload(f"main-office\x1f{CALL}"))
    assert response.status_code == 200
    assert "No explainer is available in this dashboard" in response.text
    assert "calls --explain 1796099417.104" in response.text
