"""Follow-ups: callers who didn't reach a person and haven't heard back yet.

The list is live (refreshed every 30 s) and one click marks a caller handled
(stored in follow_up_handled with who and when), for call-backs the phone
system cannot see, such as from a mobile.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash
import flask_login
from dash import ALL, Dash, Input, Output, dcc, html

from callwatch import formatting as fmt
from callwatch.dashboard import components as ui
from callwatch.dashboard import data, figures
from callwatch.metrics.summary import summarize

dash.register_page(__name__, path="/follow-ups", name="Follow-ups", title="callwatch: follow-ups", order=3)
REFRESH_MS = 30_000


def layout(start: str | None = None, end: str | None = None, site: str | None = None, **_: Any) -> html.Div:
    ctx = data.context()
    if not data.has_calls(ctx):
        return html.Div([html.H1("Follow-ups"), ui.new_install()])
    rng = data.parse_range(ctx, start, end, 56, site)
    sites, _queues = data.filter_options(ctx)
    window = ctx.params.follow_up_window_business_days
    return html.Div([
        html.H1("Follow-ups"),
        html.P(f"Callers who reached voicemail, hung up or were missed, and have not been called back or got "
               f"through to a person since. The goal: a call back within {window} business day(s). Oldest first. "
               "Press 'Mark handled' when you reached them another way (mobile, e-mail).", className="lead"),
        html.H2(f"Awaiting follow-up (last {data.AWAITING_LOOKBACK_DAYS} days)"),
        html.Div(id="fu-list", className="card"),
        dcc.Interval(id="fu-poll", interval=REFRESH_MS),
        html.H2("How well the practice follows up"),
        html.Div([
            html.Div([html.Label("Dates (practice-local)"), dcc.DatePickerRange(
                id="fu-range", start_date=rng.first.isoformat(), end_date=rng.last.isoformat(),
                display_format="D MMM YYYY", first_day_of_week=1)], className="field"),
            html.Div([html.Label("Site"), dcc.Dropdown(
                id="fu-site", options=[{"label": s, "value": s} for s in sites], value=rng.site,
                placeholder="all sites")], className="field"),
        ], className="filters"),
        dcc.Loading(html.Div(id="fu-body")),
    ])


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output("fu-list", "children"),
        Input("fu-poll", "n_intervals"),
        Input({"type": "fu-handle", "site": ALL, "call_id": ALL}, "n_clicks"),
        Input("fu-site", "value"),
    )
    def awaiting(_n: int | None, _clicks: list[int | None], site: str | None) -> Any:
        ctx = data.context()
        trigger = dash.ctx.triggered_id
        if isinstance(trigger, dict) and dash.ctx.triggered[0]["value"]:
            data.mark_follow_up_handled(ctx, trigger["site"], trigger["call_id"], flask_login.current_user.id)
        return awaiting_table(ctx, site, datetime.now(UTC))

    @app.callback(
        Output("fu-body", "children"),
        Input("fu-range", "start_date"),
        Input("fu-range", "end_date"),
        Input("fu-site", "value"),
    )
    def history(start: str, end: str, site: str | None) -> Any:
        ctx = data.context()
        return body(ctx, data.parse_range(ctx, start, end, 56, site), datetime.now(UTC))


def _waited(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h" if hours >= 1 else f"{seconds / 60:.0f} min"


def awaiting_table(ctx: data.DashboardContext, site: str | None, now: datetime) -> Any:
    waiting = data.awaiting_follow_ups(ctx, site, now)
    if waiting.empty:
        return html.P("Nobody is waiting for a call back. 🎉", className="quiet", id="fu-none")
    tz = ctx.params.tz
    head = html.Tr([html.Th(h) for h in ("first call", "caller", "calls", "last outcome", "waiting", "", "site", "")])
    rows = []
    for row in waiting.itertuples(index=False):
        outcome = row.last_outcome + (", left a message" if row.left_message else "")
        rows.append(html.Tr([
            html.Td(f"{row.first_arrived_at.astimezone(tz):%a %d %b %H:%M}"),
            html.Td(row.caller_masked),
            html.Td(str(row.calls)),
            html.Td(outcome, className=f"outcome-{row.last_outcome}"),
            html.Td(_waited(row.waiting_seconds)),
            html.Td("overdue" if row.overdue else "", className="outcome-abandoned"),
            html.Td(row.site),
            html.Td(html.Button("Mark handled", className="handle",
                                id={"type": "fu-handle", "site": row.site, "call_id": row.call_id})),
        ]))
    return html.Div([
        html.P(f"{len(waiting)} caller(s) waiting; 'overdue' means the {ctx.params.follow_up_window_business_days} "
               "business-day window has passed.", className="explain"),
        html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className="simple", id="fu-table"),
                 className="scroll"),
    ])


def body(ctx: data.DashboardContext, rng: data.Range, now: datetime) -> Any:
    calls = data.prepared_calls(ctx, rng)
    if calls.empty:
        return ui.no_calls_in_range(rng)
    total, weekly = data.follow_up_weeks(ctx, calls, now)
    window = ctx.params.follow_up_window_business_days
    median = total["median_follow_up_seconds"]
    line = (f"{total['needing']:,} calls needed a follow-up: {total['followed_up']:,} followed up within {window} "
            f"business day(s) ({total['called_back']:,} called back, {total['got_through']:,} got through later), "
            f"{total['not_followed_up']:,} not, {total['pending']:,} still inside their window · follow-up rate "
            f"{fmt.pct(total['follow_up_rate'])} · median time "
            f"{'–' if median is None else _waited(median)}")
    return html.Div([
        ui.identity(summarize(calls, ctx.params)),
        html.Div(line, className="identity", id="fu-summary"),
        html.Div([
            dcc.Graph(id="fu-figure", figure=figures.follow_up_figure(weekly)),
            ui.explain("How is this calculated?", [
                "needing a follow-up = inbound calls that went to voicemail, were abandoned or missed (any hour, "
                "short abandons left out), with a caller number",
                f"followed up = the practice called that number, or the caller reached a person, before the end of "
                f"the {window}th business day after the call (numbers matched on their last 10 digits)",
                "follow-up rate = followed up / decided (calls whose window is still open are left out)",
                "time to follow-up = from the missed call to that contact; the line shows the weekly median",
            ], ctx.params, "/calls" + rng.query(outcome="unanswered"), "See the unanswered calls"),
        ], className="card"),
    ])
