"""Staffing: when callers don't get through, how busy each hour is, and who answers."""

from __future__ import annotations

from typing import Any

import dash
from dash import Dash, Input, Output, State, dcc, html

from callwatch import formatting as fmt
from callwatch.dashboard import components as ui
from callwatch.dashboard import data, figures
from callwatch.metrics.staff import label
from callwatch.metrics.summary import NONE_LABEL

dash.register_page(__name__, path="/staffing", name="Staffing", title="callwatch: staffing", order=2)


def layout(start: str | None = None, end: str | None = None, site: str | None = None, queue: str | None = None,
           **_: Any) -> html.Div:
    ctx = data.context()
    if not data.has_calls(ctx):
        return html.Div([html.H1("Staffing"), ui.new_install()])
    rng = data.parse_range(ctx, start, end, data.DEFAULT_DAYS, site, queue)
    sites, queues = data.filter_options(ctx)
    return html.Div([
        html.H1("Staffing"),
        html.P("Where the front desk needs more hands: the hours when callers reach voicemail or give up, how many "
               "calls each hour brings, and who answers them how fast. Click a cell or bar for its calls."
               f" Days and hours in {ctx.params.timezone}.",
               className="lead"),
        ui.filter_bar("staffing", rng, sites, queues),
        dcc.Loading(html.Div(id="staffing-body")),
        html.Div(id="staffing-click", className="explain"),
    ])


def register_callbacks(app: Dash) -> None:
    ui.sync_filters(app, "staffing")
    filters = [Input("staffing-start", "value"), Input("staffing-end", "value"),
               Input("staffing-site", "value"), Input("staffing-queue", "value")]

    @app.callback(Output("staffing-body", "children"), *filters)
    def update(start: str, end: str, site: str | None, queue: str | None) -> Any:
        ctx = data.context()
        return body(ctx, data.parse_range(ctx, start, end, data.DEFAULT_DAYS, site, queue))

    @app.callback(
        Output("staffing-click", "children"),
        Input("staffing-heatmap", "clickData"), Input("staffing-hours", "clickData"),
        Input("staffing-staff", "clickData"),
        *[State(i.component_id, i.component_property) for i in filters],
        prevent_initial_call=True,
    )
    def clicked(heat: Any, hours: Any, staff: Any, start: str, end: str, site: str | None,
                queue: str | None) -> Any:
        ctx = data.context()
        click = {"staffing-heatmap": heat, "staffing-hours": hours, "staffing-staff": staff}[dash.ctx.triggered_id]
        return click_link(data.parse_range(ctx, start, end, site=site, queue=queue), dash.ctx.triggered_id, click)


def body(ctx: data.DashboardContext, rng: data.Range) -> Any:
    numbers = data.staffing_numbers(ctx, rng)
    if numbers is None:
        return ui.no_calls_in_range(rng, data.latest_call_day(ctx, rng.site))
    p = ctx.params
    totals = numbers.totals
    staff = numbers.staff
    staff = staff[staff["answered_by"] != NONE_LABEL]
    # The chart's axis reads "Ann Lee (201)"; the table below shows the extension in small type.
    staff = staff.assign(staff=[label(e, n) for e, n in zip(staff["answered_by"], staff["staff_name"], strict=True)])
    href = "/calls" + rng.query(counted=1)
    return html.Div([
        ui.identity(totals),
        ui.ring_time_banner(totals, "staffing-ring-time-note"),
        html.Div([
            dcc.Graph(id="staffing-heatmap", figure=figures.missed_heatmap(numbers.weekday_hour, p)),
            ui.explain("How is this calculated?", [
                "each cell = calls in that weekday and hour that reached voicemail, were abandoned or were missed "
                "(offered calls only: business hours, short abandons left out)",
                "a dark cell in opening hours is a time to add cover or move breaks",
            ], p, href + "&outcome=unanswered", "See the unanswered calls"),
        ], className="card"),
        html.Div([
            html.Div([
                dcc.Graph(id="staffing-hours", figure=figures.volume_by_hour(numbers.hour, p),
                          config={"displayModeBar": False}),
                ui.explain("How is this calculated?", [
                    "bars = offered calls that arrived in each hour of the day over the whole range, by outcome",
                ], p, href),
            ], className="card"),
            html.Div([
                dcc.Graph(id="staffing-staff", figure=figures.staff_figure(staff, p), config={"displayModeBar": False}),
                ui.explain("How is this calculated?", [
                    "answered calls = calls this extension or queue member picked up first",
                    "median ring time = half of their answered calls rang for less than this",
                    "unanswered calls belong to nobody and are not shown here",
                    "names come from the staff: list in callwatch.yaml, else from the phone system",
                ], p, href + "&outcome=answered"),
            ], className="card"),
        ], className="grid2"),
        html.Div([html.H2("Who answers"), staff_table(staff, rng)], className="card"),
    ])


def staff_table(staff: Any, rng: data.Range) -> html.Table:
    """One row per person: name (extension in small type), answered calls, median speed, share within target."""
    head = html.Tr([html.Th(h) for h in ("staff member", "answered", "median speed of answer", "within target")])
    rows = []
    for row in staff.sort_values("answered", ascending=False).itertuples(index=False):
        timed = int(row.answered_timed)
        within = (f"{row.within_target_rate:.0%}" if timed else "ring time: not in this export")
        rows.append(html.Tr([
            html.Td(dcc.Link(ui.staff_name(row.answered_by, row.staff_name or None),
                             href="/staff" + rng.query(staff=row.answered_by))),
            html.Td(f"{int(row.answered):,}"),
            html.Td(fmt.seconds(None if row.asa_median_s != row.asa_median_s else float(row.asa_median_s))
                    if timed else "ring time: not in this export"),
            html.Td(within),
        ]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="simple", id="staffing-staff-table")


def click_link(rng: data.Range, source: str, click: dict[str, Any] | None) -> Any:
    if not click or not click.get("points"):
        return None
    point = click["points"][0]
    if source == "staffing-heatmap":
        weekday = figures.WEEKDAY_NAMES.index(point["y"])
        hour = int(str(point["x"])[:2])
        query, words = rng.query(weekday=weekday, hour=hour, outcome="unanswered", counted=1), (
            f"unanswered calls on {point['y']}s {hour:02d}:00–{hour + 1:02d}:00")
    elif source == "staffing-hours":
        hour = int(str(point["x"])[:2])
        query, words = rng.query(hour=hour, counted=1), f"calls {hour:02d}:00–{hour + 1:02d}:00"
    else:
        who = str(point.get("customdata") or point["x"])
        return dcc.Link(f"Show {point['x']}: their calls and speed against the office →",
                        href="/staff" + rng.query(staff=who), id="staffing-click-link")
    return dcc.Link(f"Show the {words} →", href="/calls" + query, id="staffing-click-link")
