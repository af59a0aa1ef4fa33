"""`callwatch calls --explain CALL_ID`: the PBX's own rows behind one record, and why each field has its value."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support.ground_truth import SET_D

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


def test_explain_of_an_unknown_call_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["calls", "--explain", "no-such-call", "--config", str(_config(tmp_path))])
    assert result.exit_code == 1
    assert "no call 'no-such-call' stored" in result.output
