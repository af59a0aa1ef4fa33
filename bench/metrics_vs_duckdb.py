"""callwatch's weekly-report metrics vs one hand-written DuckDB query, on a year of 10 offices.

    .venv/bin/python bench/metrics_vs_duckdb.py [--scale 1.0] [--repeat 3]

The data: about 1,000,000 calls from callwatch.sample.history (seed 1), stored in SQLite
with store.save_calls (cached in bench/output/). callwatch computes the report's
numbers the way the report does: load_calls + prepare + summarize_by("week")
and summarize_by("site"). DuckDB computes the same numbers (counts, the four
rates, within-target rate, mean/median/p90 speed of answer in seconds and
rings) in one SQL query with GROUPING SETS over the same rows. The script
checks that both agree to 1e-9 and prints times as ratios measured in this run.

DuckDB cannot read the SQLite file here (its sqlite extension is downloaded on
demand), so it gets the data two ways, neither timed: the same in-memory frame
callwatch computes on (a zero-copy scan), and a native DuckDB table. The fair
comparison is compute against compute; loading from the store is shown apart.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import sqlalchemy as sa
from demo_data import END, START, sqlite_store, year_of_calls

from callwatch import store
from callwatch.metrics.frame import prepare
from callwatch.metrics.loader import load_calls
from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import summarize_rollup
from callwatch.metrics.rollup_store import load_rollups
from callwatch.metrics.summary import SUMMARY_KEYS, summarize_by

PARAMS = MetricParams()  # America/New_York, 6 s rings, 3-ring target, Mon-Fri 8-17


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def callwatch_numbers(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    prepared = prepare(frame, PARAMS)
    return summarize_by(prepared, PARAMS, "week"), summarize_by(prepared, PARAMS, "site")


def _business_sql(params: MetricParams) -> str:
    """The opening hours and holidays as one SQL condition on wd (0 = Monday), secs and day."""
    parts = []
    for wd, intervals in enumerate(params.business_hours):
        for opens, closes in intervals:
            lo = opens.hour * 3600 + opens.minute * 60 + opens.second
            hi = closes.hour * 3600 + closes.minute * 60 + closes.second
            parts.append(f"(wd = {wd} AND secs >= {lo} AND secs < {hi})")
    condition = "(" + (" OR ".join(parts) or "FALSE") + ")"
    if params.holidays:
        days = ", ".join(f"DATE '{d}'" for d in sorted(params.holidays))
        condition += f" AND day NOT IN ({days})"
    return condition


def duckdb_sql(params: MetricParams, table: str) -> str:
    us = 1_000_000
    short_us, target_us = round(params.short_abandon_seconds * us), round(params.target_seconds * us)
    cycle_us = round(params.ring_cycle_seconds * us)
    timed = "outcome = 'answered' AND ring_us IS NOT NULL"
    speed = []
    for unit, expr in (("s", "ring_us / 1e6"), ("rings", f"floor(ring_us / {cycle_us}) + 1")):
        speed += [
            f"avg({expr}) FILTER (WHERE {timed}) AS asa_mean_{unit}",
            f"quantile_cont({expr}, 0.5) FILTER (WHERE {timed}) AS asa_median_{unit}",
            f"quantile_cont({expr}, 0.9) FILTER (WHERE {timed}) AS asa_p90_{unit}",
        ]
    return f"""
    WITH local AS (
        SELECT site, outcome, timezone('{params.timezone}', arrived_at) AS ts,
               greatest(epoch_us(coalesce(answered_at, ring_ended_at, ended_at)) - epoch_us(ring_started_at), 0)
                   AS ring_us
        FROM {table}
        WHERE direction = 'inbound' AND outcome IS NOT NULL
    ), parts AS (
        SELECT site, outcome, ring_us, CAST(ts AS DATE) AS day, isodow(ts) - 1 AS wd,
               hour(ts) * 3600 + minute(ts) * 60 + second(ts) AS secs
        FROM local
    ), scoped AS (
        SELECT site, outcome, ring_us, date_trunc('week', day) AS week,
               outcome = 'abandoned' AND (ring_us IS NULL OR ring_us < {short_us}) AS short
        FROM parts WHERE {_business_sql(params)}
    ), counted AS (
        SELECT week, site,
            count(*) FILTER (WHERE NOT short) AS offered,
            count(*) FILTER (WHERE outcome = 'answered') AS answered,
            count(*) FILTER (WHERE outcome = 'voicemail') AS voicemail,
            count(*) FILTER (WHERE outcome = 'abandoned' AND NOT short) AS abandoned,
            count(*) FILTER (WHERE short) AS short_abandoned,
            count(*) FILTER (WHERE outcome = 'missed') AS missed,
            count(*) FILTER (WHERE outcome = 'answered' AND ring_us <= {target_us}) AS within_target,
            {", ".join(speed)}
        FROM scoped
        GROUP BY GROUPING SETS ((week), (site))
    )
    SELECT week, site, offered, answered, voicemail, abandoned, short_abandoned, missed,
        answered / nullif(offered, 0) AS answer_rate,
        voicemail / nullif(offered, 0) AS voicemail_rate,
        abandoned / nullif(offered, 0) AS abandonment_rate,
        missed / nullif(offered, 0) AS missed_rate,
        within_target / nullif(offered, 0) AS within_target_rate,
        asa_mean_s, asa_median_s, asa_p90_s, asa_mean_rings, asa_median_rings, asa_p90_rings
    FROM counted
    """


def agree(ours: pd.DataFrame, theirs: pd.DataFrame, key: str) -> int:
    """Assert every number matches; returns how many values were compared."""
    a = ours.set_index(key).sort_index()
    b = theirs.set_index(key).sort_index()
    assert list(a.index) == list(b.index), f"{key}: different groups"
    compared = 0
    for column in SUMMARY_KEYS:
        x = a[column].to_numpy(dtype="float64")
        y = b[column].to_numpy(dtype="float64")
        assert np.allclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True), f"{key}.{column}: {x[:3]} vs {y[:3]}"
        compared += len(x)
    return compared


# What persisted daily rollups give exactly (medians and p90 need the calls themselves).
ROLLUP_EXACT = tuple(k for k in SUMMARY_KEYS if "median" not in k and "p90" not in k)


def rollup_numbers(engine: sa.Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    # A caller who tries again, or a call-back, can land in the first days after the year.
    rollup = load_rollups(engine, PARAMS, start=START, end=END + timedelta(days=14))
    return summarize_rollup(rollup, "week"), summarize_rollup(rollup, "site")


def agree_exact(ours: pd.DataFrame, rolled: pd.DataFrame, key: str) -> int:
    a = ours.assign(**{key: ours[key].astype(str)}).set_index(key).sort_index()
    b = rolled.assign(**{key: rolled[key].astype(str)}).set_index(key).sort_index()
    assert list(a.index) == list(b.index), f"rollup {key}: different groups"
    for column in ROLLUP_EXACT:
        x, y = a[column].to_numpy(dtype="float64"), b[column].to_numpy(dtype="float64")
        assert np.allclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True), f"rollup {key}.{column}"
    return len(a) * len(ROLLUP_EXACT)


def duckdb_numbers(con: duckdb.DuckDBPyConnection, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = con.sql(duckdb_sql(PARAMS, table)).df()
    weeks = result[result["site"].isna()].drop(columns="site")
    weeks["week"] = pd.to_datetime(weeks["week"]).astype("datetime64[us]")
    sites = result[result["week"].isna()].drop(columns="week")
    return weeks, sites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = a year of 10 offices, about 1,000,000 calls")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per measurement")
    args = parser.parse_args()

    t0 = time.perf_counter()
    frame = year_of_calls(args.scale)
    print(f"data: {len(frame):,} calls, 10 offices, 2025 (callwatch.sample.history, seed 1), "
          f"generated in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPU cores")
    engine = store.create_engine(sqlite_store(frame, f"year-{len(frame)}-{len(frame.columns)}cols"))

    t_load, loaded = best_of(args.repeat, lambda: load_calls(engine))
    assert len(loaded) == len(frame)
    t_cw, (weeks, sites) = best_of(args.repeat, lambda: callwatch_numbers(loaded))

    con = duckdb.connect()
    con.register("calls_frame", loaded)
    con.execute("CREATE TABLE calls AS SELECT * FROM calls_frame")
    timings = {}
    for threads in (1, os.cpu_count() or 1):
        con.execute(f"SET threads = {threads}")
        for table in ("calls_frame", "calls"):
            timings[(table, threads)], (d_weeks, d_sites) = best_of(args.repeat, lambda t=table: duckdb_numbers(con, t))
            compared = agree(weeks, d_weeks, "week") + agree(sites, d_sites, "site")
    print(f"numbers agree: {compared:,} values ({len(weeks)} weeks + {len(sites)} offices x {len(SUMMARY_KEYS)})")

    with engine.begin() as conn:  # start without rollups, as a store written before they existed
        for table in (store.call_rollups, store.rollup_days):
            conn.execute(table.delete())
    t0 = time.perf_counter()
    rollup_numbers(engine)  # the first read computes and stores every day's rollup
    t_roll_first = time.perf_counter() - t0
    t_roll, (r_weeks, r_sites) = best_of(args.repeat, lambda: rollup_numbers(engine))
    exact = agree_exact(weeks, r_weeks, "week") + agree_exact(sites, r_sites, "site")
    print(f"persisted rollups agree on {exact:,} values (all but the medians and p90s, which need the calls)")

    duck_frame = timings[("calls_frame", 1)]
    print(f"\n{'step':66} {'seconds':>8} {'ratio':>7}")
    rows = [
        ("DuckDB query over the same frame, 1 thread (reference)", duck_frame),
        ("callwatch prepare + summarize_by week, site (1 thread)", t_cw),
    ]
    for threads in sorted({1, os.cpu_count() or 1}):
        rows.append((f"DuckDB query, native table, {threads} thread(s)", timings[("calls", threads)]))
        if threads > 1:
            rows.append((f"DuckDB query over the frame, {threads} threads", timings[("calls_frame", threads)]))
    rows += [
        ("callwatch load_calls from SQLite", t_load),
        ("callwatch load + prepare + summarize (end to end)", t_load + t_cw),
        ("callwatch first read of the year's daily rollups (computes them)", t_roll_first),
        ("callwatch load_rollups + summarize_rollup week, site (stored)", t_roll),
    ]
    for name, seconds in rows:
        print(f"{name:66} {seconds:8.2f} {seconds / duck_frame:6.2f}x")
    print(f"\ncompute ratio callwatch / DuckDB (same frame, 1 thread): {t_cw / duck_frame:.2f}x (goal <= 1.5x)")
    best_duck = min(timings.values())
    print(f"compute ratio callwatch / fastest DuckDB: {t_cw / best_duck:.2f}x")


if __name__ == "__main__":
    main()
