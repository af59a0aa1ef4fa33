"""Import call logs into the store: `import_file` is the one entry point.

Used by `callwatch import` and by the scheduled tailing (collector/tail.py);
the per-day rollups of the days written are refreshed by the caller, once
after all its files (metrics.rollup_store.refresh_written_rollups).
Each file's identity (inode and a hash of its first bytes), how it was read
(source, column map, the settings that shape reconstruction: `read_key`) and
how far are kept in `import_state`, so importing it again adds nothing and a
grown log is read only from where the last read stopped. A rotated or replaced
file starts over; so does one read another way (a corrected `--source`, map or
setting), one whose rejected row was repaired, or `reread=True`: then the
calls the file wrote before are deleted first (import_calls), never doubled.
Bad rows never stop an import: they are counted and kept, with file, line and
reason, in a rejects file (mode 0600: it holds caller numbers), and so are
calls that cannot be real (collector/plausibility.py).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, TypeVar

from sqlalchemy.engine import Engine
from tqdm import tqdm

from callwatch import store
from callwatch.collector.plausibility import Plausibility
from callwatch.collector.reconstruct.cdr import SETTLE, CallContext, CdrGrouper, call_from_rows
from callwatch.collector.reconstruct.cdr_bulk import bulk_groups, grouped_rows
from callwatch.collector.reconstruct.cdr_shapes import simple_inbound_call
from callwatch.collector.reconstruct.cel import CelCalls
from callwatch.collector.reconstruct.queue_log import QueueLogCalls
from callwatch.collector.rejects import open_private, reject_line
from callwatch.collector.sources import LineCursor, Reject, SourceError
from callwatch.collector.sources.cel import CelCsvParser, CelEvent
from callwatch.collector.sources.detect import CDR_CSV, CEL_CSV, QUEUE_LOG, detect_source, parse_source
from callwatch.collector.sources.generic_csv import GenericCsvParser
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser
from callwatch.collector.sources.master_csv_columns import MasterColumns, read_master_columns
from callwatch.collector.sources.presets import preset_named
from callwatch.collector.sources.presets.base import PresetContext, Row
from callwatch.collector.sources.presets.freepbx import cdr_row
from callwatch.collector.sources.presets.reader import PresetFile
from callwatch.collector.sources.queue_log import QueueEvent, events
from callwatch.config.settings import Settings
from callwatch.model import Call, Source

log = logging.getLogger(__name__)

HEAD_BYTES = 1024
PROGRESS_EVERY = 4096
# A file not modified for this long is finished: its last line is read even without a newline.
FINISHED_AFTER_SECONDS = 60.0
# Rejected rows remembered per file to notice a repair (beyond, only these are watched).
MAX_REMEMBERED_REJECTS = 10_000
# A Master.csv up to this size, read for the first time, is read whole (column-wise, grouped at once):
# about 6.5 times its size in memory at the peak (1.6 GB for 1,000,000 rows, 244 MB). A larger
# one is read row by row, in memory bounded by the grouping buffer, however large the file.
WHOLE_FILE_MAX_BYTES = 256 << 20
# ... and only when this many times its size fits in half the memory the machine has free: a small
# office server (1-2 GB) then reads a year's log row by row, slower, instead of running out of memory.
WHOLE_FILE_MEMORY_FACTOR = 7
# Bump when the reading of files changes in a way that should re-read them.
READ_KEY_VERSION = "1"
# Where a row came from: (line number, byte offset).
Position = tuple[int, int]


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
    # Why the whole file was read again (None: a first or a resumed read), and the calls that re-read replaced.
    reread: str | None = None
    replaced: int = 0
    # Things the person importing should know (an unfinished last line, two calls with one id).
    warnings: list[str] = field(default_factory=list)
    # For a file read for the first time with a preset: how each column was read, and one call.
    columns_read: list[str] = field(default_factory=list)
    example: Call | None = None


def import_file(
    engine: Engine, settings: Settings, path: str | os.PathLike[str], source: str = "auto", progress: bool = False,
    *, reread: bool = False,
) -> ImportSummary:
    """Import one log file; raises OSError or SourceError only when the file cannot be read at all.

    `reread` reads the file again from its start, replacing the calls it wrote before.
    """
    path = Path(path).resolve()
    kind = parse_source(source, settings)
    if path.stat().st_size:
        refuse_other_encodings(path)
    if kind == "auto":
        if path.stat().st_size == 0:
            # A log just rotated and not yet written to: nothing to import, and nothing wrong.
            return ImportSummary(file=str(path), source=kind)
        kind = detect_source(path, settings)
    summary = ImportSummary(file=str(path), source=kind)
    key = read_key(kind, settings)
    file_key = hashlib.sha1(str(path).encode()).hexdigest()
    with path.open("rb") as fh:
        stat = os.fstat(fh.fileno())
        state = store.load_import_state(engine, settings.site, str(path))
        if state is not None and not _same_file(fh, stat, state):
            # A rotated or replaced log: the calls of the file that was here stay, and are no longer its to replace.
            store.forget_file_calls(engine, settings.site, file_key)
            state = None
        summary.reread = _why_reread(fh, state, key, reread)
        if summary.reread is not None:
            summary.replaced = store.delete_file_calls(engine, settings.site, file_key, _source_of(kind))
            state = None
        cursor, old_size = _resume(state)
        if state is not None and old_size == stat.st_size and cursor.offset <= old_size:
            summary.unchanged = True
            return summary
        cursor.take_last = time.time() - stat.st_mtime >= FINISHED_AFTER_SECONDS
        run = _Run(summary, settings, path, old_size, fh, cursor, progress, stat.st_size)
        try:
            calls = _checked(_calls(kind, fh, cursor, settings, run), settings, run)
            summary.calls_written = store.save_calls(engine, calls, file_key=file_key)
        finally:
            run.close()
        _warn_unterminated(summary, cursor)
        rejected = _remembered_rejects(fh, state, run.rejected_offsets, run.resume_at)
        _save_state(engine, settings.site, path, fh, stat, cursor, run.resume_at, key, rejected)
    return summary


def read_key(kind: str, settings: Settings) -> str:
    """A hash of how a file is read: the source, its column map, and every setting the calls depend on."""
    shape: dict[str, Any] = {
        "version": READ_KEY_VERSION,
        "source": kind,
        "site": settings.site,
        "timezone": settings.timezone,
        "cdr_gmt": settings.cdr_gmt,
        "inbound_contexts": sorted(settings.inbound_contexts),
        "inbound_dids": sorted(settings.inbound_dids),
        "inbound_channels": sorted(settings.inbound_channels),
        "cel_fields": list(settings.cel_fields),
        "voicemail_extensions": sorted(settings.voicemail_extensions),
        "voicemail_message_seconds": settings.voicemail_message_seconds,
        "plausibility": settings.plausibility.model_dump(mode="json"),
    }
    if kind.startswith("csv:"):
        shape["column_map"] = settings.column_maps[kind[4:]].model_dump(mode="json")
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def refuse_other_encodings(path: Path) -> None:
    """UTF-16 (a spreadsheet's "Unicode text" export) is refused by name, not as a wrong format."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 8 and head.count(b"\x00") * 4 >= len(head)):
        raise SourceError(
            "the file is UTF-16 encoded (a spreadsheet's 'Unicode text' export); callwatch reads UTF-8: "
            "save it as 'CSV UTF-8', or convert it with: iconv -f UTF-16 -t UTF-8 FILE > FILE.csv"
        )


def _source_of(kind: str) -> str:
    return {CDR_CSV: Source.CDR_CSV, QUEUE_LOG: Source.QUEUE_LOG, CEL_CSV: Source.CEL}.get(kind, Source.CSV).value


def _why_reread(fh: BinaryIO, state: dict[str, Any] | None, key: str, asked: bool) -> str | None:
    if state is None:
        return None
    if asked:
        return "--reread"
    if (state.get("read_key") or "") != key:
        return "read another way since the last import (source, column map or a setting changed)"
    if _rejects_changed(fh, state.get("rejected")):
        return "a rejected row was changed (repaired) since the last import"
    return None


def _warn_unterminated(summary: ImportSummary, cursor: LineCursor) -> None:
    if not cursor.unterminated:
        return
    if cursor.take_last:
        summary.warnings.append(
            f"the last line has no line end; read it, since the file has not changed for {FINISHED_AFTER_SECONDS:.0f} s"
        )
    else:
        summary.warnings.append(
            "the last line has no line end and the file changed recently (still being written?): left for the "
            "next import"
        )
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
        self.rejected_offsets: list[int] = []
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
        self._keep(bad)

    def reject_call(self, positions: list[Position], reason: str) -> None:
        """A reconstructed call that cannot be real: each of its rows goes to the rejects file."""
        for line, offset in sorted(positions):
            if offset >= self.old_size:
                self._keep(Reject(line, reason, _line_at(self.path, offset), offset))

    def _keep(self, bad: Reject) -> None:
        self.summary.rejected += 1
        if len(self.rejected_offsets) < MAX_REMEMBERED_REJECTS:
            self.rejected_offsets.append(bad.offset)
        if self._rejects is None:
            self._rejects = open_private(self.rejects_file)
            self.summary.rejects_path = str(self.rejects_file)
        self._rejects.write(reject_line(str(self.path), bad.line, bad.reason, bad.text))

    def close(self) -> None:
        if self._rejects is not None:
            self._rejects.close()
        if self._bar is not None:
            self._bar.update(self.cursor.offset - self._seen)
            self._bar.close()


def _line_at(path: Path, offset: int) -> str:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.readline().decode("utf-8", errors="replace").rstrip("\r\n")[:2000]


def _checked(items: Iterator[tuple[Call, list[Position]]], settings: Settings, run: _Run) -> Iterator[Call]:
    """Calls that can be real, each with an id no other call of this read has; the rest is rejected or renamed."""
    rules = Plausibility.from_settings(settings)
    seen: dict[str, tuple[Call, int]] = {}
    for call, positions in items:
        problem = rules.problem(call)
        if problem is not None:
            run.reject_call(positions, f"implausible call: {problem}")
            continue
        first_line = min(line for line, _ in positions)
        earlier = seen.get(call.call_id)
        if earlier is not None and _different_calls(earlier[0], call):
            original, n = call.call_id, 2
            while f"{original}#{n}" in seen:
                n += 1
            call.call_id = f"{original}#{n}"
            run.summary.warnings.append(
                f"line {first_line}: call id {original} is also the id of another call (line {earlier[1]}) "
                f"with a different caller or time; both kept, this one as {call.call_id}"
            )
        seen.setdefault(call.call_id, (call, first_line))
        yield call


def _different_calls(a: Call, b: Call) -> bool:
    """Two records with one id describe two calls (a reused uniqueid), not one call seen twice."""
    if a.caller and b.caller and a.caller != b.caller:
        return True
    return abs(a.arrived_at - b.arrived_at) > SETTLE


def _calls(
    kind: str, fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    if kind == CDR_CSV:
        whole = _whole_file_rows(fh, cursor, settings, run)
        if whole is not None:
            yield from _whole_file_calls(whole, cursor, settings, run)
            return
        parser = MasterCsvParser(gmt=settings.cdr_gmt, zone=settings.tz)
        yield from _cdr_calls(parser.rows(fh, cursor), cursor, settings, run)
    elif kind.startswith("preset:"):
        yield from _preset_calls(kind.removeprefix("preset:"), fh, cursor, settings, run)
    elif kind == QUEUE_LOG:
        yield from _queue_calls(fh, cursor, settings, run)
    elif kind == CEL_CSV:
        yield from _cel_calls(fh, cursor, settings, run)
    else:
        name = kind.removeprefix("csv:")
        mapped = GenericCsvParser(name, settings.column_maps[name], settings)
        for item in mapped.calls(fh, cursor):
            if isinstance(item, Reject):
                run.reject(item)
                continue
            run.row(item[0])
            # Yielded right after its row was read: the cursor's line is the row's (last) line.
            yield item[1], [(cursor.line, item[0])]
        run.resume_at = cursor.offset


def _cdr_calls(
    rows: Iterable[CdrRow | Reject], cursor: LineCursor, settings: Settings, run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    ctx = CallContext.from_settings(settings)
    grouper = CdrGrouper()
    for item in rows:
        if not isinstance(item, CdrRow):
            run.reject(item)
            continue
        run.row(item.offset)
        for group in grouper.add(item):
            call = _fresh_call(group, ctx, run.old_size)
            if call is not None:
                yield call
    rest, run.resume_at = grouper.finish(cursor.offset)
    for group in rest:
        call = _fresh_call(group, ctx, run.old_size)
        if call is not None:
            yield call


def available_memory_bytes() -> int:
    """What the kernel says can be allocated without swapping (MemAvailable); unknown: no limit."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 62


def _whole_file_rows(fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run) -> MasterColumns | None:
    """A Master.csv read for the first time, whole and column-wise, when that gives the same rows
    (collector/sources/master_csv_columns.py says when); None: read it row by row. The cursor is then at the end."""
    size = os.fstat(fh.fileno()).st_size
    if cursor.offset or run.old_size or size > WHOLE_FILE_MAX_BYTES:
        return None
    if size * WHOLE_FILE_MEMORY_FACTOR > available_memory_bytes() // 2:
        return None
    fh.seek(0)
    collecting = gc.isenabled()
    gc.disable()  # see _whole_file_calls
    try:
        columns = read_master_columns(fh, gmt=settings.cdr_gmt, zone=settings.tz)
    finally:
        if collecting:
            gc.enable()
    if columns is None:
        fh.seek(0)
        return None
    cursor.offset, cursor.line = columns.size, len(columns.rows)
    return columns


def _whole_file_calls(
    columns: MasterColumns, cursor: LineCursor, settings: Settings, run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    """_cdr_calls for the rows of a whole file: grouped at once
    (collector/reconstruct/cdr_bulk.py), same calls, same order."""
    # A million rows are a million objects held at once: the cyclic collector would walk them all again
    # and again (a third of the import) while none of them can be garbage until the file is done.
    collecting = gc.isenabled()
    gc.disable()
    rows = columns.rows
    try:
        ctx = CallContext.from_settings(settings)
        bulk = bulk_groups(rows, columns.end_us, columns.keys, cursor.offset)
        if bulk is not None:
            run.summary.rows_read += len(rows)
            for i in range(len(bulk.members)):
                group = bulk.group(i)
                # The common inbound shape directly (in any row order); any other group through the
                # general reconstruction, with its rows in the order CdrGrouper would hand them over.
                simple = simple_inbound_call(group, ctx)
                call = call_from_rows(bulk.streaming_order(i), ctx) if isinstance(simple, str) else simple
                if call is not None:
                    yield call, [(r.line, r.offset) for r in group]
            run.resume_at = bulk.resume
            return
        grouped = grouped_rows(rows, cursor.offset)
        if grouped is None:
            yield from _cdr_calls(rows, cursor, settings, run)
            return
        groups, resume_at = grouped
        run.summary.rows_read += len(rows)
        for group in groups:
            # The common inbound shape directly; any other group through the general reconstruction.
            simple = simple_inbound_call(group, ctx)
            call = call_from_rows(group, ctx) if isinstance(simple, str) else simple
            if call is not None:
                yield call, [(r.line, r.offset) for r in group]
        run.resume_at = resume_at
    finally:
        if collecting:
            gc.enable()


def _fresh_call(rows: list[CdrRow], ctx: CallContext, old_size: int) -> tuple[Call, list[Position]] | None:
    # A call whose rows all lie in a re-read tail was written, whole, by the import that first read them.
    if max(r.offset for r in rows) < old_size:
        return None
    call = call_from_rows(rows, ctx)
    return None if call is None else (call, [(r.line, r.offset) for r in rows])


def _preset_calls(
    name: str, fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    """A vendor export read with its preset; the whole file is re-read when it changes (legs regroup)."""
    preset = preset_named(name)
    reader = PresetFile(preset, run.path, PresetContext(settings.site, settings.tz))
    first_read = run.old_size == 0
    rows = reader.rows(fh, cursor)
    if preset.fmt == "asterisk-cdr":
        calls: Iterator[tuple[Call, list[Position]]] = _cdr_calls(_as_cdr_rows(rows, reader.ctx), cursor, settings,
                                                                   run)
    else:
        calls = _counted(reader.calls(rows), run)
    for call, positions in calls:
        if first_read and run.summary.example is None:
            run.summary.columns_read = reader.column_notes()
            run.summary.example = call
        yield call, positions
    run.resume_at = 0


def _as_cdr_rows(rows: Iterator[Row | Reject], ctx: PresetContext) -> Iterator[CdrRow | Reject]:
    for row in rows:
        if isinstance(row, Reject):
            yield row
            continue
        try:
            yield cdr_row(row, ctx)
        except ValueError as exc:
            yield Reject(row.line, str(exc), row.text, row.offset)


def _counted(
    items: Iterator[tuple[list[Row], Call] | Reject], run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    for item in items:
        if isinstance(item, Reject):
            run.reject(item)
            continue
        for row in item[0]:
            run.row(row.offset)
        yield item[1], [(row.line, row.offset) for row in item[0]]


def _queue_calls(
    fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    tracker = QueueLogCalls(settings.site, emit_from=run.old_size)
    yield from _tracked_calls(events(fh, cursor), tracker, cursor, run)


def _cel_calls(
    fh: BinaryIO, cursor: LineCursor, settings: Settings, run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    parser = CelCsvParser(zone=settings.tz, fields=settings.cel_fields)
    tracker = CelCalls(CallContext.from_settings(settings), emit_from=run.old_size)
    yield from _tracked_calls(parser.events(fh, cursor), tracker, cursor, run)


_Event = TypeVar("_Event", CelEvent, QueueEvent)
_Event_contra = TypeVar("_Event_contra", contravariant=True)


class _Tracker(Protocol[_Event_contra]):
    """What CelCalls and QueueLogCalls share: calls as their events come, then those still open at the end."""

    def add(self, ev: _Event_contra) -> Iterator[Call]: ...

    def finish(self, eof: int) -> tuple[list[Call], int]: ...


def _tracked_calls(
    items: Iterator[_Event | Reject], tracker: _Tracker[_Event], cursor: LineCursor, run: _Run
) -> Iterator[tuple[Call, list[Position]]]:
    """The calls a line-by-line source's tracker builds, each with the line that completed it; a call still
    open at the end of the file is positioned at the end, and the run resumes where the tracker says."""
    for item in items:
        if isinstance(item, Reject):
            run.reject(item)
            continue
        run.row(item.offset)
        for call in tracker.add(item):
            yield call, [(item.line, item.offset)]
    pending, run.resume_at = tracker.finish(cursor.offset)
    for call in pending:
        yield call, [(cursor.line, run.resume_at)]


def _rejects_path(settings: Settings, path: Path) -> Path:
    # Two logs may share a name (Master.csv of two offices): the path's hash tells them apart.
    tag = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    return Path(settings.rejects_dir) / f"{path.name}-{tag}.rejects.tsv"


def _head_hash(fh: BinaryIO, length: int) -> str:
    fh.seek(0)
    return hashlib.sha256(fh.read(length)).hexdigest()


def _same_file(fh: BinaryIO, stat: os.stat_result, state: dict[str, Any]) -> bool:
    """The file read last time, perhaps grown (not rotated, replaced or truncated)."""
    if stat.st_size < state["size"] or stat.st_ino != state["inode"]:
        return False
    return bool(_head_hash(fh, min(HEAD_BYTES, state["size"])) == state["head_hash"])


def _resume(state: dict[str, Any] | None) -> tuple[LineCursor, int]:
    """Where to start reading and how much was read before (0 for a new or re-read file)."""
    if state is None:
        return LineCursor(), 0
    return LineCursor(state["offset"], state["line"]), state["size"]


def _rejected_digest(fh: BinaryIO, offsets: list[int]) -> str:
    """A hash of the rejected rows as they are now in the file (a repair changes it)."""
    digest = hashlib.sha256()
    for offset in offsets:
        fh.seek(offset)
        digest.update(fh.readline())
    return digest.hexdigest()


def _rejects_changed(fh: BinaryIO, remembered: str | None) -> bool:
    if not remembered:
        return False
    try:
        saved = json.loads(remembered)
        return bool(_rejected_digest(fh, list(saved["offsets"])) != saved["hash"])
    except (ValueError, KeyError, TypeError):
        return False


def _remembered_rejects(fh: BinaryIO, state: dict[str, Any] | None, new: list[int], resume_at: int) -> str:
    """The rejected rows to watch from now on: earlier ones before where the next read starts, and this read's."""
    earlier: list[int] = []
    if state is not None and state.get("rejected"):
        try:
            earlier = [o for o in json.loads(state["rejected"])["offsets"] if o < resume_at]
        except (ValueError, KeyError, TypeError):
            earlier = []
    offsets = sorted(set(earlier) | set(new))[:MAX_REMEMBERED_REJECTS]
    if not offsets:
        return ""
    return json.dumps({"offsets": offsets, "hash": _rejected_digest(fh, offsets)})


def _save_state(
    engine: Engine, site: str, path: Path, fh: BinaryIO, stat: os.stat_result, cursor: LineCursor, resume_at: int,
    key: str, rejected: str,
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
        "read_key": key,
        "rejected": rejected,
    }
    store.save_import_state(engine, row)
