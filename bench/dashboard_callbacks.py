"""How long the Trends page takes for a year of a 10-office group (1,000,000 calls in SQLite).

Times the trends callback body called directly (90 days, read call by call;
a year, from the per-day rollups persisted in the store) and the full HTTP
round trip through Dash's /_dash-update-component (login, JSON, figure
serialisation). "Cold" is a fresh process and a fresh app (a gunicorn worker
just started): its first year view reads the persisted rollups, no call.
Each is printed with its ratio to a reference measured in the same run: a
plain pandas read of the same year from the same database (`pd.read_sql`),
the least any view reading every call could cost.

Filling the rollups of a store that has none (a store older than rollups;
this bench writes its calls without save_calls) is timed once, as its own
line: writers normally pay it a day at a time (callwatch import, collect, demo).

Run: .venv/bin/python bench/dashboard_callbacks.py [N]   (the store is built
once in bench/output/ and reused; building 1,000,000 calls takes a few minutes)
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from werkzeug.security import generate_password_hash

from callwatch import store
from callwatch.config.settings import Settings
from callwatch.dashboard import data
from callwatch.dashboard.app import create_app
from callwatch.metrics import rollup_store
from callwatch.sample import history

OUT = Path(__file__).resolve().parent / "output"
FIRST, LAST = date(2025, 11, 3), date(2026, 11, 1)  # one year, local dates, both included
PASSWORD = "bench-only"


def build_store(path: Path, n: int) -> None:
    """n generated calls (10 offices, one year) in a fresh SQLite store, unless already there."""
    if path.exists():
        with sqlite3.connect(path) as conn:
            if conn.execute("select count(*) from calls").fetchone()[0] > 0:
                return
        path.unlink()
    per_day = 316 * n / 1_000_000  # 316 calls on a Wednesday per office gives about a million a year
    offices = history.make_offices(10, FIRST, LAST + timedelta(days=1), 5, calls_per_day=per_day)
    frame = history.generate_frame(offices, FIRST, LAST + timedelta(days=1), 5)
    frame = frame.iloc[:n] if len(frame) >= n else frame
    engine = store.create_engine(f"sqlite:///{path}")
    store.init_db(engine)
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for row in history.frame_rows(frame):
        batch.append(row)
        if len(batch) == 50_000:
            store.upsert_rows(engine, store.calls, batch, keys=("site", "call_id"))
            batch = []
    store.upsert_rows(engine, store.calls, batch, keys=("site", "call_id"))
    print(f"built {len(frame):,} calls in {time.perf_counter() - started:.0f} s -> {path}")


def best_of(runs: int, func: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def trends_payload(granularity: str, site: str | None) -> dict[str, Any]:
    """The JSON the browser posts when the Trends filters change."""
    inputs = [
        {"id": "trends-range", "property": "start_date", "value": FIRST.isoformat()},
        {"id": "trends-range", "property": "end_date", "value": LAST.isoformat()},
        {"id": "trends-site", "property": "value", "value": site},
        {"id": "trends-queue", "property": "value", "value": None},
        {"id": "trends-granularity", "property": "value", "value": granularity},
    ]
    return {"output": "trends-body.children", "outputs": {"id": "trends-body", "property": "children"},
            "inputs": inputs, "changedPropIds": ["trends-granularity.value"], "state": []}


def bench_settings(db: Path) -> Settings:
    return Settings.model_validate({
        "database_url": f"sqlite:///{db}",
        "journal_path": str(OUT / "journal.log"),
        "dashboard": {"users": {"bench": generate_password_hash(PASSWORD)}},
        "trainings": [{"date": "2026-05-04", "title": "Phone manner"}],
    })


def logged_in_app(db: Path) -> tuple[Any, Any]:
    app = create_app(bench_settings(db))
    client = app.server.test_client()
    token = re.search(r'name="token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "bench", "password": PASSWORD, "token": token})
    return app, client


def cold_child(db: Path) -> None:
    """In a fresh process: the first year views of a fresh app, as a new gunicorn worker serves them."""
    times: dict[str, float] = {}
    started = time.perf_counter()
    app, client = logged_in_app(db)
    times["app"] = time.perf_counter() - started
    from callwatch.dashboard.pages import trends  # registers its page: only once an app exists
    ctx = app.server.extensions["callwatch"]
    with app.server.test_request_context():
        times["body_cold"] = best_of(1, lambda: trends.body(ctx, data.Range(FIRST, LAST), "day"))
        times["body_warm"] = best_of(3, lambda: trends.body(ctx, data.Range(FIRST, LAST), "day"))
    times["http_cold"] = best_of(1, lambda: client.post("/_dash-update-component", json=trends_payload("week", None)))
    print(json.dumps(times))


def main(n: int) -> None:
    OUT.mkdir(exist_ok=True)
    db = OUT / f"dashboard-{n}.db"
    build_store(db, n)
    app, client = logged_in_app(db)
    ctx = app.server.extensions["callwatch"]
    rng = data.Range(FIRST, LAST)
    start, end = rng.utc_bounds(ctx.params)
    from callwatch.dashboard.pages import trends

    def reference() -> pd.DataFrame:
        with sqlite3.connect(db) as conn:
            return pd.read_sql("select * from calls where arrived_at >= ? and arrived_at < ?", conn,
                               params=(start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")))

    rows = len(reference())
    ref = best_of(2, reference)
    print(f"{rows:,} calls in the year; reference pd.read_sql of the same range: {ref:.2f} s")
    print(f"{'step':62} {'seconds':>8} {'x reference':>12}")

    def show(label: str, seconds: float) -> None:
        print(f"{label:62} {seconds:8.2f} {seconds / ref:12.2f}")

    ninety = data.Range(LAST - timedelta(days=89), LAST)
    fill = best_of(1, lambda: rollup_store.ensure_rollups(ctx.engine, ctx.params, None, FIRST, LAST))
    show("fill persisted rollups for the year (0 when already there)", fill)
    child = subprocess.run([sys.executable, __file__, "--cold", str(db)], capture_output=True, text=True, check=True)
    cold = json.loads(child.stdout.strip().splitlines()[-1])
    show("fresh process: create app + log in", cold["app"])
    show("fresh process: trends body, year, per day, all sites, first", cold["body_cold"])
    show("fresh process: trends body, year, per day, all sites, again", cold["body_warm"])
    show("fresh process: HTTP year per week, all sites, first", cold["http_cold"])
    with app.server.test_request_context():
        show("load_calls + prepare, whole year, all sites", best_of(1, lambda: data.prepared_calls(ctx, rng)))
        show("trends body, 90 days, per day, all sites (every call)", best_of(2, lambda: trends.body(ctx, ninety,
                                                                                                  "day")))
        show("trends body, year, per day, all sites", best_of(3, lambda: trends.body(ctx, rng, "day")))
        show("trends body, year, per week, all sites", best_of(3, lambda: trends.body(ctx, rng, "week")))
        one = data.Range(FIRST, LAST, "main-office")
        show("trends body, year, per day, one site", best_of(3, lambda: trends.body(ctx, one, "day")))

        def after_a_write() -> None:  # an old day's calls changed: the next view recomputes that day only
            old = FIRST + timedelta(days=100)
            store.upsert_rows(ctx.engine, store.rollup_dirty, [{"site": "main-office", "day": old,
                                                                "marked_at": datetime.now(UTC)}], keys=("site", "day"))
            trends.body(ctx, rng, "day")

        show("trends body, year, per day, after a write to an old day", best_of(3, after_a_write))
    for granularity, site in (("day", None), ("week", None), ("day", "main-office")):
        payload = trends_payload(granularity, site)

        def post(payload: dict[str, Any] = payload) -> None:
            response = client.post("/_dash-update-component", json=payload)
            assert response.status_code == 200, response.status_code

        show(f"HTTP /_dash-update-component, year, per {granularity}, {site or 'all sites'}", best_of(3, post))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cold"]:
        cold_child(Path(sys.argv[2]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
