"""50 front-desk screens polling the live page against the real dashboard server.

    .venv/bin/python bench/dashboard_load.py [--screens 50] [--seconds 60] [--days 28]

Starts `callwatch dashboard` (the real server, as installed) on 127.0.0.1 and
a free port, over a SQLite store holding the last `--days` days of a
10-office group from callwatch.sample.history (up to now, so "today" has calls), a few
calls ringing and a fresh heartbeat. Each simulated screen logs in once (all
logins done before the polling clock starts), then
does what the live page does in a browser: POST the refresh callback
(live-poll -> live-state, banner, today's numbers, last calls) every 2 s, for
one office. Screens are spread over the offices and start staggered, like
screens switched on at different moments.

Prints p50/p95/max latency and errors, and the ratio of the loaded p50/p95 to
the p50 of one screen alone measured first in the same run. Only loopback
traffic; the run is bounded by --seconds (plus a 10 s single-screen baseline).
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from werkzeug.security import generate_password_hash

from callwatch import store
from callwatch.sample import history

USER, PASSWORD = "bench", "bench-only-password"
POLL_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_store(folder: Path, days: int) -> tuple[str, list[str]]:
    url = f"sqlite:///{folder / 'callwatch.db'}"
    engine = store.create_engine(url)
    store.init_db(engine)
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
    offices = history.make_offices(10, start, end, seed=2)
    frame = history.generate_frame(offices, start, end, seed=2)
    now = datetime.now(UTC)
    frame = frame[frame["arrived_at"] <= now]
    store.save_calls(engine, history.iter_calls(frame), batch_size=20_000)
    live, beats = [], []
    for i, office in enumerate(offices):
        beats.append({"site": office.site, "last_event_at": now, "connected": True, "updated_at": now,
                      "detail": "bench"})
        for k in range(3):  # a few calls ringing or queued at every office
            t = now - timedelta(seconds=4 + 7 * k)
            live.append({"site": office.site, "call_id": f"live-{i}-{k}", "caller": f"+1617555{i:02d}{k:02d}",
                         "state": "queued" if k == 2 else "ringing", "ring_started_at": t, "arrived_at": t,
                         "location": "Reception", "queue": "reception" if k == 2 else None, "updated_at": now})
    store.upsert_rows(engine, store.live_calls, live, keys=("site", "call_id"))
    store.upsert_rows(engine, store.heartbeat, beats, keys=("site",))
    engine.dispose()
    print(f"store: {len(frame):,} calls of 10 offices over {days} days up to now; "
          f"{len(live)} calls ringing or queued", flush=True)
    return url, [o.site for o in offices]


def start_server(folder: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    config = folder / "callwatch.yaml"
    config.write_text(
        f"database_url: {url}\njournal_path: {folder / 'journal.log'}\n"
        f"dashboard:\n  host: 127.0.0.1\n  port: {port}\n  users:\n    {USER}: '{generate_password_hash(PASSWORD)}'\n"
    )
    exe = Path(sys.executable).with_name("callwatch")
    server = subprocess.Popen([str(exe), "dashboard", "--config", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("the dashboard did not start within 60 s")


def refresh_payload(site: str, n: int, seen: object = None) -> dict[str, object]:
    # live-seen: digests of the panels this screen shows, sent back as a browser
    # does, so the server leaves out the panels that did not change.
    outputs = [("live-state", "data"), ("live-banner", "children"), ("live-today", "children"),
               ("live-last", "children"), ("live-clock", "children"), ("live-seen", "data")]
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": "live-poll", "property": "n_intervals", "value": n}],
        "state": [{"id": "live-site", "property": "data", "value": site},
                  {"id": "live-seen", "property": "data", "value": seen}],
        "changedPropIds": ["live-poll.n_intervals"],
    }


def logged_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    session.post(f"{base}/login", data={"username": USER, "password": PASSWORD, "token": token, "next": "/live"},
                 timeout=10)
    return session


class Screen(threading.Thread):
    def __init__(self, base: str, site: str, offset: float, ready: threading.Barrier, clock: dict[str, float]) -> None:
        super().__init__(daemon=True)
        self.base, self.site, self.offset, self.ready, self.clock = base, site, offset, ready, clock
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        # Every screen logs in first; the polling clock starts once all have
        # (50 password checks at once are a morning's logins, not polling).
        try:
            session: requests.Session | None = logged_in(self.base)
        except (requests.RequestException, AttributeError) as exc:
            self.errors.append(f"login: {exc}")
            session = None
        self.ready.wait()
        if session is None:
            return
        self.until = self.clock["until"]
        next_at = self.clock["start"] + self.offset
        n = 0
        seen = None
        while True:
            time.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= self.until:
                return
            n += 1
            t0 = time.perf_counter()
            try:
                response = session.post(f"{self.base}/_dash-update-component", json=refresh_payload(self.site, n, seen),
                                        timeout=30)
                ok = response.status_code == 200 and '"live-state"' in response.text
                if not ok:
                    self.errors.append(f"HTTP {response.status_code}")
                else:
                    seen = response.json()["response"].get("live-seen", {}).get("data", seen)
            except requests.RequestException as exc:
                self.errors.append(type(exc).__name__)
            self.latencies.append(time.perf_counter() - t0)
            # Like dcc.Interval: the next poll is 2 s after this one was due, not after it returned.
            next_at += POLL_SECONDS
            if next_at < time.monotonic():
                next_at = time.monotonic()


def run_screens(base: str, sites: list[str], screens: int, seconds: float) -> tuple[list[float], list[str], float]:
    clock: dict[str, float] = {}

    def go() -> None:
        clock["start"] = time.monotonic()
        clock["until"] = clock["start"] + seconds

    ready = threading.Barrier(screens, action=go)
    threads = [Screen(base, sites[i % len(sites)], POLL_SECONDS * i / screens, ready, clock) for i in range(screens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    elapsed = time.monotonic() - clock["start"]
    return [x for t in threads for x in t.latencies], [e for t in threads for e in t.errors], elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, sites = build_store(folder, args.days)
        port = free_port()
        server = start_server(folder, url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            alone, alone_errors, _ = run_screens(base, sites, 1, 10.0)
            print(f"baseline, one screen for 10 s: {len(alone)} polls, p50 {1000 * statistics.median(alone):.0f} ms",
                  flush=True)
            latencies, errors, elapsed = run_screens(base, sites, args.screens, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=20)
    expected = args.screens * args.seconds / POLL_SECONDS
    p50_alone = statistics.median(alone)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(f"\n{args.screens} screens x refresh every {POLL_SECONDS:g} s for {args.seconds:g} s "
          f"({date.today()}, {len(sites)} offices, server: `callwatch dashboard`)")
    print(f"  polls answered: {len(latencies) - len(errors):,} of {len(latencies):,} sent "
          f"(a browser would send {expected:,.0f}); {len(latencies) / elapsed:.1f} polls/s")
    print(f"  errors: {len(errors)}" + (f" ({', '.join(sorted(set(errors)))})" if errors else ""))
    print(f"  latency p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms, max {1000 * max(latencies):.0f} ms")
    print(f"  ratio to one screen alone (p50 {1000 * p50_alone:.0f} ms): p50 {p50 / p50_alone:.1f}x, "
          f"p95 {p95 / p50_alone:.1f}x")
    print(f"  polls later than the next one was due (> {POLL_SECONDS:g} s): "
          f"{sum(x > POLL_SECONDS for x in latencies)}; baseline errors: {len(alone_errors)}")


if __name__ == "__main__":
    main()
