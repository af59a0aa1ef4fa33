"""`callwatch alerts`: what fired and when, the alert loop on its own, and a test notification."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from callwatch.cli.common import open_store, with_settings
from callwatch.config import Settings


def _monitor(settings: Settings) -> Any:
    # Imported when used: pandas and Apprise make `callwatch --help` slow otherwise.
    from callwatch.alerts.monitor import AlertMonitor  # lazy: start-up speed
    from callwatch.alerts.notify import Notifier, notify_urls  # lazy: start-up speed

    try:
        notifier = Notifier(notify_urls(settings.alerts.notify))
    except ValueError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(2)
    return AlertMonitor(open_store(settings), settings, notifier)


@click.group("alerts")
def alerts_command() -> None:
    """Alerts for the front desk (a call ringing past target, callers waiting, the collector silent ...)."""


@alerts_command.command("list")
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True, help="How far back.")
@click.option("--site", default=None, help="One office (default: the configured site; 'all' for every office).")
@with_settings
def list_command(settings: Settings, days: int, site: str | None) -> None:
    """Alerts fired in the last days, and those still open, newest first."""
    from callwatch.store import alert_log  # lazy: start-up speed

    engine = open_store(settings)
    office = None if site == "all" else (site or settings.site)
    rows = alert_log.recent_alerts(engine, office, datetime.now(UTC) - timedelta(days=days))
    if not rows:
        click.echo(f"no alerts in the last {days} day(s)")
        return
    for row in rows:
        fired = row["fired_at"].astimezone(settings.tz).strftime("%a %d %b %H:%M:%S")
        state = "OPEN" if row["cleared_at"] is None else "cleared " + row["cleared_at"].astimezone(
            settings.tz).strftime("%H:%M:%S")
        sent = "sent" if row["notified_at"] else (row["notify_error"] or "not sent")
        click.echo(f"{fired}  {row['site']}  {row['condition']:<22} {state:<17} {sent}\n    {row['message']}")


@alerts_command.command("watch")
@with_settings
def watch_command(settings: Settings) -> None:
    """Run the alert loop on its own (as a second service it notices a collector that died)."""
    monitor = _monitor(settings)
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"watching {settings.site!r} every {settings.alerts.check_seconds:g} s "
               f"({len(monitor.notifier.urls)} notification target(s))")
    while not stop.is_set():
        monitor.check()
        stop.wait(settings.alerts.check_seconds)


@alerts_command.command("test")
@with_settings
def test_command(settings: Settings) -> None:
    """Send a test notification to every target, so the set-up can be checked before it matters."""
    monitor = _monitor(settings)
    if not monitor.notifier:
        click.echo("no notification targets: set alerts.notify in callwatch.yaml or CALLWATCH_ALERT_URLS", err=True)
        sys.exit(2)
    sent = monitor.notifier.send(f"callwatch {settings.site}: test", "A test alert from callwatch. No action needed.")
    if not sent.ok:
        click.echo(f"error: {sent.error}", err=True)
        sys.exit(1)
    click.echo(f"test alert sent to {len(monitor.notifier.urls)} target(s)")
