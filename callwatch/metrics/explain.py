"""Every number can explain itself (DESIGN.md): its formula, its settings, the calls behind it.

formula(key, params) says in words how a summarize() number is computed with
the settings in force; calls_behind(prepared, key) returns the calls that
number was computed from, so a page or report can link "63 %" to the list.
"""

from __future__ import annotations

import pandas as pd

from callwatch.metrics.frame import Scope, in_scope
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import SUMMARY_KEYS
from callwatch.model import Outcome

_OUTCOME_OF = {
    "answered": Outcome.ANSWERED, "voicemail": Outcome.VOICEMAIL, "abandoned": Outcome.ABANDONED,
    "missed": Outcome.MISSED, "answer_rate": Outcome.ANSWERED, "voicemail_rate": Outcome.VOICEMAIL,
    "abandonment_rate": Outcome.ABANDONED, "missed_rate": Outcome.MISSED,
}


def formula(key: str, params: MetricParams) -> str:
    """How `key` (a summarize() key) is computed, with the settings that shaped it."""
    if key not in SUMMARY_KEYS:
        raise KeyError(f"no metric {key!r}; known: {', '.join(SUMMARY_KEYS)}")
    scope = f"inbound calls in business hours ({params.timezone}), holidays excluded"
    short = f"abandoned after less than {params.short_abandon_seconds:g} s of ringing, or before any phone rang"
    target = f"{params.target_rings} rings x {params.ring_cycle_seconds:g} s = {params.target_seconds:g} s"
    speed = "ring_seconds (answered_at - ring_started_at) of answered calls that have a ring time"
    rings = f"rings = floor(ring_seconds / {params.ring_cycle_seconds:g}) + 1 per answered call"
    texts = {
        "offered": f"{scope}, minus short abandons",
        "short_abandoned": f"{scope} {short} (likely wrong numbers; not offered)",
        "within_target_rate": f"answered within {target} (inclusive) / offered calls with a known ring time",
        "offered_timed": "offered calls whose source knows how long they rang (ring time exact or derived)",
        "answered_timed": "answered calls whose source knows how long they rang (the speed-of-answer calls)",
        "asa_mean_s": f"mean {speed}",
        "asa_median_s": f"median {speed}",
        "asa_p90_s": f"90th percentile (linear interpolation) of {speed}",
        "asa_mean_rings": f"mean of {rings}",
        "asa_median_rings": f"median of {rings}",
        "asa_p90_rings": f"90th percentile of {rings}",
    }
    if key in texts:
        return texts[key]
    outcome = _OUTCOME_OF[key].value
    if key.endswith("_rate"):
        return f"{outcome} / offered (answer, voicemail, abandonment and missed rates add up to 100 %)"
    return f"offered calls whose outcome is {outcome}"


def calls_behind(prepared: pd.DataFrame, key: str, *, scope: Scope = "business_hours") -> pd.DataFrame:
    """The prepared calls a summarize() number was computed from (its denominator for rates).

    Rates: the offered calls (the flag columns show which are in the
    numerator); counts: the calls counted; speeds: the timed answered calls.
    """
    if key not in SUMMARY_KEYS:
        raise KeyError(f"no metric {key!r}; known: {', '.join(SUMMARY_KEYS)}")
    scoped = prepared[in_scope(prepared, scope)]
    short = scoped["short_abandon"].to_numpy(dtype=bool)
    if key == "short_abandoned":
        return scoped[short]
    offered = scoped[~short]
    if key == "within_target_rate" or key == "offered_timed":
        return offered[offered["ring_known"].to_numpy(dtype=bool)]
    if key.endswith("_rate") or key == "offered":
        return offered
    if key.startswith("asa_") or key == "answered_timed":
        answered = (offered["outcome"] == Outcome.ANSWERED.value).to_numpy(dtype=bool, na_value=False)
        return offered[answered & offered["ring_seconds"].notna().to_numpy()]
    return offered[(offered["outcome"] == _OUTCOME_OF[key].value).to_numpy(dtype=bool, na_value=False)]
