"""`callwatch dashboard` and `callwatch hash-password`.

The web process only reads the store: the collector and the weekly-report
scheduler run in `callwatch collect`, never here (gunicorn workers would each
start one). It does re-read the PBX's logs for one call when a user asks the
Calls page "Why these values?": the CLI hands the dashboard the collector's
explainer (the dashboard package may not import the collector).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from callwatch.cli.common import load_or_exit
from callwatch.config import Settings, load_settings

if TYPE_CHECKING:
    import flask
    from sqlalchemy.engine import Engine

SERVER_THREADS = 16


@click.command("dashboard")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Settings file (default: $CALLWATCH_CONFIG or ./callwatch.yaml; none needed).",
)
@click.option("--host", default=None, help="Address to listen on (default: dashboard.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: dashboard.port, 8050).")
def dashboard_command(config_path: str | None, host: str | None, port: int | None) -> None:
    """Serve the dashboard (login required). For many users run gunicorn:
    gunicorn -w 2 'callwatch.cli.dashboard:create_server()'"""
    settings = load_or_exit(config_path)
    from callwatch.dashboard.app import create_app  # lazy: start-up speed
    from callwatch.dashboard.auth import users_from  # lazy: start-up speed

    try:
        users = users_from(settings.dashboard.users)
    except ValueError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(2)
    if not users:
        click.echo(
            "config error: no dashboard users. Run `callwatch hash-password NAME` and add the line it prints "
            "under `dashboard: users:` in callwatch.yaml (or set CALLWATCH_DASHBOARD_USERS).",
            err=True,
        )
        sys.exit(2)
    app = create_app(settings, explain=explainer(settings))
    host = host or settings.dashboard.host
    port = port or settings.dashboard.port
    click.echo(f"callwatch dashboard on http://{host}:{port}/ (users: {', '.join(sorted(users))})")
    sys.stdout.flush()  # a service manager's log shows the address at once, not at exit
    # waitress, not Flask's development server: a wall of front-desk screens
    # polls every 2 s, and the dev server queued them until each waited seconds.
    # Threads mostly wait on the store or the shared live answer (dashboard.cache).
    from waitress import serve  # lazy: start-up speed

    serve(app.server, host=host, port=port, threads=SERVER_THREADS, ident="callwatch")


def explainer(settings: Settings) -> Callable[[Engine, str, str], list[str]]:
    """The Calls page's "Why these values?": collector.explain over this site's logs, numbers masked."""
    from callwatch.collector.explain import explain_call, explanation_lines  # lazy: start-up speed

    def explain(engine: Engine, site: str, call_id: str) -> list[str]:
        found = explain_call(engine, settings, call_id, site)
        if found is None:
            return [f"No call {call_id!r} is stored for site {site!r}."]
        return explanation_lines(found, unmasked=False)

    return explain


def create_server() -> flask.Flask:
    """The Flask server for gunicorn (`gunicorn -w 2 'callwatch.cli.dashboard:create_server()'`).

    Settings from CALLWATCH_CONFIG or ./callwatch.yaml; no collector or scheduler runs in it.
    """
    from callwatch.dashboard.app import create_app  # lazy: start-up speed

    settings = load_settings()
    return create_app(settings, explain=explainer(settings)).server


@click.command("hash-password")
@click.argument("username")
@click.password_option(help="The password (prompted for, twice, when not given).")
def hash_password_command(username: str, password: str) -> None:
    """Print a dashboard user line for callwatch.yaml (the password itself is never stored)."""
    from werkzeug.security import generate_password_hash  # lazy: start-up speed

    from callwatch.dashboard.auth import MIN_PASSWORD_LENGTH  # lazy: start-up speed

    if len(password) < MIN_PASSWORD_LENGTH:
        click.echo(f"error: the password must have at least {MIN_PASSWORD_LENGTH} characters "
                   "(the dashboard shows patients' calls)", err=True)
        sys.exit(2)

    click.echo("# under `dashboard:` -> `users:` in callwatch.yaml")
    click.echo(f"{username}: '{generate_password_hash(password)}'")


def register(group: click.Group) -> None:
    """Add `dashboard` and `hash-password` to the `callwatch` command."""
    group.add_command(dashboard_command)
    group.add_command(hash_password_command)
