"""Page fragments built from data: the callbacks stay a few lines each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from dash import dcc, html

from callwatch import formatting as fmt
from callwatch.dashboard import components as ui
from callwatch.dashboard import data, live_data
from callwatch.metrics.quality import NOT_IN_EXPORT
from callwatch.metrics.summary import after_hours_counts, summarize
from callwatch.model import mask_caller

LAST_CALLS = 8


def heartbeat_banner(ctx: data.DashboardContext, heartbeat: dict[str, Any] | None, now: datetime) -> Any:
    status, detail = live_data.heartbeat_status(ctx, heartbeat, now)
    if status == "ok":
        return None
    if status == "never":
        return html.Div(
            ["The live collector has not reported yet, so ringing calls cannot show here. Start it with ",
             html.Code("callwatch collect"), " (imported call logs still fill in today's numbers)."],
            className="banner stale", id="heartbeat-banner", role="alert")
    if status == "stale":
        last = heartbeat.get("updated_at") if heartbeat else None
        when = f" (last at {last.astimezone(ctx.params.tz):%H:%M:%S})" if last else ""
        return html.Div(
            f"Warning: no word from the collector for {detail}{when}. Ringing calls may be missing. "
            "Check that `callwatch collect` is running.",
            className="banner stale", id="heartbeat-banner", role="alert")
    return html.Div(
        f"Warning: the collector has lost its connection to the phone system{': ' + detail if detail else ''}. "
        "It keeps retrying; calls in the meantime are recovered from the call logs.",
        className="banner down", id="heartbeat-banner", role="alert")


def today_panel(ctx: data.DashboardContext, site: str | None, now: datetime, calls: pd.DataFrame,
                waiting: dict[str, int] | None = None) -> html.Div:
    """Today's numbers from today's prepared calls (data.day_calls); `waiting`: data.awaiting_follow_up_counts
    (read here when not given)."""
    if waiting is None:
        waiting = data.awaiting_follow_up_counts(ctx, site, now)
    s = summarize(calls, ctx.params)
    closed = after_hours_counts(calls)
    target = f"answered within {ctx.params.target_rings} rings ({ctx.params.target_seconds:g} s)"
    speed = fmt.seconds(s["asa_median_s"])
    if s["asa_median_rings"] is not None:
        speed += f" ({s['asa_median_rings']:.0f} rings)"
    speed = ui.ring_value(s, speed)
    kpis = html.Div(
        [
            ui.kpi("calls offered", f"{s['offered']:,}", title="inbound calls in business hours, minus short abandons"),
            ui.kpi("answered", fmt.pct(s["answer_rate"]), ui.rate_tone(s["answer_rate"], 0.9, 0.8),
                   title="answer rate = answered / offered"),
            ui.kpi("within target", ui.ring_value(s, fmt.pct(s["within_target_rate"])),
                   ui.rate_tone(s["within_target_rate"], 0.8, 0.6), title=f"{target} / offered calls with a ring time"),
            ui.kpi("to voicemail", f"{s['voicemail']:,}", title="voicemail calls today"),
            ui.kpi("abandoned", f"{s['abandoned']:,}",
                   title="caller hung up while it rang or waited (short abandons left out)"),
            ui.kpi("median speed of answer", speed, title="median ring time of answered calls"),
            dcc.Link(ui.kpi("to call back today", f"{waiting['due_today']:,}",
                            note=f"+ {waiting['overdue']:,} overdue" if waiting["overdue"] else "none overdue",
                            title="callers who reached voicemail, hung up or were missed, not yet called back, "
                                  "whose follow-up window closes today"),
                     href="/follow-ups" + ("?site=" + site if site else ""), id="live-awaiting"),
        ],
        className="kpis", id="live-kpis",
    )
    day = data.today(ctx.params, now)
    rng = data.Range(day, day, site)
    guidance = [ui.new_install()] if calls.empty and not data.has_calls(ctx) else []
    return html.Div([
        *guidance,
        kpis,
        ui.ring_time_banner(s, "live-ring-time-note"),
        ui.identity(s, {"calls while closed (not counted)": closed["calls"]}),
        ui.explain("How are these counted?",
                   ui.formulas(ctx.params, "offered", "answer_rate", "within_target_rate", "asa_median_s"),
                   ctx.params, "/calls" + rng.query(), "See today's calls"),
    ])


def last_calls(calls: pd.DataFrame) -> Any:
    """The latest inbound calls of today's prepared calls, newest first, callers masked."""
    calls = calls[calls["direction"] == "inbound"].sort_values("arrived_at", ascending=False).head(LAST_CALLS)
    if calls.empty:
        return html.P("No calls yet today.", className="quiet")
    head = html.Tr([html.Th(h) for h in ("time", "caller", "outcome", "rings", "answered by", "queue")])
    rows = [
        html.Tr([
            html.Td(f"{row.local_arrived:%H:%M:%S}"),
            html.Td(mask_caller(row.caller)),
            html.Td(_outcome_words(row), className=f"outcome-{row.outcome}"),
            html.Td("" if pd.isna(row.rings) else str(row.rings),
                    title="" if row.ring_known else NOT_IN_EXPORT),
            html.Td(ui.staff_name(row.answered_by, row.staff_name)),
            html.Td("" if pd.isna(row.queue) else row.queue),
        ])
        for row in calls.itertuples(index=False)
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="simple", id="live-last-table")


