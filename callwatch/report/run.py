"""Produce a report end to end: build it, write the HTML and CSV, optionally email it and remember that.

Used by `callwatch report` and by the weekly scheduled job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from callwatch import store
from callwatch.config.settings import Settings
from callwatch.formatting import pct
from callwatch.report.build import build_report
from callwatch.report.export import daily_csv
from callwatch.report.html import render_html
from callwatch.report.mail import build_message, send_message
from callwatch.report.model import WeeklyReport
from callwatch.report.periods import Period

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportFiles:
    report: WeeklyReport
    html_path: Path
    csv_path: Path
    emailed_to: tuple[str, ...] = ()


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
    html_path.write_text(html, encoding="utf-8")
    # newline="" keeps the CSV's own CRLF line ends, as spreadsheets expect.
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(csv_text)
    return html_path, csv_path, html, csv_text


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
) -> ReportFiles:
    """Build, write, and (with `email`) send the report; a sent report is recorded in report_runs."""
    report = build_report(engine, settings, period, site=site, now=now)
    html_path, csv_path, html, csv_text = write_report(report, out_dir or settings.report.out_dir)
    sent_to: tuple[str, ...] = ()
    if email:
        to = list(recipients if recipients is not None else settings.report.recipients)
        if to:
            message = build_message(settings, subject_line(report), html, csv_text, csv_path.name, to)
            send_message(settings, message)
            sent_to = tuple(to)
        detail = f"emailed to {', '.join(to)}" if to else f"no recipients configured; written to {html_path}"
        store.record_report_run(engine, report.site, report.period.label, detail, now)
        log.info("weekly report %s for %s: %s", report.period.label, report.site, detail)
    return ReportFiles(report, html_path, csv_path, sent_to)
