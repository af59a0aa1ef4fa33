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
from sqlalchemy.engine import Engine, make_url

from callwatch import store
from callwatch.config import ConfigError, Settings, load_settings

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
    return store.open_store(settings.database_url)


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Replace the `config_path` argument with the loaded `settings`."""

    @config_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        return func(*args, settings=load_or_exit(config_path), **kwargs)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="callwatch")
def main(verbose: int) -> None:
    """callwatch: how your practice answers its phones."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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
