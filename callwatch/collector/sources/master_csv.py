"""Asterisk cdr_csv `Master.csv`: no header, 16 to 21 columns depending on cdr.conf.

The layout is detected per row: 16 base columns,
then uniqueid and/or userfield (`loguniqueid`, `loguserfield`), then
peeraccount, linkedid, sequence (`newcdrcolumns`). Times are GMT when cdr.conf
has `usegmtime=yes`, otherwise the PBX's local time; a local time at a DST
change is resolved with the epoch inside the uniqueid when there is one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, BinaryIO

from callwatch.collector.sources import LineCursor, Reject, clip, read_lines

BASE_COLUMNS = 16
KNOWN_WIDTHS = frozenset({16, 17, 18, 19, 20, 21})
DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION", "CANCEL", "CHANUNAVAIL"})
# An Asterisk uniqueid: optional "systemname-", then epoch seconds, a dot, a sequence number.
UNIQUEID = re.compile(r"^(?:.*-)?(\d{9,11})\.\d+$")


@dataclass(slots=True)
class CdrRow:
    line: int
    offset: int
    src: str
    dst: str
    dcontext: str
    clid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None
    end: datetime
    duration: int
    billsec: int
    disposition: str
    uniqueid: str
    linkedid: str
    # Columns only a CDR *table* has (FreePBX/Issabel `asteriskcdrdb.cdr`, cdr_sqlite3_custom,
    # cdr_pgsql): the DID the inbound route saw, the caller number it kept, the row's order.
    did: str = ""
    cnum: str = ""
    sequence: int | None = None
    peeraccount: str = ""

    def content(self) -> tuple[object, ...]:
        """Everything the PBX wrote, without where it was read: two backends' copies of one row are equal."""
        return (self.src, self.dst, self.dcontext, self.clid, self.channel, self.dstchannel, self.lastapp,
                self.lastdata, self.start, self.answer, self.end, self.duration, self.billsec,
                self.disposition, self.uniqueid, self.linkedid, self.did, self.sequence)


class _Feed:
    """Hands the csv reader exactly one line per row.

    A stray quote then spoils one row instead of swallowing the rest of the
    file into a single field.
    """

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = self.line
        if line is None:
            raise StopIteration
        self.line = None
        return line


# A quoted field may hold line breaks (RFC 4180 section 2.6): a line with an unclosed
# quote is joined with up to this many following lines; beyond, it is a stray quote.
MAX_CONTINUATION_LINES = 5


def _numbered(fh: BinaryIO, cursor: LineCursor) -> Iterator[tuple[int, int, str]]:
    offset = cursor.offset
    for text in read_lines(fh, cursor):
        start, offset = offset, cursor.offset
        yield cursor.line, start, text


def _parse(reader: Iterator[list[str]], feed: _Feed, text: str) -> tuple[list[str] | None, str]:
    feed.line = text
    try:
        return next(reader), ""
    except csv.Error as exc:
        return None, f"not valid CSV: {exc}"
    except StopIteration:
        return None, "not valid CSV"


def split_csv_lines(
    fh: BinaryIO, cursor: LineCursor, row_width: Callable[[int], bool] = lambda _n: True
) -> Iterator[tuple[int, int, str, list[str] | None, str]]:
    """(line number, start offset, text, fields or None, error) for each row from the cursor.

    A row whose quoted field spans lines is one row (text joined with "\n"),
    numbered by its first line, when the joined row has a width `row_width`
    accepts; otherwise the quote was a stray one and each line stands alone.
    """
    feed = _Feed()
    reader = csv.reader(feed, strict=True)
    lines = _numbered(fh, cursor)
    ahead: list[tuple[int, int, str]] = []
    while (item := ahead.pop(0) if ahead else next(lines, None)) is not None:
        line, start, text = item
        if not text.strip():
            continue
        if text.count('"') % 2:
            # A quote still open at the end of the file is a stray quote: Asterisk writes a row in one go.
            extra = _continuation(text, ahead, lines)
            if extra is not None:
                joined = "\n".join([text, *(e[2] for e in extra)])
                fields, error = _parse(reader, feed, joined)
                if fields is not None and row_width(len(fields)):
                    yield line, start, joined, fields, ""
                    continue
                ahead[:0] = extra
        fields, error = _parse(reader, feed, text)
        yield line, start, text, fields, error


