"""Group: every office sharing this database, side by side, one week at a time.

For the manager of several practices: which office answered best this week,
which worst, and how each moved since last week. The numbers come from
metrics.group.compare_sites; this page only lays them out. No callbacks: the
week is in the URL (/group?week=2026-03-02), so a link to a week can be shared.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from callwatch import formatting as fmt
from callwatch.dashboard import components as ui
from callwatch.dashboard import data, figures
from callwatch.metrics.group import compare_sites, group_summary, week_bounds

dash.register_page(__name__, path="/group", name="Group", title="callwatch: group of offices", order=6)

# Read a little past the week so a call missed on Friday can still find Monday's call-back.
_FOLLOW_UP_DAYS_AFTER = 14


def layout(week: str | None = None, **_: Any) -> html.Div:
    ctx = data.context()
    if not data.has_calls(ctx):
        return html.Div([html.H1("Group"), ui.new_install()])
    today = data.today(ctx.params)
    day = _parse_week(week) or today
    start, end = week_bounds(day)
    # The week under way is compared so far, against the same days of the week before (like with like).
    partial = start <= today < end - timedelta(days=1)
    if partial:
        end = today + timedelta(days=1)
    # The previous week for the change column, the following days for follow-ups.
    rng = data.Range(start - timedelta(days=7), end + timedelta(days=_FOLLOW_UP_DAYS_AFTER - 1))
    prepared = data.prepared_calls(ctx, rng)
    table = compare_sites(prepared, ctx.params, start, end) if not prepared.empty else None
    return html.Div([
        html.H1(f"Group: week of {start:%a %d %b %Y}" + (" (so far)" if partial else "")),
        html.P(("This week so far, " + f"{start:%a} to {today:%a}" + ", against the same days of last week. "
                if partial else "One whole week, Monday to Sunday, against the week before. ")
               + f"Every office that shares this database; days in {ctx.params.timezone}. Best and worst are "
               "ranked by answer rate among offices with at least 20 offered calls.", className="lead",
               id="group-period"),
        _week_links(start),
        _body(table, start, end, ctx) if table is not None and len(table) else ui.no_calls_in_range(
            data.Range(start, end - timedelta(days=1))),
    ], id="group-page")


def _parse_week(value: str | None) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _week_links(start: date) -> html.Div:
    prev_week, next_week = start - timedelta(days=7), start + timedelta(days=7)
    return html.Div([
        dcc.Link(f"← week of {prev_week:%d %b}", href=f"/group?week={prev_week.isoformat()}", id="group-prev"),
        html.Span(" · "),
        dcc.Link(f"week of {next_week:%d %b} →", href=f"/group?week={next_week.isoformat()}", id="group-next"),
    ], className="filters")


def _change(value: Any) -> str:
    if value is None or value != value:  # NaN: no calls the week before
        return ""
    return f" ({100 * value:+.1f} pts)"


def _body(table: Any, start: date, end: date, ctx: data.DashboardContext) -> html.Div:
    summary = group_summary(table)
    last = end - timedelta(days=1)
    kpis = html.Div([
        ui.kpi("answer rate, all offices", fmt.pct(summary["answer_rate"])),
        ui.kpi("within target, all offices", fmt.pct(summary["within_target_rate"])),
        ui.kpi("offered calls", f"{summary['offered']:,}"),
        ui.kpi("best office", str(summary["best"] or "–")),
        ui.kpi("worst office", str(summary["worst"] or "–")),
    ], className="kpis", id="group-kpis")
    header = ["Office", "Offered", "Answer rate (vs last week)", "Within target (vs last week)", "Voicemail",
              "Abandoned", "Median ring", "Followed up", "Rank"]
    rows = []
    for row in table.itertuples():
        badge = "best" if row.best else "worst" if row.worst else "too few calls" if pd.isna(row.rank) else ""
        trends = f"/trends?site={row.site}&start={(start - timedelta(days=83)).isoformat()}&end={last.isoformat()}"
        rows.append(html.Tr([
            html.Td(dcc.Link(row.site, href=trends)),
            html.Td(f"{row.offered:,}"),
            html.Td(fmt.pct(row.answer_rate) + _change(row.answer_rate_change)),
            html.Td(fmt.pct(row.within_target_rate) + _change(row.within_target_rate_change)),
            html.Td(fmt.pct(row.voicemail_rate)),
            html.Td(fmt.pct(row.abandonment_rate)),
            html.Td(fmt.seconds(None if row.asa_median_s != row.asa_median_s else float(row.asa_median_s))),
            html.Td(fmt.pct(row.follow_up_rate)),
            html.Td({"best": "▲ best", "worst": "▼ worst"}.get(badge, badge),
                    className={"best": "outcome-answered", "worst": "outcome-missed"}.get(badge, "quiet")),
        ], id=f"group-row-{row.site}"))
    calls_href = "/calls" + data.Range(start, last).query(counted=1)
    return html.Div([
        kpis,
        ui.ring_time_banner(summary, "group-ring-time-note"),
        html.Div([
            html.Table([html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
                       className="simple", id="group-table"),
            ui.explain("How is this calculated?", [
                "answer rate = answered / offered, per office, for the week; within target likewise",
                "vs last week = this period's rate minus the same days of the previous week, in percentage points",
                "followed up = share of this week's missed, abandoned and voicemail callers that the office "
                f"called back or who reached a person within {ctx.params.follow_up_window_business_days} "
                "business day(s)",
                "all offices = the calls of every office pooled (a busy office weighs more than a quiet one)",
            ], ctx.params, calls_href),
        ], className="card"),
        html.Div(dcc.Graph(id="group-figure", figure=_figure(table), config={"displayModeBar": False}),
                 className="card"),
    ])


def _figure(table: Any) -> go.Figure:
    """Answer and within-target rate per office, in the dashboard's colours; hover shows the counts."""
    fig = go.Figure()
    offered = [int(v) for v in table["offered"]]
    for column, label, _numerator, colour in figures.RATE_LINES[:2]:
        values = [None if v != v else 100 * float(v) for v in table[column]]
        fig.add_bar(x=list(table["site"]), y=values, name=label, marker_color=colour, customdata=offered,
                    hovertemplate=f"%{{x}}: <b>%{{y:.1f}} %</b> {label.lower()} of %{{customdata:,}} offered"
                                  "<extra></extra>")
    fig.update_layout(**figures._LAYOUT)
    fig.update_layout(barmode="group", height=340, yaxis={"title": "% of offered calls", "range": [0, 100]},
                      title={"text": "This week, office by office", "x": 0})
    return figures._finish(fig)
