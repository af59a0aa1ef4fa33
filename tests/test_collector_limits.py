"""One collector per journal; bounded memory and logs under a flood of calls or an endless line."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.ami import play_through, running_collector, settings_for, wait_for
from support.ports import free_port

from callwatch.collector.ami import protocol
from callwatch.collector.ami.tracker import AmiTracker

CLI = [sys.executable, "-c", "from callwatch.cli import main; main()"]


def test_second_collector_on_the_same_journal_exits_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'cw.db'}\njournal_path: {tmp_path / 'journal.log'}\n"
                      f"ami: {{port: {free_port()}, reconnect_max_seconds: 1}}\n")
    env = {**os.environ, "CALLWATCH_AMI_SECRET": "s"}
    first = subprocess.Popen([*CLI, "collect", "--config", str(config)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = tmp_path / "journal.log.lock"
        wait_for(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), 60, "the first collector")
        second = subprocess.run([*CLI, "collect", "--config", str(config)], env=env,
                                capture_output=True, text=True, timeout=60)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
    assert second.returncode == 1
    assert f"another collector (pid {first.pid}) is already running" in second.stderr
    assert "Traceback" not in second.stderr


def test_calls_that_never_hang_up_are_capped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = AmiTracker(settings_for(tmp_path, 1, ami={"max_calls_in_flight": 50}))
    with caplog.at_level(logging.WARNING):
        for n in range(500):
            lid = f"1795553420.{n}"
            msg = protocol.parse(f"Event: Newchannel\r\nChannel: PJSIP/trunk-{n:08x}\r\nUniqueid: {lid}\r\n"
                                 f"Linkedid: {lid}\r\nContext: from-trunk\r\nExten: 5550100\r\n"
                                 f"CallerIDNum: 617555{n:04d}\r\n")
            tracker.feed(msg, 1795553420.0 + n)
    assert len(tracker.calls) == 50 and tracker.dropped_in_flight == 450
    assert len([r for r in caplog.records if "calls in flight" in r.getMessage()]) == 1


def test_an_endless_line_logs_a_few_warnings_not_one_per_64_kb(server, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(tmp_path, server.port)
    with caplog.at_level(logging.WARNING), running_collector(settings):
        server.wait_position(700)
        server.paused = True
        time.sleep(0.3)
        server.inject(b"Event: UserEvent\r\nX-Endless: " + b"A" * (8 * 1024 * 1024))  # 128 x 64 KB, no end
        server.inject(b"\r\n\r\n")
        server.paused = False
        play_through(server, settings)
    oversized = [r for r in caplog.records if "oversized message" in r.getMessage()]
    assert 1 <= len(oversized) <= 4
