"""`callwatch import` of a 1,000,000-row Master.csv into SQLite and PostgreSQL vs DuckDB loading the same file.

    .venv/bin/python bench/import_vs_duckdb.py [ROWS]

The file comes from bench/import_master_csv.py's generator (the sample
practice's dialplan at group scale: Local channel pairs, ring groups, a queue,
voicemail). The reference is DuckDB's own CSV reader loading the file into a
table in a DuckDB database file, measured in the same run on the same file.
callwatch does far more per row (parse, group the rows of one call, rebuild
the call, merge with what is stored, upsert), so the ratio says what that
costs, not that the two do the same work.

PostgreSQL is a throwaway cluster from tests/support/pg.py (unix socket, fsync off,
like the tests); SQLite is a WAL file with synchronous=NORMAL (store defaults).
Both stores must end up with the same calls.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb
import sqlalchemy as sa
from import_master_csv import make_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.pg import postgres_cluster, server_bin_dir

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.config import Settings
from callwatch.metrics.rollup_store import refresh_written_rollups


def duckdb_load(path: Path, db: Path) -> int:
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE cdr AS SELECT * FROM read_csv('{path}', header=false, all_varchar=true)")
    rows = con.execute("SELECT count(*) FROM cdr").fetchone()[0]  # type: ignore[index]
    con.close()
    return int(rows)


def callwatch_import(url: str, folder: Path, path: Path, name: str) -> tuple[float, int, int]:
    settings = Settings(database_url=url, rejects_dir=folder / f"rejects-{name}")
    engine = store.create_engine(url)
    store.init_db(engine)
    t0 = time.perf_counter()
    summary = import_file(engine, settings, path)
    refresh_written_rollups(engine, settings)  # what `callwatch import` does after its files
    seconds = time.perf_counter() - t0
    with engine.connect() as conn:
        stored = int(conn.execute(sa.select(sa.func.count()).select_from(store.calls)).scalar_one())
    engine.dispose()
    return seconds, summary.calls_written, stored


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"generating a {rows:,}-row Master.csv ...", flush=True)
        path = make_file(folder, rows)
        print(f"file: {path.stat().st_size / 1e6:.0f} MB, {rows:,} rows", flush=True)

        t0 = time.perf_counter()
        loaded = duckdb_load(path, folder / "ref.duckdb")
        t_duck = time.perf_counter() - t0
        assert loaded == rows, (loaded, rows)
        results = {"DuckDB read_csv into a table (reference)": (t_duck, rows, rows)}
        print(f"  DuckDB: {t_duck:.2f} s", flush=True)

        results["callwatch import -> SQLite"] = callwatch_import(
            f"sqlite:///{folder / 'callwatch.db'}", folder, path, "sqlite"
        )
        print(f"  SQLite: {results['callwatch import -> SQLite'][0]:.2f} s", flush=True)
        if server_bin_dir() is None:
            print("  PostgreSQL: skipped (no server binaries under /usr/lib/postgresql/*/bin)")
        else:
            with postgres_cluster() as cluster:
                results["callwatch import -> PostgreSQL"] = callwatch_import(
                    cluster.database("bench"), folder, path, "pg"
                )
            print(f"  PostgreSQL: {results['callwatch import -> PostgreSQL'][0]:.2f} s", flush=True)

    print(f"\n{'load of the same file':42} {'seconds':>8} {'rows/s':>10} {'calls':>9} {'ratio':>7}")
    for name, (seconds, written, _stored) in results.items():
        print(f"{name:42} {seconds:8.2f} {rows / seconds:10,.0f} {written:9,} {seconds / t_duck:6.1f}x")
    stored = {name: s for name, (_, _, s) in results.items() if "callwatch" in name}
    assert len(set(stored.values())) == 1, f"the stores disagree: {stored}"
    print(f"\nboth stores hold the same {next(iter(stored.values())):,} calls")
    sqlite_ratio = results["callwatch import -> SQLite"][0] / t_duck
    print(f"goal (issue 13): SQLite import at most 2.0x DuckDB's load; this run {sqlite_ratio:.1f}x")


if __name__ == "__main__":
    main()
