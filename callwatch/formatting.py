"""How callwatch writes numbers, days and hours for people: one format everywhere (pages, CLI, report, CSV, alerts).

A leaf: it imports nothing of callwatch, so every layer that shows text may use it.
A number callwatch cannot know is shown as MISSING, never as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from itertools import groupby
from typing import Any

MISSING = "–"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_ABBREVIATIONS = tuple(name[:3] for name in DAY_NAMES)  # Mon .. Sun
DAY_KEYS = tuple(name.lower() for name in DAY_ABBREVIATIONS)  # mon .. sun, as in callwatch.yaml
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _unknown(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pd.NA refuses to be a bool
        return True


def pct(value: float | None, digits: int = 1) -> str:
    """A rate in [0, 1] as "85.0 %"; MISSING when unknown (None or NaN)."""
    return MISSING if value is None or _unknown(value) else f"{float(value) * 100:.{digits}f} %"


def seconds(value: float | None) -> str:
    """A duration as "12.3 s"; MISSING when unknown."""
    return MISSING if value is None or _unknown(value) else f"{float(value):.1f} s"


def seconds_words(value: float) -> str:
    """A duration as a person says it: '24 s', '3 min 5 s', '2 h 10 min'."""
    total = round(value)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def p_value(p: float | None) -> str:
    """A p-value as people read it: '0.042', '< 0.001' (never '0.000'), MISSING when unknown."""
    if p is None or _unknown(p):
        return MISSING
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}"


def points(change: float | None, digits: int = 1) -> str:
    """A change of a rate (a fraction) in percentage points: '+6.1 pts' (never '-0.0')."""
    if change is None or _unknown(change):
        return MISSING
    value = round(100 * change, digits)
    return f"{value + 0.0:+.{digits}f} pts"


def hour_span(hour: int) -> str:
    """13 -> '1–2 pm', 11 -> '11 am–12 pm', 12 -> '12–1 pm'."""

    def name(h: int) -> tuple[int, str]:
        return (h % 12 or 12), ("am" if h % 24 < 12 else "pm")

    (a, a_half), (b, b_half) = name(hour), name(hour + 1)
    return f"{a}–{b} {b_half}" if a_half == b_half else f"{a} {a_half}–{b} {b_half}"


def opening_hours(week: Sequence[Sequence[tuple[time, time]]]) -> str:
    """Seven days of opening intervals (Monday first) in one line, runs of equal days joined, days named
    as in callwatch.yaml: "mon–fri 08:00–17:00"."""
    parts = []
    days = list(zip(DAY_KEYS, (tuple(day) for day in week), strict=True))
    for hours, run in groupby(days, key=lambda day: day[1]):
        names = [name for name, _ in run]
        if hours:
            span = names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"
            parts.append(span + " " + ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in hours))
    return "; ".join(parts) or "no opening hours configured"


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a leading =, +, -, @, tab or CR gets a quote (CSV injection)."""
    text = "" if _unknown(value) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
