"""The real `callwatch collect` service against a real TCP AMI server replaying the set-A capture."""

from __future__ import annotations

import shutil
import time

from click.testing import CliRunner
from support.ami import (
    EVENTS,
    SET_A,
    check_calls,
    heartbeat_row,
    live_rows,
    play_through,
    running_collector,
    settings_for,
    stored_calls,
    wait_for,
)
from support.amiserver import AmiTestServer

from callwatch import store
from callwatch.cli import main
from callwatch.collector.ami.journal import journal_files


def test_collector_stores_every_inbound_call_right(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        play_through(server, settings)
        assert service.client.stats.sessions == 1
    rows = stored_calls(settings)
    assert check_calls(rows) == []
    assert [(r["direction"], r["caller"]) for r in rows if r["direction"] != "inbound"] == [("outbound", "95550999")]


def test_live_state_shows_calls_ringing_and_waiting_and_the_heartbeat(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    seen: set[tuple[str, str, str]] = set()
    beats = []
    with running_collector(settings) as service:
        while server.position < len(EVENTS):
            for row in live_rows(service.engine, settings.site):
                seen.add((row["caller"], row["state"], row["location"]))
            beats.append(heartbeat_row(service.engine, settings.site))
            time.sleep(0.05)
        time.sleep(1.0)
        assert live_rows(service.engine, settings.site) == []
        beat = heartbeat_row(service.engine, settings.site)
        assert beat["connected"] is True and beat["last_event_at"] is not None
    assert ("6175550101", "ringing", "101") in seen
    assert ("6175550114", "ringing", "101, 102") in seen
    assert ("6175550121", "queued", "frontdesk") in seen
    assert any(b and b["connected"] for b in beats)
    engine = store.create_engine(settings.database_url)
    beat = heartbeat_row(engine, settings.site)
    assert beat["connected"] is False and beat["detail"] == "collector stopped"


def test_quiet_period_longer_than_idle_timeout_keeps_the_link(tmp_path):
    """No events for 3x the idle timeout, pings answered: same session, events keep coming afterwards."""
    server = AmiTestServer(EVENTS, speed=30).start()
    try:
        settings = settings_for(tmp_path, server.port)
        with running_collector(settings) as service:
            server.wait_position(1200)
            server.paused = True
            time.sleep(3 * settings.ami.idle_timeout_seconds)
            assert service.client.connected
            server.paused = False
            play_through(server, settings)
            assert service.client.stats.sessions == 1
        assert check_calls(stored_calls(settings)) == []
    finally:
        server.close()


def test_replay_rebuilds_the_same_calls_from_the_journal(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings):
        play_through(server, settings)
    live_rows = stored_calls(settings)
    (tmp_path / "callwatch.db").unlink()
    config = tmp_path / "callwatch.yaml"
    config.write_text(
        f"database_url: {settings.database_url}\njournal_path: {settings.journal_path}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["replay", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "29 call(s) written" in result.output
    assert stored_calls(settings) == live_rows


def test_journal_holds_every_event_received(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings):
        play_through(server, settings)
    (journal,) = journal_files(settings.journal_path)
    text = journal.read_text(encoding="utf-8")
    assert text.count('"m":"Event: ') >= len(EVENTS)
    assert '"c":"connected"' in text and '"c":"disconnected"' in text


def test_tailing_imports_a_growing_cdr_log_on_schedule(server, tmp_path):
    log = tmp_path / "Master.csv"
    shutil.copy(SET_A / "Master.csv", log)
    tail = [{"path": str(log), "source": "cdr-csv", "interval_seconds": 0.5}]
    settings = settings_for(tmp_path, server.port, tail=tail)
    with running_collector(settings) as service:
        engine = service.engine

        def imported() -> bool:
            with engine.connect() as conn:
                return bool(conn.execute(store.import_state.select()).first())

        wait_for(imported, timeout=20, what="the tail job to import Master.csv")
    rows = stored_calls(settings)
    assert rows and {r["source"] for r in rows} <= {"cdr-csv", "ami"}


def test_collect_without_secret_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("CALLWATCH_AMI_SECRET", raising=False)
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'db.sqlite'}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["collect", "--config", str(config)])
    assert result.exit_code == 2
    assert "CALLWATCH_AMI_SECRET" in result.output


def test_service_stops_promptly_when_asked(server, tmp_path):
    settings = settings_for(tmp_path, server.port)
    with running_collector(settings) as service:
        server.wait_position(300)
        t0 = time.monotonic()
        service.stop()
    assert time.monotonic() - t0 < 5


def test_the_service_schedules_tailing_and_the_weekly_report(tmp_path):
    settings = settings_for(
        tmp_path,
        1,
        tail=[{"path": str(tmp_path / "Master.csv"), "interval_seconds": 60}],
        report={"recipients": ["manager@example.org"], "out_dir": str(tmp_path / "reports")},
    )
    from callwatch.cli.collect import start_scheduler

    scheduler = start_scheduler(settings, store.open_store(settings.database_url))
    assert scheduler is not None
    try:
        ids = sorted(job.id for job in scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=True)
    assert ids == ["alerts", "tail-0", "weekly-report-catch-up:main-office", "weekly-report:main-office"]
