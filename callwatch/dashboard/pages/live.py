"""Live: what the front desk needs now, and a wall-board mode (/live?wall=1).

The server refreshes the state every 2 s; the ring counters tick in the
browser every second from the ring start time (corrected for the screen's
clock being off), so a call's rings go up smoothly between refreshes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import dash
from dash import Dash, Input, Output, State, dcc, html
from plotly.io.json import to_json_plotly

from callwatch.dashboard import data, live_data, live_panels

dash.register_page(__name__, path="/live", name="Live", title="callwatch: live", order=0)

POLL_MS = 2000
TICK_MS = 1000
SHARE_SECONDS = 1.0  # how long one live answer is shared by the screens of an office
STALE_SECONDS = 2.0  # the ring cards tick in the browser from since_ms, so a second-old list is fine
TODAY_KEEP_SECONDS = 300.0  # "today so far" for unchanged calls (its key changes when they do)

# Renders the ringing and queued cards from the last state, once a second.
# Colours: green, amber on the last ring inside the target, red past it.
_TICK_JS = """
function(_tick, state) {
    if (!state) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
    const trig = (window.dash_clientside.callback_context.triggered || []).map(t => t.prop_id);
    if (trig.includes("live-state.data") || window.__cwSkew === undefined) {
        window.__cwSkew = state.server_now_ms - Date.now();
    }
    const now = Date.now() + window.__cwSkew;
    const el = (type, props) => ({type: type, namespace: "dash_html_components", props: props});
    const fmt = s => s >= 3600 ? Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min"
        : s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
    const ringing = [], queued = [];
    for (const c of state.calls) {
        const secs = Math.max(0, Math.floor((now - c.since_ms) / 1000));
        if (c.state === "queued") {
            queued.push(el("Div", {className: "ring-card queued", id: "queued-" + c.id, children: [
                el("Div", {className: "rings", children: fmt(secs)}),
                el("Div", {className: "secs", children: "waiting · caller " + c.caller}),
                el("Div", {className: "where", children: "queue " + (c.queue || c.where || "?")})]}));
            continue;
        }
        const rings = Math.floor(secs / state.cycle_s) + 1;
        // Hours of ringing means a stuck record or a wrong PBX clock: say so instead of "ring 13400".
        const big = secs >= 600 ? "ringing " + fmt(secs) : "ring " + rings;
        let tone = "";
        if (secs > state.target_s) { tone = " red"; }
        else if (secs >= state.target_s - state.cycle_s) { tone = " amber"; }
        ringing.push(el("Div", {className: "ring-card" + tone, id: "ringing-" + c.id, children: [
            el("Div", {className: "rings", children: big}),
            el("Div", {className: "secs", children: (secs >= 600 ? "check the PBX clock" : secs + " s") +
                                                   " · target " + state.target_rings + " rings"}),
            el("Div", {className: "where", children: "caller " + c.caller + (c.where ? " · " + c.where : "")})]}));
    }
    const none = text => el("P", {className: "quiet", children: text});
    return [ringing.length ? ringing : none("No calls ringing."),
            queued.length ? queued : none("Nobody waiting in a queue.")];
}
"""


def layout(wall: str | None = None, site: str | None = None, **_: Any) -> html.Div:
    is_wall = wall not in (None, "", "0")
    ctx = data.context()
    switch = (dcc.Link("Leave wall-board mode", href="/live") if is_wall
              else dcc.Link("Wall-board mode (full screen, big type)", href="/live?wall=1"))
    return html.Div(
        [
            html.Div(id="live-banner"),
            html.H1(["Front desk, live", html.Span(id="live-clock", className="lead", style={"marginLeft": "1rem"})]),
            html.P(["Calls ringing now, counted in rings of "
                    f"{ctx.params.ring_cycle_seconds:g} s; target: answer within {ctx.params.target_rings} rings "
                    f"({ctx.params.target_seconds:g} s). Cards turn amber on the last ring inside the target and "
                    "red once past it. ", switch], className="lead"),
            html.H2("Ringing now"),
            html.Div(id="live-ringing", className="ringing"),
            html.H2("Waiting in a queue"),
            html.Div(id="live-queued", className="ringing"),
            html.H2("Today so far"),
            html.Div(id="live-today"),
            html.H2("Last calls"),
            html.Div(id="live-last", className="card"),
            dcc.Store(id="live-site", data=site),
            dcc.Store(id="live-state"),
            dcc.Store(id="live-seen"),  # digests of the panels on screen, to skip resending them
            dcc.Interval(id="live-poll", interval=POLL_MS),
            dcc.Interval(id="live-tick", interval=TICK_MS),
        ],
        className="wall" if is_wall else "live",
    )


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output("live-state", "data"),
        Output("live-banner", "children"),
        Output("live-today", "children"),
        Output("live-last", "children"),
        Output("live-clock", "children"),
        Output("live-seen", "data"),
        Input("live-poll", "n_intervals"),
        State("live-site", "data"),
        State("live-seen", "data"),
    )
    def refresh(_n: int | None, site: str | None, seen: list[str | None] | None) -> tuple[Any, ...]:
        ctx = data.context()
        now = datetime.now(UTC)
        # Every screen of one office asks this each 2 s: one computation per
        # office and second serves them all (cache on this app's context);
        # while one request recomputes, the others get the previous answer.
        state, parts, digests = ctx.shared.get(
            ("live", site), SHARE_SECONDS, lambda: _payload(ctx, site, now), stale=STALE_SECONDS
        )
        # The browser corrects its clock from server_now_ms, so that one is this request's own.
        state = {**state, "server_now_ms": int(now.timestamp() * 1000)}
        # Panels this screen already shows are not sent again (nor re-rendered).
        seen = seen if isinstance(seen, list) and len(seen) == len(parts) else [None] * len(parts)
        updates = [dash.no_update if old == new else part for part, old, new in zip(parts, seen, digests, strict=True)]
        return state, *updates, digests

    app.clientside_callback(
        _TICK_JS,
        Output("live-ringing", "children"),
        Output("live-queued", "children"),
        Input("live-tick", "n_intervals"),
        Input("live-state", "data"),
    )


def _payload(
    ctx: data.DashboardContext, site: str | None, now: datetime
) -> tuple[dict[str, Any], list[Any], list[str]]:
    """The live refresh for one office: ring state, [banner, today, last calls, clock] and their digests."""
    live = live_data.live_state(ctx, site, now)
    # "Today so far" changes only when a call is written (or the follow-up
    # count moves): rebuild it then, not on every refresh.
    key = ("live-today", site, data.day_fingerprint(ctx, site, now), data.awaiting_follow_up_count(ctx, site, now))
    today, last, today_digests = ctx.shared.get(key, TODAY_KEEP_SECONDS, lambda: _today_parts(ctx, site, now))
    banner = live_panels.heartbeat_banner(ctx, live.heartbeat, now)
    clock = f"{now.astimezone(ctx.params.tz):%a %d %b, %H:%M}"
    return live.state, [banner, today, last, clock], [_digest(banner), *today_digests, clock]


def _today_parts(ctx: data.DashboardContext, site: str | None, now: datetime) -> tuple[Any, Any, list[str]]:
    calls = data.day_calls(ctx, site, now)
    today, last = live_panels.today_panel(ctx, site, now, calls), live_panels.last_calls(calls)
    return today, last, [_digest(today), _digest(last)]


def _digest(part: Any) -> str:
    return hashlib.blake2b(to_json_plotly(part).encode(), digest_size=12).hexdigest()
