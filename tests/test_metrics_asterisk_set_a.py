"""End to end on real Asterisk logs: import set A, then the metrics must equal the scenario ground truth.

The expected numbers are computed here from ground-truth.csv (what each test call
really did) with DESIGN.md's definitions, not copied from the code under test.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from support.data import MASTER_CSV, QUEUE_LOG, ground_truth
from support.imports import open_engine
from support.settings import make_settings

from callwatch.collector.importer import import_file
from callwatch.metrics.follow_ups import follow_ups
from callwatch.metrics.frame import prepare
from callwatch.metrics.loader import load_calls
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import summarize, summarize_by


def _expected(params: MetricParams) -> dict[str, object]:
    inbound = [r for r in ground_truth() if r["outcome"] != "outbound"]
    short = [r for r in inbound if r["outcome"] == "abandoned" and float(r["ring"]) < params.short_abandon_seconds]
    offered = [r for r in inbound if r not in short]
    answered = sorted(float(r["ring"]) for r in offered if r["outcome"] == "answered")
    return {
        "offered": len(offered),
        "short_abandoned": len(short),
        **{o: sum(r["outcome"] == o for r in offered) for o in ("answered", "voicemail", "abandoned", "missed")},
        "within": sum(s <= params.target_seconds for s in answered),
        "mean": statistics.mean(answered),
        "median": statistics.median(answered),
    }


def test_set_a_metrics_match_ground_truth(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, MASTER_CSV)
    import_file(engine, settings, QUEUE_LOG)
    params = MetricParams.from_settings(settings)
    prepared = prepare(load_calls(engine), params)
    expected = _expected(params)

    s = summarize(prepared, params)  # the scenarios ran at 15:50 on a Tuesday, New York time
    for key in ("offered", "short_abandoned", "answered", "voicemail", "abandoned", "missed"):
        assert s[key] == expected[key], key
    assert s["within_target_rate"] == pytest.approx(expected["within"] / expected["offered"])
    total = s["answer_rate"] + s["voicemail_rate"] + s["abandonment_rate"] + s["missed_rate"]
    assert total == pytest.approx(1.0)
    assert s["asa_mean_s"] == pytest.approx(expected["mean"], abs=0.1)
    assert s["asa_median_s"] == pytest.approx(expected["median"], abs=0.1)

    by_staff = summarize_by(prepared, params, "staff").set_index("answered_by")
    assert by_staff["answered"].sum() == expected["answered"]
    # Nobody missed or called back in set A: every unanswered caller is still not followed up.
    rows = follow_ups(prepared, params)
    assert len(rows) == expected["voicemail"] + expected["abandoned"] and not rows["followed_up"].any()
