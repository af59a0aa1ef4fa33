"""How fast `callwatch import` reads a 1,000,000-row Master.csv into SQLite.

Generates the file in a temporary folder with the sample generator (the
set-A structure: Local channel pairs, ring groups, a queue, voicemail), then
times each stage against references measured in the same run on the same
file: Python's csv module merely reading it, and DuckDB's read_csv counting
it. Prints rows/second and the ratios, plus peak memory (the grouping buffer
is bounded, so memory does not grow with the file: compare a smaller ROWS).
Run: .venv/bin/python bench/import_master_csv.py [ROWS]
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from callwatch.collector.reconstruct.cdr import CallContext, CdrGrouper, call_from_rows
from callwatch.collector.sources import LineCursor
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser
from callwatch.config import Settings


def make_file(folder: Path, rows: int) -> Path:
    """Enough days of a busy group's calls, cut to exactly `rows` lines."""
    days = max(1, rows // 8000 + 2)
    subprocess.run(
        [sys.executable, "-m", "callwatch.sample.generate", "--out", str(folder), "--days", str(days),
         "--calls-per-day", "2600", "--start", "2026-01-05"],
        check=True, stdout=subprocess.DEVNULL,
    )
    path = folder / "Master.csv"
    with path.open("rb") as src, (folder / "big.csv").open("wb") as dst:
        for i, line in enumerate(src):
            if i >= rows:
                break
            dst.write(line)
    return folder / "big.csv"


def timed(label: str, func: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"  {label:<42} {seconds:8.2f} s", flush=True)
    return seconds, result


def csv_read(path: Path) -> int:
    with path.open(newline="") as fh:
        return sum(1 for _ in csv.reader(fh))


def duckdb_count(path: Path) -> int | None:
    try:
        import duckdb
    except ImportError:
        return None
    query = f"select count(*) from read_csv('{path}', header=false, all_varchar=true)"
    return duckdb.connect().execute(query).fetchone()[0]  # type: ignore[index]


def parse_only(path: Path) -> int:
    parser = MasterCsvParser(gmt=True, zone=ZoneInfo("UTC"))
    with path.open("rb") as fh:
        return sum(1 for _ in parser.rows(fh, LineCursor()))


def reconstruct_only(path: Path, settings: Settings) -> int:
    ctx = CallContext(settings.site, frozenset(settings.inbound_contexts), frozenset(), frozenset(), 8.0)
    parser, grouper, calls = MasterCsvParser(gmt=True, zone=ZoneInfo("UTC")), CdrGrouper(), 0
    with path.open("rb") as fh:
        cursor = LineCursor()
        for row in parser.rows(fh, cursor):
            if isinstance(row, CdrRow):
                for group in grouper.add(row):
                    calls += call_from_rows(group, ctx) is not None
        rest, _ = grouper.finish(cursor.offset)
    return calls + sum(call_from_rows(g, ctx) is not None for g in rest)


CHILD = """
import json, resource, sys
from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.config import Settings
from callwatch.metrics.rollup_store import refresh_written_rollups
settings = Settings(database_url=sys.argv[2], rejects_dir=sys.argv[3])
engine = store.create_engine(settings.database_url)
store.init_db(engine)
s = import_file(engine, settings, sys.argv[1])
refresh_written_rollups(engine, settings)  # what `callwatch import` does after its files
# ru_maxrss survives exec on Linux (it would report the parent's peak); VmHWM is this process's own.
try:
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps([s.calls_written, s.rejected, peak]))
"""


@dataclass
class ChildSummary:
    calls_written: int
    rejected: int


def import_in_child(path: Path, folder: Path) -> tuple[ChildSummary, float]:
    """The real import in its own process, so its peak memory is its own (not the references')."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), f"sqlite:///{folder / 'bench.db'}", str(folder / "rejects")],
        check=True, capture_output=True, text=True,
    ).stdout
    calls, rejected, peak = json.loads(out.strip().splitlines()[-1])
    return ChildSummary(calls, rejected), peak


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"generating a {rows:,}-row Master.csv ...", flush=True)
        path = make_file(folder, rows)
        print(f"file: {path.stat().st_size / 1e6:.0f} MB, {rows:,} rows")
        settings = Settings()
        t_csv, _ = timed("reference: csv.reader reads the file", lambda: csv_read(path))
        t_duck, counted = timed("reference: DuckDB read_csv count(*)", lambda: duckdb_count(path))
        t_parse, _ = timed("parse rows (MasterCsvParser)", lambda: parse_only(path))
        t_rec, calls = timed("parse + group + reconstruct calls", lambda: reconstruct_only(path, settings))
        t_imp, child = timed("import_file into SQLite (everything)", lambda: import_in_child(path, folder))
        summary, peak = child  # type: ignore[misc]
    print()
    print(f"calls reconstructed: {calls:,}; written: {summary.calls_written:,}; rejected rows: {summary.rejected}")
    print(f"import: {rows / t_imp:,.0f} rows/s ({summary.calls_written / t_imp:,.0f} calls/s)")
    print(f"ratio import / csv.reader read: {t_imp / t_csv:.1f}x")
    if counted is not None:
        print(f"ratio import / DuckDB read_csv: {t_imp / t_duck:.1f}x")
    print(f"stages vs csv.reader: parse {t_parse / t_csv:.1f}x, +reconstruct {t_rec / t_csv:.1f}x, "
          f"+store {t_imp / t_csv:.1f}x")
    print(f"peak RSS of the import process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
