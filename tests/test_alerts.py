"""Alerts, driven through the real collector and the test AMI server, received on local SMTP and webhook servers.

Each condition: it fires once (one e-mail, one webhook post, one stored row),
clears when the phones recover, and outside business hours is kept but not sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from support.ami import EVENTS, running_collector, settings_for, wait_for
from support.amiserver import AmiTestServer
from support.clock import midday_zone
from support.ports import free_port

from callwatch import store
from callwatch.alerts.conditions import (
    ANSWER_RATE,
    COLLECTOR_SILENT,
    MISSED_CALLS,
    QUEUE_WAIT,
    RING_PAST_TARGET,
)
from callwatch.alerts.monitor import AlertMonitor
from callwatch.alerts.notify import Notifier
from callwatch.cli import main

OPEN_ALWAYS = {day: [{"open": "00:00", "close": "23:59"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CLOSED_ALWAYS: dict[str, list[Any]] = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class Inbox:
    """A real SMTP server (aiosmtpd) and a real webhook endpoint on loopback, keeping what they receive."""

    def __init__(self) -> None:
        self.mails: list[Any] = []
        self.posts: list[dict[str, Any]] = []
        inbox = self

        class _Smtp:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                inbox.mails.append(envelope)
                return "250 OK"

        class _Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                inbox.posts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.smtp_port = free_port()
        self.smtp = Controller(_Smtp(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def urls(self) -> list[str]:
        return [f"mailto://127.0.0.1:{self.smtp_port}?from=callwatch@practice.test&to=frontdesk-lead@practice.test",
                f"json://127.0.0.1:{self.http.server_address[1]}/alerts"]

    def close(self) -> None:
        self.smtp.stop()
        self.http.shutdown()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    yield box
    box.close()


def _settings(tmp_path: Path, port: int, inbox: Inbox, **extra: Any) -> Any:
    alerts = {"notify": inbox.urls, "check_seconds": 0.2, **extra.pop("alerts", {})}
    return settings_for(tmp_path, port, alerts=alerts, business_hours=extra.pop("business_hours", OPEN_ALWAYS), **extra)


def _monitor(settings: Any) -> AlertMonitor:
    engine = store.open_store(settings.database_url)
    return AlertMonitor(engine, settings, Notifier(settings.alerts.notify))


def _rows(monitor: AlertMonitor, condition: str) -> list[dict[str, Any]]:
    rows = store.alert_log.recent_alerts(monitor.engine, monitor.site, datetime.now(UTC) - timedelta(days=1))
    return [r for r in rows if r["condition"] == condition]


def _watch(monitor: AlertMonitor, until: Any, timeout: float, what: str) -> None:
    """Run the alert loop (as `callwatch collect` does) until `until()` holds."""
    def step() -> Any:
        monitor.check()
        return until()
    wait_for(step, timeout=timeout, what=what)


def _events_from(name_started_utc: str) -> list[Any]:
    """The capture from the first event at or after one ground-truth call's start (a replay of that call on)."""
    t0 = datetime.fromisoformat(name_started_utc).timestamp() - 0.5
    return [e for e in EVENTS if e.t >= t0]


def test_a_call_ringing_past_target_alerts_once_and_clears(tmp_path: Path, inbox: Inbox) -> None:
    # Real time (speed 1, events stamped as sent): the 5-second call rings past a 3-second target.
    server = AmiTestServer(_events_from("2026-11-24T20:50:23.339+00:00"), speed=1, stamp_now=True).start()
    try:
        settings = _settings(tmp_path, server.port, inbox, target_rings=1, ring_cycle_seconds=3)
        monitor = _monitor(settings)
        with running_collector(settings):
            _watch(monitor, lambda: _rows(monitor, RING_PAST_TARGET), 20, "the ring alert")
            fired = _rows(monitor, RING_PAST_TARGET)[0]
            assert "past the 3 s target" in fired["message"] and "at 101" in fired["message"]
            _watch(monitor, lambda: _rows(monitor, RING_PAST_TARGET)[0]["cleared_at"], 20, "the call answered")
            # Several checks while it held, one notification: one mail, one webhook post.
            ring_mails = [m for m in inbox.mails if b"past the 3 s target" in m.content]
            ring_posts = [p for p in inbox.posts if "past the 3 s target" in p["message"]]
            assert len(ring_mails) == 1 and len(ring_posts) == 1
            assert ring_mails[0].rcpt_tos == ["frontdesk-lead@practice.test"]
            assert b"617555" not in ring_mails[0].content  # no caller number leaves the practice
            assert _rows(monitor, RING_PAST_TARGET)[-1]["notified_at"] is not None
    finally:
        server.close()


def test_a_caller_waiting_in_a_queue_too_long_alerts_and_clears(tmp_path: Path, inbox: Inbox) -> None:
    # The queue call that times out to voicemail after 40 s, replayed twice as fast: it waits 20 s here.
    server = AmiTestServer(_events_from("2026-11-24T20:52:18.339+00:00"), speed=2, stamp_now=True).start()
    try:
        settings = _settings(tmp_path, server.port, inbox, alerts={"queue_wait_seconds": 3})
        monitor = _monitor(settings)
        with running_collector(settings):
            _watch(monitor, lambda: _rows(monitor, QUEUE_WAIT), 30, "the queue alert")
            assert "1 caller is waiting in" in _rows(monitor, QUEUE_WAIT)[0]["message"]
            _watch(monitor, lambda: _rows(monitor, QUEUE_WAIT)[0]["cleared_at"], 40, "the caller leaving the queue")
        assert len([p for p in inbox.posts if "waiting in" in p["message"]]) == 1
        assert len([m for m in inbox.mails if b"waiting in" in m.content]) == 1
    finally:
        server.close()


