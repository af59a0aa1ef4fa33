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
