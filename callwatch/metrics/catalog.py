"""Every number callwatch shows, once: key, label, unit, which direction is good, and how it is computed.

The CLI, the dashboard (labels, captions, "How is this calculated?") and the
weekly report take a metric's words from here, so a metric's name, unit,
direction of good and formula are written once. `formula(key, params)` fills
in the settings in force (time zone, ring target, short-abandon limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callwatch.metrics.params import MetricParams

Unit = Literal["count", "rate", "seconds", "rings"]

_SCOPE = "inbound calls in business hours ({timezone}), holidays excluded"
_SHORT = "abandoned after less than {short_abandon_seconds:g} s of ringing, or before any phone rang"
_TARGET = "{target_rings} rings x {ring_cycle_seconds:g} s = {target_seconds:g} s"
_SPEED = "ring_seconds (answered_at - ring_started_at) of answered calls that have a ring time"
_RINGS = "rings = floor(ring_seconds / {ring_cycle_seconds:g}) + 1 per answered call"
_ADD_UP = "(answer, voicemail, abandonment and missed rates add up to 100 %)"


@dataclass(frozen=True)
class Metric:
    key: str  # the summarize() key
    label: str  # how a person reads it: "Answer rate"
    unit: Unit
    higher_is_better: bool | None  # None: neither (a count of calls)
    formula: str  # how it is computed; {names} are MetricParams settings
    counts: str | None = None  # rates: the prepared column or outcome counted in the numerator

    @property
    def words(self) -> str:
        """The label inside a sentence: "answer rate"."""
        return self.label[0].lower() + self.label[1:]


METRICS: tuple[Metric, ...] = (
    Metric("offered", "Offered calls", "count", None, f"{_SCOPE}, minus short abandons"),
    Metric("answered", "Answered", "count", True, "offered calls whose outcome is answered"),
    Metric("voicemail", "Voicemail", "count", False, "offered calls whose outcome is voicemail"),
    Metric("abandoned", "Abandoned", "count", False, "offered calls whose outcome is abandoned"),
    Metric("short_abandoned", "Short abandons", "count", None,
           f"{_SCOPE} {_SHORT} (likely wrong numbers; not offered)"),
    Metric("missed", "Missed", "count", False, "offered calls whose outcome is missed"),
    Metric("answer_rate", "Answer rate", "rate", True, f"answered / offered {_ADD_UP}", "answered"),
    Metric("voicemail_rate", "Voicemail rate", "rate", False, f"voicemail / offered {_ADD_UP}", "voicemail"),
    Metric("abandonment_rate", "Abandonment rate", "rate", False, f"abandoned / offered {_ADD_UP}", "abandoned"),
    Metric("missed_rate", "Missed rate", "rate", False, f"missed / offered {_ADD_UP}", "missed"),
    Metric("within_target_rate", "Answered within target", "rate", True,
           f"answered within {_TARGET} (inclusive) / offered calls with a known ring time", "within_target"),
    Metric("offered_timed", "Offered calls with a ring time", "count", None,
           "offered calls whose source knows how long they rang (ring time exact or derived)"),
    Metric("answered_timed", "Answered calls with a ring time", "count", None,
           "answered calls whose source knows how long they rang (the speed-of-answer calls)"),
    Metric("asa_mean_s", "Mean time to answer", "seconds", False, f"mean {_SPEED}"),
    Metric("asa_median_s", "Median time to answer", "seconds", False, f"median {_SPEED}"),
    Metric("asa_p90_s", "90th percentile time to answer", "seconds", False,
           f"90th percentile (linear interpolation) of {_SPEED}"),
    Metric("asa_mean_rings", "Mean rings before answer", "rings", False, f"mean of {_RINGS}"),
    Metric("asa_median_rings", "Median rings before answer", "rings", False, f"median of {_RINGS}"),
    Metric("asa_p90_rings", "90th percentile rings before answer", "rings", False, f"90th percentile of {_RINGS}"),
)
BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}
# The rates whose change a training is judged on, and the report's headline lines, in order.
TRAINING_RATES: tuple[str, ...] = ("answer_rate", "within_target_rate", "voicemail_rate", "abandonment_rate")
REPORT_LINES: tuple[str, ...] = (*TRAINING_RATES, "asa_median_s")


def metric(key: str) -> Metric:
    """The catalogue row of `key`; KeyError naming the known keys otherwise."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"no metric {key!r}; known: {', '.join(BY_KEY)}") from None


def formula(key: str, params: MetricParams) -> str:
    """How `key` is computed, with the settings that shaped it."""
    return metric(key).formula.format(
        timezone=params.timezone,
        short_abandon_seconds=params.short_abandon_seconds,
        target_rings=params.target_rings,
        ring_cycle_seconds=params.ring_cycle_seconds,
        target_seconds=params.target_seconds,
    )
