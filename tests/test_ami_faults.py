"""Faults never kill the collector nor count a call twice: drops, silence, restarts, refusals, garbage, SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner
from support.ami import (
    EVENTS,
    SECRET,
    check_calls,
    heartbeat_row,
    inbound_truth,
    play_through,
    running_collector,
    settings_for,
    stored_calls,
    wait_for,
)
from support.amiserver import AmiTestServer

from callwatch.cli import main
from callwatch.collector.ami.journal import journal_files


def _heartbeat(service):
    return heartbeat_row(service.engine, service.settings.site) or {}


def test_dropped_connection_reconnects_and_loses_nothing(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        server.wait_position(900)
        server.refuse = 2  # keep it down for a moment so the heartbeat can show it
        server.drop_clients()
        beat = wait_for(lambda: (b := _heartbeat(service)) and not b["connected"] and b, what="heartbeat down")
        assert "closed" in beat["detail"] or "reset" in beat["detail"] or "refused" in beat["detail"]
        wait_for(lambda: _heartbeat(service).get("connected"), what="heartbeat back up")
        play_through(server, settings)
        assert service.client.stats.sessions >= 2
    assert check_calls(stored_calls(settings)) == []


def test_half_open_link_is_noticed_by_the_idle_timeout(server, tmp_path):
    """The PBX stops sending anything, pings included, but the socket stays open."""
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        server.wait_position(1500)
        server.silent = True
        wait_for(lambda: not service.client.connected, timeout=10, what="half-open link noticed")
        assert "no data" in service.client.stats.last_error or "Ping" in service.client.stats.last_error
        time.sleep(1.0)
        server.silent = False
        play_through(server, settings)
    assert check_calls(stored_calls(settings)) == []


def test_server_restart_is_survived(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        server.wait_position(2000)
        server.restart(down_seconds=2.0)
        play_through(server, settings, grace=2.0)
        assert service.client.connected
    assert check_calls(stored_calls(settings)) == []


def test_login_refused_is_retried_with_backoff_and_shown(server, tmp_path, caplog):
    server.refuse = 3
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        beat = wait_for(lambda: (b := _heartbeat(service)) and "refused" in (b["detail"] or "") and b, timeout=10)
        assert beat["connected"] is False
        play_through(server, settings)
        assert server.logins == 1
    assert "login refused: Authentication failed" in caplog.text
    assert check_calls(stored_calls(settings)) == []


def test_garbage_on_the_socket_is_logged_and_skipped(server, tmp_path, caplog):
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        server.wait_position(700)
        server.paused = True
        time.sleep(0.3)
        server.inject(b"Event: Newchannel\r\nChannel: Loc\r\n\r\n")  # truncated
        server.inject(b"Event: SomethingNew\r\nLinkedid: 1795553420.422\r\n\r\n")  # unknown event
        server.inject(b"Event: UserEvent\r\nData: \xff\xfe\xc3(\r\n\r\n")  # not UTF-8
        server.inject(b"just noise without any header\r\n\r\n")
        server.inject(b"Event: UserEvent\r\nX-Big: " + b"A" * (1024 * 1024) + b"\r\n\r\n")  # a 1 MB header line
        server.inject(b"Event: UserEvent\r\nCallerIDName: Jos\xc3")
        time.sleep(0.05)
        server.inject(b"\xa9\r\n\r\n")  # the rest of a character split across reads
        server.paused = False
        play_through(server, settings)
        assert service.client.stats.skipped >= 2 and service.client.stats.bad_utf8 >= 1
        assert service.client.stats.sessions == 1
    assert "oversized message" in caplog.text and "invalid UTF-8" in caplog.text
    assert "CallerIDName: José" in journal_files(settings.journal_path)[-1].read_text(encoding="utf-8")
    assert check_calls(stored_calls(settings)) == []


def test_events_lost_in_an_outage_never_double_count_or_vanish(tmp_path):
    """Like a real PBX, events during the outage are gone; calls spanning it are resynchronised, once."""
    server = AmiTestServer(EVENTS, speed=15).start()  # slower, so calls start before, during and after
    try:
        settings = settings_for(tmp_path, server.port)
        with running_collector(settings):
            server.wait_position(1000)
            server.hold = False  # from now on, what is played while nobody listens is gone
            server.refuse = 1
            server.drop_clients()
            gap_start = server.position
            wait_for(lambda: server.logins >= 2, timeout=20, what="re-login")
            gap_end = server.position
            play_through(server, settings, grace=1.5)
        rows = stored_calls(settings)
    finally:
        server.close()
    first, last = _call_span()
    by_caller = {}
    for r in rows:
        by_caller.setdefault(r["caller"], []).append(r)
    assert all(len(v) == 1 for v in by_caller.values()), "a call was stored twice"
    before = [gt for gt in inbound_truth() if last[gt["caller"]] < gap_start]
    after = [gt for gt in inbound_truth() if first[gt["caller"]] >= gap_end]
    spanning = [gt for gt in inbound_truth() if first[gt["caller"]] < gap_start <= last[gt["caller"]]]
    assert before and after and spanning
    assert check_calls(rows, before + after) == []
    assert all(gt["caller"] in by_caller for gt in spanning), "a call in flight at the outage was dropped"


def _call_span() -> tuple[dict[str, int], dict[str, int]]:
    """Index of each inbound call's first event and of its root channel's hang-up in the capture."""
    root_caller: dict[str, str] = {}
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, ev in enumerate(EVENTS):
        h = ev.headers
        lid = h.get("Linkedid", "")
        if h.get("Event") == "Newchannel" and h.get("Uniqueid") == lid:
            root_caller[lid] = ""
            first[lid] = i
        if h.get("Uniqueid") == lid and h.get("CallerIDNum", "").isdigit() and lid in root_caller:
            root_caller[lid] = h["CallerIDNum"]
        if h.get("Event") == "Hangup" and h.get("Uniqueid") == lid:
            last[lid] = i
    return {c: first[lid] for lid, c in root_caller.items()}, {c: last[lid] for lid, c in root_caller.items()}


def _collect(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CALLWATCH_AMI_SECRET": SECRET}
    cmd = [sys.executable, "-c", "from callwatch.cli import main; main()", "collect", "--config", str(config)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_sigkill_mid_stream_then_restart_loses_no_call_and_duplicates_none(server, tmp_path):
    """Killed while calls have ended but could not be stored (database locked): the journal brings them back."""
    settings = settings_for(tmp_path, server.port)
    config = tmp_path / "callwatch.yaml"
    config.write_text(
        f"database_url: {settings.database_url}\njournal_path: {settings.journal_path}\n"
        f"ami: {{port: {server.port}, idle_timeout_seconds: 1, ping_interval_seconds: 0.25,"
        " reconnect_max_seconds: 1}\n",
        encoding="utf-8",
    )
    first = _collect(config)
    server.wait_position(600)
    lock = sqlite3.connect(tmp_path / "callwatch.db", timeout=30)
    lock.execute("BEGIN EXCLUSIVE")  # the collector can journal but not store
    server.wait_position(1800)
    server.paused = True
    killed_at = server.position
    time.sleep(0.5)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    lock.rollback()
    lock.close()
    stored_before_restart = {r["caller"] for r in stored_calls(settings)}
    second = _collect(config)
    try:
        time.sleep(0.5)
        server.paused = False
        play_through(server, settings, grace=1.5)
    finally:
        second.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=20)[0].decode()
    assert second.returncode == 0, output
    assert "recovered" in output
    rows = stored_calls(settings)
    assert check_calls(rows) == []
    assert len(rows) == len({r["call_id"] for r in rows}) == 29
    # Calls that ended before the kill but could not be stored came back from the journal.
    _first, last = _call_span()
    ended_unstored = [c for c, i in last.items() if i < killed_at and c not in stored_before_restart]
    assert len(ended_unstored) >= 5
    assert set(ended_unstored) <= {r["caller"] for r in rows}
    # The journal, crash-cut line and restart included, rebuilds exactly the same calls.
    (tmp_path / "callwatch.db").unlink()
    replay = CliRunner().invoke(main, ["replay", "--config", str(config)])
    assert replay.exit_code == 0, replay.output
    assert stored_calls(settings) == rows


def test_a_locked_store_delays_writes_but_loses_nothing_and_keeps_the_link(server, tmp_path):
    """Storage stalls must not stall the AMI reader (Asterisk drops slow readers)."""
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        server.wait_position(800)
        lock = sqlite3.connect(tmp_path / "callwatch.db", timeout=30)
        lock.execute("BEGIN EXCLUSIVE")
        journal = journal_files(settings.journal_path)[-1]
        size = journal.stat().st_size
        server.wait_position(1400)
        assert journal.stat().st_size > size  # still reading and journaling while the store is stuck
        lock.rollback()
        lock.close()
        play_through(server, settings)
        assert service.client.stats.sessions == 1
    assert check_calls(stored_calls(settings)) == []


def test_sigterm_stops_cleanly_and_marks_the_heartbeat(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    config = tmp_path / "callwatch.yaml"
    config.write_text(
        f"database_url: {settings.database_url}\njournal_path: {settings.journal_path}\nami: {{port: {server.port}}}\n",
        encoding="utf-8",
    )
    proc = _collect(config)
    server.wait_position(400)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0, output
    assert "stopping" in output
    from callwatch import store

    beat = heartbeat_row(store.create_engine(settings.database_url), settings.site)
    assert beat["connected"] is False and beat["detail"] == "collector stopped"


def test_events_right_behind_the_login_answer_are_kept(tmp_path):
    """Asterisk may send events in the same TCP segment as the login answer."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    first_call = [ev.raw + b"\r\n\r\n" for ev in EVENTS if ev.headers.get("Linkedid") == "1795553420.422"]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.sendall(b"Asterisk Call Manager/13.0.0\r\n")
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        action_id = request.split(b"ActionID: ")[1].split(b"\r\n")[0]
        answer = b"Response: Success\r\nActionID: " + action_id + b"\r\nMessage: Authentication accepted\r\n\r\n"
        conn.sendall(answer + b"".join(first_call))  # one write: answer and events together
        time.sleep(3)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    settings = settings_for(tmp_path, port)
    with running_collector(settings):
        wait_for(lambda: stored_calls(settings), timeout=10, what="the first call stored")
    listener.close()
    (row,) = stored_calls(settings)
    assert row["caller"] == "6175550101" and row["outcome"] == "answered"
