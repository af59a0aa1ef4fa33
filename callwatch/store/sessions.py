"""Dashboard sign-in state: sessions that signing out ends, and attempts for throttling.

Both are security state the web process needs on every request, not metrics,
so they are read and written here. Sessions are checked against the store so
that every dashboard worker (gunicorn, waitress threads) agrees at once that a
signed-out cookie is dead.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from callwatch.store.schema import dashboard_sessions, login_attempts

# Attempts older than this are deleted when new ones are written: the table
# must not grow without bound under a guessing attack.
KEEP_ATTEMPTS = timedelta(days=30)


def start_session(engine: Engine, username: str, now: datetime | None = None) -> str:
    """A new signed-in session for `username`; returns its random id (the cookie's only secret)."""
    session_id = secrets.token_urlsafe(32)
    row = {"session_id": session_id, "username": username, "created_at": now or datetime.now(UTC), "ended_at": None}
    with engine.begin() as conn:
        conn.execute(sa.insert(dashboard_sessions).values(**row))
    return session_id


def session_user(engine: Engine, session_id: str) -> str | None:
    """The user of a session that has not ended, or None."""
    query = sa.select(dashboard_sessions.c.username).where(
        dashboard_sessions.c.session_id == session_id, dashboard_sessions.c.ended_at.is_(None)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def end_session(engine: Engine, session_id: str, now: datetime | None = None) -> None:
    query = (
        sa.update(dashboard_sessions)
        .where(dashboard_sessions.c.session_id == session_id, dashboard_sessions.c.ended_at.is_(None))
        .values(ended_at=now or datetime.now(UTC))
    )
    with engine.begin() as conn:
        conn.execute(query)


def record_attempt(engine: Engine, username: str, address: str, ok: bool, now: datetime | None = None) -> None:
    """Keep one sign-in attempt (never the password) and drop attempts past KEEP_ATTEMPTS."""
    at = now or datetime.now(UTC)
    row = {"at": at, "username": username[:64], "address": address[:64], "ok": ok}
    with engine.begin() as conn:
        conn.execute(sa.insert(login_attempts).values(**row))
        conn.execute(sa.delete(login_attempts).where(login_attempts.c.at < at - KEEP_ATTEMPTS))


def recent_failures(engine: Engine, since: datetime, *, username: str | None = None,
                    address: str | None = None) -> tuple[int, datetime | None]:
    """(failed attempts since `since` and since the last success of the same user or address, the latest failure)."""
    column = login_attempts.c.username if username is not None else login_attempts.c.address
    value = username if username is not None else address
    with engine.connect() as conn:
        last_ok = conn.execute(
            sa.select(sa.func.max(login_attempts.c.at)).where(column == value, login_attempts.c.ok.is_(True))
        ).scalar_one_or_none()
        start = max(since, last_ok) if last_ok is not None else since
        count, latest = conn.execute(
            sa.select(sa.func.count(), sa.func.max(login_attempts.c.at)).where(
                column == value, login_attempts.c.ok.is_(False), login_attempts.c.at > start
            )
        ).one()
    return int(count), latest
