"""Why one stored call has its values: re-read the rows that made it, reconstruct it again, explaining.

`callwatch calls --explain CALL_ID` (and the dashboard's "Why these values?")
use this. Nothing is kept at import time: the import state already knows
every file that was read (and `tail:` lists the ones to come), so each
source's rows are found again by the call's id and the same reconstruction
runs over them, noting which row decided each field:

- Master.csv: the rows of the call's linkedid (or originating uniqueid);
- cel_custom CSV: the events of the call's linkedid;
- queue_log: the lines of the call's id or of an alias (the uniqueid of the
  channel that ran Queue(), store.call_aliases).

When several sources describe the call, each one's rebuilt values are set
against the stored record: the richest source (model.SOURCE_RANK) that gives
a field's stored value is named as its winner, as store.merge_call chose it.
A file rotated away since can no longer explain its calls; the text says so.
A PBX database import (`import mysql://...`, remembered as `URL#table`) is
re-read by the call's linkedid, the password again only from
CALLWATCH_CDR_DATABASE_PASSWORD.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.explain_sources import (
    SourceExplanation,
    explain_cdr,
    explain_cel,
    explain_database,
    explain_queue_log,
)
from callwatch.collector.sources import SourceError
from callwatch.collector.sources.cdr_database import is_database_url
from callwatch.collector.sources.detect import CDR_CSV, CEL_CSV, QUEUE_LOG, detect_source
from callwatch.config.settings import Settings
from callwatch.model import SOURCE_RANK, mask_caller

__all__ = ["Explanation", "SourceExplanation", "explain_call", "explanation_lines", "mask_numbers"]

# The stored fields an explanation shows, in the order a person reads a call.
SHOWN_FIELDS: tuple[str, ...] = (
    "direction", "caller", "arrived_at", "ring_started_at", "answered_at", "ended_at", "outcome", "answered_by",
    "queue", "left_message", "ring_ended_at", "ring_quality",
)
# Digits that could be a caller's number in a log line or a reason. Uniqueids (`1796099043.0`) and
# channel sequence numbers (`-0000002a`) are runs of digits too; they stay readable.
LONG_NUMBER = re.compile(r"(?<![\w.-])\d{5,}(?![\w.])")
_READERS = {CDR_CSV: explain_cdr, CEL_CSV: explain_cel, QUEUE_LOG: explain_queue_log}


@dataclass(slots=True)
class Explanation:
    """The stored record of one call and, per source found again, its rows and reasons."""

    call_id: str
    site: str
    stored: dict[str, Any]
    sources: list[SourceExplanation] = field(default_factory=list)
    looked: list[str] = field(default_factory=list)


def candidate_logs(engine: Engine, settings: Settings, site: str) -> list[str]:
    """Every log (or PBX database table, `URL#table`) this site imported or tails, newest import first."""
    names = store.imported_paths(engine, site)
    names += [t.path for t in settings.tail if not is_database_url(t.path)]
    return list(dict.fromkeys(names))


def explain_call(engine: Engine, settings: Settings, call_id: str, site: str | None = None) -> Explanation | None:
    """The explanation of a stored call, None when no such call is stored."""
    site = site or settings.site
    stored = store.select_call(engine, site, call_id)
    if stored is None:
        return None
    ids = {call_id, *store.select_aliases(engine, site, call_id)}
    found = Explanation(call_id, site, stored)
    for name in candidate_logs(engine, settings, site):
        if is_database_url(name.rpartition("#")[0]):
            found.looked.append(name)
            _add(found, _from_database(name, settings, call_id, found))
            continue
        path = Path(name)
        kind = _kind(path, settings)
        if kind is None or any(s.kind == kind for s in found.sources):
            continue
        found.looked.append(name)
        _add(found, _READERS[kind](path, settings, call_id, ids))
    found.sources.sort(key=lambda s: -SOURCE_RANK.get(s.source, 0))
    return found


def _add(found: Explanation, explained: SourceExplanation | None) -> None:
    if explained is not None:
        found.sources.append(explained)


def _from_database(key: str, settings: Settings, call_id: str, found: Explanation) -> SourceExplanation | None:
    try:
        return explain_database(key, settings, call_id)
    except (SourceError, sa.exc.SQLAlchemyError) as exc:
        found.looked[-1] = f"{key} (cannot be read now: {str(getattr(exc, 'orig', exc)).splitlines()[0]})"
        return None


def _kind(path: Path, settings: Settings) -> str | None:
    try:
        if not path.is_file():
            return None
        kind = detect_source(path, settings)
    except (OSError, SourceError):
        return None
    return kind if kind in _READERS else None


def winners(found: Explanation) -> Iterator[tuple[str, str]]:
    """(field, which source gave its stored value) for each shown field, as merge_call chose it."""
    stored_source = str(found.stored.get("source") or "")
    for name in SHOWN_FIELDS:
        value = value_text(found.stored.get(name))
        rebuilt = [(s.source, value_text(s.call.as_dict().get(name))) for s in found.sources if s.call is not None]
        if not value:
            had = [f"{src} had {text}" for src, text in rebuilt if text]
            yield name, f"empty: {stored_source} knows none" + (f" ({'; '.join(had)}: not taken)" if had else "")
            continue
        giving = [src for src, text in rebuilt if text == value]
        if not giving:
            yield name, "no source re-read here gives this value (its rows are gone, or AMI recorded it live)"
            continue
        best = max(giving, key=lambda src: SOURCE_RANK.get(src, 0))
        others = [src for src in giving if src != best]
        why = "the richest source that knows it" if best == stored_source else (
            f"{stored_source} had none or a less exact ring time, so {best} filled it")
        also = f"; also given by {', '.join(others)}" if others else ""
        yield name, f"{best} ({why}{also})"


def value_text(value: Any) -> str:
    """A stored or rebuilt value as text: empty when unknown, times in ISO form (UTC)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    return str(value)


def mask_numbers(text: str) -> str:
    """Caller numbers are patient data: every run of 5+ digits keeps only its last four."""
    return LONG_NUMBER.sub(lambda m: mask_caller(m.group(0)), text)


def explanation_lines(found: Explanation, unmasked: bool = False) -> list[str]:
    """The explanation as text lines (what the CLI prints and the dashboard shows), numbers masked."""
    hide = (lambda text: text) if unmasked else mask_numbers
    out = [f"call {found.call_id} (site {found.site}), stored from source {found.stored.get('source')}:"]
    out += [f"  {name:16} {hide(value_text(found.stored.get(name)))}" for name in SHOWN_FIELDS]
    if not found.sources:
        where = ", ".join(found.looked) or "no log (import state and tail: list none that still exists)"
        out += ["", f"No rows of this call found in {where}; a call recorded live over AMI is explained only "
                "once its Master.csv, CEL or queue_log file (or PBX database) is imported."]
        return out
    for src in found.sources:
        out += ["", f"{src.source}: lines of this call in {src.path} (line: as the PBX wrote it):"]
        out += [f"  {line:>7}: {hide(text)}" for line, text in src.lines]
        out += ["", f"{src.source}: why (the same reconstruction as the import, run over these lines):"]
        out += [f"  {name:16} {hide(reason)}" for name, reason in src.reasons]
        if src.call is None:
            out.append(f"  {'(none)':16} these lines alone make no call")
    out += ["", f"which source won each stored field (richest first: {', '.join(s.source for s in found.sources)}):"]
    out += [f"  {name:16} {hide(reason)}" for name, reason in winners(found)]
    return out
