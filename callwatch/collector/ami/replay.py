"""`callwatch replay`: every call rebuilt from the journal, through the same tracker as the live service.

Most journal lines are events the tracker only counts (it reads nothing of them
but the Linkedid and the time): those are skimmed from the raw bytes
(collector/ami/skim.py) and only tick the tracker's clocks, which is most of
replay's speed. Every other line takes the live service's path, feed_record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.ami import journal as jr
from callwatch.collector.ami.service import feed_record
from callwatch.collector.ami.skim import Skimmer, lines
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
    replay = FileReplay(tracker)
    files = jr.journal_files(Path(settings.journal_path))
    written = 0
    batch: list[Call] = []
    for path in files:
        for ended in replay.feed_file(path):
            batch.extend(ended)
            if len(batch) >= batch_size:
                written += store.save_calls(engine, batch)
                batch = []
    if batch:
        written += store.save_calls(engine, batch)
    return ReplaySummary(files=len(files), records=replay.records, calls=written, in_flight=len(tracker.calls))


class FileReplay:
    """Feeds journal files to one tracker: what feed_record would do with each line, mostly without decoding it."""

    def __init__(self, tracker: AmiTracker) -> None:
        self.tracker = tracker
        self.skimmer = Skimmer(tracker.reads, tracker.headers, tracker.variables_read)
        self.records = 0  # readable records fed, over every file

    def feed_file(self, path: Path) -> Iterator[list[Call]]:
        """Feed one journal file; yields the calls that ended, as they end."""
        tracker = self.tracker
        read, tick, feed = self.skimmer.read, tracker.tick, tracker.feed
        records = bad = 0
        for start, line in lines(path):
            skimmed = read(line)
            if skimmed is not None:
                records += 1
                headers, linkedid, t = skimmed
                if headers is None:
                    tick(linkedid, t)
                    continue
                ended = feed(headers, t, journal_pos=start)
            else:
                record = jr.decode_line(line)
                if record is None:
                    bad += bool(line.strip())
                    continue
                records += 1
                ended = feed_record(tracker, record, start)
            if ended:
                yield ended
        self.records += records
        jr.warn_unreadable(path, bad)
