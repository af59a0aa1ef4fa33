"""`callwatch collect` (the live AMI collector service) and `callwatch replay` (rebuild calls from its journal)."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

import click

from callwatch.cli.common import open_collector_store, open_store, with_settings
from callwatch.config import Settings, secret

SECRET_ENV = "CALLWATCH_AMI_SECRET"


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
    from callwatch.collector.ami.journal import JournalLocked
    from callwatch.collector.ami.service import CollectorService

    ami_secret = secret(SECRET_ENV)
    if ami_secret is None:
        click.echo(f"error: set {SECRET_ENV} to the AMI secret of user {settings.ami.username!r}", err=True)
        sys.exit(2)
    _service_logging()
    settings, engine = open_collector_store(settings)
    try:
        service = CollectorService(settings, ami_secret, engine=engine)
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
    service.run()


@click.command("replay")
@with_settings
def replay_command(settings: Settings) -> None:
    """Rebuild every call from the AMI journal (after a fix to the event logic); upserts, never duplicates."""
    from callwatch.collector.ami.replay import replay_journal

    engine = open_store(settings)
    summary = replay_journal(engine, settings)
    click.echo(
        f"replayed {summary.records} journal record(s) from {summary.files} file(s): "
        f"{summary.calls} call(s) written, {summary.in_flight} still in flight at the end of the journal"
    )
