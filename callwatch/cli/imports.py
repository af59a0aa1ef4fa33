"""`callwatch import FILE...`: read call logs into the store and say what happened per file."""

from __future__ import annotations

import sys
from typing import Any

import click

from callwatch.cli.common import open_collector_store, with_settings
from callwatch.config import Settings
from callwatch.model import Call, mask_caller


def describe_call(call: Call, settings: Settings) -> str:
    """One stored call in a line a person can check against the export (caller masked)."""
    local = call.arrived_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    ring = call.ring_seconds
    ring_text = "ring time unknown" if ring is None else f"ring {ring:.0f} s"
    by = f" by {call.answered_by}" if call.answered_by else ""
    return (f"{local}, {call.direction}, caller {mask_caller(call.caller) or '(none)'}, "
            f"{call.outcome}{by}, {ring_text}")


@click.command("import")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--source",
    default="auto",
    show_default=True,
    help="Log format: auto (detect), cdr-csv (Asterisk Master.csv), cel-csv (cel_custom CSV), queue-log, "
    "csv:<map name> (a column map from the settings), or preset:<name> for a phone system's export "
    "(freepbx-cdr, yeastar-pseries, mango, 8x8-cdr, ringcentral-json; see docs/presets.md).",
)
@click.option(
    "--reread", is_flag=True,
    help="Read the files again from their start, replacing (never doubling) the calls they wrote before.",
)
@with_settings
def import_command(files: tuple[str, ...], source: str, reread: bool, settings: Settings) -> None:
    """Import Asterisk Master.csv, cel_custom CSV, queue_log, CSV call logs, a phone system's export,
    or the PBX's CDR/CEL database.

    A database is given as a URL (mysql+pymysql://callwatch@pbx/asteriskcdrdb,
    postgresql://..., sqlite:///...); its password comes only from
    CALLWATCH_CDR_DATABASE_PASSWORD. Importing a file again adds nothing; a
    grown log is read from where the last import stopped. Bad rows are
    skipped, counted and kept in a rejects file. A file read another way (a
    different --source, column map or setting) or whose rejected row was
    repaired is read again, replacing its calls. Exit code 1 when a file cannot
    be read at all or every row of it was rejected.
    """
    from callwatch.collector.database_import import import_database  # lazy: start-up speed
    from callwatch.collector.importer import import_file  # lazy: start-up speed
    from callwatch.collector.sources import SourceError  # lazy: start-up speed
    from callwatch.collector.sources.cdr_database import is_database_url, redacted  # lazy: start-up speed
    from callwatch.metrics.rollup_store import refresh_written_rollups  # lazy: start-up speed

    settings, engine = open_collector_store(settings)
    failed = False
    written = 0
    for name in files:
        shown = redacted(name) if is_database_url(name) else name
        try:
            if is_database_url(name):
                summaries = import_database(engine, settings, name)
            else:
                summaries = [import_file(engine, settings, name, source=source, progress=sys.stderr.isatty(),
                                         reread=reread)]
        except (OSError, SourceError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(f"{shown}: cannot import: {reason}", err=True)
            failed = True
            continue
        for summary in summaries:
            written += summary.calls_written
            failed = _say(summary.file if is_database_url(name) else name, summary, settings) or failed
    if written:
        refresh_written_rollups(engine, settings)  # once, after all files: the days they wrote
    if failed:
        sys.exit(1)


def _say(name: str, summary: Any, settings: Settings) -> bool:
    """Print what happened to one file; True when every row was rejected (a failure for cron)."""
    if summary.unchanged:
        click.echo(f"{name}: unchanged since the last import, nothing new (--reread reads it again)")
        return False
    if getattr(summary, "reread", None):
        click.echo(f"{name}: read again from the start ({summary.reread}); {summary.replaced} earlier call(s) "
                   "replaced")
    for warning in getattr(summary, "warnings", []):
        click.echo(f"{name}: warning: {warning}", err=True)
    line = (
        f"{name}: {summary.source}: {summary.rows_read} rows, {summary.calls_written} calls written, "
        f"{summary.rejected} rejected"
    )
    if summary.rejects_path:
        line += f" (see {summary.rejects_path})"
    click.echo(line)
    for note in summary.columns_read:
        click.echo(f"  {note}")
    if summary.example is not None:
        click.echo(f"  example: {describe_call(summary.example, settings)}")
    if summary.rows_read and summary.rejected == summary.rows_read:
        # Cron must not see success: this is a wrong --source or column map, not a few bad rows.
        click.echo(f"{name}: every row was rejected: is --source {summary.source} right for this file?", err=True)
        return True
    return False
