"""The dashboard against a hostile visitor: password guessing, copied cookies, framing, markup, a broken key file.

Each test reproduces one finding of the security probe of 0.1.0 (issue 14) and
failed there: 150 wrong passwords then the right one logged in at once; a cookie
copied before /logout still downloaded the calls; no header forbade framing; a
training title's <a href> became a live link in the Trends chart; an empty key
file made every page a 500; `hash-password` took a one-character password.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from support.dashboard import PASSWORD, USER, login, practice_day, seeded_engine, settings_for
from werkzeug.security import generate_password_hash

from callwatch import store
from callwatch.cli import main as cli
from callwatch.dashboard import auth
from callwatch.dashboard.app import create_app
from callwatch.dashboard.figures import TrainingMark, add_training_marks, plain_text

OTHER, OTHER_PASSWORD = "manager", "another long passphrase"
CSV = "/download/calls.csv?start=2026-03-03&end=2026-03-03"


@pytest.fixture
def settings(tmp_path: Path):
    users = {USER: generate_password_hash(PASSWORD), OTHER: generate_password_hash(OTHER_PASSWORD)}
    return settings_for(tmp_path, dashboard={"users": users})


@pytest.fixture
def app(settings):
    return create_app(settings, engine=seeded_engine(settings, practice_day()))


def _attempts(app) -> list[dict]:
    engine = app.server.extensions["callwatch_auth"][0]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(store.login_attempts)).mappings()]


def test_guessing_a_password_locks_the_user_even_for_the_right_password(app, caplog) -> None:
    client = app.server.test_client()
    caplog.set_level(logging.WARNING, logger="callwatch.dashboard.auth")
    for _ in range(auth.THROTTLE.per_user):
        assert "Wrong user name or password" in login(client, password="guess-123").text
    refused = login(client)  # the right password, too late
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text
    assert client.get("/_dash-layout").status_code == 401
    # Another user at the same desk still signs in: one name's lock is not the whole office's.
    assert login(app.server.test_client(), username=OTHER, password=OTHER_PASSWORD).status_code == 302
    # Every failure is kept and logged, never with the password.
    failures = [a for a in _attempts(app) if not a["ok"]]
    assert len(failures) == auth.THROTTLE.per_user and {a["username"] for a in failures} == {USER}
    assert "sign-in failed for user 'frontdesk'" in caplog.text
    assert "guess-123" not in caplog.text


def test_one_address_trying_many_names_is_locked(app) -> None:
    client = app.server.test_client()
    for n in range(auth.THROTTLE.per_address):
        login(client, username=f"user{n}", password="guess")
    assert login(client, username=OTHER, password=OTHER_PASSWORD).status_code == 429


def test_the_lock_lifts_after_the_window_and_a_success_resets_the_count(app) -> None:
    engine, throttle = app.server.extensions["callwatch_auth"]
    client = app.server.test_client()
    for _ in range(throttle.per_user):
        login(client, password="guess")
    now = datetime.now(UTC)
    assert auth.locked_for(engine, throttle, USER, "127.0.0.1", now) is not None
    assert auth.locked_for(engine, throttle, USER, "127.0.0.1", now + throttle.window + timedelta(seconds=1)) is None
    store.sessions.record_attempt(engine, USER, "127.0.0.1", ok=True, now=now + timedelta(seconds=1))
    assert auth.locked_for(engine, throttle, USER, "127.0.0.1", now + timedelta(seconds=2)) is None


def test_signing_out_ends_the_session_for_a_copied_cookie(app) -> None:
    client = app.server.test_client()
    assert login(client).status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get(CSV).status_code == 200
    client.get("/logout")
    thief = app.server.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/_dash-layout").status_code == 401
    assert thief.get(CSV).status_code == 401


def test_a_second_session_of_the_same_user_survives_the_first_signing_out(app) -> None:
    desk, office = app.server.test_client(), app.server.test_client()
    login(desk), login(office)
    desk.get("/logout")
    assert office.get("/_dash-layout").status_code == 200


def test_secure_cookie_setting_marks_the_session_cookie_secure(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dashboard={"users": {USER: generate_password_hash(PASSWORD)},
                                                 "secure_cookies": True})
    client = create_app(settings, engine=seeded_engine(settings, [])).server.test_client()
    response = login(client)
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_no_page_can_be_framed_by_another_site(app) -> None:
    client = app.server.test_client()
    for response in (client.get("/login"), login(client), client.get("/follow-ups", headers={"Accept": "text/html"})):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_markup_in_a_training_title_is_shown_as_text_not_a_link() -> None:
    import plotly.graph_objects as go

    title = '<a href="https://evil.example/">Session expired - sign in again</a>'
    fig = go.Figure()
    add_training_marks(fig, [TrainingMark(datetime(2026, 3, 3).date(), title)], None, None)
    shown = " ".join(a.text for a in fig.layout.annotations)
    assert "<a" not in shown and "&lt;a href" in shown
    assert plain_text("Phone manner & tone") == "Phone manner &amp; tone"


def test_an_empty_secret_key_file_is_replaced_not_a_500(settings) -> None:
    key_file = settings.journal_path.parent / "dashboard-secret.key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(b"")  # a crash between create and write
    app = create_app(settings, engine=seeded_engine(settings, practice_day()))
    client = app.server.test_client()
    assert client.get("/login").status_code == 200
    assert login(client).status_code == 302
    assert len(key_file.read_bytes().strip()) == 64
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_hash_password_refuses_a_short_password() -> None:
    result = CliRunner().invoke(cli, ["hash-password", "frontdesk", "--password", "x"])
    assert result.exit_code == 2
    assert "at least 10 characters" in result.output
    ok = CliRunner().invoke(cli, ["hash-password", "frontdesk", "--password", "a long enough passphrase"])
    assert ok.exit_code == 0
    assert "frontdesk: '" in ok.output and "$" in ok.output  # a werkzeug hash, never the password itself
    assert "a long enough passphrase" not in ok.output


def test_mark_handled_and_show_number_refuse_a_call_not_awaiting_follow_up(app) -> None:
    """A browser can send any (site, call_id); only callers the list offers may be marked or looked at."""
    from datetime import UTC, datetime

    from callwatch.dashboard import data

    engine = app.server.extensions["callwatch_auth"][0]
    with app.server.app_context():
        ctx = data.context()
        now = datetime(2026, 3, 3, 23, 0, tzinfo=UTC)
        waiting = data.awaiting_by_urgency(ctx, None, now)
        assert len(waiting), "the practice day leaves callers waiting"
        assert not data.act_on_waiting(ctx, waiting, "handle", "main-office", "no-such-call", USER)
        assert not data.act_on_waiting(ctx, waiting, "reveal", "main-office", "no-such-call", USER)
        answered = "2026-03-03-a1"  # answered: nobody waits for a call back
        assert not data.act_on_waiting(ctx, waiting, "handle", "main-office", answered, USER)
        real = waiting.iloc[0]
        assert data.act_on_waiting(ctx, waiting, "handle", real["site"], real["call_id"], USER)
    with engine.connect() as conn:
        handled = [tuple(r) for r in conn.execute(sa.select(store.follow_up_handled.c.site,
                                                            store.follow_up_handled.c.call_id))]
        reveals = conn.execute(sa.select(sa.func.count()).select_from(store.caller_reveals)).scalar_one()
    assert handled == [(real["site"], real["call_id"])]
    assert reveals == 0
