"""Login for every page, callback and download (Flask-Login on the Dash server).

Caller numbers are patient data, so nothing but the login form answers an
anonymous request: pages redirect to /login, everything else (Dash callbacks,
layouts, scripts, downloads) gets 401. Passwords are stored only as werkzeug
hashes (`callwatch hash-password`), in `dashboard.users` of callwatch.yaml or
in CALLWATCH_DASHBOARD_USERS ("name=hash,name2=hash" or a JSON object).

Against a hostile visitor: the session cookie holds only a random session id
kept in the store, so signing out ends the session for every copy of the
cookie; sign-in attempts are kept (never the password) and a user or address
with too many recent failures is refused for a while, in every worker alike;
no page may be framed by another site.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy.engine import Engine
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from callwatch.config import environment
from callwatch.store import sessions

log = logging.getLogger(__name__)

USERS_ENV = environment.DASHBOARD_USERS
SECRET_ENV = environment.DASHBOARD_SECRET_KEY
PUBLIC_PATHS = frozenset({"/login", "/logout"})
# `callwatch hash-password` refuses shorter passwords: the dashboard shows patients' calls.
MIN_PASSWORD_LENGTH = 10
# The shortest secret key file that is taken as written whole (secrets.token_hex(32) is 64).
_MIN_KEY_LENGTH = 32


@dataclass(frozen=True)
class Throttle:
    """How many failed sign-ins within `window` lock a user name or an address, and for how long.

    A user name is locked sooner than an address: one front-desk PC may hold
    several people who mistype, while a guesser tries one name many times.
    """

    window: timedelta = timedelta(minutes=15)
    per_user: int = 5
    per_address: int = 20


THROTTLE = Throttle()
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


def secret_key(path: Path, env: Mapping[str, str] | None = None, *, settle_seconds: float = 2.0) -> bytes:
    """The session signing key: from the environment, else a 0600 file shared by all workers.

    The file is written whole by whichever worker creates it first. A file that
    stays empty or cut short (a crash between create and write) is replaced
    with a new key: the only cost is that signed-in users sign in again.
    """
    configured = environment.read(SECRET_ENV, env)
    if configured:
        return configured.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = _read_settled_key(path, settle_seconds)
            if key is not None:
                return key
            log.warning("%s holds no usable key (empty or cut short); writing a new one", path)
            path.unlink(missing_ok=True)
            continue
        key = secrets.token_hex(32).encode()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        return key
    raise RuntimeError(f"cannot create the dashboard secret key file {path}; set {SECRET_ENV} instead")


def _read_settled_key(path: Path, settle_seconds: float) -> bytes | None:
    """The key in `path`, waiting briefly in case another worker is still writing it."""
    deadline = time.monotonic() + settle_seconds
    while True:
        try:
            key = path.read_bytes().strip()
        except FileNotFoundError:
            return None
        if len(key) >= _MIN_KEY_LENGTH:
            return key
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def install_login(server: flask.Flask, users: Mapping[str, str], key: bytes, engine: Engine, *,
                  secure_cookies: bool = False, throttle: Throttle = THROTTLE) -> None:
    """Put every route of `server` behind a login whose sessions and attempts live in `engine`'s store."""
    server.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure_cookies,
    )
    server.extensions["callwatch_users"] = dict(users)
    server.extensions["callwatch_auth"] = (engine, throttle)
    manager = LoginManager()
    manager.init_app(server)

    @manager.user_loader
    def _load(user_id: str) -> User | None:
        # The signed cookie alone is not enough: its session must still be open in the store.
        session_id = flask.session.get("sid")
        if not session_id or user_id not in server.extensions["callwatch_users"]:
            return None
        return User(user_id) if sessions.session_user(engine, session_id) == user_id else None

    server.before_request(_require_login)
    server.after_request(_security_headers)
    server.add_url_rule("/login", "login", _login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", _logout, methods=["GET", "POST"])


def _security_headers(response: Response) -> Response:
    """No other site may frame a page (its buttons could be clicked through an overlay)."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


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


def _login() -> Response | str | tuple[str, int]:
    users = flask.current_app.extensions["callwatch_users"]
    engine, throttle = flask.current_app.extensions["callwatch_auth"]
    error, status = "", 200
    if flask.request.method == "POST":
        form = flask.request.form
        token = flask.session.get("login_token", "")
        username, address = form.get("username", ""), flask.request.remote_addr or "unknown"
        wait = locked_for(engine, throttle, username, address)
        if not token or not hmac.compare_digest(token, form.get("token", "")):
            error = "The form expired; please try again."
        elif wait is not None:
            # Refused before the password is even checked, so a locked name cannot be confirmed.
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            error, status = f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.", 429
            log.warning("dashboard sign-in refused (locked) for user %r from %s", username[:64], address)
        elif check_login(users, username, form.get("password", "")):
            sessions.record_attempt(engine, username, address, ok=True)
            flask.session.clear()
            flask.session["sid"] = sessions.start_session(engine, username)
            login_user(User(username))
            return flask.redirect(_safe_next(form.get("next")))
        else:
            sessions.record_attempt(engine, username, address, ok=False)
            log.warning("dashboard sign-in failed for user %r from %s", username[:64], address)
            error = "Wrong user name or password."
    flask.session["login_token"] = token = secrets.token_urlsafe(16)
    return _login_page(users, error, token, _safe_next(flask.request.values.get("next"))), status


def locked_for(engine: Engine, throttle: Throttle, username: str, address: str,
               now: datetime | None = None) -> timedelta | None:
    """How long sign-ins for this user name or from this address stay refused, or None if allowed."""
    now = now or datetime.now(UTC)
    since = now - throttle.window
    checks = ((throttle.per_user, {"username": username}), (throttle.per_address, {"address": address}))
    waits = []
    for limit, who in checks:
        failures, latest = sessions.recent_failures(engine, since, **who)
        if failures >= limit and latest is not None:
            waits.append(latest + throttle.window - now)
    return max(waits) if waits else None


def _logout() -> Response:
    engine, _throttle = flask.current_app.extensions["callwatch_auth"]
    session_id = flask.session.get("sid")
    if session_id:
        sessions.end_session(engine, session_id)
    logout_user()
    flask.session.clear()
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
