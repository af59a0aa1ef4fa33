"""Import speed from FreePBX's MariaDB `cdr` table against the same rows from Master.csv, in one run.

Set D's 235 recorded CDR rows are repeated COPIES times (each copy two hours
later, uniqueids and linkedids moved with it, so every copy is its own calls):
once as Master.csv lines, once as rows of a FreePBX 17 `cdr` table in a
throwaway MariaDB (tests/support/mariadb.py; needs the Debian package mariadb-server).
Both are imported into a fresh SQLite store with `callwatch`'s own importers;
prints rows/second of each and the ratio table / Master.csv.
Run: .venv/bin/python bench/import_cdr_database.py [COPIES]
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.mariadb import PASSWORD, mariadb_server
from support.pbx_tables import FREEPBX17_CDR, SET_D, cdr_rows, execute, insert

from callwatch import store
from callwatch.collector.database_import import import_database
from callwatch.collector.importer import import_file
from callwatch.collector.sources.cdr_database import PASSWORD_VARIABLE
from callwatch.config import Settings

SHIFT = timedelta(hours=2)


def _moved_id(uniqueid: str, copy: int) -> str:
    if not uniqueid:
        return uniqueid
    epoch, _, seq = uniqueid.partition(".")
    return f"{int(epoch) + copy * int(SHIFT.total_seconds())}.{seq}"


def _moved_time(text: str, copy: int) -> str:
    return (datetime.fromisoformat(text) + copy * SHIFT).strftime("%Y-%m-%d %H:%M:%S") if text else text


def master_csv(folder: Path, copies: int) -> Path:
    with (SET_D / "Master.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    path = folder / "Master.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        for copy in range(copies):
            for r in rows:
                writer.writerow([*r[:9], *(_moved_time(t, copy) for t in r[9:12]), *r[12:16], _moved_id(r[16], copy),
                                 *r[17:]])
    return path


def table_rows(copies: int) -> list[dict[str, Any]]:
    base = cdr_rows()
    return [{**r, "calldate": _moved_time(r["calldate"], copy), "uniqueid": _moved_id(r["uniqueid"], copy),
             "linkedid": _moved_id(r["linkedid"], copy)} for copy in range(copies) for r in base]


def settings(folder: Path) -> Settings:
    return Settings.model_validate({"database_url": f"sqlite:///{folder / 'callwatch.db'}", "cdr_gmt": False,
                                    "timezone": "America/Chicago", "rejects_dir": str(folder / "rejects")})


def timed(folder: Path, run: Any) -> float:
    folder.mkdir()
    s = settings(folder)
    engine = store.create_engine(s.database_url)
    store.init_db(engine)
    start = time.perf_counter()
    run(engine, s)
    return time.perf_counter() - start


def main(copies: int) -> None:
    rows = copies * len(cdr_rows())
    with tempfile.TemporaryDirectory() as tmp, mariadb_server() as server:
        folder = Path(tmp)
        csv_path = master_csv(folder, copies)
        name = server.database()
        execute(server.admin_url(name), FREEPBX17_CDR)
        insert(server.admin_url(name), "cdr", table_rows(copies))
        os.environ[PASSWORD_VARIABLE] = PASSWORD
        url = server.reader_url(name)
        from_csv = timed(folder / "csv", lambda e, s: import_file(e, s, csv_path))
        from_table = timed(folder / "table", lambda e, s: import_database(e, s, url))
    print(f"{rows} CDR rows ({copies} copies of set D)")
    print(f"Master.csv     : {from_csv:6.2f} s  {rows / from_csv:9.0f} rows/s")
    print(f"MariaDB cdr    : {from_table:6.2f} s  {rows / from_table:9.0f} rows/s")
    print(f"ratio table / Master.csv time: {from_table / from_csv:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
