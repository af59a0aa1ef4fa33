"""Traps in real-world logs: a reused uniqueid, markup in a caller-ID name, RFC 4180 line breaks, UTF-16."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support.data import MASTER_CSV, QUEUE_LOG
from support.imports import open_engine, read_rows, write_cdr
from support.settings import make_settings

from callwatch import store
from callwatch.cli import main
from callwatch.collector.importer import import_file


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'cw.db'}\nrejects_dir: {tmp_path / 'rejects'}\n")
    return config


def test_two_calls_sharing_one_uniqueid_are_both_kept_with_a_warning(tmp_path: Path) -> None:
    rows = read_rows(MASTER_CSV)
    first = next(r for r in rows if r[1] == "6175550112" and r[3] == "from-trunk")
    second = next(r for r in rows if r[1] == "6175550113" and r[3] == "from-trunk")
    second[16] = first[16]  # a second PBX (or a restart) reused the id
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, write_cdr(tmp_path / "Master.csv", rows))
    callers = [c["caller"] for c in store.select_calls(engine)]
    assert len(callers) == 29 and {"6175550112", "6175550113"} <= set(callers)
    assert any(first[16] in w and "both kept" in w for w in summary.warnings)


def test_markup_in_the_caller_id_name_is_not_the_callers_number(tmp_path: Path) -> None:
    rows = read_rows(MASTER_CSV)
    for row in rows:
        if row[1] == "6175550101":
            row[1], row[4] = "", '"<b>Smith</b>, Ann" <6175550101>'
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, write_cdr(tmp_path / "Master.csv", rows))
    callers = {c["caller"] for c in store.select_calls(engine)}
    assert "6175550101" in callers and "b" not in callers


def test_quoted_field_with_a_line_break_stays_one_row(tmp_path: Path) -> None:
    rows = read_rows(MASTER_CSV)
    for row in rows:
        if row[1] == "6175550102":
            row[4] = '"Dr. Ann\nSmith" <6175550102>'  # RFC 4180 2.6: a line break inside quotes
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    summary = import_file(engine, settings, write_cdr(tmp_path / "Master.csv", rows))
    assert (summary.calls_written, summary.rejected) == (29, 0)


def test_utf16_file_is_refused_by_name_and_exits_non_zero(tmp_path: Path) -> None:
    log = tmp_path / "Master.csv"
    log.write_text(MASTER_CSV.read_text(), encoding="utf-16")
    for extra in ([], ["--source", "cdr-csv"]):
        result = CliRunner().invoke(main, ["import", "--config", str(_config(tmp_path)), *extra, str(log)])
        assert result.exit_code == 1
        assert "UTF-16" in result.output and "iconv" in result.output


def test_every_row_rejected_exits_non_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import", "--config", str(_config(tmp_path)), "--source", "cdr-csv",
                                       str(QUEUE_LOG)])
    assert result.exit_code == 1
    assert "every row was rejected" in result.output
