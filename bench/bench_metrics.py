"""How long the metrics take on a year of a 10-office group (1,000,000 calls).

Prints each step's time as a ratio to a reference measured in the same run
(a plain groupby-count over the same frame), so the numbers compare across
machines. Run: .venv/bin/python bench/bench_metrics.py [N]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from callwatch.metrics.follow_ups import awaiting_follow_up, follow_ups
from callwatch.metrics.frame import prepare
from callwatch.metrics.loader import calls_frame
from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import daily_rollup, summarize_rollup
from callwatch.metrics.summary import summarize, summarize_by


def synthetic_calls(n: int, seed: int = 7) -> pd.DataFrame:
    """n calls over 2026 across 10 sites, 8 % outbound, business-hours heavy."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-01", tz="UTC").as_unit("us")
    arrived = start + pd.to_timedelta(np.sort(rng.integers(0, 365 * 86400, n)), unit="s")
    ring_start = arrived + pd.to_timedelta(rng.integers(0, 8, n), unit="s")
    ring = pd.to_timedelta(rng.gamma(2.0, 6.0, n).round(3), unit="s")
    outcome = rng.choice(["answered", "voicemail", "abandoned", "missed"], n, p=[0.8, 0.1, 0.08, 0.02])
    answered = pd.Series(ring_start + ring).where(outcome == "answered")
    ended = pd.Series(ring_start + ring) + pd.to_timedelta(rng.integers(10, 600, n), unit="s")
    frame = pd.DataFrame({
        "call_id": np.char.add("c", np.arange(n).astype(str)),
        "site": np.char.add("office-", rng.integers(0, 10, n).astype(str)),
        "direction": rng.choice(["inbound", "outbound"], n, p=[0.92, 0.08]),
        "caller": np.char.add("617555", rng.integers(0, 200_000, n).astype(str)),
        "arrived_at": arrived, "ended_at": ended, "outcome": outcome,
        "ring_started_at": ring_start, "answered_at": answered,
        "answered_by": rng.choice(["101", "102", "103", "104"], n),
        "queue": rng.choice(["front", "billing", None], n),
        "left_message": None, "source": "ami",
    })
    return calls_frame(frame.to_dict("records")) if n < 1000 else _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in ("call_id", "site", "direction", "caller", "outcome", "answered_by", "queue", "source"):
        frame[name] = frame[name].astype("str")
    for name in ("arrived_at", "ended_at", "ring_started_at", "answered_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
    frame["left_message"] = frame["left_message"].astype("boolean")
    return frame


def timed(label: str, func: Callable[[], Any], reference: float) -> Any:
    began = time.perf_counter()
    result = func()
    took = time.perf_counter() - began
    print(f"{label:<28} {took / reference:8.1f} x reference   ({took:.2f} s here)")
    return result


def bench_loader(calls: pd.DataFrame) -> None:
    """load_calls from a real SQLite file against a bare sqlite3 fetchall of the same rows."""
    import sqlite3
    import tempfile
    from pathlib import Path

    import sqlalchemy as sa

    from callwatch import store
    from callwatch.metrics.loader import load_calls

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        engine = store.create_engine(f"sqlite:///{path}")
        store.init_db(engine)
        rows = calls.astype(object).where(calls.notna(), None).to_dict("records")
        for row in rows:
            for name in ("arrived_at", "ended_at", "ring_started_at", "answered_at"):
                if row[name] is not None:
                    row[name] = row[name].to_pydatetime()
        with engine.begin() as conn:
            conn.execute(sa.insert(store.calls), rows)
        began = time.perf_counter()
        with sqlite3.connect(path) as raw:
            raw.execute("SELECT * FROM calls ORDER BY arrived_at").fetchall()
        reference = time.perf_counter() - began
        print(f"{len(calls):,} calls in SQLite; reference = sqlite3 fetchall of the table")
        timed("load_calls", lambda: load_calls(engine), reference)
        engine.dispose()


def main(n: int) -> None:
    params = MetricParams()
    calls = synthetic_calls(n)
    began = time.perf_counter()
    calls.groupby(["site", "outcome"]).size()
    reference = time.perf_counter() - began
    print(f"{n:,} calls; reference = groupby(site, outcome).size() on the raw frame")
    prepared = timed("prepare", lambda: prepare(calls, params), reference)
    timed("summarize", lambda: summarize(prepared, params), reference)
    for by in ("day", "week", "weekday_hour", "staff", "queue", "site"):
        timed(f"summarize_by {by}", lambda by=by: summarize_by(prepared, params, by), reference)
    rollup = timed("daily_rollup", lambda: daily_rollup(prepared, params), reference)
    timed("summarize_rollup week", lambda: summarize_rollup(rollup, "week"), reference)
    timed("follow_ups", lambda: follow_ups(prepared, params), reference)
    now = prepared["arrived_at"].max().to_pydatetime()
    timed("awaiting_follow_up", lambda: awaiting_follow_up(prepared, params, now), reference)
    print(f"rollup rows: {len(rollup):,}")
    bench_loader(calls.iloc[: min(n, 200_000)])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
