"""Follow-ups: callers who didn't reach a person and haven't heard back yet.

The list is the front desk's to-do list: most urgent first (due today, then
overdue, longest waiting first), 25 to a page, refreshed every 30 s but sent
again only when it changed. One callback serves the whole table (paging,
filters, "Mark handled", "Show number"). Numbers are masked; "Show number"
shows one caller's full number to a permitted user, to call them back, and
keeps who saw which number when (caller_reveals).
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

import dash
import flask_login
import pandas as pd
from dash import ALL, Dash, Input, Output, State, dcc, html
from plotly.io.json import to_json_plotly

from callwatch import formatting as fmt
from callwatch.dashboard import components as ui
from callwatch.dashboard import data, figures
from callwatch.metrics.summary import summarize

dash.register_page(__name__, path="/follow-ups", name="Follow-ups", title="callwatch: follow-ups", order=3)
REFRESH_MS = 30_000
PAGE_ROWS = 25
SHOW_OPTIONS = [{"label": "all waiting", "value": "all"}, {"label": "due today", "value": "due today"},
                {"label": "overdue", "value": "overdue"}]
HEADERS = ("urgency", "first call", "caller", "calls", "last outcome", "waiting", "office", "call back")


def layout(start: str | None = None, end: str | None = None, site: str | None = None, show: str | None = None,
           **_: Any) -> html.Div:
    ctx = data.context()
    if not data.has_calls(ctx):
        return html.Div([html.H1("Follow-ups"), ui.new_install()])
    rng = data.parse_range(ctx, start, end, site=site)
    sites, _queues = data.filter_options(ctx)
    window = ctx.params.follow_up_window_business_days
    return html.Div([
        html.H1("Follow-ups"),
        html.P(f"Callers who reached voicemail, hung up or were missed, and have not been called back or got "
               f"through to a person since (last {data.AWAITING_LOOKBACK_DAYS} days). The goal: a call back within "
               f"{window} business day(s). Most urgent first: due today, then overdue (longest waiting first). "
               f"Press 'Mark handled' when you reached them another way (mobile, e-mail). Times in "
               f"{ctx.params.timezone}.", className="lead"),
        html.Div([
            ui.office_picker("fu-site", sites, site or "all"),
            html.Div([html.Label("Show", htmlFor="fu-show"),
                      dcc.Dropdown(id="fu-show", options=SHOW_OPTIONS, clearable=False, searchable=False,
                                   value=show if show in ("due today", "overdue") else "all")], className="field"),
        ], className="filters"),
        html.Div([
            html.Div(id="fu-count", role="status"),
            html.Div(id="fu-list"),
            html.Div([
                html.Button("← Previous", id="fu-prev", className="pager", type="button"),
                html.Span(id="fu-page-text", className="pager-text"),
                html.Button("Next →", id="fu-next", className="pager", type="button"),
            ], className="pager-row"),
        ], className="card"),
        dcc.Store(id="fu-page", data=0),
        dcc.Store(id="fu-seen"),
        dcc.Store(id="fu-revealed", data=[]),
        dcc.Store(id="fu-url"),
        dcc.Interval(id="fu-poll", interval=REFRESH_MS),
        html.H2("How well the practice follows up"),
        ui.date_fields("fu", rng),
        dcc.Loading(html.Div(id="fu-body")),
    ])


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output("fu-list", "children"),
        Output("fu-count", "children"),
        Output("fu-page-text", "children"),
        Output("fu-page", "data"),
        Output("fu-seen", "data"),
        Output("fu-revealed", "data"),
        Input("fu-poll", "n_intervals"),
        Input("fu-site", "value"),
        Input("fu-show", "value"),
        Input("fu-prev", "n_clicks"),
        Input("fu-next", "n_clicks"),
        Input({"type": "fu-handle", "site": ALL, "call_id": ALL}, "n_clicks"),
        Input({"type": "fu-reveal", "site": ALL, "call_id": ALL}, "n_clicks"),
        State("fu-page", "data"),
        State("fu-seen", "data"),
        State("fu-revealed", "data"),
    )
    def awaiting(_n: Any, office: str | None, show: str | None, _prev: Any, _next: Any, _handle: Any,
                 _reveal: Any, page: int | None, seen: str | None, revealed: list[list[str]] | None) -> Any:
        ctx = data.context()
        site = None if office in (None, "", "all") else office
        trigger = dash.ctx.triggered_id
        user = str(flask_login.current_user.id)
        revealed = [list(k) for k in (revealed or [])]
        page = int(page or 0)
        if trigger in ("fu-site", "fu-show"):
            page, revealed = 0, []
        elif trigger == "fu-prev":
            page = max(page - 1, 0)
        elif trigger == "fu-next":
            page += 1
        now = datetime.now(UTC)
        waiting = data.awaiting_by_urgency(ctx, site, now)
        if isinstance(trigger, dict) and dash.ctx.triggered[0]["value"]:
            key = [trigger["site"], trigger["call_id"]]
            action = "handle" if trigger["type"] == "fu-handle" else "reveal"
            if key not in revealed and data.act_on_waiting(ctx, waiting, action, key[0], key[1], user):
                if action == "handle":
                    waiting = data.awaiting_by_urgency(ctx, site, now)
                else:
                    revealed.append(key)
        shown = waiting if show not in ("due today", "overdue") else waiting[waiting["urgency"] == show]
        pages = max(1, math.ceil(len(shown) / PAGE_ROWS))
        page = min(page, pages - 1)
        rows = shown.iloc[page * PAGE_ROWS:(page + 1) * PAGE_ROWS]
        table = awaiting_table(ctx, rows, revealed, data.may_see_numbers(ctx, user))
        count = count_line(waiting, len(shown), show)
        digest = _digest(table, count, page, pages)
        if digest == seen:  # an unchanged list is not sent again
            return (dash.no_update,) * 6
        return table, count, f"page {page + 1} of {pages}", page, digest, revealed

    # The office and the filter go into the URL, so a bookmark or a menu link keeps them.
    app.clientside_callback(
        """function(site, show) {
            window.callwatchSetQuery({site: site === "all" ? null : site, show: show === "all" ? null : show});
            return null;
        }""",
        Output("fu-url", "data"),
        Input("fu-site", "value"),
        Input("fu-show", "value"),
    )
    ui.sync_dates(app, "fu")

    @app.callback(
        Output("fu-body", "children"),
        Input("fu-start", "value"),
        Input("fu-end", "value"),
        Input("fu-site", "value"),
    )
    def history(start: str, end: str, office: str | None) -> Any:
        ctx = data.context()
        site = None if office in (None, "", "all") else office
        return body(ctx, data.parse_range(ctx, start, end, site=site), datetime.now(UTC))


def _digest(*parts: Any) -> str:
    return hashlib.blake2b(to_json_plotly(list(parts)).encode(), digest_size=12).hexdigest()


def count_line(waiting: pd.DataFrame, shown: int, show: str | None) -> str:
    counts = waiting["urgency"].value_counts()
    parts = f"{counts.get('due today', 0):,} due today, {counts.get('overdue', 0):,} overdue, " \
            f"{counts.get('later', 0):,} due later"
    what = "" if show in (None, "all") else f"; showing the {shown:,} {show}"
    return f"{len(waiting):,} caller(s) waiting: {parts}{what}."


def _waited(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h" if hours >= 1 else f"{seconds / 60:.0f} min"


_URGENCY_WORDS = {"due today": "◆ due today", "overdue": "▲ overdue", "later": "● later"}


def awaiting_table(ctx: data.DashboardContext, rows: pd.DataFrame, revealed: list[list[str]],
                   may_see: bool) -> Any:
    """One page of the list; every column headed, one row per waiting caller."""
    if rows.empty:
        return html.P("Nobody is waiting for a call back here.", className="quiet", id="fu-none")
    tz = ctx.params.tz
    head = html.Tr([html.Th(h, scope="col") for h in HEADERS])
    body = []
    for row in rows.itertuples(index=False):
        outcome = row.last_outcome + (", left a message" if row.left_message else "")
        key = {"site": row.site, "call_id": row.call_id}
        shown = [row.site, row.call_id] in revealed
        caller: Any = html.A(row.caller, href=f"tel:{row.caller}") if shown else row.caller_masked
        actions = [html.Button("Mark handled", className="handle", type="button", id={"type": "fu-handle", **key},
                               **ui.aria(label=f"Mark handled: caller {row.caller_masked}"))]
        if may_see and not shown:
            actions.insert(0, html.Button("Show number", className="reveal", type="button",
                                          id={"type": "fu-reveal", **key},
                                          **ui.aria(label=f"Show number of caller {row.caller_masked}")))
        body.append(html.Tr([
            html.Td(_URGENCY_WORDS.get(row.urgency, row.urgency), className=f"urgency-{row.urgency.replace(' ', '-')}"),
            html.Td(f"{row.first_arrived_at.astimezone(tz):%a %d %b %H:%M}"),
            html.Td(caller),
            html.Td(str(row.calls)),
            html.Td(outcome),
            html.Td(_waited(row.waiting_seconds)),
            html.Td(row.site),
            html.Td(actions, className="actions"),
        ]))
    return html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="simple", id="fu-table"),
                    className="scroll")


def body(ctx: data.DashboardContext, rng: data.Range, now: datetime) -> Any:
    calls = data.prepared_calls(ctx, rng)
    if calls.empty:
        return ui.no_calls_in_range(rng, data.latest_call_day(ctx, rng.site))
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
