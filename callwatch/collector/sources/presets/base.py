"""What every preset shares: the `Preset` record, one export row, and the small parsers they use."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal, TypeVar

from callwatch.collector.sources import clip
from callwatch.collector.sources.master_csv import local_to_utc
from callwatch.model import Call

RingTime = Literal["exact", "derived", "unknown"]
T = TypeVar("T")
NAME_AND_NUMBER = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<number>[^>]*)>\s*$")
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", ""})


@dataclass(slots=True)
class Row:
    """One row (or JSON record) of an export, its values keyed by the preset's own column names."""

    line: int
    offset: int
    values: dict[str, str]
    text: str = ""

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


@dataclass(slots=True, frozen=True)
class PresetContext:
    site: str
    zone: tzinfo


@dataclass(frozen=True)
class Preset:
    """A vendor export callwatch reads without a hand-written column map."""

    name: str
    vendor: str
    export: str
    docs: tuple[str, ...]
    ring_time: RingTime
    # The column naming the person who answered ("Callee Name", ...), for the staff directory; None if none.
    staff_name_column: str | None
    # Our name for a column -> the header spellings the vendor documents (first one shown in messages).
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # How each of our columns is read, shown to the user on a first import.
    meaning: dict[str, str]
    fmt: Literal["csv", "json", "asterisk-cdr"] = "csv"
    # Rows with the same value here are one call (legs, segments); None: one row per call.
    group_by: Callable[[Row], str] | None = None
    to_call: Callable[[list[Row], PresetContext], Call] | None = None
    vendor_notes: tuple[str, ...] = field(default_factory=tuple)

    def expected(self) -> list[str]:
        return [self.columns[c][0] for c in self.required]


def resolve_header(preset: Preset, header: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Our column -> position in this header, and the required columns it lacks (documented names)."""
    names = [h.strip().lstrip("\ufeff") for h in header]
    lowered = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
    index: dict[str, int] = {}
    for ours, spellings in preset.columns.items():
        for spelling in spellings:
            if spelling.lower() in lowered:
                index[ours] = lowered[spelling.lower()]
                break
    missing = [preset.columns[c][0] for c in preset.required if c not in index]
    return index, missing


def parse_time(text: str, zone: tzinfo, formats: Sequence[str], what: str) -> datetime:
    """An export time as UTC: ISO 8601 or one of the vendor's formats; naive times are the practice's zone."""
    value: datetime | None = None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in formats:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(f"{what} {clip(text, 40)!r} is not a time this export writes")
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return local_to_utc(value, zone)


def parse_seconds(text: str, what: str) -> float:
    """Whole or decimal seconds, or [h:]mm:ss as some web exports write durations."""
    text = text.strip()
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) > 3:
                raise ValueError
            value = 0.0
            for part in parts:
                value = value * 60 + part
        else:
            value = float(text)
    except ValueError:
        raise ValueError(f"{what} {clip(text, 20)!r} is not a duration") from None
    if not 0 <= value < 86_400:
        raise ValueError(f"{what} {value} is not between 0 and a day")
    return value


def parse_flag(text: str, what: str) -> bool:
    key = text.strip().lower()
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    raise ValueError(f"{what} {clip(text, 20)!r} is not yes/no")


def split_party(text: str) -> tuple[str, str]:
    """'Leo Ball<1001>' -> ('Leo Ball', '1001'); a bare number or name is returned as the number."""
    match = NAME_AND_NUMBER.match(text)
    if match:
        return match.group("name"), match.group("number").strip()
    return "", text.strip()


def row_hash(prefix: str, rows: Sequence[Row]) -> str:
    """A stable call id for exports without one: re-importing the same rows gives the same id."""
    joined = "\x1e".join("\x1f".join(f"{k}={v}" for k, v in sorted(r.values.items())) for r in rows)
    return f"{prefix}-" + hashlib.sha1(joined.encode()).hexdigest()[:24]


def later(start: datetime, seconds: float | None) -> datetime | None:
    return None if seconds is None else start + timedelta(seconds=seconds)


def word(mapping: Mapping[str, T], text: str, what: str) -> T:
    """Look a vendor word up case-insensitively; an unknown word is a row error naming the known ones."""
    key = text.strip().lower()
    for known, value in mapping.items():
        if known.lower() == key:
            return value
    raise ValueError(f"{what} {clip(text, 40)!r} is not one of {', '.join(mapping)}")
