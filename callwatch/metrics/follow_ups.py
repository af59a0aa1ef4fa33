"""Follow-ups (DESIGN.md): did anyone get back to the callers the practice missed?

A call needs a follow-up when it is inbound, its outcome is missed, abandoned
or voicemail (business hours or not: an after-hours voicemail needs a call
back most of all), it is not a short abandon (a likely wrong number, as in
`offered`), and it has a caller number to match on.

It is followed up by the first later contact with the same number at the same
site, within the window:
- called_back: an outbound call to that number (its arrived_at; for outbound
  calls the Call's `caller` field holds the number dialled), answered or not —
  the practice tried;
- got_through: a later inbound call from that number that a person answered
  (its answered_at).
The window ends at the end of the Nth business day after the call's local
date, N = follow_up_window_business_days (see hours.follow_up_deadline).
follow_up_seconds runs from the missed call's arrived_at to the contact.

Numbers match on their last 10 digits, so "+1 617 555 0101", "16175550101" and
"6175550101" (or a "9" dialled for an outside line) are the same caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from callwatch.metrics import hours
from callwatch.metrics.frame import masked_callers, number_key
from callwatch.metrics.params import MetricParams
from callwatch.model import Direction, Outcome

NEEDS_FOLLOW_UP: tuple[str, ...] = (Outcome.MISSED.value, Outcome.ABANDONED.value, Outcome.VOICEMAIL.value)


def match_keys(prepared: pd.DataFrame) -> np.ndarray:
    """One int64 per call naming (site, number_key(caller)); -1 where there is no number.

    Matching and grouping on one integer instead of two strings keeps a year
    of calls fast; the key packs the site's code, the key's length (so
    "0123" and "123" stay apart) and its digits.
    """
    site_code, _ = pd.factorize(prepared["site"], use_na_sentinel=True)
    codes, uniques = pd.factorize(prepared["caller"], use_na_sentinel=True)
    keys = number_key(pd.Series(uniques, dtype="str"))
    lengths = keys.str.len().to_numpy(dtype="int64", na_value=0)
    digits = pd.to_numeric(keys.where(lengths > 0, "0")).to_numpy(dtype="int64")
    per_number = np.append(np.where(lengths > 0, lengths * 10**10 + digits, -1), -1)
    number = per_number[codes]
    return np.where((number >= 0) & (site_code >= 0), site_code.astype("int64") * 10**11 + number, -1)


def _with_keys(prepared: pd.DataFrame) -> pd.DataFrame:
    return prepared.assign(match=match_keys(prepared))


def needing_follow_up(prepared: pd.DataFrame) -> pd.DataFrame:
    """The calls that need a follow-up (see module doc), with `number` (number_key) and `match`."""
    keyed = prepared if "match" in prepared.columns else _with_keys(prepared)
    inbound = (keyed["direction"] == Direction.INBOUND.value).to_numpy(dtype=bool, na_value=False)
    unanswered = keyed["outcome"].isin(NEEDS_FOLLOW_UP).to_numpy(dtype=bool, na_value=False)
    mask = inbound & unanswered & ~keyed["short_abandon"].to_numpy(dtype=bool) & (keyed["match"].to_numpy() >= 0)
    needing = keyed.loc[mask]
    return needing.assign(number=number_key(needing["caller"]))


def contacts(prepared: pd.DataFrame) -> pd.DataFrame:
    """Every contact that can settle a follow-up, by time: match, contact_at, kind, contact_call_id."""
    keyed = prepared if "match" in prepared.columns else _with_keys(prepared)
    keyed = keyed[(keyed["match"] >= 0).to_numpy()]
    direction = keyed["direction"]
    outbound = keyed[(direction == Direction.OUTBOUND.value).to_numpy(dtype=bool, na_value=False)]
    answered = keyed[
        (direction == Direction.INBOUND.value).to_numpy(dtype=bool, na_value=False)
        & (keyed["outcome"] == Outcome.ANSWERED.value).to_numpy(dtype=bool, na_value=False)
    ]
    parts = [
        pd.DataFrame({
            "match": outbound["match"], "contact_at": outbound["arrived_at"], "kind": "called_back",
            "contact_call_id": outbound["call_id"],
        }),
        pd.DataFrame({
            "match": answered["match"], "contact_at": answered["answered_at"].fillna(answered["arrived_at"]),
            "kind": "got_through", "contact_call_id": answered["call_id"],
        }),
    ]
    found = pd.concat(parts, ignore_index=True)
    found["match"] = found["match"].astype("int64")
    found["kind"] = found["kind"].astype("str")
    found["contact_call_id"] = found["contact_call_id"].astype("str")
    found["contact_at"] = found["contact_at"].astype("datetime64[us, UTC]")
    return found.sort_values("contact_at", kind="stable", ignore_index=True)


FOLLOW_UP_COLUMNS: tuple[str, ...] = (
    "site", "call_id", "caller", "caller_masked", "number", "arrived_at", "local_arrived", "date", "outcome",
    "left_message", "after_hours", "window_ends_local", "followed_up", "follow_up_at", "follow_up_seconds",
    "follow_up_kind", "follow_up_call_id",
)


def follow_ups(prepared: pd.DataFrame, params: MetricParams) -> pd.DataFrame:
    """One row per call needing a follow-up, oldest first, with whether/when it was followed up.

    Columns: FOLLOW_UP_COLUMNS. window_ends_local is practice-local (naive);
    follow_up_* are empty when nothing happened within the window.
    """
    keyed = _with_keys(prepared)
    needing = needing_follow_up(keyed)
    left = needing[["site", "call_id", "caller", "number", "match", "arrived_at", "local_arrived", "date",
                    "outcome", "left_message", "after_hours"]]
    left = left.sort_values("arrived_at", kind="stable", ignore_index=True)
    left["window_ends_local"] = hours.follow_up_deadline(left["local_arrived"], params).to_numpy()
    right = contacts(keyed)
    # The first contact strictly after the call, per (site, number).
    matched = pd.merge_asof(
        left, right, left_on="arrived_at", right_on="contact_at", by="match",
        direction="forward", allow_exact_matches=False,
    )
    contact_local = hours.to_local(matched["contact_at"], params)
    in_window = (matched["contact_at"].notna() & (contact_local < matched["window_ends_local"])).to_numpy()
    matched["followed_up"] = in_window
    matched["follow_up_at"] = matched["contact_at"].where(in_window)
    matched["follow_up_seconds"] = (matched["follow_up_at"] - matched["arrived_at"]) / pd.Timedelta(seconds=1)
    matched["follow_up_kind"] = matched["kind"].where(in_window).astype("str")
    matched["follow_up_call_id"] = matched["contact_call_id"].where(in_window).astype("str")
    matched["caller_masked"] = masked_callers(matched["caller"])
    return matched[list(FOLLOW_UP_COLUMNS)]


def _local_now(now: datetime, params: MetricParams) -> pd.Timestamp:
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return stamp.tz_convert(params.timezone).tz_localize(None)


AWAITING_COLUMNS: tuple[str, ...] = (
    "site", "caller_masked", "caller", "number", "first_arrived_at", "last_arrived_at", "calls", "last_outcome",
    "left_message", "call_id", "window_ends_local", "overdue", "waiting_seconds",
)


def awaiting_follow_up(
    prepared: pd.DataFrame,
    params: MetricParams,
    now: datetime,
    handled: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Callers still waiting at `now`: one row per (site, number), the longest-waiting first.

    A caller is waiting while some call of theirs needing follow-up has had no
    contact since (any time up to `now`, not just within the window) and the
    front desk has not marked it handled. `handled` (site, call_id,
    handled_at; loader.load_follow_up_handled) counts as a contact at
    handled_at. `overdue`: the window of the first waiting call has closed.
    `call_id` is the caller's latest waiting call. caller is raw, for
    matching; show caller_masked.
    """
    now_utc = pd.Timestamp(now).tz_convert("UTC")
    keyed = _with_keys(prepared)
    upto = keyed[(keyed["arrived_at"] <= now_utc).to_numpy(dtype=bool)]
    needing = needing_follow_up(upto)
    seen = contacts(upto)
    seen = seen[seen["contact_at"] <= now_utc][["match", "contact_at"]]
    if handled is not None and len(handled):
        marked = handled.merge(keyed[["site", "call_id", "match"]], on=["site", "call_id"], how="inner")
        marked = pd.DataFrame({
            "match": marked["match"].astype("int64"),
            "contact_at": pd.to_datetime(marked["handled_at"], utc=True).astype("datetime64[us, UTC]"),
        })
        seen = pd.concat([seen, marked], ignore_index=True)
    last_contact = seen.groupby("match", as_index=False)["contact_at"].max()
    waiting = needing.merge(last_contact, on="match", how="left")
    waiting = waiting[(waiting["contact_at"].isna() | (waiting["contact_at"] <= waiting["arrived_at"])).to_numpy()]
    waiting = waiting.sort_values("arrived_at", kind="stable")
    waiting = waiting.assign(
        window_ends_local=hours.follow_up_deadline(waiting["local_arrived"], params).to_numpy(),
        left_message=waiting["left_message"].fillna(False).astype(bool),
    )
    grouped = waiting.groupby("match", as_index=False, sort=False).agg(
        site=("site", "first"),
        number=("number", "first"),
        first_arrived_at=("arrived_at", "first"),
        last_arrived_at=("arrived_at", "last"),
        calls=("call_id", "size"),
        last_outcome=("outcome", "last"),
        left_message=("left_message", "max"),
        call_id=("call_id", "last"),
        caller=("caller", "last"),
        window_ends_local=("window_ends_local", "first"),
    )
    grouped["overdue"] = (grouped["window_ends_local"] <= _local_now(now, params)).to_numpy(dtype=bool)
    grouped["waiting_seconds"] = (now_utc - grouped["first_arrived_at"]) / pd.Timedelta(seconds=1)
    grouped["caller_masked"] = masked_callers(grouped["caller"])
    grouped = grouped.sort_values("first_arrived_at", kind="stable", ignore_index=True)
    return grouped[list(AWAITING_COLUMNS)]


