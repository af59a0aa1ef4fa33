"""`callwatch import FILE...`: read call logs into the store and say what happened per file."""

from __future__ import annotations

import sys

import click

from callwatch.cli.common import open_store, with_settings
from callwatch.config import Settings


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--source",
    default="auto",
    show_default=True,
    help="Log format: auto (detect), cdr-csv (Asterisk Master.csv), queue-log, or csv:<map name> "
    "(a column map from the settings).",
)
@with_settings
def import_command(files: tuple[str, ...], source: str, settings: Settings) -> None:
    """Import Asterisk Master.csv, queue_log or CSV call logs.

    Importing a file again adds nothing; a grown log is read from where the
    last import stopped. Bad rows are skipped, counted and kept in a rejects
    file. Exit code 1 only when a file cannot be read at all.
    """
    from callwatch.collector.importer import import_file  # lazy: start-up speed
    from callwatch.collector.sources import SourceError  # lazy: start-up speed
    from callwatch.metrics.rollup_store import refresh_written_rollups  # lazy: start-up speed

    engine = open_store(settings)
    failed = False
    written = 0
    for name in files:
        try:
            summary = import_file(engine, settings, name, source=source, progress=sys.stderr.isatty())
        except (OSError, SourceError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(f"{name}: cannot import: {reason}", err=True)
            failed = True
            continue
        written += summary.calls_written
        if summary.unchanged:
            click.echo(f"{name}: unchanged since the last import, nothing new")
            continue
        line = (
            f"{name}: {summary.source}: {summary.rows_read} rows, {summary.calls_written} calls written, "
            f"{summary.rejected} rejected"
        )
        if summary.rejects_path:
            line += f" (see {summary.rejects_path})"
        click.echo(line)
    if written:
        refresh_written_rollups(engine, settings)  # once, after all files: the days they wrote
    if failed:
        sys.exit(1)
