"""The weekly report reaches each recipient exactly once, through real SMTP servers that misbehave on purpose."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from click.testing import CliRunner
from support.dashboard import seeded_engine
from support.history import history
from support.ports import free_port

from callwatch import store
from callwatch.cli import main
from callwatch.config.settings import Settings, load_settings
from callwatch.report.schedule import send_due_report

MANAGER, OWNER = "manager@practice.example", "owner@practice.example"
# Monday 10:00 after the 7:00 report time: the week of Nov 16-22 is due.
DUE = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("America/New_York"))


class Server:
    """A real SMTP server (aiosmtpd) whose faults a test switches on."""

    def __init__(self) -> None:
        self.received: list[list[str]] = []  # the RCPT list of each message stored
        self.refuse: set[str] = set()
        self.data_delay = 0.0
        self.drop_on_quit = False

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(list(envelope.rcpt_tos))  # stored before the reply, as a real server does
        await asyncio.sleep(self.data_delay)
        return "250 OK: queued"


class _Smtp(SMTP):
    async def smtp_QUIT(self, arg: str) -> None:
        if getattr(self.event_handler, "drop_on_quit", False):
            self.transport.close()  # the link dies after the mail was stored: no reply to QUIT
            return
        await super().smtp_QUIT(arg)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Smtp(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def server() -> Iterator[tuple[Server, int]]:
    handler, port = Server(), free_port()
    controller = _Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _setup(tmp_path: Path, port: int, smtp_extra: str = "") -> tuple[Path, Settings, sa.Engine]:
    config = tmp_path / "callwatch.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path / 'cw.db'}\n"
        "timezone: America/New_York\n"
        f"report: {{recipients: [{MANAGER}, {OWNER}], out_dir: {tmp_path / 'reports'}}}\n"
        f"smtp: {{host: 127.0.0.1, port: {port}, sender: callwatch@practice.example{smtp_extra}}}\n",
        encoding="utf-8",
    )
    settings = load_settings(config, env={})
    return config, settings, seeded_engine(settings, history(date(2026, 9, 28), 8, date(2026, 10, 28)))


def _recorded_sent(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(sa.select(store.report_runs)).all())


def test_mail_stored_then_quit_fails_is_not_sent_again(tmp_path: Path, server: tuple[Server, int]) -> None:
    smtp, port = server
    smtp.drop_on_quit = True
    _config, settings, engine = _setup(tmp_path, port)
    for minutes in (0, 60, 120):  # the hourly catch-up, three times
        send_due_report(settings, engine, now=DUE + timedelta(minutes=minutes))
    assert smtp.received == [[MANAGER, OWNER]]
    assert _recorded_sent(engine) == 1


def test_slow_ack_to_data_does_not_cause_a_resend(tmp_path: Path, server: tuple[Server, int]) -> None:
    smtp, port = server
    # Commands time out after 1 s here (30 s by default); the server takes 3 s to confirm DATA.
    smtp.data_delay = 3.0
    _config, settings, engine = _setup(tmp_path, port, ", timeout_seconds: 1")
    first = send_due_report(settings, engine, now=DUE)
    send_due_report(settings, engine, now=DUE + timedelta(hours=1))
    assert first is not None and first.emailed_to == (MANAGER, OWNER)
    assert smtp.received == [[MANAGER, OWNER]]


def test_refused_recipient_fails_the_cli_and_only_they_get_the_retry(
    tmp_path: Path, server: tuple[Server, int]
) -> None:
    smtp, port = server
    smtp.refuse = {OWNER}
    config, settings, engine = _setup(tmp_path, port)
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--email", "--config", str(config)])
    assert result.exit_code == 1
    assert f"NOT delivered to {OWNER}" in result.output and "550" in result.output
    assert f"emailed to {MANAGER}\n" in result.output
    assert smtp.received == [[MANAGER]]
    # The hourly schedule: the manager has it already; the owner is refused again; the week is not marked sent.
    send_due_report(settings, engine, now=DUE)
    assert smtp.received == [[MANAGER]] and _recorded_sent(engine) == 0
    smtp.refuse = set()  # the owner's mailbox is fixed
    send_due_report(settings, engine, now=DUE + timedelta(hours=1))
    send_due_report(settings, engine, now=DUE + timedelta(hours=2))
    assert smtp.received == [[MANAGER], [OWNER]]
    assert _recorded_sent(engine) == 1