URGENCY_ORDER: tuple[str, ...] = ("due today", "overdue", "later")


def by_urgency(awaiting: pd.DataFrame, params: MetricParams, now: datetime) -> pd.DataFrame:
    """awaiting_follow_up's rows with `urgency`, most urgent first: the list a front desk works down.

    "due today": the follow-up window closes later today (still in time);
    "overdue": it has closed (longest waiting first); "later": it closes on a
    later day. Inside "due today" and "later", the first to close comes first.
    """
    local_now = _local_now(now, params)
    ends = pd.to_datetime(awaiting["window_ends_local"])
    # A window that ends at midnight (the end of a business day) ends today if that midnight is tonight's.
    tonight = local_now.normalize() + pd.Timedelta(days=1)
    due_today = (~awaiting["overdue"].astype(bool)) & (ends <= tonight)
    urgency = np.where(awaiting["overdue"].astype(bool), "overdue", np.where(due_today, "due today", "later"))
    rank = pd.Series(urgency, index=awaiting.index).map({u: i for i, u in enumerate(URGENCY_ORDER)})
    first_local = pd.to_datetime(awaiting["first_arrived_at"], utc=True).dt.tz_convert(params.timezone)
    # Overdue: the longest waiting first; the others: the first window to close first.
    key = ends.where(urgency != "overdue", first_local.dt.tz_localize(None))
    order = awaiting.assign(urgency=urgency, _rank=rank.to_numpy(), _key=key.to_numpy())
    order = order.sort_values(["_rank", "_key", "first_arrived_at"], kind="stable", ignore_index=True)
    return order.drop(columns=["_rank", "_key"])


