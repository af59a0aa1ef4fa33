"""Training: did each staff training move the numbers at its office, and is the change real?

One office at a time (the configured office by default). Every verdict is
metrics.training_verdicts' — the same the weekly report, the Trends markers
and `callwatch training` print. The plain before/after table stays as context
and never judges; the verdict column is the model's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dash
from dash import Dash, Input, Output, State, dcc, html

from callwatch import formatting
from callwatch.dashboard import components as ui
from callwatch.dashboard import data, figures
from callwatch.metrics.effect import AFTER_DAYS, BEFORE_DAYS, RAMP_DAYS
from callwatch.metrics.training import SIMPLE_DAYS, MeasureImpact
from callwatch.metrics.training_verdicts import JudgedTraining

dash.register_page(__name__, path="/training", name="Training", title="callwatch: training", order=4)

_TONE = {"improved": "outcome-answered", "worsened": "outcome-abandoned"}


def layout(site: str | None = None, **_: Any) -> html.Div:
    ctx = data.context()
    offices = sorted({*data.filter_options(ctx)[0], ctx.settings.site})
    office = site if site in offices else ctx.settings.site
    return html.Div([
        html.H1("Training"),
        html.P(f"For each staff training at an office: how far each daily rate sits from where its earlier trend "
               f"was heading once the change has settled ({RAMP_DAYS} days on), allowing for weekday — from the "
               f"{BEFORE_DAYS} days before to the {AFTER_DAYS} days after, business hours, the training day left out.",
               className="lead"),
        html.Div([
            html.Div([html.Label("Office", htmlFor="training-office"), dcc.Dropdown(
                id="training-office", options=offices, value=office, clearable=False,
                style={"width": "14rem"})], className="field"),
            html.Div([html.Label("Training date", htmlFor="training-date"), dcc.Input(
                id="training-date", type=ui.DATE_INPUT, value=data.today(data.params_for(ctx, office)).isoformat())],
                className="field"),
            html.Div([html.Label("Title", htmlFor="training-title"), dcc.Input(
                id="training-title", placeholder="e.g. Phone manner workshop", style={"width": "18rem"})],
                className="field"),
            html.Div([html.Label("Notes", htmlFor="training-notes"), dcc.Input(
                id="training-notes", placeholder="optional", style={"width": "18rem"})], className="field"),
            html.Button("Add training", id="training-add", className="handle"),
            html.Span(id="training-added", className="explain"),
        ], className="filters"),
        dcc.Loading(html.Div(id="training-body")),
    ])


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output("training-body", "children"),
        Output("training-added", "children"),
        Input("training-add", "n_clicks"),
        Input("training-office", "value"),
        State("training-date", "value"),
        State("training-title", "value"),
        State("training-notes", "value"),
    )
    def update(clicks: int | None, office: str | None, day: str | None, title: str | None,
               notes: str | None) -> Any:
        ctx = data.context()
        message = ""
        if dash.ctx.triggered_id == "training-add" and clicks and day:
            name = (title or "").strip()
            if not name:
                message = "Give the training a title first."
            else:
                data.add_training(ctx, office, date.fromisoformat(day[:10]), name, (notes or "").strip())
                message = f"Added {name} on {day[:10]} for {office}."
        return body(ctx, office or ctx.settings.site), message


def body(ctx: data.DashboardContext, office: str) -> Any:
    if not data.has_calls(ctx):
        return ui.new_install()
    judged = data.judged_trainings(ctx, office)
    if not judged:
        return html.Div(f"No trainings recorded for {office} yet. Add one above (or under `trainings:` in "
                        "callwatch.yaml) and its verdict appears here.", className="empty")
    return html.Div([impact_card(j) for j in reversed(judged)])


def _row(m: MeasureImpact) -> html.Tr:
    e = m.effect
    if m.unit == "rate":
        before, after, simple = formatting.pct(m.before), formatting.pct(m.after), formatting.points(m.simple_change)
        ci = f"95 % CI {formatting.points(e.ci_low)} to {formatting.points(e.ci_high)}"
        effect = "–" if e.estimate is None else f"{formatting.points(e.estimate)} ({ci})"
    else:
        before, after = formatting.seconds(m.before), formatting.seconds(m.after)
        simple = "–" if m.simple_change is None else f"{m.simple_change:+.1f} s"
        effect = "–" if e.estimate is None else f"{e.estimate:+.1f} s (95 % CI {e.ci_low:+.1f} to {e.ci_high:+.1f})"
    return html.Tr([
        html.Td(m.label), html.Td(f"{before} ({m.before_n})"), html.Td(f"{after} ({m.after_n})"), html.Td(simple),
        html.Td(effect), html.Td(formatting.p_value(e.p_value)),
        html.Td(html.Span(e.verdict, className=_TONE.get(e.verdict, "quiet"))),
    ])


def impact_card(judged: JudgedTraining) -> html.Div:
    impact, session = judged.impact, judged.session
    head = html.Tr([html.Th(h) for h in ("measure", f"before ({SIMPLE_DAYS} days)", f"after ({SIMPLE_DAYS} days)",
                                         "plain difference", "effect of the training", "p-value", "verdict")])
    (b1, _), (_, a2) = impact.before_window, impact.after_window
    calls = data.Range(b1, a2, judged.office).query()
    primary = impact.primary
    for_whom = "every office" if session.site is None else session.site
    return html.Div([
        html.H2(f"{session.title}: {session.date:%a %d %b %Y}"),
        html.P(f"Judged on {judged.office}'s calls (a training for {for_whom}).", className="explain"),
        html.P([html.Span(impact.verdict, className=_TONE.get(impact.verdict, "quiet")), " — ",
                html.B(impact.headline)], className="training-headline"),
        *([html.P(impact.explanation, className="explain training-why")] if impact.explanation else []),
        dcc.Graph(figure=figures.training_fit_figure(primary.daily, session.date, primary.label),
                  config={"displayModeBar": False}, className="training-chart"),
        html.Table([html.Thead(head), html.Tbody([_row(m) for m in impact.measures])], className="simple"),
        *([html.Div([html.B("Read with care: "), html.Ul([html.Li(w) for w in impact.warnings])],
                    className="empty")] if impact.warnings else []),
        html.P([f"Measured from {b1:%d %b} to {a2:%d %b %Y}. The verdict is the answer rate's; p-value = the chance "
                "of an effect at least this big if the training changed nothing (below 0.05: improved or worsened). ",
                dcc.Link("See these calls →", href="/calls" + calls)], className="explain"),
    ], className="card")
