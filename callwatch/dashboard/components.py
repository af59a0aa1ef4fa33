"""Pieces every page shares: filters, "how is this calculated", the offered
identity, the new-install guidance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from callwatch.dashboard.data import Range
from callwatch.metrics.params import WEEKDAYS, MetricParams
from callwatch.metrics.quality import NOT_IN_EXPORT, ring_time_known, ring_time_note

OUTCOMES = ("answered", "voicemail", "abandoned", "missed")


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def fmt_seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


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


def hours_text(params: MetricParams) -> str:
    parts = []
    for name, day in zip(WEEKDAYS, params.business_hours, strict=True):
        spans = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in day) or "closed"
        parts.append(f"{name.capitalize()} {spans}")
    return "; ".join(parts)


def settings_items(params: MetricParams) -> list[html.Li]:
    """The settings that shape every number, named as in callwatch.yaml."""
    return [
        html.Li(f"target_rings {params.target_rings} × ring_cycle_seconds {params.ring_cycle_seconds:g} s "
                f"= answered within {params.target_seconds:g} s counts as within target"),
        html.Li(f"short_abandon_seconds {params.short_abandon_seconds:g}: a caller who hangs up sooner is "
                "taken as a wrong number and not counted in offered"),
        html.Li(f"business_hours ({params.timezone}): {hours_text(params)}; calls outside them and on "
                f"{len(params.holidays)} holiday(s) are not counted"),
        html.Li(f"timezone {params.timezone}: days and hours are the practice's own"),
    ]


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


def staff_name(extension: Any, name: Any) -> html.Span:
    """A staff member as a person reads them: the name, with the extension in small type beside it."""
    ext = "" if extension is None or extension != extension else str(extension)
    if name is None or name != name or name in ("", ext):
        return html.Span(ext, className="staff")
    return html.Span([str(name), html.Small(f" {ext}", className="ext")], className="staff") if ext else \
        html.Span(str(name), className="staff")


def ring_value(summary: Mapping[str, Any], text: str) -> str:
    """`text` (a formatted ring-time number), or the plain words when the calls have no ring time."""
    return text if ring_time_known(summary) or not summary.get("offered") else NOT_IN_EXPORT


def ring_time_banner(summary: Mapping[str, Any], element_id: str = "ring-time-note") -> html.Div | None:
    """Why ring-time numbers are missing or over fewer calls (metrics.quality); None when every call has one."""
    note = ring_time_note(summary)
    if note is None:
        return None
    return html.Div(note[0].upper() + note[1:] + ".", className="quality-note", id=element_id, role="note")


def kpi(label: str, value: str, tone: str = "", title: str = "", note: str = "") -> html.Div:
    """A big number with its label; `tone` adds a word and a shape too (status is never colour alone)."""
    parts = [html.Div(value, className="value"), html.Div(label, className="label")]
    words = {"good": "✓ at goal", "warn": "▼ below goal", "bad": "▼▼ well below goal"}.get(tone)
    if words or note:
        parts.append(html.Div(" · ".join(x for x in (words, note) if x), className="note"))
    return html.Div(parts, className=f"kpi {tone}".strip(), title=title)


def rate_tone(value: float | None, good: float, warn: float, higher_is_better: bool = True) -> str:
    if value is None:
        return ""
    if not higher_is_better:
        value, good, warn = -value, -good, -warn
    return "good" if value >= good else "warn" if value >= warn else "bad"


def office_picker(component_id: str, sites: Sequence[str], value: str | None, *,
                  all_label: str = "all offices") -> html.Div:
    """A labelled office menu; the value "all" pools every office."""
    options = [{"label": s, "value": s} for s in sites]
    if value and value not in sites and value != "all":
        options.insert(0, {"label": value, "value": value})
    options.append({"label": all_label, "value": "all"})
    return html.Div([html.Label("Office", htmlFor=component_id, id=f"{component_id}-label"),
                     dcc.Dropdown(id=component_id, options=options, value=value, clearable=False, searchable=False)],
                    className="field")


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
