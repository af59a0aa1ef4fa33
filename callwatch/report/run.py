"""Produce a report end to end: build it, write the HTML and CSV, optionally email it and remember that.

Used by `callwatch report` and by the weekly scheduled job.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.config.settings import Settings
from callwatch.formatting import pct
from callwatch.report.build import build_report
from callwatch.report.export import daily_csv
from callwatch.report.html import render_html
from callwatch.report.mail import Delivery, build_message, send_message
from callwatch.report.model import WeeklyReport
from callwatch.report.periods import Period

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportFiles:
    report: WeeklyReport
    html_path: Path
    csv_path: Path
    emailed_to: tuple[str, ...] = ()
    # recipient -> the server's reply, for each one that did not get it (retried by the schedule)
    refused: dict[str, str] = field(default_factory=dict)
    # sent, but the server never confirmed: not resent (a second copy is worse than a doubt)
    unconfirmed: tuple[str, ...] = ()


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text) or "site"


def subject_line(report: WeeklyReport) -> str:
    rate = report.metric("answer_rate").value
    answered = "no calls" if rate is None else f"{pct(rate)} answered"
    return f"Phone report {report.site}, {report.period.title}: {answered}"


def write_report(report: WeeklyReport, out_dir: Path) -> tuple[Path, Path, str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"callwatch-{_slug(report.site)}-{report.period.label}"
    html, csv_text = render_html(report), daily_csv(report)
    html_path, csv_path = out_dir / f"{stem}.html", out_dir / f"{stem}.csv"
    # Reports list follow-ups (masked numbers, but patient data all the same): owner-only files.
    with _private(html_path) as handle:
        handle.write(html)
    # newline="" keeps the CSV's own CRLF line ends, as spreadsheets expect.
    with _private(csv_path, newline="") as handle:
        handle.write(csv_text)
    return html_path, csv_path, html, csv_text


def _private(path: Path, newline: str | None = None) -> TextIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline=newline)
def produce_report(
    engine: Engine,
    settings: Settings,
    period: Period | None = None,
    *,
    site: str | None = None,
    out_dir: Path | None = None,
    email: bool = False,
    recipients: list[str] | None = None,
    now: datetime | None = None,
    skip_delivered: bool = False,
) -> ReportFiles:
    """Build, write, and (with `email`) send the report.

    Each recipient the server accepted is recorded (report_deliveries); the
    week counts as sent (report_runs) once every recipient has it.
    `skip_delivered` (the schedule's retries) sends only to those who have not.
    """
    report = build_report(engine, settings, period, site=site, now=now)
    html_path, csv_path, html, csv_text = write_report(report, out_dir or settings.report.out_dir)
    if not email:
        return ReportFiles(report, html_path, csv_path)
    week = report.period.label
    everyone = list(recipients if recipients is not None else settings.report.recipients)
    done = store.report_delivered_to(engine, report.site, week) if skip_delivered else set()
    to = [r for r in everyone if r not in done]
    delivery = Delivery()
    if to:
        message = build_message(settings, subject_line(report), html, csv_text, csv_path.name, to)
        delivery = send_message(settings, message, to)
        store.record_report_deliveries(engine, report.site, week, delivery.accepted + delivery.unconfirmed, now)
    if not delivery.refused:
        got = ", ".join(everyone)
        detail = f"emailed to {got}" if everyone else f"no recipients configured; written to {html_path}"
        store.record_report_run(engine, report.site, week, detail, now)
        log.info("weekly report %s for %s: %s", week, report.site, detail)
    return ReportFiles(report, html_path, csv_path, delivery.accepted, delivery.refused, delivery.unconfirmed)
