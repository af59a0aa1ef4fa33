"""The benchmarks' data: a year of a 10-office group (about 1,000,000 calls) from callwatch.sample.history.

Generated once per run from a fixed seed; the SQLite store of it is cached in
bench/output/ (keyed by size and seed) because writing a million calls through
store.save_calls takes a minute and is not what most benchmarks measure.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callwatch import store
from callwatch.sample import history

OUTPUT = Path(__file__).resolve().parent / "output"
START, END = date(2025, 1, 1), date(2026, 1, 1)
OFFICES = 10
# Wednesday volume per office that makes a year of 10 offices about 1,000,000 calls
# (inbound on weekdays and the after-hours trickle, plus the outbound call-backs).
CALLS_PER_DAY = 308.0


def year_of_calls(scale: float = 1.0, seed: int = 1) -> pd.DataFrame:
    offices = history.make_offices(OFFICES, START, END, seed, calls_per_day=CALLS_PER_DAY * scale)
    return history.generate_frame(offices, START, END, seed)


def sqlite_store(frame: pd.DataFrame, name: str) -> str:
    """A SQLite store holding `frame` (written once with store.save_calls, then reused); returns its URL."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.db"
    done = OUTPUT / f"{name}.done"
    url = f"sqlite:///{path}"
    if not done.exists():
        path.unlink(missing_ok=True)
        engine = store.create_engine(url)
        store.init_db(engine)
        t0 = time.perf_counter()
        store.save_calls(engine, history.iter_calls(frame), batch_size=20_000)
        seconds = time.perf_counter() - t0
        print(f"  (wrote {len(frame):,} calls to {path.name} with store.save_calls in {seconds:.1f} s, "
              f"{len(frame) / seconds:,.0f} calls/s; cached for the next run)")
        engine.dispose()
        done.write_text(str(len(frame)))
    else:
        engine = store.create_engine(url)
        store.init_db(engine)  # a store cached by an older callwatch is migrated like any other
        engine.dispose()
    return url
