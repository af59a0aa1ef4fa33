"""The week's daily numbers as CSV, safe to open in a spreadsheet.

A cell starting with = + - @ (or a tab / carriage return) would be run as a
formula by Excel or LibreOffice; such cells get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd

from callwatch.formatting import safe_cell
from callwatch.report.model import WeeklyReport

COLUMNS: tuple[tuple[str, str], ...] = (
    ("date", "date"),
    ("weekday", "weekday"),
    ("offered", "calls_offered"),
    ("answered", "answered"),
    ("answer_rate", "answer_rate_pct"),
    ("within_target_rate", "within_target_pct"),
    ("voicemail", "voicemail"),
    ("voicemail_rate", "voicemail_pct"),
    ("abandoned", "abandoned"),
    ("abandonment_rate", "abandonment_pct"),
    ("missed", "missed"),
    ("short_abandoned", "short_abandons_excluded"),
    ("asa_median_s", "median_seconds_to_answer"),
    ("asa_p90_s", "p90_seconds_to_answer"),
)


def _value(key: str, row: dict[str, Any]) -> Any:
    value = row.get(key)
    if value is None or pd.isna(value):
        return ""
    if key.endswith("_rate"):
        return f"{value * 100:.1f}"
    if key.startswith("asa_"):
        return f"{value:.1f}"
    return int(value)


def daily_csv(report: WeeklyReport) -> str:
    """One row per day of the period plus a total row; rates in percent."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for _, name in COLUMNS] + ["site"])
    rows = [
        {**row, "weekday": row["date"].strftime("%A"), "date": row["date"].isoformat()}
        for row in report.daily.to_dict("records")
    ]
    rows.append({**report.summary, "date": report.period.label, "weekday": "total"})
    for row in rows:
        cells = [row[key] if key in ("date", "weekday") else _value(key, row) for key, _ in COLUMNS]
        writer.writerow([safe_cell(c) for c in [*cells, report.site]])
    return out.getvalue()