def _outcome_words(row: Any) -> str:
    words = str(row.outcome)
    if row.short_abandon:
        words += " (short, not counted)"
    elif row.after_hours:
        words += " (closed)"
    elif row.outcome == "voicemail" and row.left_message is True:
        words += ", left a message"
    return words


ALERT_DAYS = 7  # the Live page lists the alerts of the last week
# What each alert condition (callwatch.alerts.conditions) is called on the page.
CONDITION_WORDS = {
    "ring_past_target": "call ringing past target",
    "queue_wait": "callers waiting too long",
    "answer_rate_below_goal": "answer rate below goal",
    "missed_calls": "missed calls",
    "collector_silent": "collector silent",
}


def open_alerts_state(ctx: data.DashboardContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open alerts as the board draws them: id, sentence and when it fired (local time of the office)."""
    return [{"id": int(row["id"]), "condition": CONDITION_WORDS.get(row["condition"], row["condition"]),
             "message": row["message"], "fired": f"{row['fired_at'].astimezone(ctx.params.tz):%H:%M:%S}",
             "site": row["site"]}
            for row in rows]


def _sent_words(row: dict[str, Any], tz: Any) -> str:
    if row["notified_at"] is not None:
        return f"sent {row['notified_at'].astimezone(tz):%H:%M:%S}"
    return row["notify_error"] or "not sent"


def alert_history(ctx: data.DashboardContext, rows: list[dict[str, Any]], pooled: bool) -> Any:
    """What fired and when (loader.load_recent_alerts), newest first, as a table with a header per column."""
    if not rows:
        return html.P(f"No alerts in the last {ALERT_DAYS} days.", className="quiet", id="alert-log-empty")
    tz = ctx.params.tz
    head = ["fired", *(["office"] if pooled else []), "condition", "what happened", "cleared", "notification"]
    body = [
        html.Tr([
            html.Td(f"{row['fired_at'].astimezone(tz):%a %d %b %H:%M:%S}"),
            *([html.Td(row["site"])] if pooled else []),
            html.Td(CONDITION_WORDS.get(row["condition"], row["condition"])),
            html.Td(row["message"]),
            html.Td("▲ still open" if row["cleared_at"] is None
                    else f"{row['cleared_at'].astimezone(tz):%a %d %b %H:%M:%S}"),
            html.Td(_sent_words(row, tz)),
        ])
        for row in rows
    ]
    return html.Table([
        html.Caption(f"Alerts of the last {ALERT_DAYS} days, newest first (times in {ctx.params.timezone})"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in head])),
        html.Tbody(body),
    ], className="simple", id="alert-log-table")
