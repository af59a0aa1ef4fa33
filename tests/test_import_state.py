"""Importing again adds nothing; a grown log is read from where it stopped; bad rows are kept, not fatal."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from support.data import MASTER_CSV, QUEUE_LOG
from support.imports import open_engine, read_rows, write_cdr
from support.settings import make_settings

from callwatch import store
from callwatch.cli import main
from callwatch.collector.importer import import_file
from callwatch.collector.reconstruct.cdr import CdrGrouper
from callwatch.collector.sources import LineCursor
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser

LINES = MASTER_CSV.read_bytes().splitlines(keepends=True)


def _stored(engine: object) -> list[dict]:
    return sorted(store.select_calls(engine), key=lambda c: c["call_id"])  # type: ignore[arg-type]


def _one_shot(tmp_path: Path, path: Path) -> list[dict]:
    settings = make_settings(tmp_path / "one-shot")
    engine = open_engine(settings)
    import_file(engine, settings, path)
    return _stored(engine)


def test_reimport_adds_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    first = import_file(engine, settings, MASTER_CSV)
    before = _stored(engine)
    again = import_file(engine, settings, MASTER_CSV)
    assert (first.rows_read, first.calls_written) == (len(LINES), 29)
    assert again.unchanged and (again.rows_read, again.calls_written) == (0, 0)
    assert _stored(engine) == before


@pytest.mark.parametrize("cut", [1, 14, 40, 57, 90, 115])
def test_grown_file_reads_only_the_new_part(tmp_path: Path, cut: int) -> None:
    log = tmp_path / "Master.csv"
    log.write_bytes(b"".join(LINES[:cut]))
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    first = import_file(engine, settings, log)
    with log.open("ab") as fh:
        fh.write(b"".join(LINES[cut:]))
    second = import_file(engine, settings, log)
    assert first.rows_read + second.rows_read == len(LINES)
    # A call whose rows straddled the cut is finished by the second read, and nothing is counted twice.
    assert _stored(engine) == _one_shot(tmp_path, MASTER_CSV)


def test_half_written_last_line_waits_for_the_rest(tmp_path: Path) -> None:
    log = tmp_path / "Master.csv"
    half = len(LINES[50]) // 2
    log.write_bytes(b"".join(LINES[:50]) + LINES[50][:half])
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    first = import_file(engine, settings, log)
    assert (first.rows_read, first.rejected) == (50, 0)
    with log.open("ab") as fh:
        fh.write(LINES[50][half:] + b"".join(LINES[51:]))
    second = import_file(engine, settings, log)
    assert (first.rows_read + second.rows_read, second.rejected) == (len(LINES), 0)
    assert _stored(engine) == _one_shot(tmp_path, MASTER_CSV)


def test_rotated_file_starts_over(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(QUEUE_LOG.read_bytes())
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, log)
    # logrotate: the old file moves away, a new one (new inode, other first bytes) takes its name.
    log.rename(tmp_path / "queue_log.1")
    later = b"1795640000|1795640000.900|frontdesk|NONE|ENTERQUEUE||6175550900|1\n"
    later += b"1795640009|1795640000.900|frontdesk|NONE|ABANDON|1|1|9\n"
    log.write_bytes(later)
    summary = import_file(engine, settings, log)
    assert (summary.rows_read, summary.calls_written) == (2, 1)
    assert len(store.select_calls(engine)) == 5


def test_bad_rows_are_rejected_with_file_line_and_reason_and_the_rest_imported(tmp_path: Path) -> None:
    bad = [
        b"this is not a CDR\n",
        b'"","1","2","x","","Local/a;1","","Dial","","yesterday","","","1","1","ANSWERED","D","1.1",""\n',
    ]
    log = tmp_path / "Master.csv"
    log.write_bytes(b"".join(LINES[:10]) + bad[0] + b"".join(LINES[10:60]) + bad[1] + b"".join(LINES[60:]))
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, log)
    assert (summary.rejected, summary.rows_read) == (2, len(LINES) + 2)
    assert len(store.select_calls(engine)) == 29
    assert summary.rejects_path is not None
    kept = Path(summary.rejects_path).read_text().splitlines()
    fields = [line.split("\t") for line in kept]
    assert [(f[1], f[2]) for f in fields] == [(str(log), "11"), (str(log), "62")]
    assert "columns" in fields[0][3]
    assert "start time 'yesterday'" in fields[1][3]
    # Re-reading the tail of the grown log does not report the same bad row again.
    with log.open("ab") as fh:
        fh.write(b"garbage\n")
    assert import_file(engine, settings, log).rejected == 1
    assert len(Path(summary.rejects_path).read_text().splitlines()) == 3


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "callwatch.yaml"
    cfg.write_text(f"database_url: sqlite:///{tmp_path / 'cw.db'}\nrejects_dir: {tmp_path / 'rejects'}\n")
    return cfg


def test_cli_prints_a_summary_per_file_and_exits_0_with_rejects(tmp_path: Path) -> None:
    log = tmp_path / "Master.csv"
    log.write_bytes(MASTER_CSV.read_bytes() + b"not,a,cdr\n")
    result = CliRunner().invoke(main, ["import", str(log), str(QUEUE_LOG), "--config", str(_config(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{log}: cdr-csv: {len(LINES) + 1} rows, 29 calls written, 1 rejected (see ")
    assert lines[1] == f"{QUEUE_LOG}: queue-log: 18 rows, 4 calls written, 0 rejected"
    again = CliRunner().invoke(main, ["import", str(log), "--config", str(_config(tmp_path))])
    assert again.output == f"{log}: unchanged since the last import, nothing new (--reread reads it again)\n"


def test_cli_exits_1_when_a_file_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    result = CliRunner().invoke(main, ["import", str(missing), str(QUEUE_LOG), "--config", str(_config(tmp_path))])
    assert result.exit_code == 1
    assert "queue-log: 18 rows" in result.output  # the readable file is still imported


def test_cli_source_overrides_detection(tmp_path: Path) -> None:
    cfg = str(_config(tmp_path))
    result = CliRunner().invoke(main, ["import", str(QUEUE_LOG), "--source", "cdr-csv", "--config", cfg])
    # Every row rejected is a wrong --source, not a few bad rows: cron must not see success.
    assert result.exit_code == 1
    assert "0 calls written, 18 rejected" in result.output and "every row was rejected" in result.output
    bogus = CliRunner().invoke(main, ["import", str(QUEUE_LOG), "--source", "bogus", "--config", cfg])
    assert bogus.exit_code == 1 and "unknown source" in bogus.output


def _copies(rows: list[list[str]], copies: int, every: timedelta) -> list[list[str]]:
    """Set A again and again, `every` apart, with fresh channel names and uniqueids."""
    out = []
    for i in range(copies):
        for row in rows:
            new = list(row)
            for col in (9, 10, 11):
                if new[col]:
                    new[col] = (datetime.fromisoformat(new[col]) + every * i).strftime("%Y-%m-%d %H:%M:%S")
            for col in (5, 6):
                if new[col]:
                    new[col] = new[col][:-2] + f"x{i}" + new[col][-2:]
            epoch, seq = new[16].split(".")
            new[16] = f"{int(epoch) + int(every.total_seconds()) * i}.{seq}"
            out.append(new)
    return out


def test_grouping_buffer_stays_bounded_on_a_long_log(tmp_path: Path) -> None:
    log = write_cdr(tmp_path / "Master.csv", _copies(read_rows(MASTER_CSV), 40, timedelta(hours=2)))
    grouper = CdrGrouper()
    most = 0
    with log.open("rb") as fh:
        for row in MasterCsvParser(gmt=True, zone=ZoneInfo("UTC")).rows(fh, LineCursor()):
            assert isinstance(row, CdrRow)
            list(grouper.add(row))
            most = max(most, grouper.buffered)
    assert most <= 2 * len(LINES)
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    assert import_file(engine, settings, log).calls_written == 40 * 29
    assert os.path.getsize(log) > 0


def test_an_empty_log_imports_nothing_without_error(tmp_path: Path) -> None:
    log = tmp_path / "Master.csv"
    log.write_bytes(b"")
    settings = make_settings(tmp_path)
    summary = import_file(open_engine(settings), settings, log)
    assert (summary.rows_read, summary.calls_written, summary.rejected) == (0, 0, 0)
