"""The whole-file (column-wise) Master.csv import gives exactly what the row-by-row import gives.

Rows (every CdrRow field, line and offset), groups (same rows in the same
order, same resume offset) and stored calls (every column) on set A, set D and
generated files of many shapes; files the column reader must not take (bad
rows, stray quotes, line breaks in fields) go row by row, with the rejects'
file, line and reason.
"""

from __future__ import annotations

import io
import re
import sqlite3
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.data import MASTER_CSV
from support.imports import open_engine, read_rows, with_linkedid, write_cdr
from support.settings import make_settings

from callwatch.collector import importer
from callwatch.collector.importer import import_file
from callwatch.collector.reconstruct.cdr import CallContext, CdrGrouper, call_from_rows
from callwatch.collector.reconstruct.cdr_bulk import bulk_groups, grouped_rows
from callwatch.collector.reconstruct.cdr_shapes import NOT_SIMPLE, simple_inbound_call
from callwatch.collector.sources import LineCursor
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser
from callwatch.collector.sources.master_csv_columns import read_master_columns
from callwatch.sample.generate import simulate

SET_D = MASTER_CSV.parent.parent / "asterisk-set-d" / "Master.csv"
UTC_ZONE = ZoneInfo("UTC")
CHICAGO = ZoneInfo("America/Chicago")


