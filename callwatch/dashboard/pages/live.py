"""Live: what the front desk needs now, and a wall-board mode (/live?wall=1).

The server refreshes the state every 2 s; the ring counters, the state
indicator and the tiles are drawn in the browser every second
(assets/live_board.js) from the ring start time (corrected for the screen's
clock being off), so a call's rings go up smoothly between refreshes and the
board notices by itself when the server stops answering.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import dash
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from plotly.io.json import to_json_plotly

from callwatch.dashboard import components as ui
from callwatch.dashboard import data, live_data, live_panels
from callwatch.metrics import loader
from callwatch.metrics.summary import summarize

dash.register_page(__name__, path="/live", name="Live", title="callwatch: live", order=0)

POLL_MS = 2000
TICK_MS = 1000
SHARE_SECONDS = 1.0  # how long one live answer is shared by the screens of an office
STALE_SECONDS = 2.0  # the ring cards tick in the browser from since_ms, so a second-old list is fine
TODAY_KEEP_SECONDS = 300.0  # "today so far" for unchanged calls (its key changes when they do)
# The week's alert list for unchanged open alerts (its key changes when one fires or clears); a
# notification's outcome is written just after the alert, so it shows within this long.
ALERT_LOG_KEEP_SECONDS = 15.0

MIN_CALLS_TO_JUDGE = 5  # today's rates say "falling behind" only once this many calls were offered
MAX_CARDS = 4  # ring cards per column on the board; the rest are counted ("+ 3 more")


def layout(wall: str | None = None, site: str | None = None, **_: Any) -> html.Div:
    """The front desk's live view of one office (?site=, default the configured one; ?site=all pools them).

    ?wall=1 is the wall board: no navigation, one screen, big type, for a TV.
    """
    is_wall = wall not in (None, "", "0")
    ctx = data.context()
    office = live_data.office(ctx, site)
    sites, _queues = data.filter_options(ctx)
    query = {"site": site} if site else {}
    switch = (dcc.Link("Leave wall-board mode", href="/live" + _query(query)) if is_wall
              else dcc.Link("Wall-board mode (full screen, big type)", href="/live" + _query({**query, "wall": "1"})))
    p = ctx.params
    return html.Div(
        [
            html.Div(id="live-conn", **ui.aria(live="polite")),
            html.Div(id="live-banner"),
            html.Div([
                html.H1([f"Front desk, live: {live_data.office_name(office)}",
                         html.Span(id="live-clock", className="clock")]),
                html.Div(id="wall-state", role="status", className="state-slot"),
            ], className="live-head"),
            # Open alerts, drawn by assets/live_board.js: their sentences in large type, a flash when one fires.
            html.Div(id="live-alerts", className="alert-slot", **ui.aria(live="assertive")),
            html.Div(ui.office_picker("live-office", sites, office, all_label="all offices pooled"),
                     className="filters live-detail") if not is_wall else None,
            html.Div(id="live-counts", className="tiles"),
            html.Div([
                html.Section([html.H2("Ringing now"), html.Div(id="live-ringing", className="ringing")]),
                html.Section([html.H2("Waiting in a queue"), html.Div(id="live-queued", className="ringing")]),
            ], className="live-cards"),
            html.Div([
                html.P([f"Rings of {p.ring_cycle_seconds:g} s; target: answer within {p.target_rings} rings "
                        f"({p.target_seconds:g} s). A card says LAST RING on the last ring inside the target and "
                        f"PAST TARGET after it; a queued caller waiting over {p.target_seconds:g} s is flagged. "
                        f"Times in {p.timezone}. ", switch], className="lead"),
                html.H2("Today so far"),
                html.Div(id="live-today"),
                html.H2("Last calls"),
                html.Div(id="live-last", className="card"),
                html.H2("Alerts, last 7 days"),
                html.Div(id="live-alert-log", className="card"),
            ], className="live-detail"),
            dcc.Store(id="live-site", data=office),
            dcc.Store(id="live-url"),
            dcc.Store(id="live-state"),
            dcc.Store(id="live-seen"),  # digests of the panels on screen, to skip resending them
            dcc.Interval(id="live-poll", interval=POLL_MS),
            dcc.Interval(id="live-tick", interval=TICK_MS),
        ],
        className="wall" if is_wall else "live",
    )


def _query(items: dict[str, str]) -> str:
    return "?" + urlencode(items) if items else ""


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output("live-state", "data"),
        Output("live-banner", "children"),
        Output("live-today", "children"),
        Output("live-last", "children"),
        Output("live-clock", "children"),
        Output("live-alert-log", "children"),
        Output("live-seen", "data"),
        Input("live-poll", "n_intervals"),
        Input("live-site", "data"),
        State("live-seen", "data"),
    )
    def refresh(_n: int | None, office: str | None, seen: list[str | None] | None) -> tuple[Any, ...]:
        ctx = data.context()
        office = live_data.office(ctx, office)
        now = datetime.now(UTC)
        # Every screen of one office asks this each 2 s: one computation per
        # office and second serves them all (cache on this app's context);
        # while one request recomputes, the others get the previous answer.
        state, parts, digests = ctx.shared.get(
            ("live", office), SHARE_SECONDS, lambda: _payload(ctx, office, now), stale=STALE_SECONDS
        )
        # The browser corrects its clock from server_now_ms, so that one is this request's own.
        state = {**state, "server_now_ms": int(now.timestamp() * 1000)}
        # Panels this screen already shows are not sent again (nor re-rendered).
        if dash.ctx.triggered_id == "live-site":
            seen = None  # another office: every panel is new
        seen = seen if isinstance(seen, list) and len(seen) == len(parts) else [None] * len(parts)
        updates = [dash.no_update if old == new else part for part, old, new in zip(parts, seen, digests, strict=True)]
        return state, *updates, digests

    app.clientside_callback(
        ClientsideFunction("callwatch", "tick"),  # assets/live_board.js
        Output("live-ringing", "children"),
        Output("live-queued", "children"),
        Output("wall-state", "children"),
        Output("live-counts", "children"),
        Output("live-conn", "children"),
        Output("live-alerts", "children"),
        Input("live-tick", "n_intervals"),
        Input("live-state", "data"),
    )
    # The office picker changes the office shown and the URL (a bookmark keeps it); "all" pools them.
    app.clientside_callback(
        """function(office) {
            if (office === undefined) { return window.dash_clientside.no_update; }
            window.callwatchSetQuery({site: office});
            return office;
        }""",
        Output("live-site", "data"),
        Input("live-office", "value"),
        prevent_initial_call=True,
    )


def _payload(
    ctx: data.DashboardContext, office: str, now: datetime
) -> tuple[dict[str, Any], list[Any], list[str]]:
    """The live refresh for one office: ring state, [banner, today, last calls, clock, alert log], their digests."""
    site = live_data.site_filter(office)
    live = live_data.live_state(ctx, site, now)
    # "Today so far" changes only when a call is written, the follow-up
    # counts move or the first call is stored (a new install must not keep
    # its "no calls yet" page after an import): rebuild it then, not on every refresh.
    waiting = data.awaiting_follow_up_counts(ctx, site, now)
    key = ("live-today", site, data.day_fingerprint(ctx, site, now), tuple(waiting.items()), data.has_calls(ctx))
    numbers, today, last, today_digests = ctx.shared.get(
        key, TODAY_KEEP_SECONDS, lambda: _today_parts(ctx, site, now, waiting))
    status, _detail = live_data.heartbeat_status(ctx, live.heartbeat, now)
    banner = live_panels.heartbeat_banner(ctx, live.heartbeat, now)
    clock = f"{now.astimezone(ctx.params.tz):%a %d %b, %H:%M} ({ctx.params.timezone})"
    goals = ctx.settings.report.goals
    opened = loader.load_open_alerts(ctx.engine, site)
    log_key = ("live-alert-log", site, tuple(row["id"] for row in opened))
    alert_log = ctx.shared.get(log_key, ALERT_LOG_KEEP_SECONDS, lambda: _alert_log(ctx, site, now))
    state = {
        **live.state, "collector": status, "today": numbers, "min_calls": MIN_CALLS_TO_JUDGE,
        "goal_answer": goals.get("answer_rate", 0.9), "goal_within": goals.get("within_target_rate", 0.8),
        "max_cards": MAX_CARDS, "alerts": live_panels.open_alerts_state(ctx, opened),
        "chime": ctx.settings.alerts.enabled and ctx.settings.alerts.chime,
        "pooled": site is None,  # ?site=all: each alert names its office
    }
    return state, [banner, today, last, clock, alert_log], [_digest(banner), *today_digests, clock, _digest(alert_log)]


def _alert_log(ctx: data.DashboardContext, site: str | None, now: datetime) -> Any:
    rows = loader.load_recent_alerts(ctx.engine, site, now - timedelta(days=live_panels.ALERT_DAYS))
    return live_panels.alert_history(ctx, rows, pooled=site is None)


def _today_parts(
    ctx: data.DashboardContext, site: str | None, now: datetime, waiting: dict[str, int]
) -> tuple[dict[str, Any], Any, Any, list[str]]:
    calls = data.day_calls(ctx, site, now)
    s = summarize(calls, ctx.params)
    numbers = {"offered": int(s["offered"]), "answer_rate": s["answer_rate"],
               "within_target_rate": s["within_target_rate"], **waiting}
    today, last = live_panels.today_panel(ctx, site, now, calls, waiting), live_panels.last_calls(calls)
    return numbers, today, last, [_digest(today), _digest(last)]


def _digest(part: Any) -> str:
    return hashlib.blake2b(to_json_plotly(part).encode(), digest_size=12).hexdigest()
