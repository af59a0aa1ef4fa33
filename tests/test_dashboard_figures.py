"""Figures and the data behind them: they explain themselves, plot local time, mark trainings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from support.dashboard import (
    DAY,
    FORMULA_QUEUE,
    FORMULA_STAFF,
    call,
    login,
    practice_day,
    seeded_engine,
    settings_for,
)

from callwatch import store
from callwatch.dashboard import data, figures, live_data
from callwatch.dashboard.app import create_app
from callwatch.formatting import safe_cell
from callwatch.metrics.params import MetricParams

PARAMS = MetricParams()


@pytest.fixture
def app(tmp_path: Path):
    settings = settings_for(tmp_path)
    return create_app(settings, engine=seeded_engine(settings, practice_day()))


def _context(app):
    return app.server.extensions["callwatch"]


def _text(component) -> str:
    """All text in a Dash component tree."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else _text(children)


def test_day_numbers_add_up_to_offered(app) -> None:
    from callwatch.dashboard.pages import trends

    with app.server.test_request_context():
        body = trends.body(_context(app), data.Range(DAY, DAY), "day")
    text = _text(body)
    # 7 inbound: the short abandon and the after-hours voicemail are not offered.
    assert "2 answered + 1 voicemail + 1 abandoned + 1 missed = 5 offered" in text
    assert "1 short abandons" in text and "1 calls while closed" in text


def test_trend_periods_are_practice_local_days(app) -> None:
    ctx = _context(app)
    late = call("late", "23:30", "answered", 4, day=DAY)  # 04:30 UTC the next day
    store.save_calls(ctx.engine, [late])
    with app.server.test_request_context():
        calls = data.prepared_calls(ctx, data.Range(DAY, DAY + timedelta(days=1)))
    assert late.arrived_at.date() == DAY + timedelta(days=1)
    assert set(calls.loc[calls["call_id"] == "late", "date"]) == {pd.Timestamp(DAY)}
    periods = data.by_period(ctx, calls, "day")
    assert periods["period"].dt.tz is None  # zone dropped: plotly would shift an aware time


def test_training_marker_is_a_labelled_vertical_line_at_its_date() -> None:
    periods = _periods([date(2026, 3, 2), date(2026, 3, 9)])
    marks = [figures.TrainingMark(date(2026, 3, 4), "Phone manner"), figures.TrainingMark(date(2027, 1, 1), "Later")]
    fig = figures.rates_figure(periods, marks, PARAMS)
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.xref == "x"]
    assert [s.x0 for s in lines] == [figures.epoch_ms(date(2026, 3, 4))]
    assert any("Training: Phone manner" in (a.text or "") for a in fig.layout.annotations)
    assert not any("Later" in (a.text or "") for a in fig.layout.annotations)  # outside the range


def test_speed_figure_draws_the_ring_target() -> None:
    fig = figures.speed_figure(_periods([date(2026, 3, 2)]), [], MetricParams(ring_cycle_seconds=3, target_rings=4))
    targets = [s for s in fig.layout.shapes if s.yref == "y"]
    assert targets[0].y0 == 12
    assert any("4 rings = 12 s" in (a.text or "") for a in fig.layout.annotations)


def test_hover_shows_the_formula_with_counts() -> None:
    fig = figures.rates_figure(_periods([date(2026, 3, 2)]), [], PARAMS)
    answer = fig.data[0]
    assert "answered %{customdata[0]} / offered %{customdata[1]}" in answer.hovertemplate
    assert list(answer.customdata[0])[:2] == [8, 10]
    assert answer.y[0] == 80.0


def test_empty_range_says_so_instead_of_blank_axes() -> None:
    fig = figures.rates_figure(_periods([]), [], PARAMS)
    assert fig.layout.annotations[0].text == "No calls in this range"


def test_new_install_shows_how_to_get_calls_in(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))
    from callwatch.dashboard.pages import calls, staffing, trends

    with app.server.test_request_context():
        for page in (trends, staffing, calls):
            text = _text(page.layout())
            assert "callwatch import" in text and "callwatch collect" in text, page.__name__
        from callwatch.dashboard import live_panels

        ctx, now = _context(app), datetime.now(UTC)
        waiting = data.awaiting_follow_up_counts(ctx, None, now)
        live = _text(live_panels.today_panel(ctx, None, now, data.day_calls(ctx, None, now), waiting))
        assert "callwatch import" in live and "= 0 offered" in live


