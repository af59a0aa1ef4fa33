"""Staff by name: who an extension was on the day of each call.

A name comes from, in order:
1. callwatch.yaml `staff:` (extension or number -> name, optionally from/until
   a practice-local date, so a departed employee's calls keep their name);
2. the name the call's own source gave for whoever answered (Call.answered_by_name);
3. a name the PBX gave that extension on other calls (the staff_seen table):
   the one last seen starting on or before the call, else the earliest.
Without any of these the extension itself is all we know (staff_name empty).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pandas as pd


class StaffEntry(NamedTuple):
    """One configured name: `key` (extension or number) was `name` from `since` until `until` (inclusive)."""

    key: str
    name: str
    since: date | None = None
    until: date | None = None


def directory(staff: Mapping[str, Iterable[Any]]) -> tuple[StaffEntry, ...]:
    """Settings.staff (key -> [StaffName]) as a hashable tuple for MetricParams."""
    return tuple(
        StaffEntry(key, entry.name, entry.since, entry.until)
        for key, entries in sorted(staff.items())
        for entry in entries
    )


def configured_names(answered_by: pd.Series, local_date: pd.Series, entries: Sequence[StaffEntry]) -> pd.Series:
    """The configured name of each row's staff member on its (local midnight) date; NaN where none applies."""
    names = pd.Series(pd.NA, index=answered_by.index, dtype="str")
    if not entries or not len(answered_by):
        return names
    days = local_date.to_numpy(dtype="datetime64[D]")
    for entry in entries:
        hit = (answered_by == entry.key).to_numpy(dtype=bool, na_value=False).copy()  # may be a read-only view
        if entry.since is not None:
            hit &= days >= np.datetime64(entry.since, "D")
        if entry.until is not None:
            hit &= days <= np.datetime64(entry.until, "D")
        names[hit] = entry.name
    return names


def fill_learnt_names(calls: pd.DataFrame, learnt: pd.DataFrame) -> pd.DataFrame:
    """Calls whose source gave no name take the one the PBX gave that extension around that time.

    `learnt`: staff_seen rows (site, extension, name, first_seen, last_seen).
    Returns `calls` itself when there is nothing to fill.
    """
    if not len(learnt) or not len(calls):
        return calls
    need = (calls["answered_by"].notna() & calls["answered_by_name"].isna()).to_numpy()
    if not need.any():
        return calls
    left = pd.DataFrame({
        "row": np.flatnonzero(need),
        "site": calls["site"].to_numpy()[need],
        "extension": calls["answered_by"].to_numpy()[need],
        "at": calls["arrived_at"].to_numpy()[need],
    }).sort_values("at", kind="stable")
    right = learnt.assign(at=learnt["first_seen"].astype(left["at"].dtype)).sort_values("at", kind="stable")
    right = right[["site", "extension", "at", "name"]].astype({"site": object, "extension": object})
    left = left.astype({"site": object, "extension": object})
    found = pd.merge_asof(left, right, on="at", by=["site", "extension"], direction="backward")
    earliest = right.drop_duplicates(["site", "extension"]).set_index(["site", "extension"])["name"]
    before = found["name"].isna().to_numpy()
    if before.any():  # calls before the name was first seen: the earliest name is the best we know
        keys = pd.MultiIndex.from_arrays([found["site"][before], found["extension"][before]])
        found.loc[before, "name"] = earliest.reindex(keys).to_numpy()
    out = calls.copy()
    names = out["answered_by_name"].to_numpy(dtype=object, na_value=None).copy()
    names[found["row"].to_numpy()] = found["name"].to_numpy(dtype=object)
    out["answered_by_name"] = pd.Series(names, index=out.index, dtype="str")
    return out


def label(extension: object, name: object) -> str:
    """"Ann Lee (201)" for plain text (CLI, CSV); the extension alone when no name is known."""
    ext = "" if _missing(extension) else str(extension)
    if _missing(name) or name == ext:
        return ext
    return f"{name} ({ext})" if ext else str(name)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or value == ""
