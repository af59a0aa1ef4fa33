"""Pieces every page shares: filters, "how is this calculated", the offered
identity, the new-install guidance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from callwatch.dashboard.data import Range
from callwatch.formatting import opening_hours
from callwatch.metrics import catalog
from callwatch.metrics.params import MetricParams

OUTCOMES = ("answered", "voicemail", "abandoned", "missed")


def filter_bar(prefix: str, rng: Range, sites: Sequence[str], queues: Sequence[str],
               extra: Sequence[Any] = ()) -> html.Div:
    """Date range, site and queue pickers with ids `<prefix>-range`, `-site`, `-queue`."""
    return html.Div(
        [
            html.Div([html.Label("Dates (practice-local)"), dcc.DatePickerRange(
                id=f"{prefix}-range", start_date=rng.first.isoformat(), end_date=rng.last.isoformat(),
                display_format="D MMM YYYY", minimum_nights=0, first_day_of_week=1)], className="field"),
            html.Div([html.Label("Site"), dcc.Dropdown(
                id=f"{prefix}-site", options=[{"label": s, "value": s} for s in sites], value=rng.site,
                placeholder="all sites", clearable=True)], className="field"),
            html.Div([html.Label("Queue"), dcc.Dropdown(
                id=f"{prefix}-queue", options=[{"label": q, "value": q} for q in queues], value=rng.queue,
                placeholder="all queues", clearable=True)], className="field"),
            *extra,
        ],
        className="filters",
    )


def settings_items(params: MetricParams) -> list[html.Li]:
    """The settings that shape every number, named as in callwatch.yaml."""
    return [
        html.Li(f"target_rings {params.target_rings} × ring_cycle_seconds {params.ring_cycle_seconds:g} s "
                f"= answered within {params.target_seconds:g} s counts as within target"),
        html.Li(f"short_abandon_seconds {params.short_abandon_seconds:g}: a caller who hangs up sooner is "
                "taken as a wrong number and not counted in offered"),
        html.Li(f"business_hours ({params.timezone}): {opening_hours(params.business_hours)}; calls outside "
                f"them and on {len(params.holidays)} holiday(s) are not counted"),
        html.Li(f"timezone {params.timezone}: days and hours are the practice's own"),
    ]


def formulas(params: MetricParams, *keys: str) -> list[str]:
    """ "Label = how it is computed" for each metric key, from the catalogue (the same words as the report)."""
    return [f"{catalog.metric(key).words} = {catalog.formula(key, params)}" for key in keys]


def explain(summary_text: str, formulas: Sequence[str], params: MetricParams, calls_href: str,
            link_text: str = "See the calls behind this chart") -> html.Details:
    """A collapsible "how is this calculated" under a chart, ending in a link to its calls."""
    return html.Details(
        [
            html.Summary(summary_text),
            html.Ul([html.Li(f) for f in formulas] + settings_items(params)),
            dcc.Link(link_text + " →", href=calls_href),
        ],
        className="explain",
    )


def identity(summary: Mapping[str, Any], extra: Mapping[str, int] | None = None) -> html.Div:
    """answered + voicemail + abandoned + missed = offered, with what was left out and why."""
    counts = " + ".join(f"{summary.get(o, 0):,} {o}" for o in OUTCOMES)
    notes = [f"{summary.get('short_abandoned', 0):,} short abandons (likely wrong numbers) not counted"]
    for label, value in (extra or {}).items():
        notes.append(f"{value:,} {label}")
    return html.Div(
        [html.B(f"{counts} = {summary.get('offered', 0):,} offered"), html.Span(" · " + "; ".join(notes))],
        className="identity", id="identity-line",
    )


def kpi(label: str, value: str, tone: str = "", title: str = "") -> html.Div:
    return html.Div([html.Div(value, className="value"), html.Div(label, className="label")],
                    className=f"kpi {tone}".strip(), title=title)


def rate_tone(value: float | None, good: float, warn: float, higher_is_better: bool = True) -> str:
    if value is None:
        return ""
    if not higher_is_better:
        value, good, warn = -value, -good, -warn
    return "good" if value >= good else "warn" if value >= warn else "bad"


def new_install() -> html.Div:
    """Shown instead of charts while the store has no calls at all."""
    return html.Div(
        [
            html.H2("No calls yet"),
            html.P("callwatch has not stored any calls. Get calls in one of two ways:"),
            html.Ol([
                html.Li(["Import call logs from the phone system: ",
                         html.Code("callwatch import /var/log/asterisk/cdr-csv/Master.csv /var/log/asterisk/queue_log"),
                         " (re-running it only adds new calls)."]),
                html.Li(["Or start the live collector, which listens to the PBX over AMI: ",
                         html.Code("callwatch collect"),
                         " (AMI host and user in callwatch.yaml, the secret in CALLWATCH_AMI_SECRET)."]),
            ]),
            html.P(["Check the settings with ", html.Code("callwatch check-config"),
                    ". This page fills in by itself once calls arrive."]),
        ],
        className="empty", id="empty-state",
    )


def no_calls_in_range(rng: Range) -> html.Div:
    return html.Div(
        [html.B("No calls in this range. "),
         f"Nothing arrived between {rng.first:%d %b %Y} and {rng.last:%d %b %Y}"
         + (f" for site {rng.site}" if rng.site else "") + (f" in queue {rng.queue}" if rng.queue else "")
         + ". Try a wider date range or clear the filters."],
        className="empty",
    )