def test_empty_state_names_the_command_that_runs_here() -> None:
    """`make run` leaves callwatch in .venv/bin, off PATH: the page must name a command that works."""
    import shutil

    from callwatch.dashboard import components as ui

    cmd = ui.command()
    assert (cmd == "callwatch" and shutil.which("callwatch")) or Path(cmd).is_file()


def test_heatmap_counts_unanswered_by_weekday_and_hour(app) -> None:
    from callwatch.metrics.summary import summarize_by

    ctx = _context(app)
    with app.server.test_request_context():
        calls = data.prepared_calls(ctx, data.Range(DAY, DAY))
    fig = figures.missed_heatmap(summarize_by(calls, ctx.params, "weekday_hour"), ctx.params)
    grid = pd.DataFrame(fig.data[0].z, index=fig.data[0].y, columns=fig.data[0].x)
    assert grid.loc["Tue", "11:00"] == 2  # the voicemail and the abandon
    assert grid.loc["Tue", "13:00"] == 1  # the missed call
    assert grid.loc["Tue", "10:00"] == 0
    assert grid.to_numpy().sum() == 3


def test_live_state_masks_callers_and_counts_from_the_ring(app) -> None:
    ctx = _context(app)
    now = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    store.upsert_rows(ctx.engine, store.live_calls, [{
        "site": "main-office", "call_id": "live.1", "caller": "+16175550199", "state": "ringing",
        "ring_started_at": now - timedelta(seconds=20), "arrived_at": now - timedelta(seconds=25),
        "location": "Reception", "queue": None, "updated_at": now}], keys=("site", "call_id"))
    live = live_data.live_state(ctx, None, now)
    [ringing] = live.state["calls"]
    assert ringing["caller"] == "•••••••0199"
    assert live.state["server_now_ms"] - ringing["since_ms"] == 20_000
    assert live.state["target_s"] == 18


def test_heartbeat_goes_stale_within_seconds_of_the_collector_falling_silent(app) -> None:
    ctx = _context(app)
    now = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    beat = {"site": "main-office", "last_event_at": now, "connected": True, "updated_at": now, "detail": ""}
    assert live_data.heartbeat_status(ctx, None, now)[0] == "never"
    assert live_data.heartbeat_status(ctx, beat, now + timedelta(seconds=5))[0] == "ok"
    assert live_data.heartbeat_status(ctx, beat, now + timedelta(seconds=11))[0] == "stale"
    assert live_data.heartbeat_status(ctx, {**beat, "connected": False}, now)[0] == "down"


def test_csv_cells_never_start_with_a_formula_character() -> None:
    for raw in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(raw) == "'" + raw
    assert safe_cell("reception") == "reception"
    assert safe_cell(None) == ""


def test_csv_download_is_masked_and_injection_safe(app) -> None:
    client = app.server.test_client()
    login(client)
    response = client.get(f"/download/calls.csv?start={DAY}&end={DAY}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert len(rows) == 1 + 7
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert "'" + FORMULA_QUEUE in cells and "'" + FORMULA_STAFF in cells
    assert "6175550101" not in response.text and "•••••••0101" in response.text


def test_calls_links_narrow_to_the_calls_behind_a_cell(app) -> None:
    ctx = _context(app)
    flt = data.CallFilter.from_query({"weekday": "1", "hour": "11", "outcome": "unanswered", "counted": "1"})
    with app.server.test_request_context():
        table = data.call_table(ctx, data.Range(DAY, DAY), flt)
    assert sorted(table["outcome"]) == ["abandoned", "voicemail"]


def test_follow_up_marked_handled_leaves_the_awaiting_list(app) -> None:
    ctx = _context(app)
    now = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=36)
    with app.server.test_request_context():
        before = data.awaiting_follow_ups(ctx, None, now)
        # v1 was called back at 14:00; the abandon, the missed call and the evening voicemail wait.
        assert set(before["caller_masked"]) == {"•••••••0104", "•••••••0105", "•••••••0107"}
        target = before[before["caller_masked"] == "•••••••0105"].iloc[0]
        data.mark_follow_up_handled(ctx, target["site"], target["call_id"], "frontdesk")
        after = data.awaiting_follow_ups(ctx, None, now + timedelta(minutes=1))
    assert set(after["caller_masked"]) == {"•••••••0104", "•••••••0107"}


