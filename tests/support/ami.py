"""Shared by the tests/test_ami_*.py files: the real capture, its ground truth, a collector to run."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from callwatch import store
from callwatch.cli.collect import make_service, run_collector
from callwatch.collector.ami.service import CollectorService
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.config import Settings
from support.amiserver import AmiTestServer, Captured, load_capture
from support.data import SET_A, ground_truth
from support.settings import make_settings

SECRET = "s3cret"
EVENTS: list[Captured] = load_capture(SET_A)


def inbound_truth() -> list[dict[str, str]]:
    return [row for row in ground_truth() if row["outcome"] != "outbound"]


def _caller_timer_lag() -> dict[str, float]:
    """Seconds between the simulated caller answering and starting its hang-up timer.

    The scenarios hang the caller up with Set(TIMEOUT(absolute)=N) on the PSTN
    side; in two of them that Set ran 0.5 s after the Answer (visible in the
    capture), so the caller really rang 0.5 s longer than the nominal figure.
    """
    answered: dict[str, float] = {}
    lag: dict[str, float] = {}
    caller_of: dict[str, str] = {}
    for ev in EVENTS:
        h = ev.headers
        if not h.get("Channel", "").startswith("Local/caller@pstn") or not h.get("Channel", "").endswith(";2"):
            continue
        lid = h.get("Linkedid", "")
        if h.get("CallerIDNum", "").isdigit():
            caller_of[lid] = h["CallerIDNum"]
        if h.get("Event") == "Newexten" and h.get("Application") == "Answer":
            answered[lid] = float(h["Timestamp"])
        if h.get("Event") == "Newexten" and h.get("AppData", "").startswith("TIMEOUT(absolute)") and lid in answered:
            lag[caller_of.get(lid, lid)] = float(h["Timestamp"]) - answered[lid]
    return lag


TIMER_LAG = _caller_timer_lag()


def expected_ring(row: dict[str, str]) -> float | None:
    """Ground-truth ring seconds; for callers who hung up themselves, corrected by the timer lag."""
    if not row["ring"] or row["ring"] == "0":
        return None
    ring = float(row["ring"])
    if row["outcome"] == "abandoned":
        ring += TIMER_LAG.get(row["caller"], 0.0)
    return ring


def check_calls(rows: list[dict[str, Any]], truth: list[dict[str, str]] | None = None) -> list[str]:
    """Every problem between stored calls and the ground truth, in words (empty list = all right)."""
    truth = inbound_truth() if truth is None else truth
    problems = []
    for gt in truth:
        mine = [r for r in rows if r["caller"] == gt["caller"] and r["direction"] == "inbound"]
        if len(mine) != 1:
            problems.append(f"{gt['name']}: {len(mine)} stored inbound calls, expected 1")
            continue
        call = mine[0]
        if call["outcome"] != gt["outcome"]:
            problems.append(f"{gt['name']}: outcome {call['outcome']}, expected {gt['outcome']}")
        if gt["answered_by"] and call["answered_by"] not in gt["answered_by"].split("|"):
            problems.append(f"{gt['name']}: answered_by {call['answered_by']}, expected {gt['answered_by']}")
        if gt["outcome"] == "voicemail":
            left = float(gt["voicemail_seconds"]) >= 8
            if call["left_message"] is not left:
                problems.append(f"{gt['name']}: left_message {call['left_message']}, expected {left}")
        ring = expected_ring(gt)
        stop = call["answered_at"] or call.get("ring_ended_at") or call["ended_at"]
        got = None if call["ring_started_at"] is None else (stop - call["ring_started_at"]).total_seconds()
        if ring is None:
            if got is not None:
                problems.append(f"{gt['name']}: rang {got:.2f} s, expected never to ring")
        elif got is None or abs(got - ring) > 0.5:
            problems.append(f"{gt['name']}: ring {got} s, expected {ring:.2f}")
        if call["ring_started_at"] is not None and gt["pre_ring"]:
            pre = (call["ring_started_at"] - call["arrived_at"]).total_seconds()
            if abs(pre - float(gt["pre_ring"])) > 0.5:
                problems.append(f"{gt['name']}: pre-ring {pre:.2f} s, expected {gt['pre_ring']}")
    return problems


def first_ringing_position(settings: Settings) -> int:
    """How many events of the replay bring an inbound call to ringing, in the collector's own tracker:
    a replay paused there has a call ringing for as long as the pause lasts."""
    tracker = AmiTracker(settings)
    for i, ev in enumerate(EVENTS):
        tracker.feed(ev.headers, ev.t)
        if any(c.state == "ringing" for c in tracker.live()):
            return i + 1
    raise AssertionError("no inbound call rings in the replay")


def settings_for(tmp_path: Path, port: int, **extra: Any) -> Settings:
    """Short timeouts so faults are noticed within a few seconds (with room for a busy CI machine)."""
    ami = {"port": port, "idle_timeout_seconds": 2.0, "ping_interval_seconds": 0.25, "reconnect_max_seconds": 1.0}
    ami.update(extra.pop("ami", {}))
    return make_settings(tmp_path, journal_path=str(tmp_path / "journal" / "ami-journal.log"), ami=ami, **extra)


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_collector(settings: Settings) -> Iterator[CollectorService]:
    """The real service in a thread; stopped (as SIGTERM would) when the block ends."""
    service = make_service(settings, SECRET)
    thread = threading.Thread(target=run_collector, args=(service,), name="collector", daemon=True)
    thread.start()
    service.ready.wait(10)
    try:
        yield service
    finally:
        service.stop()
        thread.join(20)
        assert not thread.is_alive(), "collector did not stop within 20 s"


def live_rows(engine: sa.Engine, site: str) -> list[Any]:
    """The live_calls rows of `site`: a plain read (metrics.loader.load_live builds frames), polled every 50 ms."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(store.live_calls).where(store.live_calls.c.site == site)).mappings())


def heartbeat_row(engine: sa.Engine, site: str) -> dict[str, Any] | None:
    """The heartbeat row of `site`, None before the collector wrote one."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.heartbeat).where(store.heartbeat.c.site == site)).mappings().first()
    return dict(row) if row else None


def stored_calls(settings: Settings) -> list[dict[str, Any]]:
    engine = store.create_engine(settings.database_url)
    try:
        return store.select_calls(engine, site=settings.site)
    finally:
        engine.dispose()


def play_through(server: AmiTestServer, settings: Settings, grace: float = 1.0) -> None:
    """Wait until the server has played everything and the collector had time to store it."""
    server.wait_done(timeout=120)
    time.sleep(grace)


@pytest.fixture
def server() -> Iterator[AmiTestServer]:
    """A test AMI server replaying the set-A capture 30 times faster than it was recorded."""
    srv = AmiTestServer(EVENTS, speed=30).start()
    yield srv
    srv.close()
