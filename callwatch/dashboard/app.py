"""The Dash app factory: pages, login, the CSV download route.

`create_app(settings, explain=...)` builds one app; the CLI builds it with the
collector's call explainer (`callwatch dashboard`, and the gunicorn entry point
`callwatch.cli.dashboard:create_server()`), which this package may not import
itself. Everything per-app (the
settings, the engine) lives on the Flask app (`server.extensions`), never in
module globals, so gunicorn workers and test apps never share state.
"""

from __future__ import annotations

from pathlib import Path

import dash
import flask
from dash import Dash, html
from flask_login import current_user
from sqlalchemy.engine import Engine
from werkzeug.wrappers import Response

from callwatch.config import Settings
from callwatch.dashboard import auth, data, downloads
from callwatch.dashboard import components as ui

HERE = Path(__file__).resolve().parent
PAGES_FOLDER = HERE / "pages"


def create_app(settings: Settings, *, engine: Engine | None = None, explain: data.Explainer | None = None) -> Dash:
    """One dashboard app for `settings` (a fresh engine on settings.database_url unless given).

    `explain` answers the Calls page's "Why these values?"; without it the page says none is available.
    """
    app = Dash(
        "callwatch.dashboard",
        use_pages=True,
        pages_folder=str(PAGES_FOLDER),
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,
        title="callwatch",
        update_title="",  # Dash: None or "" leaves the tab title alone while callbacks run
    )
    server = app.server
    ctx = data.attach(server, settings, engine, explain)
    key_path = settings.journal_path.parent / "dashboard-secret.key"
    auth.install_login(server, auth.users_from(settings.dashboard.users), auth.secret_key(key_path), ctx.engine,
                       secure_cookies=settings.dashboard.secure_cookies)
    downloads.install(server)
    server.before_request(_home_is_live)
    app.index_string = INDEX_HTML
    app.layout = _shell
    # Page callbacks are registered on this app (not with the global
    # dash.callback) so two apps in one process never share callbacks. Dash()
    # with use_pages has just imported the page modules (their register_page
    # refuses to run before an app exists), so this import only names them.
    from callwatch.dashboard.pages import (  # lazy: after Dash()
        calls,
        follow_ups,
        live,
        staff_member,
        staffing,
        training,
        trends,
    )

    for page in (live, trends, staffing, staff_member, follow_ups, calls, training):
        page.register_callbacks(app)
    return app


# Dash's own page, with the language named (screen readers pick their voice from it).
INDEX_HTML = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def _home_is_live() -> Response | None:
    # "/" is Dash's own route, so pages cannot claim it with redirect_from.
    if flask.request.path == "/" and flask.request.method == "GET":
        return flask.redirect("/live")
    return None


def _shell() -> html.Div:
    """Skip link, navigation and the page; a function so the page list is read per request.

    The menu links are plain links (a full page load): assets/callwatch.js adds
    the office, dates and queue of the current URL to them as they are
    followed, so the filters go with the user from page to page.
    """
    links = [
        html.A(page["name"], href=page["relative_path"], className="nav-link", id=f"nav-{page['name'].lower()}")
        for page in dash.page_registry.values()
        if page.get("nav", True)
    ]
    user = flask_login_name()
    return html.Div(
        [
            html.A("Skip to content", href="#content", className="skip-link"),
            html.Header(
                [
                    html.Span("callwatch", className="brand"),
                    html.Button("Menu", id="nav-toggle", className="nav-toggle", type="button",
                                **ui.aria(expanded="false", controls="nav")),
                    html.Nav([*links, html.Span([f"{user} · ", html.A("Sign out", href="/logout")], className="user")],
                             className="nav", id="nav", **ui.aria(label="pages")),
                ],
                className="topbar",
            ),
            html.Main(dash.page_container, className="page", id="content", tabIndex="-1"),
        ]
    )


def flask_login_name() -> str:
    return str(getattr(current_user, "id", "") or "")
