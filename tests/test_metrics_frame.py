"""prepare(): the derived columns of DESIGN.md, computed from Call records."""

from __future__ import annotations

import math

import pandas as pd
from support.calls import PARAMS, call, prepared

from callwatch.metrics.frame import masked_callers, number_key
from callwatch.model import mask_caller


def test_ring_seconds_pre_ring_and_rings() -> None:
    p = prepared([
        call("answered", 5.999, pre_ring=4),
        call("answered", 6.0),
        call("voicemail", 24),  # rang until voicemail took it
        call("abandoned", None, pre_ring=7),  # hung up in the greeting: never rang
    ])
    assert p["ring_seconds"].tolist()[:3] == [5.999, 6.0, 24.0]
    assert math.isnan(p["ring_seconds"].iloc[3])
    assert p["pre_ring_seconds"].tolist()[:3] == [4.0, 0.0, 0.0]
    # rings = floor(ring_seconds / 6) + 1
    assert p["rings"].tolist()[:3] == [1, 2, 5]
    assert p["rings"].isna().iloc[3]


def test_derived_flags() -> None:
    p = prepared([
        call("answered", 18),
        call("abandoned", 4.9),
        call("abandoned", None),
        call("abandoned", 5),
        call("answered", 3, at="2026-03-09 19:00"),
        call("answered", 3, direction="outbound"),
        call(None, 3),  # still in progress: no outcome yet
    ])
    assert p["within_target"].tolist() == [True, False, False, False, True, True, False]
    assert p["short_abandon"].tolist() == [False, True, True, False, False, False, False]
    assert p["counted"].tolist() == [True, False, False, True, False, False, False]
    assert p["weekday"].tolist() == [0] * 7 and p["hour"].tolist() == [10, 10, 10, 10, 19, 10, 10]
    assert str(p["local_arrived"].dtype) == "datetime64[us]"


def test_prepare_leaves_input_alone_and_handles_no_calls() -> None:
    empty = prepared([])
    assert len(empty) == 0
    for column in ("ring_seconds", "rings", "local_arrived", "date", "after_hours", "holiday", "counted"):
        assert column in empty.columns
    assert PARAMS.target_seconds == 18


def test_masked_callers_match_mask_caller() -> None:
    numbers = ["6175550101", "+1 (617) 555-0102", "", None, "101", "anonymous", "12345", "6175550101"]
    got = masked_callers(pd.Series(numbers, dtype="str")).tolist()
    assert got == [mask_caller(n) for n in numbers]


def test_number_key_matches_the_same_caller_however_written() -> None:
    numbers = ["+1 617 555 0101", "16175550101", "916175550101", "6175550101", "anonymous", None]
    assert number_key(pd.Series(numbers, dtype="str")).tolist() == ["6175550101"] * 4 + ["", ""]
