"""The dashboard's all-offices views on a group: one prepare() per distinct settings gives what one per office gave.

dashboard.data.prepared_calls prepares the offices that share settings
together (a group of 100 offices with one configuration is one prepare(), not
100). Compared here with preparing every office alone, as it did before, on a
generated history of four offices, one of them in London with its own hours,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from callwatch import store
from callwatch.config import Settings
from callwatch.dashboard import data
from callwatch.dashboard.app import create_app
from callwatch.metrics import loader, rollup_store
from callwatch.metrics.frame import prepare
from callwatch.metrics.group import compare_sites
from callwatch.metrics.loader import load_calls
from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import summarize_rollup
from callwatch.metrics.summary import summarize, summarize_by
from callwatch.sample import history

START, END = date(2025, 3, 3), date(2025, 3, 31)
LONDON_HOURS = {d: [{"open": "09:00", "close": "17:30"}] for d in ("mon", "tue", "wed", "thu", "fri")}


def _context(engine: sa.Engine, tmp_path: Path, *, london: bool = True) -> data.DashboardContext:
    offices = history.make_offices(4, START, END, seed=3, calls_per_day=30)
    store.save_calls(engine, history.iter_calls(history.generate_frame(offices, START, END, seed=3)))
    settings = Settings.model_validate({
        "database_url": str(engine.url), "journal_path": str(tmp_path / "j.log"), "rejects_dir": str(tmp_path / "r"),
        "sites": {"riverside": {"timezone": "Europe/London", "business_hours": LONDON_HOURS, "target_rings": 5}}
        if london else {},
    })
    return data.DashboardContext(settings, MetricParams.from_settings(settings), engine)


def _one_office_at_a_time(ctx: data.DashboardContext, rng: data.Range) -> pd.DataFrame:
    """prepared_calls for every office as it was written before: prepare() per office, each with its params."""
    sites = data.filter_options(ctx)[0]
    bounds = [rng.utc_bounds(data.params_for(ctx, s)) for s in sites]
    calls = load_calls(ctx.engine, start=min(b[0] for b in bounds), end=max(b[1] for b in bounds))
    first, last = pd.Timestamp(rng.first), pd.Timestamp(rng.last)
    parts = []
    for site, office in calls.groupby("site", sort=False):
        prepared = prepare(office, data.params_for(ctx, str(site)))
        parts.append(prepared[((prepared["date"] >= first) & (prepared["date"] <= last)).to_numpy(dtype=bool)])
    return pd.concat(parts).sort_values(["arrived_at", "site", "call_id"], kind="stable")


def test_all_offices_prepared_together_equal_each_office_prepared_alone(engine: sa.Engine, tmp_path: Path) -> None:
    ctx = _context(engine, tmp_path)
    assert data.params_for(ctx, "riverside") != data.params_for(ctx, "northside")  # two kinds of office
    rng = data.Range(START + timedelta(days=7), END - timedelta(days=2))
    together = data.prepared_calls(ctx, rng)
    alone = _one_office_at_a_time(ctx, rng)
    assert len(together) > 1000 and together["site"].nunique() == 4
    pd.testing.assert_frame_equal(together, alone)
    # And so the numbers the Group and Staffing pages show from them.
    week = (date(2025, 3, 17), date(2025, 3, 24))
    pd.testing.assert_frame_equal(compare_sites(together, ctx.params, *week), compare_sites(alone, ctx.params, *week))
    for by in ("site", "staff", "weekday_hour"):
        pd.testing.assert_frame_equal(summarize_by(together, ctx.params, by), summarize_by(alone, ctx.params, by))


def test_year_trend_reading_offices_together_equals_reading_each_alone(engine: sa.Engine, tmp_path: Path) -> None:
    ctx = _context(engine, tmp_path)
    rng = data.Range(START - timedelta(days=80), END)  # longer than RAW_RANGE_DAYS: from the rollups
    sites = data.filter_options(ctx)[0]
    alone = pd.concat([rollup_store.load_rollups(engine, data.params_for(ctx, s), start=rng.first, end=rng.last,
                                                 site=s) for s in sites], ignore_index=True)
    for granularity in ("week", "day"):
        found = data.trend(ctx, rng, granularity)
        assert found is not None and not found.exact_speed
        assert found.totals == summarize_rollup(alone)
        by = summarize_rollup(alone, granularity)
        assert isinstance(by, pd.DataFrame)
        pd.testing.assert_frame_equal(found.periods[by.columns.drop(granularity if granularity == "week" else "date")],
                                      by.drop(columns=granularity if granularity == "week" else "date"))
    assert found.closed_calls == int(alone["after_hours_calls"].sum())


def test_sites_and_queues_are_the_distinct_stored_values(engine: sa.Engine, tmp_path: Path) -> None:
    _context(engine, tmp_path)
    with engine.connect() as conn:
        sites = sorted(r[0] for r in conn.execute(sa.text("SELECT DISTINCT site FROM calls")))
        queues = sorted(r[0] for r in conn.execute(sa.text("SELECT DISTINCT queue FROM calls")) if r[0])
    assert loader.sites_and_queues(engine) == (sites, queues)
    assert len(sites) == 4 and queues


def _close(expected: object, got: object) -> bool:
    if expected is None or got is None or expected != expected:
        return got is expected or (got != got and expected != expected)
    return math.isclose(float(expected), float(got), rel_tol=1e-12, abs_tol=1e-12)  # type: ignore[arg-type]


def test_staffing_over_a_long_range_from_the_database_equals_the_prepared_calls(
        engine: sa.Engine, tmp_path: Path) -> None:
    ctx = _context(engine, tmp_path, london=False)  # one set of settings: the database counts
    for site in (None, "riverside"):
        rng = data.Range(START - timedelta(days=80), END, site)  # longer than RAW_RANGE_DAYS
        fast = data.staffing_numbers(ctx, rng)
        prepared = data.prepared_calls(ctx, rng)
        assert fast is not None and len(prepared)
        expected = summarize(prepared, ctx.params)
        assert all(_close(value, fast.totals[key]) for key, value in expected.items()), (expected, fast.totals)
        for by, got in (("staff", fast.staff), ("weekday_hour", fast.weekday_hour), ("hour", fast.hour)):
            pd.testing.assert_frame_equal(got, summarize_by(prepared, ctx.params, by), check_dtype=False, rtol=1e-12)
    assert data.staffing_numbers(ctx, data.Range(START - timedelta(days=200), START - timedelta(days=100))) is None


def test_staffing_page_lays_out_the_numbers_from_the_database(engine: sa.Engine, tmp_path: Path) -> None:
    ctx = _context(engine, tmp_path, london=False)
    app = create_app(ctx.settings, engine=engine)
    from callwatch.dashboard.pages import staffing

    with app.server.test_request_context("/"):
        page = staffing.body(data.context(), data.Range(START - timedelta(days=80), END))
    shown = str(page)
    assert "staffing-heatmap" in shown and "staffing-staff-table" in shown and "offered" in shown
