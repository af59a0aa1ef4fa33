"""A CSV export with a header row (FreePBX, 3CX, a hosted PBX's call log), one call per row.

Which column holds which Call field is the user's `column_maps.<name>` in the
settings (see `CsvColumnMap`); the export's result and direction words are
mapped there too. Without an id column a row's id is a hash of the row, so
importing the same export twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, cast
from zoneinfo import ZoneInfo

from callwatch.collector.sources import LineCursor, OneLine, Reject, SourceError, clip
from callwatch.collector.sources.master_csv import local_to_utc, split_csv_lines
from callwatch.config.settings import CsvColumnMap, Settings
from callwatch.model import Call, Direction, Outcome, RingQuality, Source

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f", ""})
TIME_FIELDS = ("arrived_at", "ring_started_at", "answered_at", "ended_at")


class GenericCsvParser:
    def __init__(self, name: str, column_map: CsvColumnMap, settings: Settings) -> None:
        self.name = name
        self.map = column_map
        self.site = settings.site
        self.zone = ZoneInfo(column_map.timezone or settings.timezone)
        self.outcomes = {k.strip().lower(): Outcome(v) for k, v in column_map.outcomes.items()}
        self.directions = {k.strip().lower(): Direction(v) for k, v in column_map.directions.items()}
        self.ring_quality = RingQuality(column_map.ring_quality)
        self.index: dict[str, int] = {}

    def read_header(self, fh: BinaryIO) -> int:
        """Map fields to column positions from line 1; returns the header's length in bytes."""
        fh.seek(0)
        raw = fh.readline()
        header_cursor = LineCursor()
        fields = next((f for _, _, _, f, _ in split_csv_lines(cast(BinaryIO, OneLine(raw)), header_cursor)), None)
        if not fields:
            raise SourceError(f"column map {self.name!r}: the file has no header row")
        names = [h.strip().lstrip("\ufeff") for h in fields]
        missing = [col for col in self.map.columns.values() if col not in names]
        if missing:
            raise SourceError(f"column map {self.name!r}: column(s) {missing} not in the header {names}")
        self.index = {fld: names.index(col) for fld, col in self.map.columns.items()}
        return len(raw)

    def calls(self, fh: BinaryIO, cursor: LineCursor) -> Iterator[tuple[int, Call] | Reject]:
        """(byte offset, Call) per good row, a Reject per bad one."""
        header_bytes = self.read_header(fh)
        if cursor.offset < header_bytes:
            cursor.offset, cursor.line = header_bytes, 1
        need = max(self.index.values()) + 1
        for line, offset, text, fields, error in split_csv_lines(fh, cursor, lambda width: width >= need):
            if fields is None:
                yield Reject(line, error, clip(text), offset)
                continue
            try:
                yield offset, self.call(fields)
            except ValueError as exc:
                yield Reject(line, str(exc), clip(text), offset)

    def call(self, fields: list[str]) -> Call:
        need = max(self.index.values()) + 1
        if len(fields) < need:
            raise ValueError(f"{len(fields)} columns; the header has at least {need}")

        def get(name: str) -> str:
            i = self.index.get(name)
            return fields[i].strip() if i is not None else ""

        times = {name: self.time(get(name), name) for name in TIME_FIELDS}
        arrived = times["arrived_at"]
        if arrived is None:
            raise ValueError(f"empty arrival time in column {self.map.columns['arrived_at']!r}")
        ring = _seconds(get("ring_seconds"), "ring_seconds")
        duration = _seconds(get("duration_seconds"), "duration_seconds")
        outcome = self.outcome(get("outcome"), times["answered_at"], get("answered_by"))
        ring_started = times["ring_started_at"]
        if ring_started is None and self.ring_quality is not RingQuality.UNKNOWN:
            ring_started = arrived  # the export's start time is when it rang
        answered = times["answered_at"]
        ended = times["ended_at"]
        if ring is not None and outcome is Outcome.ANSWERED and answered is None:
            answered = (ring_started or arrived) + timedelta(seconds=ring)
        if ended is None and duration is not None:
            ended = arrived + timedelta(seconds=duration)
        if ended is None and ring is not None and outcome is not Outcome.ANSWERED:
            ended = (ring_started or arrived) + timedelta(seconds=ring)
        for name, value in (("answered_at", answered), ("ended_at", ended)):
            if value is not None and value < arrived:
                raise ValueError(f"{name} {value.isoformat()} is before the arrival {arrived.isoformat()}")
        return Call(
            call_id=get("call_id") or "csv-" + hashlib.sha1("\x1f".join(fields).encode()).hexdigest()[:24],
            site=get("site") or self.site,
            direction=self.direction(get("direction")),
            caller=get("caller"),
            arrived_at=arrived,
            ring_started_at=ring_started,
            answered_at=answered,
            ended_at=ended,
            outcome=outcome,
            answered_by=get("answered_by") or None,
            queue=get("queue") or None,
            left_message=_flag(get("left_message")),
            source=Source.CSV,
            # An answered row without its answer time cannot say how long it rang, whatever the map says.
            ring_quality=RingQuality.UNKNOWN if outcome is Outcome.ANSWERED and answered is None else self.ring_quality,
            answered_by_name=get("answered_by_name") or None,
        )

    def time(self, text: str, name: str) -> datetime | None:
        if not text:
            return None
        try:
            fmt = self.map.time_format
            value = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
        except ValueError:
            want = self.map.time_format or "ISO 8601"
            raise ValueError(f"{name} {clip(text, 40)!r} does not match the time format {want}") from None
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return local_to_utc(value, self.zone)

    def outcome(self, word: str, answered_at: datetime | None, answered_by: str) -> Outcome:
        if not word:
            return Outcome.ANSWERED if answered_at or answered_by else Outcome.MISSED
        key = word.lower()
        if key in self.outcomes:
            return self.outcomes[key]
        if key in Outcome.__members__.values():
            return Outcome(key)
        raise ValueError(f"outcome {clip(word, 40)!r} is not in column_maps.{self.name}.outcomes")

    def direction(self, word: str) -> Direction:
        if not word:
            return Direction.INBOUND
        key = word.lower()
        if key in self.directions:
            return self.directions[key]
        if key in Direction.__members__.values():
            return Direction(key)
        raise ValueError(f"direction {clip(word, 40)!r} is not in column_maps.{self.name}.directions")


def _seconds(text: str, name: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {clip(text, 20)!r} is not a number of seconds") from None
    if not 0 <= value < 86_400:
        raise ValueError(f"{name} {value} is not between 0 and a day")
    return value


def _flag(text: str) -> bool | None:
    key = text.lower()
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return None if not key else False
    raise ValueError(f"left_message {clip(text, 20)!r} is not yes/no")


def header_matches(header: list[str], column_map: CsvColumnMap) -> int:
    """How many of the map's columns the header has (0 when any is missing), for detection."""
    names = {h.strip().lstrip("\ufeff") for h in header}
    wanted = set(column_map.columns.values())
    return len(wanted) if wanted <= names else 0
