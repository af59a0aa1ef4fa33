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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import BinaryIO

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


def split_csv_lines(fh: BinaryIO, cursor: LineCursor) -> Iterator[tuple[int, int, str, list[str] | None, str]]:
    """(line number, start offset, text, fields or None, error) for each line from the cursor."""
    feed = _Feed()
    reader = csv.reader(feed, strict=True)
    offset = cursor.offset
    for text in read_lines(fh, cursor):
        start, offset = offset, cursor.offset
        if not text.strip():
            continue
        feed.line = text
        try:
            yield cursor.line, start, text, next(reader), ""
        except csv.Error as exc:
            yield cursor.line, start, text, None, f"not valid CSV: {exc}"
        except StopIteration:
            yield cursor.line, start, text, None, "not valid CSV"


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
        for line, offset, text, fields, error in split_csv_lines(fh, cursor):
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


def looks_like_master_csv(fields: list[str]) -> bool:
    """For format detection: a Master.csv row by width, start time and disposition."""
    if len(fields) not in KNOWN_WIDTHS:
        return False
    try:
        datetime.fromisoformat(fields[9])
    except ValueError:
        return False
    return fields[14].strip() in DISPOSITIONS
