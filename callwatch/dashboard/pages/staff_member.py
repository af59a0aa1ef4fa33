"""One staff member: their answered calls, speed of answer and share within target, against the office.

Reached from the Staffing page (a name in "Who answers", a bar of the chart)
with ?staff=<extension or name>&start=&end=&site=&queue=.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Dash, Input, Output, dcc, html

from callwatch import formatting as fmt
from callwatch.dashboard import components as ui
from callwatch.dashboard import data
from callwatch.metrics.quality import NOT_IN_EXPORT
from callwatch.metrics.staff import label
from callwatch.metrics.staff_member import staff_choices, staff_vs_office
from callwatch.metrics.summary import summarize

dash.register_page(__name__, path="/staff", name="Staff member", title="callwatch: staff member", order=7, nav=False)


def layout(start: str | None = None, end: str | None = None, site: str | None = None, queue: str | None = None,
           staff: str | None = None, **_: Any) -> html.Div:
    ctx = data.context()
    if not data.has_calls(ctx):
        return html.Div([html.H1("Staff member"), ui.new_install()])
    rng = data.parse_range(ctx, start, end, site=site, queue=queue)
    sites, queues = data.filter_options(ctx)
    picker = html.Div([html.Label("Staff member", htmlFor="staff-member"), dcc.Dropdown(
        id="staff-member", options=_options(data.prepared_calls(ctx, rng)), value=staff, clearable=False,
        placeholder="choose a person")], className="field")
    return html.Div([
        html.H1("Staff member"),
        html.P("The calls one person answered, how fast, and how often within the ring target, beside the same "
               "numbers for the whole office.", className="lead"),
        ui.filter_bar("staff", rng, sites, queues, [picker]),
        dcc.Loading(html.Div(id="staff-body")),
    ])


def _options(calls: Any) -> list[dict[str, str]]:
    return [{"label": label(ext, name), "value": ext} for ext, name in staff_choices(calls)]


def register_callbacks(app: Dash) -> None:
    ui.sync_filters(app, "staff")

    @app.callback(Output("staff-body", "children"), Input("staff-start", "value"),
                  Input("staff-end", "value"), Input("staff-site", "value"), Input("staff-queue", "value"),
                  Input("staff-member", "value"))
    def update(start: str, end: str, site: str | None, queue: str | None, staff: str | None) -> Any:
        ctx = data.context()
        return body(ctx, data.parse_range(ctx, start, end, site=site, queue=queue), staff)


def body(ctx: data.DashboardContext, rng: data.Range, staff: str | None) -> Any:
    if not staff:
        return html.P("Choose a staff member above.", className="quiet")
    calls = data.prepared_calls(ctx, rng)
    if calls.empty:
        return ui.no_calls_in_range(rng, data.latest_call_day(ctx, rng.site))
    numbers = staff_vs_office(calls, ctx.params, staff)
    names = {name for ext, name in staff_choices(calls) if ext == staff and name}
    who = " / ".join(sorted(names)) or staff
    theirs, office = numbers["staff"], numbers["office"]
    target = f"{ctx.params.target_rings} rings ({ctx.params.target_seconds:g} s)"
    rows = [
        ("answered calls", f"{theirs['answered']:,}", f"{office['answered']:,}"),
        ("share of the office's answered calls", fmt.pct(theirs["share_of_answered"]), "100.0 %"),
        ("median speed of answer", _ring(theirs, fmt.seconds(theirs["asa_median_s"])),
         _ring(office, fmt.seconds(office["asa_median_s"]))),
        ("90th percentile speed of answer", _ring(theirs, fmt.seconds(theirs["asa_p90_s"])),
         _ring(office, fmt.seconds(office["asa_p90_s"]))),
        (f"answered within {target}", _ring(theirs, fmt.pct(theirs["within_target_share"])),
         _ring(office, fmt.pct(office["within_target_share"]))),
    ]
    table = html.Table([
        html.Thead(html.Tr([html.Th("measure"), html.Th(ui.staff_name(staff, who if who != staff else None)),
                            html.Th("whole office")])),
        html.Tbody([html.Tr([html.Td(a), html.Td(b), html.Td(c)]) for a, b, c in rows]),
    ], className="simple", id="staff-compare")
    return html.Div([
        ui.ring_time_banner(summarize(calls, ctx.params), "staff-ring-time-note"),
        table,
        ui.explain("How is this calculated?", [
            "answered calls = business-hours calls this person picked up first (extension " + staff + ")",
            "speed of answer = seconds from the first ring to the answer, over answered calls with a ring time",
            f"within target = answered within {target} / answered calls with a ring time, for them and for the "
            "whole office alike",
        ], ctx.params, "/calls" + rng.query(staff=staff, outcome="answered", counted=1), "See their calls"),
    ], className="card")


def _ring(numbers: dict[str, Any], text: str) -> str:
    return text if numbers["answered_timed"] else NOT_IN_EXPORT
