"""What every preset shares: the `Preset` record, one export row, and the small parsers they use."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal, TypeVar

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
    # JSON exports: the top-level keys that may hold the list of records ("records", "value", ...),
    # and the text markers (all present in the file's head) by which auto-detection knows this export.
    json_lists: tuple[str, ...] = ()
    json_markers: tuple[str, ...] = ()

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


ISO_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def parse_iso_duration(text: str, what: str) -> float:
    """An ISO 8601 duration as seconds ('PT1M5.5S' -> 65.5), as OData APIs write them."""
    match = ISO_DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"{what} {clip(text, 30)!r} is not an ISO 8601 duration")
    d, h, m, s = (float(match.group(k) or 0) for k in ("d", "h", "m", "s"))
    return ((d * 24 + h) * 60 + m) * 60 + s


def json_records(raw: bytes, lists: Sequence[str], keep: Sequence[str]) -> list[Row]:
    """One Row per record of a saved API response (an object holding a list under one of `lists`,
    or the list itself); the record's JSON is kept whole under "json", the `keep` fields as text."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    items = next((data[k] for k in lists if isinstance(data, dict) and isinstance(data.get(k), list)), None) \
        if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"no list of records (expected a {' or '.join(repr(k) for k in lists)} array)")
    rows = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(Row(i, 0, {"json": ""}, text=str(item)[:200]))
            continue
        values = {"json": json.dumps(item)} | {k: str(item.get(k) if item.get(k) is not None else "") for k in keep}
        rows.append(Row(i, 0, values, text=json.dumps(item)[:2000]))
    return rows


def record(row: Row) -> dict[str, Any]:
    """The JSON record a Row was read from; a row that was not an object is a row error."""
    item = json.loads(row.values["json"]) if row.values.get("json") else None
    if not isinstance(item, dict):
        raise ValueError("a record is not a JSON object")
    return item


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
