"""Which kind of log a file is, from its first lines (`--source` overrides)."""

from __future__ import annotations

import csv
from pathlib import Path

from callwatch.collector.sources import SourceError
from callwatch.collector.sources.cel import looks_like_cel
from callwatch.collector.sources.generic_csv import header_matches
from callwatch.collector.sources.master_csv import looks_like_master_csv
from callwatch.collector.sources.presets import PRESETS, preset_named
from callwatch.collector.sources.presets.base import resolve_header
from callwatch.collector.sources.queue_log import looks_like_queue_log
from callwatch.config.settings import Settings

CDR_CSV = "cdr-csv"
QUEUE_LOG = "queue-log"
CEL_CSV = "cel-csv"
SOURCES = ("auto", CDR_CSV, CEL_CSV, QUEUE_LOG, "csv:<map name>", "preset:<name>")
SAMPLE_LINES = 20


def parse_source(source: str, settings: Settings) -> str:
    """Validate a `--source` value; `csv` alone means the only column map there is."""
    if source in ("auto", CDR_CSV, CEL_CSV, QUEUE_LOG):
        return source
    if source == "csv":
        if len(settings.column_maps) != 1:
            maps = sorted(settings.column_maps)
            raise SourceError(f"--source csv needs a map name (csv:<name>); configured maps: {maps}")
        return "csv:" + next(iter(settings.column_maps))
    if source.startswith("preset:"):
        try:
            preset_named(source[7:])
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        return source
    if source.startswith("csv:"):
        name = source[4:]
        if name not in settings.column_maps:
            raise SourceError(f"no column map {name!r} in the settings (column_maps: {sorted(settings.column_maps)})")
        return source
    raise SourceError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")


def detect_source(path: Path, settings: Settings) -> str:
    """cdr-csv, cel-csv, queue-log, csv:<name> or preset:<name> by content; a SourceError says why none fits."""
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    text = head.decode("utf-8-sig", errors="replace")
    lines = [line for line in text.splitlines()[:SAMPLE_LINES] if line.strip()]
    if not lines:
        raise SourceError("the file is empty; nothing to detect the format from (pass --source)")
    if text.lstrip()[:1] in ("{", "["):
        return json_preset(text)
    votes = {CDR_CSV: 0, CEL_CSV: 0, QUEUE_LOG: 0}
    for line in lines:
        if looks_like_queue_log(line):
            votes[QUEUE_LOG] += 1
        else:
            try:
                fields = next(csv.reader([line]))
            except (csv.Error, StopIteration):
                continue
            if looks_like_master_csv(fields):
                votes[CDR_CSV] += 1
            elif looks_like_cel(fields, settings.cel_fields):
                votes[CEL_CSV] += 1
    best = max(votes, key=lambda k: votes[k])
    if votes[best] * 2 > len(lines):
        return best
    try:
        header = next(csv.reader([lines[0]]))
    except (csv.Error, StopIteration):
        header = []
    # The practice's own column map wins over a preset: it was written for these files.
    scored = sorted(((header_matches(header, m), name) for name, m in settings.column_maps.items()), reverse=True)
    if scored and scored[0][0] > 0:
        return "csv:" + scored[0][1]
    preset = preset_for_header(header)
    if preset:
        return "preset:" + preset
    raise SourceError(
        "not an Asterisk Master.csv, cel_custom CSV or queue_log, no preset fits, and the header matches no column "
        "map in the settings "
        f"(its first line has {len(header)} comma-separated fields); pass --source"
    )


def json_preset(text: str) -> str:
    """The one JSON preset whose markers (field names of its records) are all in the file's head."""
    fits = [name for name, p in PRESETS.items() if p.fmt == "json" and all(m in text for m in p.json_markers)]
    if len(fits) == 1:
        return "preset:" + fits[0]
    if fits:
        raise SourceError(f"the JSON fits several presets ({', '.join(fits)}); pass --source preset:<name>")
    raise SourceError("a JSON file that no preset knows (none of their record fields are in it); pass --source")


def preset_for_header(header: list[str]) -> str | None:
    """The one preset whose required columns this header has; several is ambiguous and says so."""
    fits = [name for name, p in PRESETS.items() if p.fmt != "json" and not resolve_header(p, header)[1]]
    if len(fits) > 1:
        raise SourceError(f"the header fits several presets ({', '.join(fits)}); pass --source preset:<name>")
    return fits[0] if fits else None
