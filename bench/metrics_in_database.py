"""Issue 13 goals 1 and 2: `callwatch metrics` for a year, against SQLite's own aggregate on the same file.

For a year of ~100,000 and of ~1,000,000 calls (bench/demo_data.py, cached in
bench/output/), each in its own child process so peak RSS is that run's own:
- reference: SQLite's own query of the year's headline counts (inbound calls
  by outcome, left messages, summed ring time) on the same file;
- callwatch: metrics.in_database.database_numbers, what `callwatch metrics` runs;
- before: the plain pandas path (load_calls + prepare + summarize), for scale.
Prints seconds, the ratio to the reference, and each child's peak RSS; then
RSS(1M) / RSS(100k). Run with `nice -n 10 .venv/bin/python bench/metrics_in_database.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

FIRST, LAST = date(2025, 1, 1), date(2025, 12, 31)
REFERENCE = (
    "SELECT outcome, COUNT(*), SUM(left_message),"
    " SUM(unixepoch(substr(COALESCE(answered_at, ring_ended_at, ended_at), 1, 19))"
    " - unixepoch(substr(ring_started_at, 1, 19)))"
    " FROM calls WHERE arrived_at >= ? AND arrived_at < ? AND direction = 'inbound' GROUP BY outcome"
)


def child(url: str, what: str) -> None:
    """Time one thing in this process and print it as JSON with this process's peak RSS."""
    import sqlite3

    from callwatch import store
    from callwatch.metrics.frame import prepare
    from callwatch.metrics.hours import local_day_bounds
    from callwatch.metrics.in_database import database_numbers
    from callwatch.metrics.loader import load_calls
    from callwatch.metrics.params import MetricParams
    from callwatch.metrics.summary import after_hours_counts, summarize

    params = MetricParams()
    start, end = local_day_bounds(params, FIRST, LAST)
    assert start is not None and end is not None
    engine = store.create_engine(url)
    with engine.connect() as conn:  # open the file before the clock starts, as sqlite3.connect does
        conn.exec_driver_sql("SELECT 1")
    t0 = time.perf_counter()
    if what == "reference":
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        con.execute(REFERENCE, (start.strftime(fmt), end.strftime(fmt))).fetchall()
    elif what == "callwatch":
        database_numbers(engine, params, start, end, None)
    else:
        prepared = prepare(load_calls(engine, start=start, end=end), params)
        summarize(prepared, params)
        after_hours_counts(prepared)
    seconds = time.perf_counter() - t0
    # VmHWM, not getrusage's ru_maxrss: that one survives exec and would
    # report the parent's peak (it held the generated calls).
    status = Path("/proc/self/status").read_text()
    rss_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb}))


def run(url: str, what: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", url, what], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(url: str, what: str, repeat: int) -> dict[str, float]:
    runs = [run(url, what) for _ in range(repeat)]
    return {"seconds": min(r["seconds"] for r in runs), "rss_mb": max(r["rss_mb"] for r in runs)}


def whole_seconds_copy(url: str) -> str:
    """The same store with every time cut to the whole second, as Master.csv and most exports have them."""
    source = Path(url.removeprefix("sqlite:///"))
    target = source.with_name(source.stem + "-whole-seconds.db")
    done = target.with_suffix(".ring-us.done")  # made before calls.ring_us: made again
    if not done.exists():
        import shutil
        import sqlite3

        shutil.copyfile(source, target)
        con = sqlite3.connect(target)
        columns = ("arrived_at", "ring_started_at", "answered_at", "ring_ended_at", "ended_at")
        con.execute("UPDATE calls SET " + ", ".join(f"{c} = substr({c}, 1, 19) || '.000000'" for c in columns))
        # calls.ring_us is derived from those times: whole seconds now, as save_calls would store them.
        stop = "COALESCE(answered_at, ring_ended_at, ended_at)"
        con.execute(f"UPDATE calls SET ring_us = MAX(unixepoch({stop}) - unixepoch(ring_started_at), 0) * 1000000"
                    f" WHERE ring_started_at IS NOT NULL AND {stop} IS NOT NULL")
        con.commit()
        con.close()
        done.write_text("1")
    return f"sqlite:///{target}"


def main() -> None:
    from demo_data import sqlite_store, year_of_calls

    repeat = 3
    rss = {}
    print(f"{'calls':>10} {'ring times':<10} {'what':<10} {'seconds':>8} {'x ref':>6} {'peak RSS MB':>12}")
    for scale in (0.1, 1.0):
        frame = year_of_calls(scale)
        calls = len(frame)
        url = sqlite_store(frame, f"scale-year-{scale:g}")
        del frame
        for resolution, path in (("µs (AMI)", url), ("whole s", whole_seconds_copy(url) if scale == 1.0 else None)):
            if path is None:
                continue
            ref = best(path, "reference", repeat)
            for what in ("reference", "callwatch", "pandas"):
                if what == "pandas" and resolution != "µs (AMI)":
                    continue
                got = ref if what == "reference" else best(path, what, 1 if what == "pandas" else repeat)
                print(f"{calls:>10,} {resolution:<10} {what:<10} {got['seconds']:>8.2f}"
                      f" {got['seconds'] / ref['seconds']:>6.1f} {got['rss_mb']:>12.0f}")
                if what == "callwatch" and resolution == "µs (AMI)":
                    rss[scale] = got["rss_mb"]
    print(f"peak RSS of callwatch, 1M / 100k calls: {rss[1.0] / rss[0.1]:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
