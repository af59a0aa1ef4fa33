"""The journal: every raw AMI message, appended before it is processed.

AMI cannot replay what a client missed, so the journal is the only record of
what the PBX said. One JSON object per line:

    {"t": 1795553420.3408, "m": "Event: Newchannel\\r\\nChannel: ..."}   a message as received
    {"t": 1795553421.0, "c": "disconnected", "d": "connection reset"}    a link event

JSON lines survive anything the PBX sends (non-UTF-8 bytes were already
replaced, line breaks are escaped), and a line cut short by a crash is simply
unparseable and skipped. `callwatch replay` feeds the same records through the
same tracker, so a fix to the call logic can be applied to history.

Durability: every batch read from the socket is written to the operating
system before it is processed (a SIGKILL loses nothing written), and fsync'd at
most once a second (a power cut may lose the last second; calls already in the
store are not affected).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

ROTATE_BYTES = 256 * 1024 * 1024
FSYNC_SECONDS = 1.0
KEEP_DAYS = 35
_STAMP = "%Y%m%dT%H%M%S"


class JournalLocked(Exception):
    """Another collector writes this journal: two would interleave and double every call."""


@dataclass(slots=True, frozen=True)
class Record:
    t: float
    message: str | None = None  # raw AMI message text
    control: str | None = None  # 'connected' | 'disconnected' | 'resync'
    detail: str = ""


class Journal:
    """Append-only writer; safe to call from the reader and the service thread."""

    def __init__(self, path: Path, *, fsync_seconds: float = FSYNC_SECONDS, keep_days: int = KEEP_DAYS) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._owner = _lock_owner(self.path)
        self.keep_days = keep_days
        self._lock = threading.Lock()
        self._fsync_seconds = fsync_seconds
        self._last_sync = time.monotonic()
        self._open()

    def _open(self) -> None:
        # Every PBX message, caller numbers included: owner-only, whatever the umask says.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        self._file = os.fdopen(fd, "ab")
        self.offset = self._file.tell()
        if self.offset and not _ends_with_newline(self.path):
            # A crash cut the last line short; start ours on a fresh line so it stays readable.
            self._file.write(b"\n")
            self.offset += 1
        self.inode = os.fstat(self._file.fileno()).st_ino

    def append(self, record: Record) -> tuple[int, int]:
        """Write one record (buffered); returns its (start, end) offsets in the current file."""
        return self.append_many([record])[0]

    def append_many(self, records: list[Record]) -> list[tuple[int, int]]:
        """Write records in one go; returns each one's (start, end) offsets in the current file."""
        lines = [_encode(r) for r in records]
        spans = []
        with self._lock:
            offset = self.offset
            for line in lines:
                spans.append((offset, offset + len(line)))
                offset += len(line)
            self._file.write(b"".join(lines))
            self.offset = offset
        return spans

    def flush(self) -> None:
        """Hand buffered records to the OS (survives a killed process); fsync now and then."""
        with self._lock:
            self._file.flush()
            now = time.monotonic()
            if now - self._last_sync >= self._fsync_seconds:
                os.fsync(self._file.fileno())
                self._last_sync = now

    def sync(self) -> None:
        with self._lock:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._last_sync = time.monotonic()

    def rotate_if_large(self, max_bytes: int = ROTATE_BYTES) -> bool:
        """Start a new file when this one is large. Call only with no call in flight,
        so a crash-recovery checkpoint never has to point into an older file."""
        with self._lock:
            if self.offset < max_bytes:
                return False
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            stamp = datetime.now(UTC).strftime(_STAMP)
            self.path.rename(self.path.with_name(f"{self.path.name}.{stamp}"))
            self._open()
            log.info("journal rotated at %s bytes", max_bytes)
        prune_rotated(self.path, self.keep_days)
        return True

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
        if not self._owner.closed:
            self._owner.close()  # releases the single-instance lock


def _lock_owner(path: Path) -> IO[str]:
    """Hold `<journal>.lock` for the process's life; a second collector on the same journal is refused."""
    lock_path = path.with_name(path.name + ".lock")
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the service's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise JournalLocked(
            f"another collector (pid {holder}) is already running with the journal {path}; "
            "stop it first, or give this one its own journal_path"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def prune_rotated(path: Path, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Delete rotated journals older than `keep_days` (they hold full caller numbers); returns what went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    gone = []
    for old in journal_files(path):
        if old == Path(path):
            continue
        try:
            rotated_at = datetime.strptime(old.name.rsplit(".", 1)[1], _STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue
        if rotated_at < cutoff:
            old.unlink(missing_ok=True)
            gone.append(old)
    if gone:
        log.info("deleted %d journal file(s) older than %d days (ami.journal_keep_days)", len(gone), keep_days)
    return gone


def _encode(record: Record) -> bytes:
    obj: dict[str, Any] = {"t": record.t}
    if record.message is not None:
        obj["m"] = record.message
    else:
        obj["c"] = record.control
        if record.detail:
            obj["d"] = record.detail
    return (_dumps(obj) + "\n").encode("utf-8")


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def journal_files(path: Path) -> list[Path]:
    """Rotated files oldest first, then the current one."""
    path = Path(path)
    stamp = re.compile(re.escape(path.name) + r"\.\d{8}T\d{6}$")
    rotated = sorted(p for p in path.parent.glob(f"{path.name}.*") if stamp.match(p.name))
    return [*rotated, path] if path.exists() else rotated


def read_records(path: Path, start: int = 0) -> Iterator[tuple[int, int, Record]]:
    """(start, end, record) for each readable line of one file from byte `start`; bad lines are logged and skipped."""
    bad = 0
    for begin, end, line in read_lines(path, start):
        record = decode_line(line)
        if record is None:
            bad += bool(line.strip())
            continue
        yield begin, end, record
    warn_unreadable(path, bad)


def read_lines(path: Path, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """(start, end, raw line) for each line of one file from byte `start`; decode_line makes it a Record."""
    with open(path, "rb") as f:
        f.seek(start)
        offset = start
        for line in f:
            begin, offset = offset, offset + len(line)
            yield begin, offset, line


def decode_line(line: bytes) -> Record | None:
    """One journal line as a Record; None for a blank or unreadable line (cut short by a crash)."""
    try:
        obj = json.loads(line)
        record = Record(t=float(obj["t"]), message=obj.get("m"), control=obj.get("c"), detail=obj.get("d", ""))
    except (ValueError, KeyError, TypeError):
        return None
    if record.message is None and record.control is None:
        return None
    return record


def warn_unreadable(path: Path, bad: int) -> None:
    if bad:
        log.warning("journal %s: skipped %d unreadable line(s) (e.g. cut short by a crash)", path, bad)


# -- the crash-recovery checkpoint: where in the journal to start re-feeding after a restart --------


def checkpoint_path(path: Path) -> Path:
    return Path(f"{path}.checkpoint")


def write_checkpoint(path: Path, inode: int, offset: int) -> None:
    target = checkpoint_path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps({"inode": inode, "offset": offset}), encoding="utf-8")
    os.replace(tmp, target)


def read_checkpoint(path: Path) -> tuple[int, int] | None:
    try:
        obj = json.loads(checkpoint_path(path).read_text(encoding="utf-8"))
        return int(obj["inode"]), int(obj["offset"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
