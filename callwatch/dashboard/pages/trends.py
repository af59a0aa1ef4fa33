"""Trends: how calls were handled per day or week, with training dates marked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html

from callwatch.dashboard import components as ui
from callwatch.dashboard import data, figures

dash.register_page(__name__, path="/trends", name="Trends", title="callwatch: trends", order=1)


def layout(start: str | None = None, end: str | None = None, site: str | None = None, queue: str | None = None,
           granularity: str = "day", **_: Any) -> html.Div:
    ctx = data.context()
    if not data.has_calls(ctx):
        return html.Div([html.H1("Trends"), ui.new_install()])
    rng = data.parse_range(ctx, start, end, data.DEFAULT_DAYS, site, queue)
    sites, queues = data.filter_options(ctx)
    period = html.Div([html.Label("Per", htmlFor="trends-granularity"), dcc.Dropdown(
        id="trends-granularity", options=[{"label": "day", "value": "day"}, {"label": "week", "value": "week"}],
        value="week" if granularity == "week" else "day", clearable=False, searchable=False)], className="field")
    return html.Div([
        html.H1("Trends"),
        html.P("How inbound calls in business hours were handled over time. Dashed purple lines mark staff "
               "training dates; hover a point for its formula and counts, click it for the calls behind it."
               f" Days and hours in {ctx.params.timezone}.",
               className="lead"),
        ui.filter_bar("trends", rng, sites, queues, [period]),
        dcc.Loading(html.Div(id="trends-body")),
        html.Div(id="trends-click", className="explain"),
    ])


def register_callbacks(app: Dash) -> None:
    ui.sync_filters(app, "trends")
    @app.callback(
        Output("trends-body", "children"),
        Input("trends-start", "value"),
        Input("trends-end", "value"),
        Input("trends-site", "value"),
        Input("trends-queue", "value"),
        Input("trends-granularity", "value"),
    )
    def update(start: str, end: str, site: str | None, queue: str | None, granularity: str) -> Any:
        ctx = data.context()
        return body(ctx, data.parse_range(ctx, start, end, data.DEFAULT_DAYS, site, queue), granularity)

    @app.callback(
        Output("trends-click", "children"),
        Input("trends-rates", "clickData"),
        Input("trends-speed", "clickData"),
        State("trends-start", "value"),
        State("trends-end", "value"),
        State("trends-site", "value"),
        State("trends-queue", "value"),
        State("trends-granularity", "value"),
        prevent_initial_call=True,
    )
    def clicked(rates: Any, speed: Any, start: str, end: str, site: str | None, queue: str | None,
                granularity: str) -> Any:
        ctx = data.context()
        point = rates if dash.ctx.triggered_id == "trends-rates" else speed
        return click_link(data.parse_range(ctx, start, end, data.DEFAULT_DAYS, site, queue), point, granularity)


def body(ctx: data.DashboardContext, rng: data.Range, granularity: str) -> Any:
    found = data.trend(ctx, rng, granularity)
    if found is None:
        return ui.no_calls_in_range(rng, data.latest_call_day(ctx, rng.site))
    periods = found.periods
    marks = data.training_marks(ctx, rng.site)
    href = "/calls" + rng.query()
    speed_note = [] if found.exact_speed else [
        f"over more than {data.RAW_RANGE_DAYS} days the chart is built from daily totals, which give the mean "
        "exactly but not the median or 90th percentile; pick a shorter range to see those"]
    return html.Div([
        ui.identity(found.totals, {"calls while closed (not counted)": found.closed_calls}),
        ui.ring_time_banner(found.totals, "trends-ring-time-note"),
        html.Div([
            dcc.Graph(id="trends-rates", figure=figures.rates_figure(
                periods, marks, ctx.params, granularity, ctx.settings.report.goal_by_metric)),
            ui.explain("How is this calculated?", [
                *ui.formulas(ctx.params, "offered", "answer_rate", "voicemail_rate", "abandonment_rate",
                             "within_target_rate"),
                "dotted lines: the practice's goals (report.goals in callwatch.yaml)",
                f"{'weeks start on Monday; ' if granularity == 'week' else ''}"
                f"training dates: {', '.join(f'{m.day:%d %b %Y} ({m.title})' for m in marks) or 'none yet'}",
            ], ctx.params, href),
        ], className="card"),
        html.Div([
            dcc.Graph(id="trends-speed", figure=figures.speed_figure(periods, marks, ctx.params, granularity)),
            ui.explain("How is this calculated?", [
                *ui.formulas(ctx.params, "asa_median_s", "asa_p90_s", "asa_median_rings"),
                "median = half the calls were answered faster; 90th percentile = 9 in 10 were answered faster",
                f"the orange line is the target: {ctx.params.target_rings} rings = {ctx.params.target_seconds:g} s",
                *speed_note,
            ], ctx.params, href + "&outcome=answered"),
        ], className="card"),
    ])


def click_link(rng: data.Range, click: dict[str, Any] | None, granularity: str) -> Any:
    if not click or not click.get("points"):
        return None
    day = pd.Timestamp(click["points"][0]["x"]).date()
    last = day + timedelta(days=6) if granularity == "week" else day
    query = data.Range(day, last, rng.site, rng.queue).query()
    label = f"week of {day:%d %b %Y}" if granularity == "week" else f"{day:%a %d %b %Y}"
    return dcc.Link(f"Show the calls of {label} →", href="/calls" + query, id="trends-click-link")
