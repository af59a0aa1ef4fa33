"""Invariants of the metrics over many generated call sets (hypothesis), across both DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.calls import PARAMS, call, prepared

from callwatch.metrics.rollup import daily_rollup, summarize_rollup
from callwatch.metrics.summary import COUNT_KEYS, RATE_KEYS, summarize, summarize_by

# Two weeks around each 2026 DST change in New York, at any second.
STARTS = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC))

one_call = st.builds(
    lambda start, offset, outcome, ring, direction, queue, site: call(
        outcome, ring, at=start + timedelta(seconds=offset), direction=direction, queue=queue, site=site,
    ),
    start=st.sampled_from(STARTS),
    offset=st.integers(0, 14 * 86400),
    outcome=st.sampled_from(["answered", "voicemail", "abandoned", "missed", None]),
    ring=st.one_of(st.none(), st.sampled_from([0.0, 4.999, 5.0, 17.999, 18.0, 18.001]), st.floats(0, 120)),
    direction=st.sampled_from(["inbound", "inbound", "inbound", "outbound", "internal"]),
    queue=st.sampled_from([None, "front", "billing"]),
    site=st.sampled_from(["main", "annex"]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(one_call, max_size=30))
def test_summaries_agree_however_they_are_computed(calls: list) -> None:
    p = prepared(calls)
    whole = summarize(p, PARAMS)
    in_hours = p[(p["direction"] == "inbound") & p["outcome"].notna() & ~p["after_hours"]]
    assert whole["offered"] + whole["short_abandoned"] == len(in_hours)
    if whole["offered"]:
        parts = ("answer_rate", "voicemail_rate", "abandonment_rate", "missed_rate")
        assert sum(whole[k] for k in parts) == pytest.approx(1.0)
        assert 0 <= whole["within_target_rate"] <= whole["answer_rate"]
    else:
        assert all(whole[k] is None for k in RATE_KEYS)

    for by in ("day", "week", "hour", "staff", "queue", "site"):
        table = summarize_by(p, PARAMS, by)
        for key in COUNT_KEYS:
            assert table[key].sum() == whole[key], (by, key)

    rollup = daily_rollup(p, PARAMS, hourly=True)
    for by, keys in (("day", ["date"]), ("week", ["week"]), ("weekday_hour", ["weekday", "hour"])):
        raw = summarize_by(p, PARAMS, by)
        rolled = summarize_rollup(rollup, by)
        assert rolled[[*keys, *COUNT_KEYS]].values.tolist() == raw[[*keys, *COUNT_KEYS]].values.tolist(), by
    from_rollup = summarize_rollup(rollup)
    for key in (*COUNT_KEYS, *RATE_KEYS, "asa_mean_s", "asa_mean_rings"):
        if whole[key] is None:
            assert from_rollup[key] is None
        else:
            assert from_rollup[key] == pytest.approx(whole[key]), key


@settings(max_examples=40, deadline=None)
@given(st.lists(one_call, max_size=30))
def test_derived_flags_follow_their_definitions(calls: list) -> None:
    p = prepared(calls)
    for row in p.itertuples():
        ring = None if row.ring_seconds != row.ring_seconds else row.ring_seconds
        if row.outcome == "abandoned":
            assert row.short_abandon == (ring is None or ring < 5 - 1e-9)
        else:
            assert not row.short_abandon
        assert row.within_target == (row.outcome == "answered" and ring is not None and ring <= 18 + 1e-9)
        if ring is not None:
            assert row.rings == int(ring // 6) + 1 or abs(ring / 6 - round(ring / 6)) < 1e-6
        local = row.local_arrived
        open_hours = local.weekday() < 5 and 8 <= local.hour < 17
        assert row.after_hours == (not open_hours)
