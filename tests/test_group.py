"""Group view: per-office numbers equal summarize() on that office alone; best/worst ranking is fair."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from callwatch.metrics.frame import prepare
from callwatch.metrics.group import compare_sites, group_summary, week_bounds
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import summarize
from callwatch.sample import history

START, END = date(2025, 9, 1), date(2025, 10, 20)
PARAMS = MetricParams()


@pytest.fixture(scope="module")
def prepared() -> pd.DataFrame:
    offices = history.make_offices(4, START, END, seed=11)
    # A fifth, tiny office: a handful of calls must not make it "best office".
    tiny = history.make_offices(1, START, END, seed=12, calls_per_day=1, first_site="tiny-branch")
    frame = pd.concat([history.generate_frame(offices, START, END, seed=11),
                       history.generate_frame(tiny, START, END, 12)])
    return prepare(frame.reset_index(drop=True), PARAMS)


def _only(prepared: pd.DataFrame, site: str, start: date, end: date) -> pd.DataFrame:
    dates = prepared["date"]
    keep = (prepared["site"] == site) & (dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end))
    return prepared[keep.to_numpy(dtype=bool)]


def test_each_office_matches_summarize_on_its_own_calls(prepared: pd.DataFrame) -> None:
    start, end = week_bounds(date(2025, 10, 15))
    assert (start, end) == (date(2025, 10, 13), date(2025, 10, 20))
    table = compare_sites(prepared, PARAMS, start, end)
    assert sorted(table["site"]) == sorted(prepared["site"].unique())
    for row in table.itertuples():
        alone = summarize(_only(prepared, row.site, start, end), PARAMS)
        before = summarize(_only(prepared, row.site, date(2025, 10, 6), start), PARAMS)
        assert row.offered == alone["offered"] and row.answered == alone["answered"]
        assert row.answer_rate == pytest.approx(alone["answer_rate"])
        assert row.within_target_rate == pytest.approx(alone["within_target_rate"])
        assert row.asa_median_s == pytest.approx(alone["asa_median_s"])
        assert row.prev_answer_rate == pytest.approx(before["answer_rate"])
        assert row.answer_rate_change == pytest.approx(alone["answer_rate"] - before["answer_rate"])


def test_best_and_worst_among_offices_with_enough_calls(prepared: pd.DataFrame) -> None:
    table = compare_sites(prepared, PARAMS, *week_bounds(date(2025, 10, 15)), min_offered=20)
    tiny = table[table["site"] == "tiny-branch"].iloc[0]
    assert tiny["offered"] < 20 and pd.isna(tiny["rank"]) and not tiny["best"] and not tiny["worst"]
    ranked = table[table["rank"].notna()]
    assert list(ranked["rank"]) == [1, 2, 3, 4]
    assert ranked["answer_rate"].is_monotonic_decreasing
    assert table.loc[table["best"], "site"].tolist() == [ranked.iloc[0]["site"]]
    assert table.loc[table["worst"], "site"].tolist() == [ranked.iloc[-1]["site"]]
    assert ranked["follow_up_rate"].between(0, 1).all()
    summary = group_summary(table)
    assert summary["best"] == ranked.iloc[0]["site"] and summary["offered"] == table["offered"].sum()


def test_office_without_calls_in_the_period_is_listed_with_no_rates(prepared: pd.DataFrame) -> None:
    table = compare_sites(prepared, PARAMS, date(2030, 1, 6), date(2030, 1, 13))
    assert len(table) == 5 and (table["offered"] == 0).all()
    assert table["answer_rate"].isna().all() and not table["best"].any()