def _continuation(
    text: str, ahead: list[tuple[int, int, str]], lines: Iterator[tuple[int, int, str]]
) -> list[tuple[int, int, str]] | None:
    """The lines that close `text`'s open quote, or None (they are put back) when none within reach do."""
    extra: list[tuple[int, int, str]] = []
    quotes = text.count('"')
    while len(extra) < MAX_CONTINUATION_LINES:
        nxt = ahead.pop(0) if ahead else next(lines, None)
        if nxt is None:
            break
        extra.append(nxt)
        quotes += nxt[2].count('"')
        if quotes % 2 == 0:
            return extra
    ahead[:0] = extra
    return None


def epoch_of_uniqueid(uniqueid: str) -> int | None:
    match = UNIQUEID.match(uniqueid)
    return int(match.group(1)) if match else None


def local_to_utc(naive: datetime, zone: tzinfo, hint: datetime | None = None) -> datetime:
    """A PBX wall-clock time as UTC, never raising at DST changes.

    An ambiguous time (clocks going back) takes the reading nearest `hint`;
    a nonexistent one (clocks going forward) cannot come from a correct
    clock, so either reading will do and the earlier offset is used.
    """
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second or hint is None:
        return first
    return min((first, second), key=lambda t: abs((t - hint).total_seconds()))


class MasterCsvParser:
    """Turns Master.csv lines into `CdrRow`s and `Reject`s."""

    def __init__(self, *, gmt: bool, zone: tzinfo) -> None:
        self.gmt = gmt
        self.zone = zone
        self._cache: dict[str, datetime] = {}

    def rows(self, fh: BinaryIO, cursor: LineCursor) -> Iterator[CdrRow | Reject]:
        for line, offset, text, fields, error in split_csv_lines(fh, cursor, KNOWN_WIDTHS.__contains__):
            if fields is None:
                yield Reject(line, error, clip(text), offset)
                continue
            try:
                yield self.row(line, offset, fields)
            except ValueError as exc:
                yield Reject(line, str(exc), clip(text), offset)

    def row(self, line: int, offset: int, f: list[str]) -> CdrRow:
        width = len(f)
        if width not in KNOWN_WIDTHS:
            raise ValueError(f"{width} columns; Master.csv rows have 16, 17, 18 or 21")
        uniqueid = linkedid = ""
        if width in (17, 18):
            # 17 is uniqueid or userfield alone; only a uniqueid looks like epoch.seq.
            if width == 18 or UNIQUEID.match(f[16]):
                uniqueid = f[16]
        elif width >= 19:
            linkedid = f[width - 2]
            if width >= 20 and UNIQUEID.match(f[16]):
                uniqueid = f[16]
        disposition = f[14].strip()
        if disposition not in DISPOSITIONS:
            raise ValueError(f"unknown disposition {clip(disposition, 40)!r}")
        channel = f[5]
        if not channel:
            raise ValueError("empty channel")
        duration = _int(f[12], "duration")
        billsec = _int(f[13], "billsec")
        if self.gmt:
            start, end = self.utc(f[9], "start"), self.utc(f[11], "end")
            answer = self.utc(f[10], "answer") if f[10] else None
        else:
            # Local times at a DST change are resolved with what else the row knows.
            start = self.time(f[9], "start", _hint_epoch(uniqueid))
            end = self.time(f[11], "end", start + timedelta(seconds=duration))
            answer = self.time(f[10], "answer", end - timedelta(seconds=billsec)) if f[10] else None
        if end < start:
            raise ValueError(f"end {f[11]} is before start {f[9]}")
        if answer is not None and not start <= answer <= end:
            raise ValueError(f"answer {f[10]} is outside start..end")
        # Positional: this runs once per row of files with millions of rows.
        return CdrRow(line, offset, f[1], f[2], f[3], f[4], channel, f[6], f[7], f[8], start, answer, end,
                      duration, billsec, disposition, uniqueid, linkedid)

    def utc(self, text: str, name: str) -> datetime:
        """A GMT log time; the rows of a busy minute share their times, so parse each once."""
        value = self._cache.get(text)
        if value is None:
            value = self.time(text, name, None)
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[text] = value
        return value

    def time(self, text: str, name: str, hint: datetime | None) -> datetime:
        try:
            naive = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{name} time {clip(text, 40)!r} is not YYYY-MM-DD HH:MM:SS") from None
        if naive.tzinfo is not None:
            return naive.astimezone(UTC)
        if self.gmt:
            return naive.replace(tzinfo=UTC)
        return local_to_utc(naive, self.zone, hint)


