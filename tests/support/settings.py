"""One Settings builder: a real SQLite store, journal and rejects in the test's own folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callwatch.config import Settings


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings validated as callwatch.yaml would be; a section given as a dict replaces the default one."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'callwatch.db'}",
        "journal_path": str(tmp_path / "journal.log"),
        "rejects_dir": str(tmp_path / "rejects"),
        **overrides,
    }
    return Settings.model_validate(values)
