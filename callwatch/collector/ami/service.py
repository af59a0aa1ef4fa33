"""`callwatch collect`: the collector service loop.

    reader thread (client.py):  connect -> login -> read -> journal -> enqueue
    this loop:                  take a batch -> track -> store calls, live state, heartbeat -> checkpoint

The reader only frames bytes and appends them to the journal, so a slow or
locked database never makes Asterisk drop us; the loop below does the rest and
retries the store when it fails. A stop request (SIGTERM) ends both between
steps and flushes everything. After a crash, the journal tail since the last
checkpoint is fed through the tracker again before connecting, so a call that
ended just before a SIGKILL is still stored, and upserts keep it single.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.ami import journal as jr
from callwatch.collector.ami import live_state, protocol
from callwatch.collector.ami.client import AmiClient, Batch
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.config import Settings
from callwatch.model import Call

log = logging.getLogger(__name__)
# A call that ends reaches the year-long views this soon; one refresh recomputes one site-day.
ROLLUP_REFRESH_SECONDS = 5.0


@dataclass(slots=True)
class Item:
    """One journaled record on its way from the reader to the tracker."""

    start: int
    end: int
    record: jr.Record
    headers: protocol.Message | None = None


def feed_record(
    tracker: AmiTracker, record: jr.Record, start: int, headers: protocol.Message | None = None
) -> list[Call]:
    """Apply one journal record to the tracker: the same path live and in `callwatch replay`."""
    if record.message is not None:
        msg = headers if headers is not None else protocol.parse(record.message)
        return tracker.feed(msg, protocol.event_time(msg, record.t), journal_pos=start)
    if record.control == "disconnected":
        tracker.disconnected(record.t)
    elif record.control == "resync":
        tracker.resync_started(record.t)
    return []


class CollectorService:
    def __init__(self, settings: Settings, secret: str, *, engine: Engine | None = None, schedule: bool = True) -> None:
        self.settings = settings
        self.engine = engine or store.create_engine(settings.database_url)
        store.init_db(self.engine)
        self.tracker = AmiTracker(settings)
        self.journal = jr.Journal(Path(settings.journal_path))
        self.queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self.stop_event = threading.Event()
        ami = settings.ami
        self.client = AmiClient(
            ami.host,
            ami.port,
            ami.username,
            secret,
            on_messages=self._on_messages,
            on_status=self._on_status,
            ping_interval=ami.ping_interval_seconds,
            idle_timeout=ami.idle_timeout_seconds,
            reconnect_max=ami.reconnect_max_seconds,
            connect_timeout=min(5.0, ami.idle_timeout_seconds),
        )
        self._schedule = schedule  # tailing and the weekly report (benchmarks turn them off)
        self._scheduler: Any = None
        self._pending: list[Call] = []
        self._processed_end = self.journal.offset
        self._store_ok = True
        self._retry_at = 0.0
        self._beat_at = 0.0
        self._link = ("disconnected", "starting")
        self._link_changed = True
        self._last_checkpoint: tuple[int, int] | None = None
        self._last_heard: float | None = None
        self._rollups_due = False  # calls were stored since the per-day rollups were last refreshed
        self._rollups_at = 0.0
        self.ready = threading.Event()  # set once recovered and connecting (tests wait on it)

    # -- the reader thread's side: journal first, then hand over ---------------------------------

    def _on_messages(self, batch: Batch) -> None:
        records = [jr.Record(t=received, message=text) for received, text, _headers in batch]
        spans = self.journal.append_many(records)
        self.journal.flush()
        for (start, end), record, (_t, _text, headers) in zip(spans, records, batch, strict=True):
            self.queue.put(Item(start, end, record, headers))

    def _on_status(self, kind: str, t: float, detail: str) -> None:
        record = jr.Record(t=t, control=kind, detail=detail)
        start, end = self.journal.append(record)
        self.journal.flush()
        self.queue.put(Item(start, end, record))

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> None:
        self.recover()
        self._start_scheduler()
        reader = threading.Thread(target=self.client.run, args=(self.stop_event,), name="ami-reader", daemon=True)
        reader.start()
        self.ready.set()
        try:
            while not self.stop_event.is_set():
                for item in self._next_batch(timeout=0.2):
                    self._track(item)
                self._store()
        finally:
            reader.join(timeout=10)
            while batch := self._next_batch(timeout=0):
                for item in batch:
                    self._track(item)
            self._store(final=True)
            self._stop_scheduler()
            self.journal.close()
            log.info(
                "collector stopped; %d call(s) still in flight will be resumed from the journal",
                len(self.tracker.calls),
            )

    def stop(self) -> None:
        self.stop_event.set()

    def _next_batch(self, timeout: float, limit: int = 5000) -> list[Item]:
        items: list[Item] = []
        try:
            items.append(self.queue.get(timeout=timeout) if timeout else self.queue.get_nowait())
            while len(items) < limit:
                items.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        return items

    def _track(self, item: Item) -> None:
        self._pending.extend(feed_record(self.tracker, item.record, item.start, item.headers))
        self._processed_end = item.end
        if item.record.message is not None:
            self._last_heard = item.record.t
        if item.record.control in ("connected", "disconnected"):
            self._link = (item.record.control, item.record.detail)
            self._link_changed = True

    def _store(self, final: bool = False) -> None:
        """Calls, live state, heartbeat, then the checkpoint; on a store failure keep everything and retry."""
        now = time.monotonic()
        if not final and not self._store_ok and now < self._retry_at:
            return
        try:
            if self._pending:
                store.save_calls(self.engine, self._pending)
                self._pending = []
                self._rollups_due = True
            if self.tracker.live_changed or final:
                live_state.write_live_calls(self.engine, self.settings.site, [] if final else self.tracker.live())
                self.tracker.live_changed = False
            if self._link_changed or now - self._beat_at >= 1.0 or final:
                self._heartbeat(final)
                self._beat_at = now
        except Exception as exc:  # a locked or unreachable database must not end the service
            if self._store_ok:
                log.error("store write failed, will retry (calls are kept and journaled): %s", exc)
            self._store_ok = False
            self._retry_at = now + 2.0
            return
        if not self._store_ok:
            log.info("store writes work again")
        self._store_ok = True
        self._checkpoint()
        self.journal.flush()  # the once-a-second fsync also happens when the PBX falls quiet
        if self._rollups_due and (final or now - self._rollups_at >= ROLLUP_REFRESH_SECONDS):
            self._refresh_rollups(now)

    def _refresh_rollups(self, now: float) -> None:
        """Today's per-day rollup follows the calls that just ended, at most every few seconds."""
        from callwatch.collector.importer import refresh_written_rollups

        self._rollups_due = False
        self._rollups_at = now
        refresh_written_rollups(self.engine, self.settings)  # logs and keeps the days marked if it fails

    def _heartbeat(self, final: bool) -> None:
        kind, detail = self._link
        connected = kind == "connected" and not final
        if final:
            detail = "collector stopped"
        last = self._last_heard  # our clock: when we last heard from the PBX
        store.write_heartbeat(
            self.engine,
            self.settings.site,
            connected=connected,
            last_event_at=datetime.fromtimestamp(last, UTC) if last else None,
            detail=detail if not connected else f"connected to {self.settings.ami.host}:{self.settings.ami.port}",
        )
        self._link_changed = False

    def _checkpoint(self) -> None:
        oldest = self.tracker.oldest_journal_pos()
        offset = oldest if isinstance(oldest, int) else self._processed_end
        if (self.journal.inode, offset) != self._last_checkpoint:
            jr.write_checkpoint(self.journal.path, self.journal.inode, offset)
            self._last_checkpoint = (self.journal.inode, offset)
        if not self.tracker.calls and self.journal.rotate_if_large():
            self._processed_end = 0
            jr.write_checkpoint(self.journal.path, self.journal.inode, 0)

    # -- crash recovery -----------------------------------------------------------------------

    def recover(self) -> None:
        """Re-feed the journal since the last checkpoint: calls that ended before a crash get stored."""
        path = self.journal.path
        self.journal.flush()
        checkpoint = jr.read_checkpoint(path)
        start = checkpoint[1] if checkpoint and checkpoint[0] == self.journal.inode else 0
        start = min(start, self.journal.offset)
        last_t = None
        fed = 0
        for begin, _end, record in jr.read_records(path, start):
            self._pending.extend(feed_record(self.tracker, record, begin))
            last_t = record.t
            fed += 1
        if fed:
            log.info(
                "recovered %d journal record(s): %d call(s) ended, %d in flight",
                fed,
                len(self._pending),
                len(self.tracker.calls),
            )
        if self.tracker.calls and last_t is not None:
            # We were not listening from the last record until now; the resync after login settles these calls.
            self._on_status("disconnected", last_t, "collector restarted")
            for item in self._next_batch(timeout=0):
                self._track(item)
        self._processed_end = self.journal.offset
        self._store()

    # -- scheduled work: tailing CSV logs, the weekly report --------------------------------------------------------

    def _start_scheduler(self) -> None:
        """Tail the configured logs and send the weekly report, in this same process."""
        wants_report = bool(self.settings.report.recipients)
        if not self._schedule or not (self.settings.tail or wants_report):
            return
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler = BackgroundScheduler(timezone="UTC")
        for i, entry in enumerate(self.settings.tail):
            self._scheduler.add_job(
                tail_once,
                "interval",
                seconds=entry.interval_seconds,
                args=(self.engine, self.settings, str(entry.path), entry.source),
                id=f"tail-{i}",
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(60, int(entry.interval_seconds)),
            )
        if wants_report:
            from callwatch.report.schedule import install_weekly_report

            install_weekly_report(self._scheduler, self.settings, self.engine)
        self._scheduler.start()
        log.info(
            "scheduler: tailing %d log file(s), weekly report %s",
            len(self.settings.tail),
            "on" if wants_report else "off",
        )

    def _stop_scheduler(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None


def tail_once(engine: Engine, settings: Settings, path: str, source: str) -> None:
    """One scheduled look at a growing CSV log; the importer remembers how far it got."""
    try:
        from callwatch.collector.importer import import_file

        if not Path(path).exists():
            log.warning("tail: %s does not exist (yet)", path)
            return
        summary = import_file(engine, settings, path, source)
        if getattr(summary, "calls_written", 0):
            log.info("tail: %s: %s", path, summary)
    except Exception:
        log.exception("tail: importing %s failed; will try again at the next interval", path)
