"""Login for every page, callback and download (Flask-Login on the Dash server).

Caller numbers are patient data, so nothing but the login form answers an
anonymous request: pages redirect to /login, everything else (Dash callbacks,
layouts, scripts, downloads) gets 401. Passwords are stored only as werkzeug
hashes (`callwatch hash-password`), in `dashboard.users` of callwatch.yaml or
in CALLWATCH_DASHBOARD_USERS ("name=hash,name2=hash" or a JSON object).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Mapping
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from callwatch.config import environment

USERS_ENV = environment.DASHBOARD_USERS
SECRET_ENV = environment.DASHBOARD_SECRET_KEY
PUBLIC_PATHS = frozenset({"/login", "/logout"})
# Checked against when the user name is unknown, so a wrong name costs the
# same time as a wrong password and names cannot be probed.
_DUMMY_HASH = generate_password_hash("callwatch-no-such-user")


class User(UserMixin):
    def __init__(self, name: str) -> None:
        self.id = name


def users_from(configured: Mapping[str, str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """User name -> password hash, from the settings plus the environment (which wins)."""
    users = dict(configured)
    raw = (environment.read(USERS_ENV, env) or "").strip()
    if raw.startswith("{"):
        users.update({str(k): str(v) for k, v in json.loads(raw).items()})
    elif raw:
        for item in raw.split(","):
            name, sep, hashed = item.strip().partition("=")
            if not sep or not name or not hashed:
                raise ValueError(f"{USERS_ENV}: expected name=hash pairs separated by commas, got {item!r}")
            users[name] = hashed
    for name, hashed in users.items():
        # A plain password pasted where a hash belongs must not silently work.
        if "$" not in hashed:
            raise ValueError(f"dashboard user {name!r}: password is not a hash; run `callwatch hash-password`")
    return users


def check_login(users: Mapping[str, str], name: str, password: str) -> bool:
    hashed = users.get(name)
    ok = check_password_hash(hashed or _DUMMY_HASH, password)
    return hashed is not None and ok


def secret_key(path: Path, env: Mapping[str, str] | None = None) -> bytes:
    """The session signing key: from the environment, else a 0600 file shared by all workers."""
    configured = environment.read(SECRET_ENV, env)
    if configured:
        return configured.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def install_login(server: flask.Flask, users: Mapping[str, str], key: bytes) -> None:
    """Put every route of `server` behind a login."""
    server.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
    )
    server.extensions["callwatch_users"] = dict(users)
    manager = LoginManager()
    manager.init_app(server)

    @manager.user_loader
    def _load(user_id: str) -> User | None:
        return User(user_id) if user_id in server.extensions["callwatch_users"] else None

    server.before_request(_require_login)
    server.add_url_rule("/login", "login", _login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", _logout, methods=["GET", "POST"])


def _require_login() -> Response | None:
    if current_user.is_authenticated or flask.request.path in PUBLIC_PATHS:
        return None
    request = flask.request
    wants_page = (
        request.method == "GET"
        and not request.path.startswith(("/_dash", "/download", "/assets"))
        and "text/html" in request.headers.get("Accept", "")
    )
    if wants_page:
        return flask.redirect(flask.url_for("login", next=request.full_path.rstrip("?")))
    return flask.Response("login required\n", status=401, mimetype="text/plain")


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce the user elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login() -> Response | str:
    users = flask.current_app.extensions["callwatch_users"]
    error = ""
    if flask.request.method == "POST":
        form = flask.request.form
        token = flask.session.get("login_token", "")
        if not token or not hmac.compare_digest(token, form.get("token", "")):
            error = "The form expired; please try again."
        elif check_login(users, form.get("username", ""), form.get("password", "")):
            flask.session.pop("login_token", None)
            login_user(User(form["username"]))
            return flask.redirect(_safe_next(form.get("next")))
        else:
            error = "Wrong user name or password."
    flask.session["login_token"] = token = secrets.token_urlsafe(16)
    return _login_page(users, error, token, _safe_next(flask.request.values.get("next")))


def _logout() -> Response:
    logout_user()
    return flask.redirect(flask.url_for("login"))


def _login_page(users: Mapping[str, str], error: str, token: str, next_path: str) -> str:
    if not users:
        error = (
            "No dashboard users are set up yet. Run `callwatch hash-password NAME` and put the line it prints "
            "under dashboard: users: in callwatch.yaml (or in CALLWATCH_DASHBOARD_USERS), then restart."
        )
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>callwatch: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body {{ font-family: system-ui, sans-serif; background: #f3f5f7; display: flex; justify-content: center;
       align-items: center; min-height: 100vh; margin: 0; }}
form {{ background: white; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; width: 20rem; }}
h1 {{ font-size: 1.4rem; margin-top: 0; }} label {{ display: block; margin: .8rem 0 .2rem; }}
input[type=text], input[type=password] {{ width: 100%; padding: .5rem; box-sizing: border-box; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .6rem; background: #1f6feb; color: white; border: 0;
         border-radius: 4px; font-size: 1rem; }}
.error {{ color: #b42318; }} .hint {{ color: #555; font-size: .85rem; }}
</style></head>
<body><form method="post" action="/login">
<h1>callwatch</h1><p class="hint">How the practice answers its phones. Sign in to see calls.</p>
{message}
<input type="hidden" name="token" value="{escape(token)}">
<input type="hidden" name="next" value="{escape(next_path)}">
<label for="username">User name</label><input id="username" name="username" type="text" autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button id="login-button" type="submit">Sign in</button>
</form></body></html>"""
