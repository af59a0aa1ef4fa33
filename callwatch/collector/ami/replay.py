"""`callwatch replay`: every call rebuilt from the journal, through the same tracker as the live service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.ami import journal as jr
from callwatch.collector.ami.service import feed_record
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.config import Settings
from callwatch.model import Call


@dataclass(slots=True)
class ReplaySummary:
    files: int
    records: int
    calls: int
    in_flight: int


def replay_journal(engine: Engine, settings: Settings, batch_size: int = 5000) -> ReplaySummary:
    tracker = AmiTracker(settings)
    files = jr.journal_files(Path(settings.journal_path))
    records = written = 0
    batch: list[Call] = []
    for path in files:
        for start, _end, record in jr.read_records(path):
            records += 1
            batch.extend(feed_record(tracker, record, start))
            if len(batch) >= batch_size:
                written += store.save_calls(engine, batch)
                batch = []
    if batch:
        written += store.save_calls(engine, batch)
    return ReplaySummary(files=len(files), records=records, calls=written, in_flight=len(tracker.calls))
