"""Data quality in words: why a ring-time number is missing, or over how many calls it is.

An export that cannot say when a phone was answered (ring_quality unknown)
still gives answer, voicemail and abandonment rates, but no speed of answer,
within-target rate or rings: those are unknown, never 0. Every page, the
report and the CLI say so with the same sentences, built here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOT_IN_EXPORT = "ring time: not in this export"
WHY_NOT = (
    "these calls come from a call log that does not say when the phone was answered, "
    "so speed of answer, rings and the within-target rate cannot be known; "
    "the answer, voicemail and abandonment rates are still exact"
)
# The numbers that need a ring time (summarize() keys).
RING_TIME_KEYS: tuple[str, ...] = (
    "within_target_rate", "asa_mean_s", "asa_median_s", "asa_p90_s", "asa_mean_rings", "asa_median_rings",
    "asa_p90_rings",
)


def ring_time_known(numbers: Mapping[str, Any]) -> bool:
    """Whether any offered call of a summarize() result has a ring time."""
    return int(numbers.get("offered_timed") or 0) > 0


def ring_time_note(numbers: Mapping[str, Any]) -> str | None:
    """One plain sentence when the ring-time numbers are missing or partial; None when all calls have one."""
    offered = int(numbers.get("offered") or 0)
    timed = int(numbers.get("offered_timed") or 0)
    if offered == 0 or timed == offered:
        return None
    if timed == 0:
        return f"{NOT_IN_EXPORT}: {WHY_NOT}."
    return (f"ring time known for {timed:,} of {offered:,} offered calls: speed of answer, rings and the "
            f"within-target rate are over those {timed:,}; the other calls come from a call log without "
            "answer times")
