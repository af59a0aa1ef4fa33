"""The weekly report on a schedule: sent at the practice's local time, caught up after downtime, never twice.

`install_weekly_report(scheduler, settings, engine)` adds two jobs to an
APScheduler 3 scheduler (the collector service's):
- a cron job at report.day_of_week / hour / minute in the practice's time zone
  (so 7:00 stays 7:00 across daylight-saving changes);
- a catch-up job that runs at start and then hourly: if the report due at the
  most recent scheduled time was not sent (service down, SMTP down), send it.
Both call `send_due_report`, which checks the report_runs table first; a lock
stops the two jobs from racing inside one process. Jobs hold the settings and
engine in memory: use the default MemoryJobStore (a SQLAlchemyJobStore would
try to pickle the engine).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.config.settings import Settings
from callwatch.metrics.loader import has_calls
from callwatch.report.mail import ReportMailError
from callwatch.report.periods import Period, last_complete_week
from callwatch.report.run import ReportFiles, produce_report

log = logging.getLogger(__name__)

JOB_ID = "weekly-report"
CATCH_UP_JOB_ID = "weekly-report-catch-up"
CATCH_UP_EVERY = timedelta(hours=1)
# A run delayed by a busy or sleeping host still goes out within this time;
# beyond it the hourly catch-up takes over.
MISFIRE_GRACE_SECONDS = 24 * 3600
_send_lock = threading.Lock()


def weekly_trigger(settings: Settings) -> CronTrigger:
    report = settings.report
    return CronTrigger(
        day_of_week=report.day_of_week, hour=report.hour, minute=report.minute, timezone=ZoneInfo(settings.timezone)
    )


def last_scheduled_run(settings: Settings, now: datetime) -> datetime | None:
    """The most recent scheduled report time at or before `now`."""
    trigger = weekly_trigger(settings)
    last = None
    fire = trigger.get_next_fire_time(None, now - timedelta(days=8))
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


def due_period(settings: Settings, now: datetime) -> Period | None:
    """The week the most recent scheduled run was (or should have been) about."""
    run = last_scheduled_run(settings, now)
    return None if run is None else last_complete_week(run, settings.timezone)


def send_due_report(settings: Settings, engine: Engine, now: datetime | None = None) -> ReportFiles | None:
    """Send the report that is due, unless it was sent already; None when nothing was sent.

    A failure to send is logged, not raised: the scheduler keeps running and
    the next catch-up tries again.
    """
    now = now or datetime.now(UTC)
    period = due_period(settings, now)
    if period is None:
        return None
    with _send_lock:
        if store.report_sent(engine, settings.site, period.label):
            return None
        if not _has_calls_before(engine, settings, period):
            log.info("weekly report %s skipped: no calls stored yet for %s", period.label, settings.site)
            return None
        try:
            files = produce_report(engine, settings, period, email=True, now=now, skip_delivered=True)
        except ReportMailError as exc:
            log.error("weekly report %s not sent (will retry within the hour): %s", period.label, exc)
            return None
        for address, reply in files.refused.items():
            log.error("weekly report %s not delivered to %s (%s); will retry only them within the hour",
                      period.label, address, reply)
        for address in files.unconfirmed:
            log.warning("weekly report %s: %s never confirmed the mail to %s; not resent to avoid a second copy",
                        period.label, settings.smtp.host, address)
        return files


def _has_calls_before(engine: Engine, settings: Settings, period: Period) -> bool:
    """False on a fresh install: an empty first report would only confuse the manager."""
    end = datetime.combine(period.last + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(settings.timezone))
    return has_calls(engine, site=settings.site, before=end)


def install_weekly_report(scheduler: Any, settings: Settings, engine: Engine) -> None:
    """Add the weekly report and its catch-up to `scheduler` (started or not)."""
    common = {"args": (settings, engine), "replace_existing": True, "coalesce": True, "max_instances": 1}
    scheduler.add_job(
        send_due_report,
        weekly_trigger(settings),
        id=f"{JOB_ID}:{settings.site}",
        name="weekly phone report",
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        **common,
    )
    scheduler.add_job(
        send_due_report,
        IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds()),
        id=f"{CATCH_UP_JOB_ID}:{settings.site}",
        name="weekly phone report catch-up",
        next_run_time=datetime.now(UTC),
        misfire_grace_time=int(CATCH_UP_EVERY.total_seconds()),
        **common,
    )
