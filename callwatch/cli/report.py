"""`callwatch report`: the weekly answer-rate report as HTML + CSV, optionally emailed."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from callwatch.cli.common import open_store, with_settings
from callwatch.config import Settings


@click.command("report")
@click.option("--week", default=None, help="ISO week such as 2026-W47 (default: the last complete week, local time).")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (YYYY-MM-DD).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day, inclusive.")
@click.option("--site", default=None, help="Office to report on (default: the configured site).")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Folder (default: report.out_dir)."
)
@click.option("--email", is_flag=True, help="Also email it to report.recipients (password: $CALLWATCH_SMTP_PASSWORD).")
@with_settings
def report_command(
    settings: Settings,
    week: str | None,
    first: datetime | None,
    last: datetime | None,
    site: str | None,
    out_dir: str | None,
    email: bool,
) -> None:
    """Write the weekly phone report (HTML and a CSV of the daily numbers)."""
    from callwatch.report.mail import ReportMailError  # lazy: start-up speed
    from callwatch.report.periods import Period, parse_week  # lazy: start-up speed
    from callwatch.report.run import produce_report  # lazy: start-up speed

    if week and (first or last):
        raise click.UsageError("give either --week or --from/--to, not both")
    if (first is None) != (last is None):
        raise click.UsageError("--from and --to go together")
    period = None
    try:
        if week:
            period = parse_week(week)
        elif first is not None and last is not None:
            if last < first:
                raise ValueError("--to is before --from")
            period = Period(first.date(), last.date())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    engine = open_store(settings)
    try:
        files = produce_report(
            engine, settings, period, site=site, out_dir=Path(out_dir) if out_dir else None, email=email
        )
    except ReportMailError as exc:
        click.echo(f"report written but not sent: {exc}", err=True)
        sys.exit(1)
    report = files.report
    click.echo(f"report {report.period.label} for {report.site}: {report.summary['offered']} calls")
    click.echo(f"  {files.html_path}")
    click.echo(f"  {files.csv_path}")
    for line in report.observations:
        click.echo(f"  - {line}")
    if email:
        sent = ", ".join(files.emailed_to) or "nobody"
        click.echo(f"emailed to {sent}" if files.emailed_to or files.refused or files.unconfirmed
                   else "emailed to nobody (report.recipients is empty)")
        for address in files.unconfirmed:
            click.echo(f"sent to {address}, but the server never confirmed it (not resent)", err=True)
        if files.refused:
            for address, reply in files.refused.items():
                click.echo(f"NOT delivered to {address}: the server said {reply}", err=True)
            sys.exit(1)
