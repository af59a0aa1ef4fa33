"""Issue 13 goals 1 and 5 on PostgreSQL: `callwatch metrics` for a year against PostgreSQL's own aggregate.

Starts a throwaway PostgreSQL cluster (tests/support/pg.py), writes a year of a
10-office group (bench/demo_data.py, ~1,000,000 calls; --scale for more or
less) with store.save_calls, then times in child processes, best of 3:
- reference: PostgreSQL's own query of the year's headline counts (inbound
  calls by outcome, left messages, summed ring time) on the same database;
- callwatch: metrics.in_database.database_numbers (what `callwatch metrics` runs),
  overall and --by site;
and prints the ratios and the client's peak RSS. Run:
`nice -n 10 .venv/bin/python bench/metrics_in_database_pg.py [--scale 1.0]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))  # tests/support/pg.py starts the cluster

FIRST, LAST = date(2025, 1, 1), date(2025, 12, 31)
REFERENCE = (
    "SELECT outcome, COUNT(*), SUM(CASE WHEN left_message THEN 1 ELSE 0 END),"
    " SUM(EXTRACT(EPOCH FROM COALESCE(answered_at, ring_ended_at, ended_at) - ring_started_at))"
    " FROM calls WHERE arrived_at >= :start AND arrived_at < :end AND direction = 'inbound' GROUP BY outcome"
)


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def child(url: str, what: str) -> None:
    import sqlalchemy as sa

    from callwatch import store
    from callwatch.metrics.hours import local_day_bounds
    from callwatch.metrics.in_database import database_numbers
    from callwatch.metrics.params import MetricParams

    params = MetricParams()
    start, end = local_day_bounds(params, FIRST, LAST)
    engine = store.create_engine(url)
    with engine.connect() as conn:  # connect before the clock starts, as for the reference
        conn.execute(sa.text("SELECT 1"))
    t0 = time.perf_counter()
    if what == "reference":
        with engine.connect() as conn:
            bounds = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}  # stored naive UTC
            conn.execute(sa.text(REFERENCE), bounds).all()
    else:
        database_numbers(engine, params, start, end, None, "site" if what == "by-site" else None)
    print(json.dumps({"seconds": time.perf_counter() - t0, "rss_mb": peak_rss_mb()}))


def best(url: str, what: str, repeat: int = 3) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", url, what], check=True, capture_output=True,
                             text=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"seconds": min(r["seconds"] for r in runs), "rss_mb": max(r["rss_mb"] for r in runs)}


def main(scale: float) -> None:
    import sqlalchemy as sa
    from demo_data import year_of_calls
    from support.pg import postgres_cluster

    from callwatch import store
    from callwatch.sample import history

    with postgres_cluster() as cluster:
        url = cluster.database("bench")
        engine = store.create_engine(url)
        store.init_db(engine)
        frame = year_of_calls(scale)
        calls = len(frame)
        t0 = time.perf_counter()
        store.save_calls(engine, history.iter_calls(frame), batch_size=20_000)
        del frame
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE calls"))
            conn.commit()
        print(f"wrote {calls:,} calls to PostgreSQL in {time.perf_counter() - t0:.0f} s")
        ref = best(url, "reference")
        print(f"{'what':<12} {'seconds':>8} {'x ref':>6} {'client peak RSS MB':>19}")
        for what in ("reference", "callwatch", "by-site"):
            got = ref if what == "reference" else best(url, what)
            print(f"{what:<12} {got['seconds']:>8.2f} {got['seconds'] / ref['seconds']:>6.1f} {got['rss_mb']:>19.0f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        parser = argparse.ArgumentParser()
        parser.add_argument("--scale", type=float, default=1.0, help="1.0 = a year of ~1,000,000 calls")
        main(parser.parse_args().scale)
