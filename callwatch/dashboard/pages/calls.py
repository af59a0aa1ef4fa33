"""Calls: the records behind every number, filterable, with a CSV download.

Charts link here with query parameters (start, end, site, queue, outcome,
weekday, hour, staff, counted=1), so "12 abandoned" opens those 12 calls.
Clicking a call opens "Why these values?": the PBX's own lines behind that
record and the reason for each field, through the explainer the CLI gave the
app (data.DashboardContext.explain), caller numbers masked.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Dash, Input, Output, State, dash_table, dcc, html

from callwatch.dashboard import components as ui
from callwatch.dashboard import data
from callwatch.dashboard.figures import WEEKDAY_NAMES
from callwatch.metrics.summary import summarize

dash.register_page(__name__, path="/calls", name="Calls", title="callwatch: calls", order=5)

OUTCOME_OPTIONS = [
    {"label": "answered", "value": "answered"},
    {"label": "voicemail", "value": "voicemail"},
    {"label": "abandoned", "value": "abandoned"},
    {"label": "missed", "value": "missed"},
    {"label": "not answered (voicemail, abandoned or missed)", "value": "unanswered"},
]
PAGE_SIZE = 50
MAX_ROWS = 2000


def layout(**query: Any) -> html.Div:
    ctx = data.context()
    if not data.has_calls(ctx):
        return html.Div([html.H1("Calls"), ui.new_install()])
    rng = data.parse_range(ctx, query.get("start"), query.get("end"), site=query.get("site"), queue=query.get("queue"))
    flt = data.CallFilter.from_query(query)
    sites, queues = data.filter_options(ctx)
    extra = [
        ui.labelled_dropdown("calls-outcome", "Outcome", OUTCOME_OPTIONS, flt.outcome, "any outcome"),
        html.Div([html.Label("Answered by", htmlFor="calls-staff"),
                  dcc.Input(id="calls-staff", value=flt.staff or "", debounce=True, placeholder="extension or name")],
                 className="field"),
        html.Div([html.Label("Counted in offered", htmlFor="calls-counted"),
                  dcc.Dropdown(id="calls-counted", value=["counted"] if flt.counted else [], multi=True,
                               searchable=False, placeholder="any call",
                               options=[{"label": "only calls counted in offered", "value": "counted"}])],
                 className="field"),
    ]
    return html.Div([
        html.H1("Calls"),
        html.P("Every inbound call in the range, newest first. Caller numbers are masked to the last 4 digits. "
               "'counted' says whether the call is part of offered (business hours, not a short abandon). "
               "'ring time' says how the phone system knew how long it rang: exact, derived from whole-second "
               "times, or not in this export (a call log without answer times: no rings or ring seconds)."
               f" Days and hours in {ctx.params.timezone}.",
               className="lead"),
        ui.filter_bar("calls", rng, sites, queues, extra),
        dcc.Store(id="calls-slot", data={"weekday": flt.weekday, "hour": flt.hour}),
        html.Div(id="calls-summary", className="explain"),
        html.A("Download these calls as CSV", id="calls-download", href="#", className="explain"),
        # dash_table builds its components when imported, so mypy cannot see DataTable.
        dcc.Loading(dash_table.DataTable(  # type: ignore[attr-defined]
            id="calls-table", columns=[{"name": c.replace("_", " "), "id": c} for c in data.TABLE_COLUMNS],
            page_size=PAGE_SIZE, sort_action="native",
            style_table={"overflowX": "auto"}, style_cell={"fontFamily": "system-ui", "fontSize": "0.85rem"},
        )),
        html.Section([
            html.H2("Why these values?"),
            html.Div("Click a call in the table to see the phone system's own lines behind it and why each "
                     "field has its value.", id="calls-explain", className="quiet"),
        ], className="explain"),
    ])


def register_callbacks(app: Dash) -> None:
    ui.sync_filters(app, "calls")
    @app.callback(
        Output("calls-table", "data"),
        Output("calls-summary", "children"),
        Output("calls-download", "href"),
        Input("calls-start", "value"),
        Input("calls-end", "value"),
        Input("calls-site", "value"),
        Input("calls-queue", "value"),
        Input("calls-outcome", "value"),
        Input("calls-staff", "value"),
        Input("calls-counted", "value"),
        State("calls-slot", "data"),
    )
    def update(start: str, end: str, site: str | None, queue: str | None, outcome: str | None, staff: str | None,
               counted: list[str], slot: dict[str, Any]) -> tuple[Any, ...]:
        ctx = data.context()
        rng = data.parse_range(ctx, start, end, data.DEFAULT_DAYS, site, queue)
        extra = {"outcome": outcome, "staff": staff, "counted": "1" if counted else None, **(slot or {})}
        flt = data.CallFilter.from_query({k: v for k, v in extra.items() if v is not None})
        calls = data.prepared_calls(ctx, rng)
        table = data.call_rows(calls, flt)
        totals = summarize(calls, ctx.params)
        summary = [describe(rng, flt, len(table)), html.Div(["All calls in these dates: ", ui.identity(totals)]),
                   ui.ring_time_banner(totals, "calls-ring-time-note")]
        if len(table) > MAX_ROWS:  # a month of a busy group would be megabytes in the browser
            summary.insert(1, html.Div(f"Showing the newest {MAX_ROWS:,}; narrow the filters, or download the CSV "
                                       "for all of them.", className="quiet"))
            table = table.head(MAX_ROWS)
        records = table.astype(object).where(table.notna(), None).to_dict("records")
        for record in records:  # a clicked cell names its row by this id (sorting moves rows)
            record["id"] = row_id(record["site"], record["call_id"])
        return records, summary, "/download/calls.csv" + rng.query(**{k: v for k, v in extra.items() if v is not None})


    @app.callback(Output("calls-explain", "children"), Input("calls-table", "active_cell"),
                  prevent_initial_call=True)
    def explain(cell: dict[str, Any] | None) -> Any:
        if not cell or not cell.get("row_id"):
            return dash.no_update
        site, _, call_id = str(cell["row_id"]).partition(ROW_ID_SEPARATOR)
        return explanation(data.context(), site, call_id)


ROW_ID_SEPARATOR = "\x1f"


def row_id(site: str, call_id: str) -> str:
    return f"{site}{ROW_ID_SEPARATOR}{call_id}"


def explanation(ctx: data.DashboardContext, site: str, call_id: str) -> html.Div:
    """One call's explanation (masked by the explainer), or why none can be shown."""
    if ctx.explain is None:
        return html.Div(
            "No explainer is available in this dashboard: it was started without one (run it with "
            "`callwatch dashboard`, or gunicorn with 'callwatch.cli.dashboard:create_server()'). "
            f"`callwatch calls --explain {call_id}` prints the same on the server.", className="quiet")
    lines = ctx.explain(ctx.engine, site, call_id)
    return html.Div([html.P(f"Call {call_id} ({site}):"),
                     html.Pre("\n".join(lines), id="calls-explain-text", style={"overflowX": "auto"})])


def describe(rng: data.Range, flt: data.CallFilter, count: int) -> str:
    parts = [f"{count:,} calls from {rng.first:%d %b %Y} to {rng.last:%d %b %Y}"]
    if flt.weekday is not None:
        parts.append(f"on {WEEKDAY_NAMES[flt.weekday]}s")
    if flt.hour is not None:
        parts.append(f"between {flt.hour:02d}:00 and {flt.hour + 1:02d}:00")
    for label, value in (("site", rng.site), ("queue", rng.queue), ("outcome", flt.outcome),
                         ("answered by", flt.staff)):
        if value:
            parts.append(f"{label} {value}")
    if flt.counted:
        parts.append("counted in offered only")
    return ", ".join(parts)
