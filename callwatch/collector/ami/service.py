"""`callwatch collect`: the collector service loop.

    reader thread (client.py):  connect -> login -> read -> journal -> enqueue
    this loop:                  take a batch -> track -> store calls, live state, heartbeat -> checkpoint

The reader only frames bytes and appends them to the journal, so a slow or
locked database never makes Asterisk drop us; the loop below does the rest and
retries the store when it fails. A stop request (SIGTERM) ends both between
steps and flushes everything. After a crash, the journal tail since the last
checkpoint is fed through the tracker again before connecting, so a call that
ended just before a SIGKILL is still stored, and upserts keep it single.

The service knows only AMI and the store: what follows a write (the per-day
rollups) arrives as an after_store callable, and the scheduler that tails logs
and sends the weekly report is started beside it by cli/collect.py.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.collector.ami import journal as jr
from callwatch.collector.ami import live_state, protocol
from callwatch.collector.ami.client import AmiClient, Batch
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.collector.plausibility import Plausibility
from callwatch.collector.rejects import open_private, reject_line
from callwatch.config import Settings
from callwatch.model import Call

log = logging.getLogger(__name__)
# after_store runs at most this often (the CLI passes the per-day rollup refresh:
# a call that ends reaches the year-long views this soon; one refresh recomputes one site-day).
AFTER_STORE_SECONDS = 5.0


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
    def __init__(
        self,
        settings: Settings,
        secret: str,
        *,
        engine: Engine | None = None,
        after_store: Callable[[], None] | None = None,
    ) -> None:
        """after_store: run after calls were stored (at most every AFTER_STORE_SECONDS, and at the end)."""
        self.settings = settings
        self.after_store = after_store
        self.engine = engine or store.create_engine(settings.database_url)
        store.init_db(self.engine)
        self.tracker = AmiTracker(settings)
        # Refuses to start when another collector holds this journal (JournalLocked).
        self.journal = jr.Journal(Path(settings.journal_path), keep_days=settings.ami.journal_keep_days)
        jr.prune_rotated(self.journal.path, settings.ami.journal_keep_days)
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
        self._pending: list[Call] = []
        self._processed_end = self.journal.offset
        self._store_ok = True
        self._retry_at = 0.0
        self._beat_at = 0.0
        self._link = ("disconnected", "starting")
        self._link_changed = True
        self._last_checkpoint: tuple[int, int] | None = None
        self._last_heard: float | None = None
        self._after_store_due = False  # calls were stored since after_store last ran
        self._after_store_at = 0.0
        self.rejected = 0  # implausible calls kept in the rejects file instead of the store
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
                store.save_calls(self.engine, self._plausible(self._pending))
                self._pending = []
                self._after_store_due = True
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
        if self._after_store_due and (final or now - self._after_store_at >= AFTER_STORE_SECONDS):
            self._after_store_due = False
            self._after_store_at = now
            if self.after_store is not None:
                self.after_store()

    def _plausible(self, calls: list[Call]) -> list[Call]:
        """The calls that can be real; the others go to the AMI rejects file (a PBX clock in 2099...)."""
        rules = Plausibility.from_settings(self.settings)
        kept = []
        for call in calls:
            problem = rules.problem(call)
            if problem is None:
                kept.append(call)
                continue
            self.rejected += 1
            with open_private(Path(self.settings.rejects_dir) / "ami.rejects.tsv") as handle:
                handle.write(reject_line("ami", call.call_id, f"implausible call: {problem}", str(call.as_dict())))
            if self.rejected % 100 == 1:
                log.warning("AMI call %s not stored: %s (%d so far, see the rejects file)",
                            call.call_id, problem, self.rejected)
        return kept

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