def _open_windows(rows: pd.DataFrame, now: datetime | None, params: MetricParams | None) -> np.ndarray:
    """Calls not yet followed up whose window is still open at `now` (undecided, left out of the rate)."""
    if now is None or params is None or not len(rows):
        return np.zeros(len(rows), dtype=bool)
    still_open = (rows["window_ends_local"] > _local_now(now, params)).to_numpy(dtype=bool)
    return still_open & ~rows["followed_up"].to_numpy(dtype=bool)


def follow_up_summary(
    rows: pd.DataFrame, *, now: datetime | None = None, params: MetricParams | None = None
) -> dict[str, Any]:
    """Follow-up rate and median time over follow_ups() rows.

    follow_up_rate = followed_up / decided, where decided leaves out calls
    whose window is still open at `now` (pass now and params; without them
    every call counts as decided). None when nothing was decided.
    """
    open_now = _open_windows(rows, now, params)
    decided = rows[~open_now]
    done = decided["followed_up"].to_numpy(dtype=bool)
    seconds = decided["follow_up_seconds"].to_numpy(dtype="float64", na_value=np.nan)[done]
    kinds = decided["follow_up_kind"][done].value_counts()
    return {
        "needing": len(rows),
        "pending": int(open_now.sum()),
        "decided": len(decided),
        "followed_up": int(done.sum()),
        "not_followed_up": int((~done).sum()),
        "called_back": int(kinds.get("called_back", 0)),
        "got_through": int(kinds.get("got_through", 0)),
        "follow_up_rate": float(done.mean()) if len(decided) else None,
        "median_follow_up_seconds": float(np.median(seconds)) if len(seconds) else None,
    }


def follow_up_summary_by(
    rows: pd.DataFrame, by: str = "week", *, now: datetime | None = None, params: MetricParams | None = None
) -> pd.DataFrame:
    """follow_up_summary per local day or week (weeks start Monday), keyed by `period`."""
    if by not in ("day", "week"):
        raise ValueError(f"by must be day or week, not {by!r}")
    period = rows["date"]
    if by == "week":
        period = period - pd.to_timedelta(period.dt.day_of_week, unit="D")
    out = [
        {"period": key} | follow_up_summary(group, now=now, params=params)
        for key, group in rows.groupby(period.to_numpy(), sort=True)
    ]
    columns = ["period", "needing", "pending", "decided", "followed_up", "not_followed_up", "called_back",
               "got_through", "follow_up_rate", "median_follow_up_seconds"]
    return pd.DataFrame(out, columns=columns)
