"""Reading a file with a preset: check its header, turn rows into `Row`s, group them, build Calls.

A file of another vendor is refused as a whole (SourceError naming the file and
the columns the preset expected); a bad row or call is a `Reject` with its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from callwatch.collector.sources import LineCursor, OneLine, Reject, SourceError, clip
from callwatch.collector.sources.master_csv import split_csv_lines
from callwatch.collector.sources.presets.base import Preset, PresetContext, Row, json_records, resolve_header
from callwatch.model import Call, Outcome, RingQuality


def header_fields(raw: bytes) -> list[str]:
    fields = next((f for _, _, _, f, _ in split_csv_lines(OneLine(raw), LineCursor())), None)  # type: ignore[arg-type]
    return [h.strip().lstrip("\ufeff") for h in fields or []]


def refusal(preset: Preset, path: Path, missing: list[str], found: list[str]) -> SourceError:
    shown = ", ".join(found[:25]) + (" …" if len(found) > 25 else "")
    return SourceError(
        f"{path.name} is not a {preset.vendor} {preset.export}: preset {preset.name} expects the columns "
        f"{', '.join(preset.expected())}; missing {', '.join(missing)} "
        f"(the file's first line has: {shown or 'nothing'})"
    )


class PresetFile:
    """One file read with one preset."""

    def __init__(self, preset: Preset, path: Path, ctx: PresetContext) -> None:
        self.preset = preset
        self.path = path
        self.ctx = ctx
        self.index: dict[str, int] = {}
        self.header: list[str] = []

    def rows(self, fh: BinaryIO, cursor: LineCursor) -> Iterator[Row | Reject]:
        if self.preset.fmt == "json":
            yield from self._json_rows(fh, cursor)
            return
        fh.seek(0)
        raw = fh.readline()
        self.header = header_fields(raw)
        self.index, missing = resolve_header(self.preset, self.header)
        if missing:
            raise refusal(self.preset, self.path, missing, self.header)
        if cursor.offset < len(raw):
            cursor.offset, cursor.line = len(raw), 1
        need = max(self.index.values()) + 1
        for line, offset, text, fields, error in split_csv_lines(fh, cursor):
            if fields is None:
                yield Reject(line, error, clip(text), offset)
            elif len(fields) < need:
                yield Reject(line, f"{len(fields)} columns; the header has at least {need}", clip(text), offset)
            else:
                yield Row(line, offset, {k: fields[i] for k, i in self.index.items()}, clip(text))

    def _json_rows(self, fh: BinaryIO, cursor: LineCursor) -> Iterator[Row | Reject]:
        fh.seek(0)
        raw = fh.read()
        cursor.offset = len(raw)
        preset = self.preset
        try:
            rows = json_records(raw, preset.json_lists, preset.required)
        except ValueError as exc:
            raise SourceError(
                f"{self.path.name} is not a {preset.vendor} {preset.export}: preset {preset.name} expects JSON "
                f"records with the fields {', '.join(preset.expected())} ({exc})"
            ) from None
        lacking = [c for c in preset.required if rows and not any(r.get(c) for r in rows)]
        if lacking:
            raise refusal(preset, self.path, [preset.columns[c][0] for c in lacking], sorted(_json_keys(raw, preset)))
        self.header = list(preset.required)
        yield from rows

    def calls(self, rows: Iterator[Row | Reject]) -> Iterator[tuple[list[Row], Call] | Reject]:
        """Rows grouped into calls (a whole export is held: legs of one call need not be adjacent)."""
        groups: dict[str, list[Row]] = {}
        key = self.preset.group_by
        for item in rows:
            if isinstance(item, Reject):
                yield item
                continue
            groups.setdefault(key(item) if key else f"line-{item.line}", []).append(item)
        build = self.preset.to_call
        assert build is not None, f"preset {self.preset.name} builds no calls itself"
        for group in groups.values():
            try:
                yield group, with_ring_quality(build(group, self.ctx), self.preset)
            except (ValueError, KeyError, TypeError) as exc:
                first = group[0]
                legs = f" (call of {len(group)} rows, lines {first.line}-{group[-1].line})" if len(group) > 1 else ""
                yield Reject(first.line, f"{exc}{legs}", first.text, first.offset)

    def column_notes(self) -> list[str]:
        """How each column was read, for the first import of a file."""
        notes = []
        for ours, meaning in self.preset.meaning.items():
            if self.preset.fmt == "json":
                notes.append(f"{ours} -> {meaning}")
            elif ours in self.index:
                notes.append(f"{self.header[self.index[ours]]!r} -> {meaning}")
        ignored = [h for i, h in enumerate(self.header) if i not in self.index.values()]
        if ignored and self.preset.fmt != "json":
            notes.append(f"not used: {', '.join(ignored)}")
        notes.append(f"ring time: {self.preset.ring_time}")
        return notes


def with_ring_quality(call: Call, preset: Preset) -> Call:
    """The call with the ring-time quality its preset declares (unknown for an answer without its time)."""
    answered_untimed = call.outcome is Outcome.ANSWERED and call.answered_at is None
    call.ring_quality = RingQuality.UNKNOWN if answered_untimed else RingQuality(preset.ring_time)
    return call


def _json_keys(raw: bytes, preset: Preset) -> set[str]:
    try:
        data = json.loads(raw)
    except ValueError:
        return set()
    items = next((data[k] for k in preset.json_lists if isinstance(data.get(k), list)), [data]) \
        if isinstance(data, dict) else data
    return {k for item in items[:5] if isinstance(item, dict) for k in item}