def _hint_epoch(uniqueid: str) -> datetime | None:
    epoch = epoch_of_uniqueid(uniqueid)
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC)


def _int(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} {clip(text, 20)!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{name} {value} is negative")
    return value


def table_row(record: Mapping[str, Any], line: int, *, gmt: bool, zone: tzinfo) -> CdrRow:
    """One row of a CDR table (columns by name) as the same `CdrRow` a Master.csv line gives.

    FreePBX/Issabel tables and cdr_sqlite3_custom's default mapping have only
    `calldate` (the start), `duration` and `billsec`: the answer is
    `start + duration - billsec` when the row was answered, the end
    `start + duration` (whole seconds, as Asterisk truncates them). Tables that
    keep `start`/`answer`/`end` (cdr_pgsql, cdr_sqlite3_custom with them mapped)
    are used as they are. Raises ValueError naming the column.
    (Columns: https://docs.asterisk.org/Configuration/Reporting/Call-Detail-Records-CDR/CDR-Variables/)
    """
    def text(name: str) -> str:
        value = record.get(name)
        return "" if value is None else str(value)

    channel = text("channel")
    if not channel:
        raise ValueError("empty channel")
    disposition = text("disposition").strip()
    if disposition not in DISPOSITIONS:
        raise ValueError(f"unknown disposition {clip(disposition, 40)!r}")
    duration = _int(text("duration"), "duration")
    billsec = _int(text("billsec"), "billsec")
    parse = MasterCsvParser(gmt=gmt, zone=zone)
    uniqueid = text("uniqueid")
    first = record.get("start") or record.get("calldate")
    if first is None or first == "":
        raise ValueError("no calldate")
    start = _stamp(parse, first, "calldate", _hint_epoch(uniqueid))
    answer: datetime | None = None
    # Asterisk truncates duration to whole seconds: on average the call ran half a second longer.
    late = start + timedelta(seconds=duration + 0.5)
    end = _stamp(parse, record["end"], "end", None) if record.get("end") else late
    if record.get("answer") and str(record["answer"]) not in ("", "0000-00-00 00:00:00", "1970-01-01 00:00:00"):
        answer = _stamp(parse, record["answer"], "answer", None)
    elif disposition == "ANSWERED":
        # duration - billsec: both truncated, so their difference is off by less than a second either way.
        answer = start + timedelta(seconds=max(duration - billsec, 0))
    sequence = text("sequence")
    return CdrRow(line, line, text("src"), text("dst"), text("dcontext"), text("clid"), channel,
                  text("dstchannel"), text("lastapp"), text("lastdata"), start, answer, end, duration, billsec,
                  disposition, uniqueid, text("linkedid"), did=text("did"), cnum=text("cnum"),
                  sequence=int(sequence) if sequence.isdigit() else None, peeraccount=text("peeraccount"))


def _stamp(parse: MasterCsvParser, value: object, name: str, hint: datetime | None) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return value.replace(tzinfo=UTC) if parse.gmt else local_to_utc(value, parse.zone, hint)
    return parse.time(str(value), name, hint)


def looks_like_master_csv(fields: list[str]) -> bool:
    """For format detection: a Master.csv row by width, start time and disposition."""
    if len(fields) not in KNOWN_WIDTHS:
        return False
    try:
        datetime.fromisoformat(fields[9])
    except ValueError:
        return False
    return fields[14].strip() in DISPOSITIONS
