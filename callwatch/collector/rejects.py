"""Rejects files: the rows and calls callwatch would not store, with why, for a person to fix.

They hold caller numbers, so they are created readable by their owner only
(0600) whatever the umask, and an older file with a looser mode is tightened.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


def open_private(path: Path) -> IO[str]:
    """Open a file that holds caller numbers for appending, readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)  # a file made by an older version with the umask's mode
    return os.fdopen(fd, "a", encoding="utf-8")


def reject_line(source: str, line: int | str, reason: str, text: str) -> str:
    """One tab-separated line: when, which file (or "ami"), which line, why, the row as read."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = text.replace("\t", " ").replace("\n", "\\n")
    return f"{stamp}\t{source}\t{line}\t{reason}\t{text}\n"
