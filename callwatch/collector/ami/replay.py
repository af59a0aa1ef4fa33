"""`callwatch replay`: every call rebuilt from the journal, through the same tracker as the live service.

Most journal lines are events the tracker only counts (it reads nothing of them
but the Linkedid and the time): those are skimmed from the raw bytes
(collector/ami/skim.py) and only tick the tracker's clocks, which is most of
replay's speed. Every other line takes the live service's path, feed_record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.ami import journal as jr
from callwatch.collector.ami.service import feed_record
from callwatch.collector.ami.skim import lines, skim
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
        bad = 0
        for start, line in lines(path):
            clocks = skim(line, tracker.reads)
            if clocks is not None:
                records += 1
                tracker.tick(*clocks)
                continue
            record = jr.decode_line(line)
            if record is None:
                bad += bool(line.strip())
                continue
            records += 1
            batch.extend(feed_record(tracker, record, start))
            if len(batch) >= batch_size:
                written += store.save_calls(engine, batch)
                batch = []
        jr.warn_unreadable(path, bad)
    if batch:
        written += store.save_calls(engine, batch)
    return ReplaySummary(files=len(files), records=records, calls=written, in_flight=len(tracker.calls))
