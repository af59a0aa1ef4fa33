"""The PBX's own CDR/CEL database as a source: FreePBX 17 and Issabel tables in a real MariaDB, plus
cdr_pgsql (PostgreSQL) and cdr_sqlite3_custom (SQLite), loaded with set D's recorded rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.ground_truth import SET_D, problems
from support.imports import open_engine
from support.mariadb import PASSWORD, MariaDb
from support.pbx_tables import FREEPBX17_CDR, FREEPBX_CEL, ISSABEL_CDR, cdr_rows, cel_rows, execute, insert
from support.settings import make_settings

from callwatch import store
from callwatch.collector.database_import import import_database
from callwatch.collector.importer import import_file
from callwatch.collector.sources import SourceError
from callwatch.collector.sources.cdr_database import PASSWORD_VARIABLE
from callwatch.collector.tail import tail_once

pytestmark = pytest.mark.mariadb


def _settings(tmp_path: Path) -> Any:
    # FreePBX's cdr_adaptive_odbc and cel_odbc write the PBX's local time unless told usegmtime.
    return make_settings(tmp_path, timezone="America/Chicago", cdr_gmt=False)


def _freepbx(mariadb: MariaDb, *, cel: bool = True, cdr: list[dict[str, Any]] | None = None) -> str:
    name = mariadb.database()
    admin = mariadb.admin_url(name)
    execute(admin, FREEPBX17_CDR, *([FREEPBX_CEL] if cel else []))
    insert(admin, "cdr", cdr_rows() if cdr is None else cdr)
    if cel:
        insert(admin, "cel", cel_rows())
    return name


def _import(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch, engine: Any = None) -> tuple[Any, list]:
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    settings = _settings(tmp_path)
    engine = engine or open_engine(settings)
    return engine, import_database(engine, settings, url)


def _outcomes(engine: Any) -> list[tuple[Any, ...]]:
    """What a practice sees of each call, to compare two sources of the same rows."""
    rows = []
    for c in store.select_calls(engine):
        ring = None
        if c["ring_started_at"] is not None:
            stop = c["answered_at"] or c["ring_ended_at"] or c["ended_at"]
            ring = round((stop - c["ring_started_at"]).total_seconds())
        rows.append((c["caller"], c["arrived_at"].replace(microsecond=0), c["direction"], c["outcome"],
                     c["answered_by"], ring))
    return sorted(rows, key=repr)


def _from_master_csv(tmp_path: Path) -> list[tuple[Any, ...]]:
    settings = make_settings(tmp_path / "csv", timezone="America/Chicago", cdr_gmt=False)
    engine = open_engine(settings)
    import_file(engine, settings, SET_D / "Master.csv")
    return _outcomes(engine)


def _close(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    # The table keeps whole-second start/duration/billsec where Master.csv has answer and end: ring may differ by 1 s.
    return len(a) == len(b) and all(x[:5] == y[:5] and (x[5] is None) == (y[5] is None)
                                    and (x[5] is None or abs(x[5] - y[5]) <= 1) for x, y in zip(a, b, strict=True))


def test_freepbx17_cel_table_rebuilds_every_inbound_call(mariadb: MariaDb, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    name = _freepbx(mariadb)
    engine, summaries = _import(tmp_path, mariadb.reader_url(name), monkeypatch)
    assert [(s.source, s.rows_read, s.rejected) for s in summaries] == [("cdr-table", 235, 0), ("cel-table", 1350, 0)]
    # CEL wins each field it knows; the cdr table adds nothing wrong and no second record.
    assert problems(store.select_calls(engine), SET_D) == []


def test_freepbx17_cdr_table_gives_what_the_same_rows_give_from_master_csv(
        mariadb: MariaDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _freepbx(mariadb, cel=False)
    engine, summaries = _import(tmp_path, mariadb.reader_url(name), monkeypatch)
    assert [s.source for s in summaries] == ["cdr-table"]
    assert _close(_outcomes(engine), _from_master_csv(tmp_path))


def test_set_d_every_inbound_call_exact_from_the_cdr_table_alone(mariadb: MariaDb, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    name = _freepbx(mariadb, cel=False)
    engine, _ = _import(tmp_path, mariadb.reader_url(name), monkeypatch)
    assert problems(store.select_calls(engine), SET_D) == []


def test_issabel_table_without_linkedid(mariadb: MariaDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = mariadb.database()
    execute(mariadb.admin_url(name), ISSABEL_CDR)
    insert(mariadb.admin_url(name), "cdr", cdr_rows())
    engine, summaries = _import(tmp_path, mariadb.reader_url(name), monkeypatch)
    assert [(s.source, s.rows_read) for s in summaries] == [("cdr-table", 235)]
    assert _close(_outcomes(engine), _from_master_csv(tmp_path))


def test_duplicate_rows_of_two_backends_count_once(mariadb: MariaDb, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rows = cdr_rows()
    name = _freepbx(mariadb, cdr=rows + rows)
    engine, summaries = _import(tmp_path, mariadb.reader_url(name), monkeypatch)
    assert summaries[0].rows_read == 235
    assert problems(store.select_calls(engine), SET_D) == []


def test_late_batch_rows_are_imported_once_at_the_next_read(mariadb: MariaDb, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    rows = sorted(cdr_rows(), key=lambda r: r["calldate"])
    # Batch mode writes a call's rows up to 300 s late: the rows of the 3rd-last call arrive after later calls.
    late_call = rows[-40]["linkedid"]
    late = [r for r in rows if r["linkedid"] == late_call]
    name = _freepbx(mariadb, cel=False, cdr=[r for r in rows if r["linkedid"] != late_call])
    url = mariadb.reader_url(name)
    engine, _ = _import(tmp_path, url, monkeypatch)
    before = {c["call_id"] for c in store.select_calls(engine)}
    assert late_call not in before
    insert(mariadb.admin_url(name), "cdr", late)
    _, second = _import(tmp_path, url, monkeypatch, engine)
    assert second[0].rows_read == len(late)
    assert {c["call_id"] for c in store.select_calls(engine)} - before <= {late_call}
    _, third = _import(tmp_path, url, monkeypatch, engine)
    assert third[0].unchanged
    one_shot = tmp_path / "one-shot"
    fresh = _import(one_shot, url, monkeypatch)[0]
    assert _outcomes(engine) == _outcomes(fresh)


def test_password_only_from_the_environment(mariadb: MariaDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _freepbx(mariadb, cel=False)
    url = mariadb.reader_url(name)
    settings = _settings(tmp_path)
    engine = open_engine(settings)
    with pytest.raises(SourceError, match=PASSWORD_VARIABLE):
        import_database(engine, settings, url.replace("callwatch@", f"callwatch:{PASSWORD}@"))
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    with pytest.raises(SourceError, match="Access denied"):
        import_database(engine, settings, url)


def test_tail_polls_a_database_url(mariadb: MariaDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _freepbx(mariadb)
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    settings = make_settings(tmp_path, timezone="America/Chicago", cdr_gmt=False,
                             tail=[{"path": mariadb.reader_url(name), "interval_seconds": 10}])
    engine = open_engine(settings)
    tail_once(engine, settings, settings.tail[0].path, settings.tail[0].source)
    assert problems(store.select_calls(engine), SET_D) == []


@pytest.mark.postgres
def test_cdr_pgsql_and_cel_pgsql_tables(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # cdr_pgsql's table keeps calldate as a timestamp and no did column.
    execute(pg_url, "CREATE TABLE cdr (calldate timestamp NOT NULL, clid text, src text, dst text, dcontext text, "
            "channel text, dstchannel text, lastapp text, lastdata text, duration int, billsec int, "
            "disposition text, amaflags int, accountcode text, uniqueid text, userfield text, peeraccount text, "
            "linkedid text, sequence int)",
            "CREATE TABLE cel (id serial primary key, eventtype text, eventtime timestamp, cid_name text, "
            "cid_num text, cid_ani text, cid_rdnis text, cid_dnid text, exten text, context text, channame text, "
            "appname text, appdata text, amaflags int, accountcode text, uniqueid text, linkedid text, peer text, "
            "userdeftype text, eventextra text, userfield text)")
    insert(pg_url, "cdr", cdr_rows())
    insert(pg_url, "cel", cel_rows())
    url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    engine, summaries = _import(tmp_path, url, monkeypatch)
    assert [s.rows_read for s in summaries] == [235, 1350]
    assert problems(store.select_calls(engine), SET_D) == []


def test_cdr_sqlite3_custom_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Set D's own cdr_sqlite3_custom.conf: every column text, calldate '2026-11-30 22:24:03' local.
    columns = list(cdr_rows()[0])
    pbx = f"sqlite:///{tmp_path / 'master.db'}"
    execute(pbx, f"CREATE TABLE cdr (AcctId INTEGER PRIMARY KEY, {', '.join(columns)})")
    insert(pbx, "cdr", cdr_rows())
    engine, summaries = _import(tmp_path, pbx, monkeypatch)
    assert [(s.source, s.rows_read) for s in summaries] == [("cdr-table", 235)]
    assert _close(_outcomes(engine), _from_master_csv(tmp_path))


def test_a_database_without_cdr_or_cel_says_so(tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    execute(other, "CREATE TABLE transient_cdr (calldate text)")
    settings = _settings(tmp_path)
    with pytest.raises(SourceError, match="neither a 'cdr' nor a 'cel' table"):
        import_database(open_engine(settings), settings, other)
    assert sa.inspect(sa.create_engine(other)).get_table_names() == ["transient_cdr"]
