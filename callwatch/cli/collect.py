"""`callwatch collect` (the live AMI collector service) and `callwatch replay` (rebuild calls from its journal).

The wiring lives here, not in the collector: the AMI service gets the per-day
rollup refresh as its after_store callback, and one scheduler beside it tails
the configured logs (collector/tail.py) and sends the weekly report
(report/schedule.py), so the collector never imports metrics or the report.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.engine import Engine

from callwatch.cli.common import open_collector_store, open_store, with_settings
from callwatch.config import Settings, environment, secret

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from callwatch.collector.ami.service import CollectorService

SECRET_ENV = environment.AMI_SECRET
log = logging.getLogger("callwatch")


def _service_logging() -> None:
    """A service should say what it does: INFO unless -v/-vv asked for more."""
    root = logging.getLogger()
    if root.level > logging.INFO:
        logging.getLogger("callwatch").setLevel(logging.INFO)


@click.command("collect")
@with_settings
def collect_command(settings: Settings) -> None:
    """Run the live collector in the foreground (systemd, docker): AMI events -> calls, live state, log tailing.

    The AMI secret comes from $CALLWATCH_AMI_SECRET. SIGTERM or Ctrl-C stops it cleanly.
    """
    from callwatch.collector.ami.journal import JournalLocked  # lazy: start-up speed
    ami_secret = secret(SECRET_ENV)
    if ami_secret is None:
        click.echo(f"error: set {SECRET_ENV} to the AMI secret of user {settings.ami.username!r}", err=True)
        sys.exit(2)
    _service_logging()
    settings, engine = open_collector_store(settings)
    try:
        service = make_service(settings, ami_secret, engine)
    except JournalLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)

    def _stop(signum: int, _frame: Any) -> None:
        logging.getLogger("callwatch").info("signal %s: stopping", signal.Signals(signum).name)
        service.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logging.getLogger("callwatch").info(
        "collector for site %r: AMI %s:%s as %s, journal %s",
        settings.site,
        settings.ami.host,
        settings.ami.port,
        settings.ami.username,
        settings.journal_path,
    )
    run_collector(service)


def make_service(settings: Settings, ami_secret: str, engine: Engine | None = None) -> CollectorService:
    """The AMI service with the per-day rollup refresh after each store (at most every few seconds)."""
    from callwatch.collector.ami.service import CollectorService  # lazy: start-up speed
    from callwatch.metrics.rollup_store import refresh_written_rollups  # lazy: start-up speed

    service = CollectorService(settings, ami_secret, engine=engine)
    service.after_store = functools.partial(refresh_written_rollups, service.engine, settings)
    return service


def start_scheduler(
    settings: Settings, engine: Engine, after_store: Callable[[], None] | None = None
) -> BackgroundScheduler | None:
    """Tail the configured logs, check the alerts and send the weekly report in this process; None when none is on."""
    from apscheduler.schedulers.background import BackgroundScheduler  # lazy: start-up speed

    from callwatch.collector.tail import add_tail_jobs  # lazy: start-up speed
    from callwatch.report.schedule import install_weekly_report  # lazy: start-up speed

    wants_report = bool(settings.report.recipients)
    wants_alerts = settings.alerts.enabled
    if not (settings.tail or wants_report or wants_alerts):
        return None
    scheduler = BackgroundScheduler(timezone="UTC")
    tails = add_tail_jobs(scheduler, engine, settings, after_store)
    if wants_report:
        install_weekly_report(scheduler, settings, engine)
    if wants_alerts:
        add_alert_job(scheduler, settings, engine)
    scheduler.start()
    log.info("scheduler: tailing %d log file(s), weekly report %s, alerts %s", tails,
             "on" if wants_report else "off", "on" if wants_alerts else "off")
    return scheduler


def add_alert_job(scheduler: BackgroundScheduler, settings: Settings, engine: Engine) -> None:
    """The alert loop's step every alerts.check_seconds (a failed step is logged; the next one tries again)."""
    from callwatch.alerts.monitor import AlertMonitor  # lazy: start-up speed
    from callwatch.alerts.notify import Notifier, notify_urls  # lazy: start-up speed

    monitor = AlertMonitor(engine, settings, Notifier(notify_urls(settings.alerts.notify)))
    scheduler.add_job(monitor.check, "interval", seconds=settings.alerts.check_seconds, id="alerts",
                      max_instances=1, coalesce=True)


def run_collector(service: CollectorService) -> None:
    """The service's loop with the scheduler beside it; both stop when the service is asked to stop."""
    scheduler = start_scheduler(service.settings, service.engine, service.after_store)
    try:
        service.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)


@click.command("replay")
@with_settings
def replay_command(settings: Settings) -> None:
    """Rebuild every call from the AMI journal (after a fix to the event logic); upserts, never duplicates."""
    from callwatch.collector.ami.replay import replay_journal  # lazy: start-up speed

    engine = open_store(settings)
    summary = replay_journal(engine, settings)
    click.echo(
        f"replayed {summary.records} journal record(s) from {summary.files} file(s): "
        f"{summary.calls} call(s) written, {summary.in_flight} still in flight at the end of the journal"
    )