def test_many_missed_calls_and_a_low_answer_rate_alert_then_missed_clears(tmp_path: Path, inbox: Inbox,
                                                                          server: AmiTestServer) -> None:
    # The whole set-A capture, 30 times faster, stamped now: today's calls, half of them not answered.
    server.stamp_now = True
    # The check 16 minutes on must still be today for the practice, or today's answer rate rightly clears.
    settings = _settings(tmp_path, server.port, inbox, alerts={"answer_rate_min_calls": 10, "missed_calls": 3},
                         timezone=midday_zone())
    monitor = _monitor(settings)
    with running_collector(settings):
        server.wait_done(timeout=120)
        _watch(monitor, lambda: _rows(monitor, MISSED_CALLS) and _rows(monitor, ANSWER_RATE), 20, "both alerts")
    rate = _rows(monitor, ANSWER_RATE)[0]["message"]
    assert "below the 90.0 % goal" in rate
    missed = _rows(monitor, MISSED_CALLS)[0]["message"]
    assert "were not answered in the last 15 minutes" in missed
    for _ in range(3):  # still holding: nothing new is sent
        monitor.check()
    assert len(inbox.posts) == 2 and len(inbox.mails) == 2
    later = datetime.now(UTC) + timedelta(minutes=16)  # the burst is past the 15-minute window
    active = monitor.check(later)
    assert MISSED_CALLS not in active and ANSWER_RATE in active
    assert _rows(monitor, MISSED_CALLS)[0]["cleared_at"] is not None
    assert _rows(monitor, ANSWER_RATE)[0]["cleared_at"] is None


def test_a_silent_collector_alerts_within_seconds_and_clears_when_the_pbx_is_back(
        tmp_path: Path, inbox: Inbox, server: AmiTestServer) -> None:
    settings = _settings(tmp_path, server.port, inbox, alerts={"collector_silent_seconds": 2})
    monitor = _monitor(settings)
    with running_collector(settings):
        wait_for(lambda: monitor.check() is not None and server.logins, 10, "the collector connected")
        server.silent = True  # the PBX stops answering: a half-open link
        started = time.monotonic()
        _watch(monitor, lambda: _rows(monitor, COLLECTOR_SILENT), 20, "the silence alert")
        assert time.monotonic() - started < 10
        assert "No word from the phone system" in _rows(monitor, COLLECTOR_SILENT)[0]["message"]
        server.silent = False
        _watch(monitor, lambda: _rows(monitor, COLLECTOR_SILENT)[0]["cleared_at"], 30, "the PBX back")
    assert len([p for p in inbox.posts if "No word" in p["message"]]) == 1
    assert len([m for m in inbox.mails if b"No word" in m.content]) == 1


def test_outside_business_hours_alerts_are_kept_but_not_sent(tmp_path: Path, inbox: Inbox,
                                                             server: AmiTestServer) -> None:
    server.stamp_now = True
    settings = _settings(tmp_path, server.port, inbox, business_hours=CLOSED_ALWAYS,
                         alerts={"answer_rate_min_calls": 1, "missed_calls": 3, "collector_silent_seconds": 2})
    monitor = _monitor(settings)
    with running_collector(settings):
        server.wait_done(timeout=120)
        _watch(monitor, lambda: _rows(monitor, MISSED_CALLS), 20, "the missed-calls alert")
    row = _rows(monitor, MISSED_CALLS)[0]
    assert row["notified_at"] is None and "quiet hours" in row["notify_error"]
    assert inbox.mails == [] and inbox.posts == []


def test_alerts_list_and_test_commands(tmp_path: Path, inbox: Inbox) -> None:
    config = tmp_path / "callwatch.yaml"
    urls = "\n".join(f"    - \"{u}\"" for u in inbox.urls)
    config.write_text(f"database_url: sqlite:///{tmp_path / 'c.db'}\nalerts:\n  notify:\n{urls}\n")
    runner = CliRunner()
    assert "no alerts in the last 7 day(s)" in runner.invoke(main, ["alerts", "list", "--config", str(config)]).output
    sent = runner.invoke(main, ["alerts", "test", "--config", str(config)])
    assert sent.exit_code == 0, sent.output
    assert len(inbox.mails) == 1 and len(inbox.posts) == 1
    monitor = AlertMonitor(store.open_store(f"sqlite:///{tmp_path / 'c.db'}"), _settings_from(config))
    store.alert_log.fire_alert(monitor.engine, monitor.site, COLLECTOR_SILENT, "No word from the phone system",
                               datetime.now(UTC))
    listed = runner.invoke(main, ["alerts", "list", "--config", str(config)]).output
    assert "collector_silent" in listed and "OPEN" in listed and "No word from the phone system" in listed


def test_a_bad_notification_url_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'c.db'}\nalerts:\n  notify: ['nosuchservice://token@x']\n")
    result = CliRunner().invoke(main, ["alerts", "test", "--config", str(config)])
    assert result.exit_code == 2
    assert "is not one Apprise knows" in result.output and "token" not in result.output


def _settings_from(config: Path) -> Any:
    from callwatch.config import load_settings

    return load_settings(str(config))
