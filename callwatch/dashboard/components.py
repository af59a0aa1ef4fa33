"""Pieces every page shares: filters, "how is this calculated", the offered
identity, the new-install guidance."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dash import Input, Output, dcc, html
from dash.development.base_component import Component

from callwatch.dashboard.data import DEFAULT_DAYS, Range
from callwatch.formatting import opening_hours
from callwatch.metrics import catalog
from callwatch.metrics.params import MetricParams
from callwatch.metrics.quality import NOT_IN_EXPORT, ring_time_known, ring_time_note

OUTCOMES = ("answered", "voicemail", "abandoned", "missed")


# Dash's type stubs list no "date" input type, though HTML has it and Dash passes it on: the
# browser's own date picker is the one that is labelled and keyboard-friendly (axe-core).
DATE_INPUT: Any = "date"


def aria(**attrs: str) -> dict[str, Any]:
    """ARIA attributes for a Dash component: aria(label="x") -> {"aria-label": "x"} (Dash's stubs omit them)."""
    return {f"aria-{name.replace('_', '-')}": value for name, value in attrs.items()}


def _date_inputs(prefix: str, rng: Range) -> list[html.Div]:
    """From and to dates as the browser's own date inputs (`<prefix>-start`, `-end`), each labelled."""
    return [
        html.Div([html.Label("From", htmlFor=f"{prefix}-start"),
                  dcc.Input(id=f"{prefix}-start", type=DATE_INPUT, value=rng.first.isoformat(), debounce=True)],
                 className="field date"),
        html.Div([html.Label("To", htmlFor=f"{prefix}-end"),
                  dcc.Input(id=f"{prefix}-end", type=DATE_INPUT, value=rng.last.isoformat(), debounce=True)],
                 className="field date"),
    ]


def date_fields(prefix: str, rng: Range, extra: Sequence[Any] = ()) -> html.Div:
    """From and to dates (`<prefix>-start`, `-end`) and `extra`, for a page without office or queue filters."""
    return html.Div([
        *_date_inputs(prefix, rng),
        *extra,
        dcc.Store(id=f"{prefix}-dates-url"),
    ], className="filters")


def labelled_dropdown(component_id: str, label: str, options: Sequence[Any], value: Any,
                      placeholder: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=component_id, id=f"{component_id}-label"),
                     dcc.Dropdown(id=component_id, options=list(options), value=value, placeholder=placeholder,
                                  clearable=True)], className="field")


def filter_bar(prefix: str, rng: Range, sites: Sequence[str], queues: Sequence[str],
               extra: Sequence[Any] = ()) -> html.Div:
    """Office, dates and queue (ids `<prefix>-site`, `-start`, `-end`, `-queue`), kept in the URL (sync_filters)."""
    return html.Div(
        [
            labelled_dropdown(f"{prefix}-site", "Office", [{"label": s, "value": s} for s in sites], rng.site,
                              "all offices"),
            *_date_inputs(prefix, rng),
            labelled_dropdown(f"{prefix}-queue", "Queue", [{"label": q, "value": q} for q in queues], rng.queue,
                              "all queues"),
            *extra,
            dcc.Store(id=f"{prefix}-url"),
        ],
        className="filters",
    )


_SET_QUERY_JS = """function(%s) {
    window.callwatchSetQuery({%s});
    return null;
}"""


def sync_filters(app: Any, prefix: str, names: Sequence[str] = ("site", "start", "end", "queue"),
                 store: str = "url") -> None:
    """Write the filter bar's values into the URL (no reload), so they follow the user to other pages."""
    ids = {"start": f"{prefix}-start", "end": f"{prefix}-end", "site": f"{prefix}-site", "queue": f"{prefix}-queue"}
    args = ", ".join(names)
    app.clientside_callback(
        _SET_QUERY_JS % (args, ", ".join(f"{n}: {n}" for n in names)),
        Output(f"{prefix}-{store}", "data"),
        *[Input(ids[n], "value") for n in names],
    )


def sync_dates(app: Any, prefix: str) -> None:
    """sync_filters for a page with only dates (the office is kept by the page's own picker)."""
    sync_filters(app, prefix, ("start", "end"), store="dates-url")
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


def command() -> str:
    """How to run callwatch here: `callwatch` when it is on PATH, else the full path next to this Python.

    `make run` installs into .venv without putting it on PATH, so a bare
    "callwatch import ..." would fail in the shell the reader has open.
    """
    on_path = shutil.which("callwatch")
    beside = Path(sys.executable).parent / "callwatch"
    if on_path and Path(on_path).resolve() == beside.resolve():
        return "callwatch"
    return str(beside) if beside.exists() else "callwatch"


def new_install() -> html.Div:
    """Shown instead of charts while the store has no calls at all."""
    cmd = command()
    return html.Div(
        [
            html.H2("No calls yet"),
            html.P("callwatch has not stored any calls. Get calls in one of two ways:"),
            html.Ol([
                html.Li(["Import call logs from the phone system: ",
                         html.Code(f"{cmd} import /var/log/asterisk/cdr-csv/Master.csv /var/log/asterisk/queue_log"),
                         " (re-running it only adds new calls)."]),
                html.Li(["Or start the live collector, which listens to the PBX over AMI: ",
                         html.Code(f"{cmd} collect"),
                         " (AMI host and user in callwatch.yaml, the secret in CALLWATCH_AMI_SECRET)."]),
            ]),
            html.P(["Check the settings with ", html.Code(f"{cmd} check-config"),
                    ". This page fills in by itself once calls arrive."]),
        ],
        className="empty", id="empty-state",
    )


def no_calls_in_range(rng: Range, latest: date | None = None) -> html.Div:
    """Nothing in the range: say so, and where the newest stored call is (a link to its weeks)."""
    words: list[Component | str] = [html.B("No calls in this range. "),
             f"Nothing arrived between {rng.first:%d %b %Y} and {rng.last:%d %b %Y}"
             + (f" for office {rng.site}" if rng.site else "") + (f" in queue {rng.queue}" if rng.queue else "")
             + ". "]
    if latest is not None and not rng.first <= latest <= rng.last:
        there = Range(latest - timedelta(days=DEFAULT_DAYS - 1), latest, rng.site, rng.queue)
        words += [f"The newest call stored{' for this office' if rng.site else ''} arrived on {latest:%d %b %Y}: ",
                  html.A(f"show {there.first:%d %b} – {there.last:%d %b %Y}", href="?" + there.query()[1:],
                         id="latest-data-link"), "."]
    else:
        words.append("Try a wider date range or clear the filters.")
    return html.Div(words, className="empty", id="no-calls")
