"""First run: the Live page never keeps an empty state once calls are stored,
and pages open on a range that has data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from support.dashboard import callback_payload, login, practice_day, settings_for

from callwatch import store
from callwatch.dashboard import data
from callwatch.dashboard.app import create_app

LIVE_OUTPUTS = [("live-state", "data"), ("live-banner", "children"), ("live-today", "children"),
                ("live-last", "children"), ("live-clock", "children"), ("live-alert-log", "children"),
                ("live-seen", "data")]


def _live(client: Any) -> str:
    payload = callback_payload(LIVE_OUTPUTS, [("live-poll", "n_intervals", 1), ("live-site", "data", None)],
                               [("live-seen", "data", None)])
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    return response.text


def test_live_page_shows_imported_calls_at_once_not_a_cached_empty_state(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))
    client = app.server.test_client()
    login(client)
    assert "empty-state" in _live(client)  # a new install: how to get calls in
    engine = store.create_engine(settings_for(tmp_path).database_url)
    store.save_calls(engine, practice_day(datetime.now(UTC).astimezone(settings_for(tmp_path).tz).date()
                                          - timedelta(days=40)))  # an import of older logs, none today
    time.sleep(1.1)  # the next 2-s poll: one live answer is shared by all screens for 1 s
    text = _live(client)
    assert "empty-state" not in text and "= 5 offered" not in text


def test_pages_open_on_the_newest_data_when_the_last_weeks_are_empty(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    app = create_app(settings)
    old = datetime.now(UTC).astimezone(settings.tz).date() - timedelta(days=200)
    store.save_calls(store.create_engine(settings.database_url), practice_day(old))
    with app.server.app_context():
        rng = data.parse_range(data.context(), None, None)
    assert rng.last == old and (rng.last - rng.first).days + 1 == data.DEFAULT_DAYS
