"""Every number can explain itself (DESIGN.md): its formula, its settings, the calls behind it.

The formula in words lives in the catalogue (catalog.formula, re-exported
here); calls_behind(prepared, key) returns the calls that number was computed
from, so a page or report can link "63 %" to the list.
"""

from __future__ import annotations

import pandas as pd

from callwatch.metrics.catalog import formula
from callwatch.metrics.frame import Scope, in_scope
from callwatch.metrics.summary import SUMMARY_KEYS
from callwatch.model import Outcome

_OUTCOME_OF = {
    "answered": Outcome.ANSWERED, "voicemail": Outcome.VOICEMAIL, "abandoned": Outcome.ABANDONED,
    "missed": Outcome.MISSED, "answer_rate": Outcome.ANSWERED, "voicemail_rate": Outcome.VOICEMAIL,
    "abandonment_rate": Outcome.ABANDONED, "missed_rate": Outcome.MISSED,
}
__all__ = ["calls_behind", "formula"]


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
