"""Import call logs into the store: `import_file` is the one entry point.

Used by `callwatch import` and by the scheduled tailing (collector/tail.py).
The per-day rollups of the days written are refreshed by the caller, once
after all its files (metrics.rollup_store.refresh_written_rollups).
Each file's identity (inode and a hash of its first bytes) and how far it was
read are kept in `import_state`, so importing it again adds nothing and a
grown log is read only from where the last read stopped (a rotated or replaced
file starts over). Bad rows never stop an import: they are counted and kept,
with file, line and reason, in a rejects file.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from sqlalchemy.engine import Engine
from tqdm import tqdm

from callwatch import store
from callwatch.collector.reconstruct.cdr import CallContext, CdrGrouper, call_from_rows
from callwatch.collector.reconstruct.queue_log import QueueLogCalls
from callwatch.collector.sources import LineCursor, Reject
from callwatch.collector.sources.detect import CDR_CSV, QUEUE_LOG, detect_source, parse_source
from callwatch.collector.sources.generic_csv import GenericCsvParser
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser
from callwatch.collector.sources.queue_log import events
from callwatch.config.settings import Settings
from callwatch.model import Call

HEAD_BYTES = 1024
PROGRESS_EVERY = 4096


@dataclass
class ImportSummary:
    file: str
    source: str
    rows_read: int = 0
    calls_written: int = 0
    rejected: int = 0
    rejects_path: str | None = None
    # True when the file had not changed since the last import: nothing was read.
    unchanged: bool = False


def import_file(
    engine: Engine, settings: Settings, path: str | os.PathLike[str], source: str = "auto", progress: bool = False
) -> ImportSummary:
    """Import one log file; raises OSError or SourceError only when the file cannot be read at all."""
    path = Path(path).resolve()
    kind = parse_source(source, settings)
    if kind == "auto":
        if path.stat().st_size == 0:
            # A log just rotated and not yet written to: nothing to import, and nothing wrong.
            return ImportSummary(file=str(path), source=kind)
        kind = detect_source(path, settings)
    summary = ImportSummary(file=str(path), source=kind)
    with path.open("rb") as fh:
        stat = os.fstat(fh.fileno())
        state = store.load_import_state(engine, settings.site, str(path))
        cursor, old_size = _resume(fh, stat, state)
        if state is not None and old_size == stat.st_size and cursor.offset <= old_size:
            summary.unchanged = True
            return summary
        run = _Run(summary, settings, path, old_size, fh, cursor, progress, stat.st_size)
        try:
            summary.calls_written = store.save_calls(engine, _calls(kind, fh, cursor, settings, run))
        finally:
            run.close()
        _save_state(engine, settings.site, path, fh, stat, cursor, run.resume_at)
    return summary


class _Run:
    """Counting, rejects and progress for one import of one file."""

    def __init__(
        self, summary: ImportSummary, settings: Settings, path: Path, old_size: int,
        fh: BinaryIO, cursor: LineCursor, progress: bool, size: int,
    ) -> None:
        self.summary = summary
        self.path = path
        self.old_size = old_size
        self.cursor = cursor
        self.rejects_file = _rejects_path(settings, path)
        self._rejects: IO[str] | None = None
        self.resume_at = 0
        self.resume_line = 0
        self._bar: Any = None
        self._seen = cursor.offset
        if progress:
            self._bar = tqdm(total=max(size - cursor.offset, 0), unit="B", unit_scale=True,
                             desc=path.name, file=sys.stderr, leave=False)

    def row(self, offset: int) -> None:
        # A re-read tail was counted by the import that first read it.
        if offset >= self.old_size:
            self.summary.rows_read += 1
            if self._bar is not None and self.summary.rows_read % PROGRESS_EVERY == 0:
                self._bar.update(self.cursor.offset - self._seen)
                self._seen = self.cursor.offset

    def reject(self, bad: Reject) -> None:
        if bad.offset < self.old_size:
            return
        self.summary.rows_read += 1
        self.summary.rejected += 1
        if self._rejects is None:
            self.rejects_file.parent.mkdir(parents=True, exist_ok=True)
            self._rejects = self.rejects_file.open("a", encoding="utf-8")
            self.summary.rejects_path = str(self.rejects_file)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        text = bad.text.replace("\t", " ")
        self._rejects.write(f"{stamp}\t{self.path}\t{bad.line}\t{bad.reason}\t{text}\n")

    def close(self) -> None:
        if self._rejects is not None:
            self._rejects.close()
        if self._bar is not None:
            self._bar.update(self.cursor.offset - self._seen)
            self._bar.close()


def _calls(kind: str, fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run) -> Iterator[Call]:
    if kind == CDR_CSV:
        yield from _cdr_calls(fh, cursor, settings, run)
    elif kind == QUEUE_LOG:
        yield from _queue_calls(fh, cursor, settings, run)
    else:
        name = kind.removeprefix("csv:")
        parser = GenericCsvParser(name, settings.column_maps[name], settings)
        for item in parser.calls(fh, cursor):
            if isinstance(item, Reject):
                run.reject(item)
                continue
            run.row(item[0])
            yield item[1]
        run.resume_at = cursor.offset


def _cdr_calls(fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run) -> Iterator[Call]:
    ctx = CallContext(
        site=settings.site,
        inbound_contexts=frozenset(settings.inbound_contexts),
        inbound_dids=frozenset(settings.inbound_dids),
        voicemail_extensions=frozenset(settings.voicemail_extensions),
        voicemail_message_seconds=settings.voicemail_message_seconds,
    )
    parser = MasterCsvParser(gmt=settings.cdr_gmt, zone=settings.tz)
    grouper = CdrGrouper()
    for item in parser.rows(fh, cursor):
        if not isinstance(item, CdrRow):
            run.reject(item)
            continue
        run.row(item.offset)
        for rows in grouper.add(item):
            call = _fresh_call(rows, ctx, run.old_size)
            if call is not None:
                yield call
    rest, run.resume_at = grouper.finish(cursor.offset)
    for rows in rest:
        call = _fresh_call(rows, ctx, run.old_size)
        if call is not None:
            yield call


def _fresh_call(rows: list[CdrRow], ctx: CallContext, old_size: int) -> Call | None:
    # A call whose rows all lie in a re-read tail was written, whole, by the import that first read them.
    if max(r.offset for r in rows) < old_size:
        return None
    return call_from_rows(rows, ctx)


def _queue_calls(fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run) -> Iterator[Call]:
    tracker = QueueLogCalls(settings.site, emit_from=run.old_size)
    for item in events(fh, cursor):
        if isinstance(item, Reject):
            run.reject(item)
            continue
        run.row(item.offset)
        yield from tracker.add(item)
    pending, run.resume_at = tracker.finish(cursor.offset)
    yield from pending


def _rejects_path(settings: Settings, path: Path) -> Path:
    # Two logs may share a name (Master.csv of two offices): the path's hash tells them apart.
    tag = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    return Path(settings.rejects_dir) / f"{path.name}-{tag}.rejects.tsv"


def _head_hash(fh: BinaryIO, length: int) -> str:
    fh.seek(0)
    return hashlib.sha256(fh.read(length)).hexdigest()


def _resume(fh: BinaryIO, stat: os.stat_result, state: dict[str, Any] | None) -> tuple[LineCursor, int]:
    """Where to start reading and how much was read before (0 for a new, rotated or truncated file)."""
    if state is None or stat.st_size < state["size"] or stat.st_ino != state["inode"]:
        return LineCursor(), 0
    if _head_hash(fh, min(HEAD_BYTES, state["size"])) != state["head_hash"]:
        return LineCursor(), 0
    return LineCursor(state["offset"], state["line"]), state["size"]


def _save_state(
    engine: Engine, site: str, path: Path, fh: BinaryIO, stat: os.stat_result, cursor: LineCursor, resume_at: int
) -> None:
    # The line number at the resume offset: count the newlines before it (a small tail).
    fh.seek(resume_at)
    tail_lines = fh.read(cursor.offset - resume_at).count(b"\n") if cursor.offset > resume_at else 0
    row = {
        "site": site,
        "path": str(path),
        "inode": stat.st_ino,
        "head_hash": _head_hash(fh, min(HEAD_BYTES, cursor.offset)),
        "size": cursor.offset,
        "offset": resume_at,
        "line": cursor.line - tail_lines,
        "updated_at": datetime.now(UTC),
    }
    store.save_import_state(engine, row)
