"""Scheduled re-reading of growing call logs and PBX databases (settings.tail): one job each, on any APScheduler 3
scheduler.

The importer remembers how far each file was read, so each run reads only what
was added. The scheduler's life belongs to the caller (cli/collect.py runs it
beside the AMI service); after_store runs after a run that wrote calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from callwatch.collector.database_import import import_database
from callwatch.collector.importer import import_file
from callwatch.collector.sources.cdr_database import is_database_url, redacted
from callwatch.config import Settings

log = logging.getLogger(__name__)


def add_tail_jobs(
    scheduler: Any, engine: Engine, settings: Settings, after_store: Callable[[], None] | None = None
) -> int:
    """One interval job per settings.tail entry (ids tail-0, tail-1, ...); returns how many."""
    for i, entry in enumerate(settings.tail):
        scheduler.add_job(
            tail_once,
            "interval",
            seconds=entry.interval_seconds,
            args=(engine, settings, str(entry.path), entry.source, after_store),
            id=f"tail-{i}",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(60, int(entry.interval_seconds)),
        )
    return len(settings.tail)


def tail_once(
    engine: Engine, settings: Settings, path: str, source: str, after_store: Callable[[], None] | None = None
) -> None:
    """One scheduled look at a growing CSV log or the PBX database; a failure is logged and retried next time."""
    shown = redacted(path) if is_database_url(path) else path
    try:
        if is_database_url(path):
            summaries = import_database(engine, settings, path)
        elif not Path(path).exists():
            log.warning("tail: %s does not exist (yet)", path)
            return
        else:
            summaries = [import_file(engine, settings, path, source)]
        written = [s for s in summaries if s.calls_written]
        for summary in written:
            log.info("tail: %s: %s", shown, summary)
        if written and after_store is not None:
            after_store()
    except Exception:
        log.exception("tail: importing %s failed; will try again at the next interval", shown)
