"""Training: did each staff training move the numbers, and is the change real?

Uses metrics.training.training_impact (the same comparison the weekly report
prints) and lets the manager add a training date, stored in the trainings table.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dash
from dash import Dash, Input, Output, State, dcc, html

from callwatch.dashboard import components as ui
from callwatch.dashboard import data
from callwatch.formatting import pct
from callwatch.metrics.training import TrainingImpact

dash.register_page(__name__, path="/training", name="Training", title="callwatch: training", order=4)
WINDOW_DAYS = 28


def layout(site: str | None = None, **_: Any) -> html.Div:
    ctx = data.context()
    return html.Div([
        html.H1("Training"),
        html.P(f"For each staff training: the {WINDOW_DAYS} days before against the {WINDOW_DAYS} days after "
               "(business hours, offered calls, the training day left out), with how likely chance alone could "
               "explain the difference.", className="lead"),
        html.Div([
            html.Div([html.Label("Training date"), dcc.DatePickerSingle(
                id="training-date", date=data.today(ctx.params).isoformat(), display_format="D MMM YYYY",
                first_day_of_week=1)], className="field"),
            html.Div([html.Label("Title"), dcc.Input(id="training-title", placeholder="e.g. Phone manner workshop",
                                                     style={"width": "18rem"})], className="field"),
            html.Div([html.Label("Notes"), dcc.Input(id="training-notes", placeholder="optional",
                                                     style={"width": "18rem"})], className="field"),
            html.Button("Add training", id="training-add", className="handle"),
            html.Span(id="training-added", className="explain"),
        ], className="filters"),
        dcc.Store(id="training-site", data=site),
        dcc.Loading(html.Div(id="training-body")),
    ])


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output("training-body", "children"),
        Output("training-added", "children"),
        Input("training-add", "n_clicks"),
        State("training-date", "date"),
        State("training-title", "value"),
        State("training-notes", "value"),
        State("training-site", "data"),
    )
    def update(clicks: int | None, day: str | None, title: str | None, notes: str | None, site: str | None) -> Any:
        ctx = data.context()
        message = ""
        if clicks and day:
            name = (title or "").strip()
            if not name:
                message = "Give the training a title first."
            else:
                data.add_training(ctx, site, date.fromisoformat(day[:10]), name, (notes or "").strip())
                message = f"Added {name} on {day[:10]}."
        return body(ctx, site), message


def body(ctx: data.DashboardContext, site: str | None) -> Any:
    if not data.has_calls(ctx):
        return ui.new_install()
    impacts, totals = data.training_impacts(ctx, site, WINDOW_DAYS)
    if not impacts or totals is None:
        return html.Div("No trainings recorded yet. Add one above (or under `trainings:` in callwatch.yaml) and its "
                        "before/after comparison appears here.", className="empty")
    return html.Div([
        html.P("All calls in the windows around the trainings:", className="explain"),
        ui.identity(totals),
        *[impact_card(title, impact, site) for title, impact in reversed(impacts)],
    ])


def impact_card(title: str, impact: TrainingImpact, site: str | None) -> html.Div:
    rows = [
        html.Tr([
            html.Td(change.label),
            html.Td(f"{pct(change.before)} ({change.before_count}/{change.before_n})"),
            html.Td(f"{pct(change.after)} ({change.after_count}/{change.after_n})"),
            html.Td("–" if change.test is None else
                    f"{100 * change.test.difference:+.1f} points (95 % CI {100 * change.test.ci_low:+.1f} to "
                    f"{100 * change.test.ci_high:+.1f})"),
            html.Td("–" if change.test is None else f"{change.test.p_value:.3f}"),
            html.Td(_tone(change.improved)),
        ])
        for change in impact.rates
    ]
    speed = impact.speed
    if speed.test is not None:
        rows.append(html.Tr([
            html.Td("median time to answer"),
            html.Td(f"{speed.test.before_median:.1f} s ({speed.before_n} answered)"),
            html.Td(f"{speed.test.after_median:.1f} s ({speed.after_n} answered)"),
            html.Td(f"{speed.test.difference:+.1f} s"),
            html.Td(f"{speed.test.p_value:.3f}"),
            html.Td(_tone(speed.improved)),
        ]))
    head = html.Tr([html.Th(h) for h in ("metric", "before", "after", "change", "p-value", "")])
    (b1, b2), (a1, a2) = impact.before_window, impact.after_window
    calls = data.Range(b1, a2, site).query()
    return html.Div([
        html.H2(f"{title}: {impact.training_date:%a %d %b %Y}"),
        html.P(html.B(impact.headline), className="training-headline"),
        html.Table([html.Thead(head), html.Tbody(rows)], className="simple"),
        html.Ul([html.Li(line) for line in [*(r.verdict for r in impact.rates), speed.verdict]], className="explain"),
        *([html.Div([html.B("Read with care: "), html.Ul([html.Li(w) for w in impact.warnings])],
                    className="empty")] if impact.warnings else []),
        html.P([f"Before: {b1:%d %b} – {b2:%d %b %Y}; after: {a1:%d %b} – {a2:%d %b %Y}. p-value = the chance of a "
                "difference at least this big if the training changed nothing (below 0.05: unlikely to be chance). ",
                dcc.Link("See these calls →", href="/calls" + calls)], className="explain"),
    ], className="card")


def _tone(improved: bool | None) -> html.Span:
    if improved is None:
        return html.Span("could be chance", className="quiet")
    return html.Span("better" if improved else "worse",
                     className="outcome-answered" if improved else "outcome-abandoned")

