"""How every number reads, everywhere: one format for the CLI, the dashboard, the report and alerts."""

from __future__ import annotations

import math


def pct(rate: float | None, digits: int = 1) -> str:
    """0.853 -> '85.3 %'; unknown -> '–'."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "–"
    return f"{100 * rate:.{digits}f} %"


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
    """A p-value as people read it: '0.042', '< 0.001' (never '0.000'), '–' when unknown."""
    if p is None or math.isnan(p):
        return "–"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}"


def points(change: float | None, digits: int = 1) -> str:
    """A change of a rate (a fraction) in percentage points: '+6.1 pts'."""
    return "–" if change is None else f"{100 * change:+.{digits}f} pts"


def seconds(value: float | None) -> str:
    """A duration in seconds with one decimal: '12.3 s'; unknown -> '–'."""
    return "–" if value is None else f"{value:.1f} s"
