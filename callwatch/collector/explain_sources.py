"""One source's part of `calls --explain`: find a call's rows in one log again and rebuild it, explaining.

Each reader takes the log, the call's id and the other ids it is known by
(store.call_aliases), and returns the raw lines with the reasons the same
reconstruction as the import gives; None when the log holds none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from callwatch.collector.reconstruct.cdr import CallContext, CdrGrouper, call_from_rows
from callwatch.collector.reconstruct.cel import call_from_events
from callwatch.collector.reconstruct.queue_log import CALL_ENDED, LEFT_UNANSWERED, QueueLogCalls
from callwatch.collector.sources import LineCursor
from callwatch.collector.sources.cdr_database import PASSWORD_VARIABLE, PbxTables, cel_event, converted, open_database
from callwatch.collector.sources.cel import CelCsvParser, CelEvent
from callwatch.collector.sources.detect import CDR_CSV, CEL_CSV, QUEUE_LOG
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser, table_row
from callwatch.collector.sources.queue_log import QueueEvent, events
from callwatch.config import Settings, secret
from callwatch.model import Call, Source


@dataclass(slots=True)
class SourceExplanation:
    """One log's lines of the call as the PBX wrote them, and why each field of the rebuilt call has its value."""

    kind: str  # how the log was read (detect.py: cdr-csv, cel-csv, queue-log)
    source: str  # the model.Source the rebuilt call carries
    path: str
    lines: list[tuple[int, str]]
    reasons: list[tuple[str, str]]
    call: Call | None


class _HasOffset(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def offset(self) -> int: ...


def raw_lines(path: Path, items: list[_HasOffset]) -> list[tuple[int, str]]:
    """The lines these rows or events were read from, by line number, as the PBX wrote them."""
    out = []
    with path.open("rb") as fh:
        for item in sorted(items, key=lambda i: i.offset):
            fh.seek(item.offset)
            out.append((item.line, fh.readline().decode("utf-8", errors="replace").rstrip("\r\n")))
    return out


def explain_cdr(path: Path, settings: Settings, call_id: str, ids: set[str]) -> SourceExplanation | None:
    """Master.csv: the rows of the call's linkedid (or originating uniqueid), grouped as the import groups them."""
    ctx = CallContext.from_settings(settings)
    for rows in _cdr_groups(path, settings):
        if not any(call_id in (r.linkedid, r.uniqueid) for r in rows):
            continue
        why: list[tuple[str, str]] = []
        call = call_from_rows(rows, ctx, why)
        if call is not None and call.call_id == call_id:
            return SourceExplanation(CDR_CSV, Source.CDR_CSV, str(path), raw_lines(path, list(rows)), why, call)
    return None


def _cdr_groups(path: Path, settings: Settings) -> Iterator[list[CdrRow]]:
    parser = MasterCsvParser(gmt=settings.cdr_gmt, zone=settings.tz)
    grouper = CdrGrouper()
    with path.open("rb") as fh:
        cursor = LineCursor()
        for item in parser.rows(fh, cursor):
            if isinstance(item, CdrRow):
                yield from grouper.add(item)
        yield from grouper.finish(cursor.offset)[0]


def explain_cel(path: Path, settings: Settings, call_id: str, ids: set[str]) -> SourceExplanation | None:
    """cel_custom CSV: every event of the call's linkedid (one linkedid is one call)."""
    parser = CelCsvParser(zone=settings.tz, fields=settings.cel_fields)
    found: list[CelEvent] = []
    with path.open("rb") as fh:
        for item in parser.events(fh, LineCursor()):
            if isinstance(item, CelEvent) and (item.linkedid or item.uniqueid) == call_id:
                found.append(item)
    if not found:
        return None
    why: list[tuple[str, str]] = []
    call = call_from_events(found, CallContext.from_settings(settings), why)
    return SourceExplanation(CEL_CSV, Source.CEL, str(path), raw_lines(path, list(found)), why, call)


def explain_queue_log(path: Path, settings: Settings, call_id: str, ids: set[str]) -> SourceExplanation | None:
    """queue_log: the lines of the call's id or an alias (the uniqueid of the channel that ran Queue())."""
    found: list[QueueEvent] = []
    with path.open("rb") as fh:
        for item in events(fh, LineCursor()):
            if isinstance(item, QueueEvent) and item.callid in ids:
                found.append(item)
    if not found:
        return None
    # Only this call's lines are fed, so nothing else can expire it early.
    tracker = QueueLogCalls(settings.site, settle=timedelta(days=365))
    rebuilt: list[Call] = []
    for ev in found:
        rebuilt += tracker.add(ev)
    pending, _ = tracker.finish(found[-1].offset + 1)
    call = (rebuilt + pending)[-1] if rebuilt or pending else None
    return SourceExplanation(QUEUE_LOG, Source.QUEUE_LOG, str(path), raw_lines(path, list(found)),
                             _queue_reasons(found, call_id), call)


def explain_database(key: str, settings: Settings, call_id: str) -> SourceExplanation | None:
    """A PBX database table the import state names (`URL#table`): the rows of the call's linkedid, re-read.

    The password comes only from the environment, as at import; rows are numbered in the order they were written.
    """
    url, _, name = key.rpartition("#")
    pbx = open_database(url, secret(PASSWORD_VARIABLE))
    try:
        tables = PbxTables(pbx)
        table = tables.cdr if tables.cdr is not None and tables.cdr.name == name else tables.cel
        if table is None or table.name != name:
            return None
        records = tables.rows_of_call(table, call_id)
    finally:
        pbx.dispose()
    convert = table_row if table is tables.cdr else cel_event
    items = [i for i in converted(records, convert, gmt=settings.cdr_gmt, zone=settings.tz) if not isinstance(i, tuple)]
    if not items:
        return None
    lines = [(i, "; ".join(f"{k}={v}" for k, v in r.items() if v not in ("", None))) for i, r in enumerate(records)]
    why: list[tuple[str, str]] = []
    ctx = CallContext.from_settings(settings)
    if convert is table_row:
        call = call_from_rows(items, ctx, why)
        return SourceExplanation("cdr-table", Source.CDR_CSV, key, lines, why, call)
    return SourceExplanation("cel-table", Source.CEL, key, lines, why, call_from_events(items, ctx, why))


def _queue_reasons(found: list[QueueEvent], call_id: str) -> list[tuple[str, str]]:
    """What each queue_log line decided (reconstruct/queue_log.py: QueueLogCalls._apply)."""
    why: list[tuple[str, str]] = []
    if found[0].callid != call_id:
        why.append(("call_id", f"queue_log names the call {found[0].callid}, the uniqueid of its channel that "
                    f"ran Queue(); stored as an alias of {call_id}"))
    for ev in found:
        where = f"{ev.event} line {ev.line}"
        if ev.event == "ENTERQUEUE":
            why.append(("ring_started_at", f"{ev.time} from {where}: the caller joined queue {ev.queue}"))
        elif ev.event == "CONNECT":
            why.append(("answered_at", f"{ev.time} from {where}: {ev.member} took the call after "
                        f"{ev.data[0] if ev.data else '?'} s of waiting"))
        elif ev.event in LEFT_UNANSWERED:
            why.append(("outcome", f"{LEFT_UNANSWERED[ev.event].value} from {where}: the call left the queue "
                        "unanswered"))
        elif ev.event in CALL_ENDED:
            why.append(("ended_at", f"{ev.time} from {where}: the queued call ended"))
    return why
