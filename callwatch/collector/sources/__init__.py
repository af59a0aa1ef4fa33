"""Parsers for call logs: each turns lines into records or `Reject`s, never raises on bad data.

Every parser reads through `read_lines`, which knows the byte offset of each
line, so an import can remember how far it got and resume a growing log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(slots=True, frozen=True)
class Reject:
    """A line a parser could not use, with why, for the rejects file."""

    line: int
    reason: str
    text: str
    # Byte offset of the line: a re-read of a log's tail reports only rejects it has not reported before.
    offset: int = 0


@dataclass(slots=True)
class LineCursor:
    """Where the reader stands: the byte offset and line number of the next unread line."""

    offset: int = 0
    line: int = 0
    # Read a last line that has no newline: the file is finished (an export), not still being written.
    take_last: bool = False
    # Set by read_lines: the length of a last line without a newline, whether it was read or left.
    unterminated: int = 0


def read_lines(fh: BinaryIO, cursor: LineCursor) -> Iterator[str]:
    """Decoded complete lines from `cursor.offset`, advancing the cursor past each.

    A last line without its newline is still being written by the PBX: it is
    left unread so the next import starts at its beginning, unless the cursor
    says the file is finished (`take_last`), when it is the export's last row.
    """
    fh.seek(cursor.offset)
    for raw in fh:
        if not raw.endswith(b"\n"):
            cursor.unterminated = len(raw)
            if not cursor.take_last:
                return
        cursor.offset += len(raw)
        cursor.line += 1
        # Bad bytes in one line (a caller name in Latin-1) must not stop the import.
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class SourceError(Exception):
    """The file as a whole cannot be read as this source (missing header columns, unknown format)."""


class OneLine:
    """A one-line binary 'file', so a header row is split by the same CSV rules as the rows."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw if raw.endswith(b"\n") else raw + b"\n"

    def seek(self, _offset: int) -> None:
        return None

    def __iter__(self) -> Iterator[bytes]:
        return iter([self.raw])
