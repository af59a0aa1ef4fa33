"""Email through a real local SMTP server, and the weekly schedule: local time across DST, catch-up exactly once."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from support.dashboard import seeded_engine
from support.history import history
from support.ports import free_port

from callwatch import store
from callwatch.cli import main
from callwatch.config.settings import Settings, load_settings
from callwatch.report.periods import last_complete_week
from callwatch.report.schedule import (
    CATCH_UP_JOB_ID,
    JOB_ID,
    due_period,
    install_weekly_report,
    send_due_report,
    weekly_trigger,
)

NEW_YORK = ZoneInfo("America/New_York")


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        self.arrived.set()
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"frontdesk" and data.password == b"s3cret pass"
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _setup(tmp_path: Path, port: int, first_monday: date, *, username: str = "") -> tuple[Path, Settings, sa.Engine]:
    config = tmp_path / "callwatch.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path / 'cw.db'}\n"
        "timezone: America/New_York\n"
        f"trainings: [{{date: {(first_monday + timedelta(days=30)).isoformat()}, title: Phone manner}}]\n"
        "report:\n"
        "  recipients: [manager@practice.example, owner@practice.example]\n"
        f"  out_dir: {tmp_path / 'reports'}\n"
        f"smtp: {{host: 127.0.0.1, port: {port}, sender: callwatch@practice.example, username: '{username}'}}\n",
        encoding="utf-8",
    )
    settings = load_settings(config, env={})
    return config, settings, seeded_engine(settings, history(first_monday, 8, first_monday + timedelta(days=30)))


def test_report_email_arrives_with_html_body_and_csv(
    tmp_path: Path, smtp_server: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp_server
    config, _settings, engine = _setup(tmp_path, port, date(2026, 9, 28), username="frontdesk")
    monkeypatch.setenv("CALLWATCH_SMTP_PASSWORD", "s3cret pass")
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--email", "--config", str(config)])
    assert result.exit_code == 0, result.output
    [(sender, rcpt, message)] = inbox.messages
    assert sender == "callwatch@practice.example"
    assert rcpt == ["manager@practice.example", "owner@practice.example"]
    assert message["Subject"].startswith("Phone report main-office, week 47, Nov 16 – 22, 2026:")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "How the phones were answered" in html and "<svg" in html
    attachment, full_copy = list(message.iter_attachments())
    assert full_copy.get_filename() == "callwatch-main-office-2026-W47.html"
    assert attachment.get_filename() == "callwatch-main-office-2026-W47.csv"
    assert attachment.get_content_type() == "text/csv"
    body = attachment.get_content()
    text = body.decode() if isinstance(body, bytes) else body
    assert text.startswith("date,weekday,calls_offered") and "2026-W47,total" in text
    with engine.connect() as conn:
        runs = conn.execute(sa.select(store.report_runs)).mappings().all()
    assert [(r["site"], r["week"]) for r in runs] == [("main-office", "2026-W47")]


def test_email_without_the_password_says_which_variable(
    tmp_path: Path, smtp_server: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp_server
    config, _settings, _engine = _setup(tmp_path, port, date(2026, 9, 28), username="frontdesk")
    monkeypatch.delenv("CALLWATCH_SMTP_PASSWORD", raising=False)
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--email", "--config", str(config)])
    assert result.exit_code == 1
    assert "report written but not sent" in result.output and "CALLWATCH_SMTP_PASSWORD" in result.output
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        (datetime(2026, 2, 24, tzinfo=UTC), [12, 11, 11, 11]),  # Mar 2 EST; EDT from Sunday Mar 8
        (datetime(2026, 10, 20, tzinfo=UTC), [11, 12, 12, 12]),  # Oct 26 EDT; EST from Sunday Nov 1
    ],
)
def test_weekly_schedule_fires_at_local_time_across_dst(start: datetime, utc_hours: list[int]) -> None:
    trigger = weekly_trigger(Settings(timezone="America/New_York"))
    fires, previous, now = [], None, start
    for _ in range(4):
        fire = trigger.get_next_fire_time(previous, now)
        fires.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    local = [f.astimezone(NEW_YORK) for f in fires]
    assert [(t.weekday(), t.hour, t.minute) for t in local] == [(0, 7, 0)] * 4
    assert [f.astimezone(UTC).hour for f in fires] == utc_hours
    assert [(b - a) for a, b in itertools.pairwise(local)] == [timedelta(days=7)] * 3


def test_due_week_follows_the_scheduled_time() -> None:
    settings = Settings(timezone="America/New_York")
    monday_6am = datetime(2026, 11, 23, 6, 0, tzinfo=NEW_YORK)
    assert due_period(settings, monday_6am).label == "2026-W46"  # this week's run is not due yet
    assert due_period(settings, monday_6am + timedelta(hours=1)).label == "2026-W47"


def test_missed_report_is_caught_up_exactly_once(tmp_path: Path, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    _config, settings, engine = _setup(tmp_path, port, date(2026, 9, 28))
    # The service was down at Monday 7:00 and comes back at 10:00, then restarts at 10:05.
    back = datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK)
    first = send_due_report(settings, engine, now=back)
    second = send_due_report(settings, engine, now=back + timedelta(minutes=5))
    assert first is not None and first.report.period.label == "2026-W47"
    assert second is None
    assert len(inbox.messages) == 1
    assert "week 47" in inbox.messages[0][2]["Subject"]


def test_fresh_install_sends_no_empty_report(tmp_path: Path, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cw.db'}",
        smtp={"host": "127.0.0.1", "port": port},
        report={"recipients": ["m@x.example"], "out_dir": tmp_path},
    )
    engine = store.create_engine(settings.database_url)
    store.init_db(engine)
    assert send_due_report(settings, engine, now=datetime(2026, 11, 23, 12, tzinfo=UTC)) is None
    assert inbox.messages == []


def _run_service_once(settings: Settings, engine: sa.Engine) -> BackgroundScheduler:
    """Start a scheduler as the collector service does and wait for the start-up catch-up to finish."""
    scheduler = BackgroundScheduler(timezone="UTC")
    done = threading.Event()
    errors: list[BaseException] = []

    def listener(event: Any) -> None:
        if event.job_id.startswith(CATCH_UP_JOB_ID):
            if getattr(event, "exception", None):
                errors.append(event.exception)
            done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    install_weekly_report(scheduler, settings, engine)
    assert {j.id for j in scheduler.get_jobs()} == {f"{JOB_ID}:main-office", f"{CATCH_UP_JOB_ID}:main-office"}
    scheduler.start()
    try:
        assert done.wait(120), "the catch-up job did not run"
    finally:
        scheduler.shutdown(wait=True)
    assert not errors, errors
    return scheduler


def test_service_start_sends_the_missed_report_and_a_restart_does_not_resend(
    tmp_path: Path, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    # History ending with the last complete week as of the real clock, since the scheduler uses it.
    last_week = last_complete_week(datetime.now(UTC), "America/New_York")
    _config, settings, engine = _setup(tmp_path, port, last_week.first - timedelta(weeks=7))
    expected = due_period(settings, datetime.now(UTC))
    assert expected is not None
    _run_service_once(settings, engine)
    assert len(inbox.messages) == 1
    _run_service_once(settings, engine)  # a restart
    assert len(inbox.messages) == 1
    with engine.connect() as conn:
        weeks = conn.execute(sa.select(store.report_runs.c.week)).scalars().all()
    assert weeks == [expected.label]
