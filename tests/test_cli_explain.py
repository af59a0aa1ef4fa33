"""`callwatch calls --explain CALL_ID`: the PBX's own rows behind one record, and why each field has its value."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support.ground_truth import SET_D
from support.pbx_tables import cdr_rows, execute, insert

from callwatch.cli import main


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'calls.db'}\ntimezone: America/Chicago\n"
                      f"cdr_gmt: false\nrejects_dir: {tmp_path / 'rejects'}\n", encoding="utf-8")
    return config


def test_explain_shows_the_rows_and_which_answer_won(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    imported = runner.invoke(main, ["import", str(SET_D / "Master.csv"), "--config", str(config)])
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(main, ["calls", "--explain", "1796099287.82", "--config", str(config)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "answered_by      203" in out
    # The six Master.csv lines of the pickup call, by line number, and the row that gave each value.
    for line in (65, 66, 67, 68, 69, 70):
        assert f"\n       {line}: " in out
    assert "ring_started_at  2026-12-01 04:28:07+00:00 from line 66" in out
    assert "on the leg to Local/203@offhook-0000002b;1 (line 69)" in out
    # Caller numbers are masked in the rows and the reasons alike.
    assert "3125550111" not in out and "••••••0111" in out
    unmasked = runner.invoke(main, ["calls", "--explain", "1796099287.82", "--unmasked", "--config", str(config)])
    assert "3125550111" in unmasked.output


def test_explain_from_cel_alone_names_the_events_behind_each_field(tmp_path: Path) -> None:
    """Set D's pickup call (201 rang, 203 picked it up), stored from cel_custom CSV only."""
    config = _config(tmp_path)
    runner = CliRunner()
    imported = runner.invoke(main, ["import", str(SET_D / "cel-custom.csv"), "--config", str(config)])
    assert imported.exit_code == 0, imported.output
    out = runner.invoke(main, ["calls", "--explain", "1796099287.82", "--config", str(config)]).output
    assert "stored from source cel:" in out
    assert "cel: lines of this call in " in out and "cdr-csv:" not in out
    # Every event of the linkedid, by line, from its first CHAN_START to LINKEDID_END (lines 349..374).
    for line in (349, 357, 365, 374):
        assert f"\n      {line}: " in out
    assert "ring_started_at  2026-12-01 04:28:07.459965+00:00 from CHAN_START line 351" in out
    assert "answered_at      2026-12-01 04:28:13.468188+00:00 from BRIDGE_ENTER line 365" in out
    assert "answered_by      203 (Local/203@offhook-0000002b;1;" in out
    assert "pickup           PICKUP line 357: Local/201@phones-0000002a;1 picked up by Local/203@offhook" in out
    assert "hangup           HANGUP line 369" in out and "hangupcause 16" in out
    assert "linkedid_end     LINKEDID_END line 374" in out
    assert "answered_at      cel (the richest source that knows it)" in out
    # The caller (and the DID in channel names) masked in the events and the reasons alike.
    assert "3125550111" not in out and "3125550200" not in out and "••••••0111" in out


def test_explain_from_cel_master_csv_and_queue_log_shows_each_and_the_winner(tmp_path: Path) -> None:
    """Set D's IVR -> queue frontdesk call answered by 204 (Dana), imported from three sources."""
    config = _config(tmp_path)
    runner = CliRunner()
    for name in ("Master.csv", "queue_log", "cel-custom.csv"):
        imported = runner.invoke(main, ["import", str(SET_D / name), "--config", str(config)])
        assert imported.exit_code == 0, imported.output
    out = runner.invoke(main, ["calls", "--explain", "1796099417.104", "--config", str(config)]).output
    assert "stored from source cel:" in out
    sections = [out.index(f"{src}: lines of this call in ") for src in ("cel", "cdr-csv", "queue-log")]
    assert sections == sorted(sections)  # richest source first
    assert "\n      544: " in out and "\n       92: " in out  # CEL's LINKEDID_END, Master.csv's 204 row
    # queue_log names the call by its Queue channel's uniqueid: found through the stored alias.
    assert "1796099417.105|frontdesk|Dana|CONNECT|10|1796099425.108|10" in out
    assert "queue_log names the call 1796099417.105" in out
    assert "answered_at      2026-12-01 04:30:35+00:00 from CONNECT line 3: Dana took the call" in out
    assert "ring_started_at  2026-12-01 04:30:25+00:00 from line 87" in out  # Master.csv's reason
    winners = out[out.index("which source won each stored field (richest first: cel, cdr-csv, queue-log):"):]
    assert "answered_at      cel (the richest source that knows it)" in winners
    assert "answered_by      cel (the richest source that knows it; also given by cdr-csv)" in winners
    assert "queue            cel (the richest source that knows it; also given by cdr-csv, queue-log)" in winners
    assert "3125550115" not in out and "••••••0115" in out


def test_explain_re_reads_the_rows_of_a_pbx_database_table(tmp_path: Path) -> None:
    """Set D's cdr_sqlite3_custom table imported by URL: its rows of the linkedid are read again from it."""
    columns = list(cdr_rows()[0])
    pbx = f"sqlite:///{tmp_path / 'master.db'}"
    execute(pbx, f"CREATE TABLE cdr (AcctId INTEGER PRIMARY KEY, {', '.join(columns)})")
    insert(pbx, "cdr", cdr_rows())
    config = _config(tmp_path)
    runner = CliRunner()
    imported = runner.invoke(main, ["import", pbx, "--config", str(config)])
    assert imported.exit_code == 0, imported.output
    out = runner.invoke(main, ["calls", "--explain", "1796099287.82", "--config", str(config)]).output
    assert f"cdr-csv: lines of this call in {pbx}#cdr" in out
    assert "dstchannel=Local/203@offhook-0000002b;1" in out
    assert "answered_by      203 (the first to pick up" in out
    assert "answered_by      cdr-csv (the richest source that knows it)" in out
    assert "3125550111" not in out and "••••••0111" in out


def test_explain_of_an_unknown_call_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["calls", "--explain", "no-such-call", "--config", str(_config(tmp_path))])
    assert result.exit_code == 1
    assert "no call 'no-such-call' stored" in result.output
