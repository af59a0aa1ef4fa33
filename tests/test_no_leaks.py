"""Caller numbers stay out of errors, logs and world-readable files; old journals are deleted."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.ami import settings_for
from support.data import MASTER_CSV

from callwatch.collector.ami.journal import Journal, journal_files, prune_rotated
from callwatch.collector.ami.service import CollectorService
from callwatch.model import mask_numbers_in

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from callwatch.cli import main; main()"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_locked_database_prints_a_clean_message_without_numbers(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'cw.db'}\nrejects_dir: {tmp_path / 'rejects'}\n"
                      "database_busy_timeout_seconds: 1\n")
    subprocess.run([*CLI, "check-config", "--config", str(config)], check=True, capture_output=True, timeout=60)
    subprocess.run([*CLI, "report", "--config", str(config), "--week", "2026-W47", "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=120)  # creates and migrates the store
    holder = sqlite3.connect(tmp_path / "cw.db")
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock for longer than the timeout
    try:
        result = subprocess.run([*CLI, "import", "--config", str(config), str(MASTER_CSV)],
                                capture_output=True, text=True, timeout=120)
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 1
    assert "database is locked" in result.stderr
    assert "Traceback" not in result.stderr and "INSERT" not in result.stderr
    assert "617555" not in result.stdout + result.stderr


def test_log_lines_and_messages_mask_numbers_but_not_ids_or_dates() -> None:
    line = ("2026-11-24 20:50:20,123 ERROR x: "
            "[parameters: ('main-office', '1795553420.422', '6175550101', '+16175550102')]")
    masked = mask_numbers_in(line)
    assert "6175550101" not in masked and "16175550102" not in masked and "0101" in masked
    assert "1795553420.422" in masked and "2026-11-24 20:50:20,123" in masked


def test_files_holding_numbers_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        journal = Journal(tmp_path / "ami-journal.log")
        journal.close()
        config = tmp_path / "callwatch.yaml"
        config.write_text(f"database_url: sqlite:///{tmp_path / 'cw.db'}\n")
        subprocess.run([*CLI, "report", "--config", str(config), "--week", "2026-W47", "--out",
                        str(tmp_path / "reports")], check=True, capture_output=True, timeout=120)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "ami-journal.log") == 0o600
    assert _mode(tmp_path / "cw.db") == 0o600
    reports = list((tmp_path / "reports").iterdir())
    assert reports and all(_mode(p) == 0o600 for p in reports)


def test_rotated_journals_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 1, ami={"journal_keep_days": 35})
    path = Path(settings.journal_path)
    path.parent.mkdir(parents=True)
    now = datetime.now(UTC)
    for days in (40, 36, 10):
        stamp = (now - timedelta(days=days)).strftime("%Y%m%dT%H%M%S")
        path.with_name(f"{path.name}.{stamp}").write_text("{}\n")
    service = CollectorService(settings, "secret")  # prunes when it starts
    service.journal.close()
    assert [p.name for p in journal_files(path)] == [
        f"{path.name}.{(now - timedelta(days=10)).strftime('%Y%m%dT%H%M%S')}", path.name,
    ]
    ten_days_old = journal_files(path)[0]
    assert prune_rotated(path, 5, now=now) == [ten_days_old]
    assert journal_files(path) == [path]


def test_systemd_unit_sets_a_private_umask() -> None:
    unit = (ROOT / "deploy" / "callwatch-collector.service").read_text()
    assert "\nUMask=0077\n" in unit
