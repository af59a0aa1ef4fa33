"""A failed first import never poisons a file: another way of reading it, --reread or a repaired row reads it again."""

from __future__ import annotations

import os
import time
from pathlib import Path

from click.testing import CliRunner
from support.data import MASTER_CSV
from support.imports import open_engine, read_rows, write_cdr
from support.settings import make_settings

from callwatch import store
from callwatch.cli import main
from callwatch.collector.importer import import_file

LINES = MASTER_CSV.read_bytes().splitlines(keepends=True)


def _by_id(engine: object) -> dict[str, dict]:
    return {c["call_id"]: c for c in store.select_calls(engine)}  # type: ignore[arg-type]


def _fresh_import(tmp_path: Path, path: Path, **settings: object) -> dict[str, dict]:
    fresh = make_settings(tmp_path / "fresh", **settings)
    engine = open_engine(fresh)
    import_file(engine, fresh, path)
    return _by_id(engine)


def _config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'cw.db'}\nrejects_dir: {tmp_path / 'rejects'}\n{extra}")
    return config


def test_wrong_source_first_then_the_right_one_reads_the_file(tmp_path: Path) -> None:
    log = tmp_path / "Master.csv"
    log.write_bytes(MASTER_CSV.read_bytes())
    config = _config(tmp_path)
    wrong = CliRunner().invoke(main, ["import", "--config", str(config), "--source", "queue-log", str(log)])
    assert wrong.exit_code == 1 and "every row was rejected" in wrong.output
    right = CliRunner().invoke(main, ["import", "--config", str(config), str(log)])
    assert right.exit_code == 0, right.output
    assert "116 rows, 29 calls written, 0 rejected" in right.output


def test_corrected_column_map_reads_the_export_again(tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    export.write_text("When,From,Result\n24/11/2026 09:00:00,6175550101,answered\n"
                      "24/11/2026 09:05:00,6175550102,missed\n")
    wrong = make_settings(tmp_path, column_maps={"pbx": {"columns": {"arrived_at": "When", "caller": "From",
                                                                      "outcome": "Result"},
                                                          "time_format": "%m/%d/%Y %H:%M:%S"}})
    engine = open_engine(wrong)
    assert import_file(engine, wrong, export, "csv:pbx").rejected == 2
    fixed = wrong.model_copy(update={"column_maps": {"pbx": wrong.column_maps["pbx"].model_copy(
        update={"time_format": "%d/%m/%Y %H:%M:%S"})}})
    again = import_file(engine, fixed, export, "csv:pbx")
    assert not again.unchanged and again.reread is not None
    assert (again.calls_written, again.rejected) == (2, 0)


def test_changed_setting_replaces_the_calls_instead_of_merging_into_them(tmp_path: Path) -> None:
    # First read with the wrong inbound context: every call looks outbound, its "caller" the DID.
    wrong = make_settings(tmp_path, inbound_contexts=["from-nowhere"])
    engine = open_engine(wrong)
    import_file(engine, wrong, MASTER_CSV)
    right = make_settings(tmp_path)
    summary = import_file(engine, right, MASTER_CSV)
    assert summary.reread is not None and summary.replaced > 0
    assert _by_id(engine) == _fresh_import(tmp_path, MASTER_CSV)


def test_reread_on_purpose_replaces_never_duplicates(tmp_path: Path) -> None:
    log = tmp_path / "Master.csv"
    log.write_bytes(MASTER_CSV.read_bytes())
    config = _config(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["import", "--config", str(config), str(log)]).exit_code == 0
    again = runner.invoke(main, ["import", "--config", str(config), "--reread", str(log)])
    assert again.exit_code == 0, again.output
    assert "29 earlier call(s) replaced" in again.output and "29 calls written" in again.output
    settings = make_settings(tmp_path)
    settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'cw.db'}"})
    assert len(store.select_calls(open_engine(settings))) == 29


def test_finished_file_without_final_newline_reads_its_last_call(tmp_path: Path) -> None:
    log = tmp_path / "Master.csv"
    log.write_bytes(MASTER_CSV.read_bytes().rstrip(b"\n"))
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    # Still being written (changed just now): the last line waits, with a warning.
    growing = import_file(engine, settings, log)
    assert growing.rows_read == len(LINES) - 1
    assert any("left for the next import" in w for w in growing.warnings)
    # Finished (untouched for minutes): the last line is read, with a warning.
    old = time.time() - 600
    os.utime(log, (old, old))
    finished = import_file(engine, settings, log)
    assert any("read it" in w for w in finished.warnings)
    assert len(store.select_calls(engine)) == 29
    assert _by_id(engine) == _fresh_import(tmp_path, MASTER_CSV)


def test_repaired_reject_is_read_and_the_cut_call_was_incomplete_meanwhile(tmp_path: Path) -> None:
    rows = read_rows(MASTER_CSV)
    # Line 10: the staff leg (Local/101@staff;2) of 6175550104's call, cut short mid-row.
    assert rows[9][5].startswith("Local/101@staff") and rows[9][5].endswith(";2") and rows[9][1] == "6175550104"
    log = write_cdr(tmp_path / "Master.csv", rows)
    good = log.read_bytes()
    lines = good.splitlines(keepends=True)
    lines[9] = lines[9][:60] + b"\n"
    log.write_bytes(b"".join(lines))
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    first = import_file(engine, settings, log)
    assert first.rejected == 1
    cut = next(c for c in store.select_calls(engine) if c["caller"] == "6175550104")
    # Answered, but when is unknown: never an instant answer "within target".
    assert cut["outcome"] == "answered" and cut["incomplete"] is True
    assert cut["answered_at"] is None and cut["ring_started_at"] is None
    log.write_bytes(good)  # the practice repairs the row the rejects file pointed at
    second = import_file(engine, settings, log)
    assert second.reread is not None and "repaired" in second.reread
    assert _by_id(engine) == _fresh_import(tmp_path, log)
    repaired = next(c for c in store.select_calls(engine) if c["caller"] == "6175550104")
    assert not repaired["incomplete"] and (repaired["answered_at"] - repaired["ring_started_at"]).total_seconds() == 11