def _generated(folder: Path, days: int = 3, per_day: float = 400, seed: int = 11) -> Path:
    """The bench's generator (sample/generate.py): ring groups, a queue in rounds, voicemail, greetings,
    outbound calls, rows of a call written apart at each channel's hang-up."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "Master.csv").open("w") as master, (folder / "queue_log").open("w") as qlog:
        simulate(date(2026, 3, 6), days, per_day, seed, master, qlog)  # spans the US DST change of 2026-03-08
    return folder / "Master.csv"


def _row_reader(data: bytes, gmt: bool, zone: ZoneInfo) -> list[Any]:
    return list(MasterCsvParser(gmt=gmt, zone=zone).rows(io.BytesIO(data), LineCursor()))


def _cases(tmp_path: Path) -> list[tuple[str, bytes, bool, ZoneInfo]]:
    generated = _generated(tmp_path / "gen").read_bytes()
    linked = write_cdr(tmp_path / "linked.csv", with_linkedid(read_rows(MASTER_CSV))).read_bytes()
    return [
        ("set A", MASTER_CSV.read_bytes(), True, UTC_ZONE),
        ("set D, local time", SET_D.read_bytes(), False, CHICAGO),
        ("set D read as GMT", SET_D.read_bytes(), True, UTC_ZONE),
        ("set A, 21 columns with linkedid", linked, True, UTC_ZONE),
        ("generated", generated, True, UTC_ZONE),
        ("generated, local time", generated, False, ZoneInfo("Europe/Berlin")),
    ]


def test_rows_are_the_row_readers_rows_field_for_field(tmp_path: Path) -> None:
    for name, data, gmt, zone in _cases(tmp_path):
        columns = read_master_columns(data, gmt=gmt, zone=zone)
        assert columns is not None, name
        slow = _row_reader(data, gmt, zone)
        assert all(isinstance(r, CdrRow) for r in slow), name
        assert columns.rows == slow, name


def _streamed(rows: list[CdrRow], eof: int, **limits: Any) -> tuple[list[list[CdrRow]], int]:
    grouper = CdrGrouper(**limits)
    groups = [g for row in rows for g in grouper.add(row)]
    rest, resume = grouper.finish(eof)
    return groups + rest, resume


@pytest.mark.parametrize("limits", [{}, {"settle": timedelta(seconds=20)}, {"max_rows": 7},
                                    {"settle": timedelta(seconds=5), "max_rows": 3}])
def test_groups_are_the_streaming_groupers_in_order_with_the_same_resume_offset(
    tmp_path: Path, limits: dict[str, Any]
) -> None:
    for name, data, gmt, zone in _cases(tmp_path):
        columns = read_master_columns(data, gmt=gmt, zone=zone)
        assert columns is not None
        # A growing log cut mid-way: groups still open at the end decide the resume offset.
        for rows in (columns.rows, columns.rows[: len(columns.rows) // 2]):
            eof = rows[-1].offset + 10
            assert grouped_rows(rows, eof, **limits) == _streamed(rows, eof, **limits), name


def test_array_grouping_gives_the_streaming_groupers_groups_order_and_resume_offset(tmp_path: Path) -> None:
    for name, data, gmt, zone in _cases(tmp_path):
        columns = read_master_columns(data, gmt=gmt, zone=zone)
        assert columns is not None
        n = len(columns.rows)
        for cut in (n, n // 2, n // 3):
            rows = columns.rows[:cut]
            eof = rows[-1].offset + 10
            bulk = bulk_groups(rows, columns.end_us[:cut], columns.keys[:cut], eof)
            assert bulk is not None, name
            streamed, resume = _streamed(rows, eof)
            assert [bulk.streaming_order(i) for i in range(len(bulk.members))] == streamed, name
            assert [sorted(g, key=lambda r: r.offset) for g in streamed] == bulk.groups, name
            assert bulk.resume == resume, name


@pytest.mark.parametrize("limits", [{"settle": timedelta(seconds=20)}, {"max_rows": 7}])
def test_array_grouping_declines_when_the_streaming_grouper_would_close_a_call_early(
    tmp_path: Path, limits: dict[str, Any]
) -> None:
    columns = read_master_columns(_generated(tmp_path).read_bytes(), gmt=True, zone=UTC_ZONE)
    assert columns is not None
    assert bulk_groups(columns.rows, columns.end_us, columns.keys, columns.size, **limits) is None


def test_array_grouping_takes_small_limits_when_no_call_is_cut(tmp_path: Path) -> None:
    columns = read_master_columns(MASTER_CSV.read_bytes(), gmt=True, zone=UTC_ZONE)
    assert columns is not None
    rows = columns.rows
    # No call of set A lasts 10 minutes: a short horizon cuts none, and closes calls during the read.
    limits: dict[str, Any] = {"settle": timedelta(minutes=10)}
    bulk = bulk_groups(rows, columns.end_us, columns.keys, columns.size, **limits)
    streamed, resume = _streamed(rows, columns.size, **limits)
    assert bulk is not None
    assert [bulk.streaming_order(i) for i in range(len(bulk.members))] == streamed
    assert bulk.resume == resume


def test_a_uniqueid_on_two_channels_is_left_to_the_streaming_grouper(tmp_path: Path) -> None:
    rows = read_rows(MASTER_CSV)
    rows[1][16] = rows[0][16]  # two channels, one uniqueid: CdrGrouper's reused-id rule decides
    data = write_cdr(tmp_path / "m.csv", rows).read_bytes()
    columns = read_master_columns(data, gmt=True, zone=UTC_ZONE)
    assert columns is not None
    assert grouped_rows(columns.rows, len(data)) is None
    assert bulk_groups(columns.rows, columns.end_us, columns.keys, len(data)) is None


def _stored(db: Path) -> tuple[list[Any], ...]:
    with sqlite3.connect(db) as con:
        return tuple(con.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
                     for table in ("calls", "call_aliases", "import_calls", "rollup_dirty"))


def _import(folder: Path, path: Path, whole: bool, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Any:
    settings = make_settings(folder, **overrides)
    engine = open_engine(settings)
    with monkeypatch.context() as patch:
        if not whole:
            patch.setattr(importer, "_whole_file_rows", lambda *_args: None)
        summary = import_file(engine, settings, path)
    with engine.connect() as conn:
        state = conn.exec_driver_sql("SELECT size, offset, line, rejected FROM import_state").fetchall()
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    stored = _stored(db)
    # marked_at is the time of the write, not data.
    stored = (*stored[:3], [row[:2] for row in stored[3]])
    return summary, state, stored


def test_import_stores_the_same_calls_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases: list[tuple[Path, dict[str, Any]]] = [
        (MASTER_CSV, {}),
        (SET_D, {"cdr_gmt": False, "timezone": "America/Chicago"}),
        (_generated(tmp_path / "gen", days=4, per_day=700, seed=3), {}),
    ]
    for n, (path, overrides) in enumerate(cases):
        fast = _import(tmp_path / f"fast{n}", path, True, monkeypatch, **overrides)
        slow = _import(tmp_path / f"slow{n}", path, False, monkeypatch, **overrides)
        assert fast[0].calls_written == slow[0].calls_written > 0, path
        assert (fast[0].rows_read, fast[0].rejected, fast[0].warnings) == (
            slow[0].rows_read, slow[0].rejected, slow[0].warnings), path
        assert fast[1] == slow[1], path
        assert fast[2] == slow[2], path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


NUMBERS = re.compile(r',(\d+),(\d+),"')


@pytest.mark.parametrize("damage", [
    lambda line: line.replace('"ANSWERED"', '"ANSWERD"'),
    lambda line: line.replace('"ANSWERED"', '" ANSWERED"'),
    lambda line: NUMBERS.sub(r',\1,-1,"', line),
    lambda line: NUMBERS.sub(r',+\1,\2,"', line),
    lambda line: line.replace('"2026', '"2026x', 1),
    lambda line: line.replace('"2026-11-24 20:51:00"', '"2026-11-24T20:51:00+01:00"', 1),
    lambda line: line.replace('"2026-11-24 20:51:00"', '"2026-02-30 20:51:00"', 1),  # no such day
    lambda line: line.replace('"2026-11-24 20:51:00"', '"2026-11-24 23:59:60"', 1),  # no leap seconds
    lambda line: line.replace('","', '"x,"', 1),  # text after a closing quote: strict csv refuses it
    lambda line: line.replace('"', "", 1),  # a stray quote
    lambda line: line.replace("PATIENT", 'PAT"IENT', 1),  # a lone quote inside a quoted field
    lambda line: line.rstrip("\n") + ',"extra"\n',  # another width
    lambda line: line.replace(",", ',"a\nb",', 1),  # a line break in a quoted field
    lambda line: line.replace("\n", "\r\n"),
    lambda line: "\n" + line,  # an empty line
    lambda line: line.replace("Milliwatt", "Milli\x00watt"),
])
def test_files_the_column_reader_must_not_take_go_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    lines = _lines(MASTER_CSV)
    assert "2026-11-24 20:51:00" in lines[40] and NUMBERS.search(lines[40])
    lines[40] = damage(lines[40])
    path = tmp_path / "Master.csv"
    path.write_text("".join(lines))
    assert read_master_columns(path.read_bytes(), gmt=True, zone=UTC_ZONE) is None
    fast = _import(tmp_path / "fast", path, True, monkeypatch)
    slow = _import(tmp_path / "slow", path, False, monkeypatch)
    assert fast[0].rejected == slow[0].rejected
    assert fast[1:] == slow[1:]


def test_other_iso_times_are_read_as_the_row_reader_reads_them() -> None:
    lines = _lines(MASTER_CSV)
    lines[40] = lines[40].replace('"2026-11-24 20:51:00"', '"2026-11-24 20:51"', 1)
    lines[41] = lines[41].replace("2026-11-24 20:50:56", "2026-11-24T20:50:56", 1)
    data = "".join(lines).encode()
    columns = read_master_columns(data, gmt=True, zone=UTC_ZONE)
    assert columns is not None
    assert columns.rows == _row_reader(data, True, UTC_ZONE)


def test_a_bad_row_is_rejected_with_file_line_and_field(tmp_path: Path) -> None:
    lines = _lines(MASTER_CSV)
    lines[40] = NUMBERS.sub(r',\1,zero,"', lines[40])
    path = tmp_path / "Master.csv"
    path.write_text("".join(lines))
    settings = make_settings(tmp_path)
    summary = import_file(open_engine(settings), settings, path)
    assert summary.rejected == 1
    assert summary.rejects_path is not None
    text = Path(summary.rejects_path).read_text()
    assert f"\t{path}\t41\tbillsec 'zero' is not a whole number\t" in text


def test_a_local_time_at_the_dst_change_goes_row_by_row() -> None:
    lines = _lines(MASTER_CSV)
    # 01:30 on 2026-11-01 happens twice in Chicago: the row reader picks one with the row's uniqueid.
    lines[40] = lines[40].replace("2026-11-24 20:51", "2026-11-01 01:30")
    data = "".join(lines).encode()
    assert read_master_columns(data, gmt=False, zone=CHICAGO) is None
    assert read_master_columns(data, gmt=True, zone=UTC_ZONE) is not None


def test_the_common_inbound_shape_is_rebuilt_exactly_as_call_from_rows_does(tmp_path: Path) -> None:
    taken = total = 0
    for name, data, gmt, zone in _cases(tmp_path):
        columns = read_master_columns(data, gmt=gmt, zone=zone)
        assert columns is not None
        grouped = grouped_rows(columns.rows, len(data))
        assert grouped is not None
        for contexts in (None, ("pstn",), ()):
            settings = make_settings(tmp_path, **({} if contexts is None else {"inbound_contexts": list(contexts)}))
            ctx = CallContext.from_settings(settings)
            for group in grouped[0]:
                simple = simple_inbound_call(group, ctx)
                total += 1
                if simple is not NOT_SIMPLE:
                    taken += 1
                    assert simple == call_from_rows(group, ctx), (name, group[0].line)
                    # The importer hands it the rows in file order, not in CdrGrouper's merge order.
                    assert simple_inbound_call(group[::-1], ctx) == simple
                    assert simple_inbound_call(sorted(group, key=lambda r: r.offset), ctx) == simple
    assert taken > total / 4  # most inbound groups of the generated files


def test_shapes_that_are_not_the_common_one_go_to_call_from_rows(tmp_path: Path) -> None:
    rows = [r for r in _row_reader(MASTER_CSV.read_bytes(), True, UTC_ZONE) if isinstance(r, CdrRow)]
    groups = _streamed(rows, 0)[0]
    ctx = CallContext.from_settings(make_settings(tmp_path))
    simple = [g for g in groups if simple_inbound_call(g, ctx) is not NOT_SIMPLE]
    assert simple
    group = simple[0]
    changed = [
        [replace(group[0], linkedid="1.1"), *group[1:]],
        [replace(group[0], did="5550100"), *group[1:]],
        [group[0], *group],  # an exact copy of a row
        [replace(r, uniqueid="x") for r in group],
        [r for r in group if not r.dstchannel] + [replace(r, dstchannel="Local/999@x-1;1") for r in group
                                                 if r.dstchannel],  # a party without rows
        [replace(r, src="") for r in group],
    ]
    for rows_ in changed:
        assert simple_inbound_call(rows_, ctx) is NOT_SIMPLE
    assert simple_inbound_call(group, replace(ctx, inbound_channels=("PJSIP/*",))) is NOT_SIMPLE


def test_a_file_over_the_whole_file_limit_is_read_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Memory: a whole-file read holds every row at once (README, Performance); a larger log streams.
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("read whole")

    monkeypatch.setattr(importer, "WHOLE_FILE_MAX_BYTES", MASTER_CSV.stat().st_size - 1)
    monkeypatch.setattr(importer, "read_master_columns", refuse)
    settings = make_settings(tmp_path)
    summary = import_file(open_engine(settings), settings, MASTER_CSV)
    assert summary.calls_written > 0 and summary.rejected == 0


def test_a_machine_short_of_memory_reads_the_file_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An office server with little free memory must not be pushed out of it by a first import.
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("read whole")

    monkeypatch.setattr(importer, "available_memory_bytes", lambda: MASTER_CSV.stat().st_size * 10)
    monkeypatch.setattr(importer, "read_master_columns", refuse)
    settings = make_settings(tmp_path)
    summary = import_file(open_engine(settings), settings, MASTER_CSV)
    assert summary.calls_written > 0 and summary.rejected == 0