def _periods(days: list[date]) -> pd.DataFrame:
    rows = [{"period": pd.Timestamp(d), "offered": 10, "answered": 8, "voicemail": 1, "abandoned": 1, "missed": 0,
             "within_target": 6, "answer_rate": 0.8, "within_target_rate": 0.6, "voicemail_rate": 0.1,
             "abandonment_rate": 0.1, "asa_mean_s": 9.0, "asa_median_s": 8.0, "asa_p90_s": 15.0,
             "asa_mean_rings": 2.0, "asa_median_rings": 2.0, "asa_p90_rings": 3.0} for d in days]
    return pd.DataFrame(rows, columns=["period", "offered", "answered", "voicemail", "abandoned", "missed",
                                       "within_target", "answer_rate", "within_target_rate", "voicemail_rate",
                                       "abandonment_rate", "asa_mean_s", "asa_median_s", "asa_p90_s",
                                       "asa_mean_rings", "asa_median_rings", "asa_p90_rings"])





def test_long_ranges_from_daily_rollups_match_every_call(app) -> None:
    ctx = _context(app)
    store.save_calls(ctx.engine, practice_day(DAY - timedelta(days=60)))
    short = data.Range(DAY - timedelta(days=60), DAY)
    long = data.Range(DAY - timedelta(days=200), DAY)
    with app.server.test_request_context():
        exact = data.trend(ctx, short, "week")
        summed = data.trend(ctx, long, "week")
        again = data.trend(ctx, long, "week")  # served from the per-app cache
    assert exact.exact_speed and not summed.exact_speed
    keys = ["offered", "answered", "voicemail", "abandoned", "missed", "short_abandoned", "answer_rate",
            "within_target_rate", "asa_mean_s"]
    assert {k: summed.totals[k] for k in keys} == pytest.approx({k: exact.totals[k] for k in keys})
    assert summed.closed_calls == exact.closed_calls == 2
    columns = ["period", "offered", "answered", "within_target", "voicemail_rate"]
    pd.testing.assert_frame_equal(summed.periods[columns], exact.periods[columns], check_dtype=False)
    pd.testing.assert_frame_equal(again.periods, summed.periods)


def test_training_form_stores_a_training_and_shows_its_comparison(app) -> None:
    from support.dashboard import callback_payload

    client = app.server.test_client()
    login(client)
    payload = callback_payload(
        [("training-body", "children"), ("training-added", "children")],
        [("training-add", "n_clicks", 1), ("training-office", "value", "main-office")],
        [("training-date", "value", "2026-03-02"), ("training-title", "value", "Hold music review"),
         ("training-notes", "value", "")],
    )
    payload["changedPropIds"] = ["training-add.n_clicks"]  # what the browser sends on a click
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    assert "Added Hold music review on 2026-03-02 for main-office" in response.text
    assert "Hold music review: Mon 02 Mar 2026" in response.text
    with _context(app).engine.connect() as conn:
        rows = conn.execute(store.trainings.select()).mappings().all()
    assert [(r["site"], r["title"]) for r in rows] == [("main-office", "Hold music review")]


def test_partial_weeks_are_marked_and_value_axes_pick_round_ticks() -> None:
    """A week cut by the range or not over yet is drawn open and named partial in the hover."""
    weeks = _periods([date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)])
    rng = data.Range(date(2026, 3, 4), date(2026, 3, 17))
    marked = data.mark_partial(weeks, "week", rng, today_=date(2026, 3, 17))
    assert marked["days"].tolist() == [5, 7, 2] and marked["partial"].tolist() == [True, False, True]
    fig = figures.rates_figure(marked, [], PARAMS, "week")
    assert list(fig.data[0].marker.symbol) == ["circle-open", "circle", "circle-open"]
    assert "partial week: 5 day(s) so far" in str(fig.data[0].customdata[0][2])
    assert "open markers: partial week" in fig.layout.title.text
    assert fig.layout.yaxis.tickmode == "auto"
    # The legend is above the plot, clear of the axis titles below it.
    assert fig.layout.legend.y > 1


def test_p_values_never_read_zero() -> None:
    from callwatch import formatting

    assert formatting.p_value(0.0004).endswith("< 0.001") and formatting.p_value(0.0123).endswith("0.012")
