"""What every `callwatch` subcommand shares: the group itself, `--config`, settings and the store.

Each feature's subcommands live beside this module and import it; the
package's __init__ adds them to `main`, so no module imports its importer.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from callwatch import store
from callwatch.config import ConfigError, Settings, load_settings
from callwatch.model import mask_numbers_in

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """`--config FILE` on every command (default ./callwatch.yaml or CALLWATCH_CONFIG)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Settings file (default: $CALLWATCH_CONFIG or ./callwatch.yaml; none needed).",
    )(func)


def load_or_exit(config_path: str | None) -> Settings:
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"config error: {problem}", err=True)
        sys.exit(2)


def open_store(settings: Settings) -> Engine:
    return store.open_store(settings.database_url, settings.database_busy_timeout_seconds)


class RedactingFormatter(logging.Formatter):
    """Log lines and tracebacks with every phone-number-like run masked: logs end up in cron mail and journald."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers_in(super().format(record))


class SafeGroup(click.Group):
    """The one error boundary of the `callwatch` command: a clean message, never a traceback with patient data.

    A database error prints the database's own complaint (e.g. "database is
    locked"), not the statement or its parameters; anything else prints its
    type and message with numbers masked. `-vv` adds the (masked) traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            click.echo(f"error: {describe_error(exc)}", err=True)
            if logging.getLogger().level <= logging.DEBUG:
                logging.getLogger("callwatch").debug("traceback", exc_info=True)
            sys.exit(1)


def describe_error(exc: BaseException) -> str:
    """What went wrong, for a person, with no statement, parameters or caller numbers in it."""
    if isinstance(exc, sa_exc.DBAPIError):
        reason = str(exc.orig).strip() or type(exc.orig).__name__
        hint = "; another process holds the database: try again later" if "locked" in reason else ""
        return mask_numbers_in(f"database error: {reason}{hint} (calls already stored are kept)")
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return f"database error: {type(exc).__name__}"
    return mask_numbers_in(f"{type(exc).__name__}: {exc}")


def open_collector_store(settings: Settings) -> tuple[Settings, Engine]:
    """For commands that write an office's calls: the office's own settings, and the store
    with this file's offices' settings published in it (store.site_settings), so a dashboard
    or report reading the same database judges each office by them."""
    engine = open_store(settings)
    for name in settings.site_names:
        store.save_site_settings(engine, name, settings.site_section(name).model_dump(mode="json"))
    return settings.for_site(settings.site), engine


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Replace the `config_path` argument with the loaded `settings`."""

    @config_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        return func(*args, settings=load_or_exit(config_path), **kwargs)

    return wrapper


@click.group(cls=SafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="callwatch")
def main(verbose: int) -> None:
    """callwatch: how your practice answers its phones."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


@main.command("check-config")
@config_option
def check_config(config_path: str | None) -> None:
    """Validate the settings file and print what is in force."""
    settings = load_or_exit(config_path)
    click.echo(f"config ok: site {settings.site!r}, time zone {settings.timezone}, database {_safe_url(settings)}")
    click.echo(
        f"target: {settings.target_rings} rings x {settings.ring_cycle_seconds:g} s = {settings.target_seconds:g} s; "
        f"short abandon < {settings.short_abandon_seconds:g} s"
    )


def _safe_url(settings: Settings) -> str:
    """The database URL with any password hidden: it may be printed or logged."""
    return make_url(settings.database_url).render_as_string(hide_password=True)
