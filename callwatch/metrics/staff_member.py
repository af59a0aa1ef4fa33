"""One staff member against the office: their answered calls, speed of answer, share within target.

Over the business-hours calls in scope (as summarize). A person only answers
calls, so their numbers are over answered calls: within target is the share
of their answered calls with a ring time that were picked up within
target_rings x ring_cycle_seconds, and the office's share is computed the same
way, so the two compare like with like. Ring-time numbers are None when no
call has a ring time (metrics.quality).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from callwatch.metrics.frame import Scope, in_scope
from callwatch.metrics.params import MetricParams
from callwatch.metrics.speed import speed_of_answer
from callwatch.model import Outcome

MEMBER_KEYS: tuple[str, ...] = (
    "answered", "answered_timed", "within_target", "within_target_share", "asa_mean_s", "asa_median_s",
    "asa_p90_s", "asa_median_rings",
)


def _numbers(answered: pd.DataFrame) -> dict[str, Any]:
    timed = int(answered["ring_seconds"].notna().sum())
    within = int(answered["within_target"].to_numpy(dtype=bool).sum())
    speed = speed_of_answer(answered)
    return {
        "answered": len(answered), "answered_timed": timed, "within_target": within,
        "within_target_share": within / timed if timed else None,
        **{key: speed[key] for key in ("asa_mean_s", "asa_median_s", "asa_p90_s", "asa_median_rings")},
    }


def member_mask(prepared: pd.DataFrame, staff: str) -> np.ndarray:
    """Calls answered by `staff`: an extension, or a name as shown (any case)."""
    wanted = staff.strip()
    by_ext = (prepared["answered_by"] == wanted).to_numpy(dtype=bool, na_value=False)
    by_name = (prepared["staff_name"].str.casefold() == wanted.casefold()).to_numpy(dtype=bool, na_value=False)
    return by_ext | by_name


def staff_vs_office(
    prepared: pd.DataFrame, params: MetricParams, staff: str, *, scope: Scope = "business_hours"
) -> dict[str, dict[str, Any]]:
    """{"staff": their numbers, "office": everyone's} (MEMBER_KEYS), plus "share_of_answered"."""
    del params  # prepare() already applied them
    scoped = prepared[in_scope(prepared, scope)]
    answered = scoped[(scoped["outcome"] == Outcome.ANSWERED.value).to_numpy(dtype=bool, na_value=False)
                      & ~scoped["short_abandon"].to_numpy(dtype=bool)]
    theirs = answered[member_mask(answered, staff)]
    office = _numbers(answered)
    mine = _numbers(theirs)
    mine["share_of_answered"] = len(theirs) / len(answered) if len(answered) else None
    return {"staff": mine, "office": office}


def staff_choices(prepared: pd.DataFrame) -> list[tuple[str, str | None]]:
    """(extension, name) of everyone who answered a call, by name then extension; name None when unknown."""
    answered = prepared[prepared["answered_by"].notna()]
    pairs = answered[["answered_by", "staff_name"]].drop_duplicates()
    found = [(str(e), None if pd.isna(n) or n == "" else str(n)) for e, n in pairs.itertuples(index=False)]
    return sorted(found, key=lambda p: ((p[1] or p[0]).casefold(), p[0]))
