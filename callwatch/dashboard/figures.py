"""Every chart on the dashboard, built from metric frames (no I/O, no Dash).

Each figure explains itself on hover: the formula with the actual counts, so
"answer rate 72.7 %" reads "answered 120 / offered 165". Times arrive already
in practice-local wall-clock time with the zone dropped (plotly.js ignores
offsets, so an aware time would be drawn in the browser's zone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape as html_escape
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from callwatch.formatting import DAY_ABBREVIATIONS
from callwatch.metrics import catalog
from callwatch.metrics.params import MetricParams

WEEKDAY_NAMES = DAY_ABBREVIATIONS  # the heatmap's row labels; a click maps a label back to its weekday
OUTCOME_COLOURS = {"answered": "#34a853", "voicemail": "#f2a900", "abandoned": "#d93025", "missed": "#8e24aa"}
RATE_COLOURS = {"answer_rate": "#34a853", "within_target_rate": "#1f6feb", "voicemail_rate": "#f2a900",
                "abandonment_rate": "#d93025"}
# column, label, numerator, colour: the catalogue's words in the dashboard's colours
RATE_LINES = tuple((m.key, m.label, m.counts or m.key, RATE_COLOURS[m.key])
                   for m in map(catalog.metric, catalog.TRAINING_RATES))
_LAYOUT: dict[str, Any] = {
    # The legend sits above the plot, under the title, where it covers no axis title.
    "margin": {"l": 60, "r": 20, "t": 84, "b": 50},
    # A named template is deep-copied into every figure (most of a figure's
    # build time); a few plain settings look the same and cost nothing.
    "template": "none",
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "color": "#2a3f5f"},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    "hovermode": "closest",
}


def _finish(fig: go.Figure) -> go.Figure:
    """Light grid lines, as plotly_white draws them; the title at the very top, over the legend.

    Every value axis picks its own round ticks (tickmode auto): a second axis
    synchronised to the first gets ticks like 3.54 / 7.08 s.
    """
    axis = {"gridcolor": "#e5ecf6", "zeroline": False, "linecolor": "#e5ecf6", "ticks": ""}
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis, tickmode="auto", nticks=7)
    if fig.layout.title.text:
        fig.update_layout(title={"y": 0.98, "yanchor": "top"})
    return fig


def _partial_markers(by_period: pd.DataFrame) -> dict[str, object]:
    """Open markers for partial periods (a week cut short, today), filled for whole ones."""
    if "partial" not in by_period:
        return {}
    return {"symbol": ["circle-open" if p else "circle" for p in by_period["partial"]],
            "size": [9 if p else 5 for p in by_period["partial"]]}


def _partial_words(by_period: pd.DataFrame, granularity: str) -> list[str]:
    if "partial" not in by_period:
        return [""] * len(by_period)
    noun = "week" if granularity == "week" else "day"
    return [f" · partial {noun}: {d} day(s) so far" if p and noun == "week" else (" · today, so far" if p else "")
            for p, d in zip(by_period["partial"], by_period["days"], strict=True)]


@dataclass(frozen=True)
class TrainingMark:
    """A training date drawn as a labelled vertical line."""

    day: date
    title: str
    verdict: str = ""  # each office's verdict (metrics.training_verdicts), shown on hover


def epoch_ms(day: date) -> int:
    """A local calendar date as plotly's date-axis number (ms since 1970, zone dropped)."""
    return int((pd.Timestamp(day) - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1))


def _pct(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else round(100.0 * float(value), 1)


def empty_figure(message: str) -> go.Figure:
    """A blank chart that says why it is blank, instead of empty axes."""
    fig = go.Figure()
    fig.update_layout(**_LAYOUT, xaxis={"visible": False}, yaxis={"visible": False}, height=260)
    fig.add_annotation(text=message, showarrow=False, font={"size": 15, "color": "#4a5868"}, x=0.5, y=0.5,
                       xref="paper", yref="paper")
    return fig


def plain_text(text: str) -> str:
    """`text` as Plotly shows it literally: Plotly renders <a href>, <b> and friends inside chart text,
    so a typed-in title such as '<a href="https://evil">sign in again</a>' would become a live link."""
    return html_escape(text, quote=False)


def add_training_marks(fig: go.Figure, marks: Iterable[TrainingMark], first: date | None, last: date | None) -> None:
    """Vertical dashed line per training inside [first, last], labelled with its title."""
    for mark in marks:
        if first is not None and last is not None and not first <= mark.day <= last:
            continue
        fig.add_vline(
            x=epoch_ms(mark.day),
            line={"dash": "dash", "color": "#6f42c1", "width": 2},
            annotation_text=f"Training: {plain_text(mark.title)}",
            annotation_hovertext=mark.verdict or None,
            annotation_position="top left",
            annotation_font={"color": "#6f42c1", "size": 12},
        )


def _period_label(granularity: str) -> str:
    return "Week of %{x|%a %d %b %Y}" if granularity == "week" else "%{x|%a %d %b %Y}"


def rates_figure(by_period: pd.DataFrame, marks: Sequence[TrainingMark], params: MetricParams,
                 granularity: str = "day", goals: Mapping[str, float] | None = None) -> go.Figure:
    """Answer, within-target, voicemail and abandonment rates per day or week, in %.

    `goals` (settings.report.goals) draws the practice's own goal for the
    answer and within-target rates as dotted lines in the same colours.
    """
    if by_period.empty:
        return empty_figure("No calls in this range")
    x = by_period["period"]
    fig = go.Figure()
    markers = _partial_markers(by_period)
    words = _partial_words(by_period, granularity)
    for column, label, numerator, colour in RATE_LINES:
        custom = pd.DataFrame({"n": by_period[numerator], "offered": by_period["offered"], "p": words}).to_numpy()
        fig.add_trace(go.Scatter(
            x=x, y=[_pct(v) for v in by_period[column]], name=label, mode="lines+markers",
            line={"color": colour, "width": 2}, marker={"size": 5, **markers}, customdata=custom,
            hovertemplate=(f"<b>{label}</b> · {_period_label(granularity)}%{{customdata[2]}}<br>"
                           f"= {numerator.replace('_', ' ')} %{{customdata[0]}} / offered %{{customdata[1]}}"
                           " = %{y:.1f} %<extra>click for the calls</extra>"),
        ))
    note = " · open markers: partial " + granularity if markers and any(by_period["partial"]) else ""
    fig.update_layout(**_LAYOUT, height=400,
                      title={"text": f"How calls were handled, by {granularity} (% of offered calls){note}", "x": 0},
                      yaxis={"title": "% of offered calls", "range": [0, 105]},
                      xaxis={"title": None, "type": "date"})
    for column, label, _numerator, colour in RATE_LINES[:2]:
        goal = (goals or {}).get(column)
        if goal is not None:
            fig.add_hline(y=100 * goal, line={"color": colour, "dash": "dot", "width": 1},
                          annotation_text=f"goal {label.lower()} {100 * goal:g} %", annotation_position="bottom left",
                          annotation_font={"color": colour, "size": 11})
    add_training_marks(fig, marks, _first(x), _last(x))
    return _finish(fig)


def speed_figure(by_period: pd.DataFrame, marks: Sequence[TrainingMark], params: MetricParams,
                 granularity: str = "day") -> go.Figure:
    """Median, mean and 90th-percentile ring time of answered calls, with the target as a line."""
    if by_period.empty or by_period["answered"].sum() == 0:
        return empty_figure("No answered calls in this range")
    x = by_period["period"]
    fig = go.Figure()
    for column, label, colour, dash in (
        ("asa_median_s", "Median", "#1f6feb", "solid"),
        ("asa_mean_s", "Mean", "#34a853", "dot"),
        ("asa_p90_s", "90th percentile", "#d93025", "dash"),
    ):
        if by_period[column].isna().all():
            continue  # medians are not known from daily totals (long ranges)
        rings_col = column.replace("_s", "_rings")
        custom = pd.DataFrame({"rings": by_period[rings_col], "n": by_period["answered"]}).to_numpy()
        fig.add_trace(go.Scatter(
            x=x, y=by_period[column], name=label, mode="lines+markers", line={"color": colour, "dash": dash},
            marker={"size": 5}, customdata=custom,
            hovertemplate=(f"<b>{label} ring time</b> · {_period_label(granularity)}<br>%{{y:.1f}} s "
                           "≈ %{customdata[0]:.1f} rings over %{customdata[1]} answered calls"
                           "<extra>click for the calls</extra>"),
        ))
    fig.add_hline(
        y=params.target_seconds, line={"color": "#b06000", "width": 2},
        annotation_text=f"target: {params.target_rings} rings = {params.target_seconds:g} s",
        annotation_position="top right",
    )
    fig.update_layout(**_LAYOUT, height=360,
                      title={"text": f"Speed of answer, by {granularity} (seconds ringing before a person answered)",
                             "x": 0},
                      yaxis={"title": "seconds", "rangemode": "tozero"}, xaxis={"title": None, "type": "date"})
    add_training_marks(fig, marks, _first(x), _last(x))
    return _finish(fig)


def missed_heatmap(weekday_hour: pd.DataFrame, params: MetricParams) -> go.Figure:
    """Calls not answered by a person (voicemail, abandoned, missed), weekday x hour of day."""
    if weekday_hour.empty:
        return empty_figure("No calls in this range")
    frame = weekday_hour.assign(not_answered=weekday_hour["voicemail"] + weekday_hour["abandoned"]
                                + weekday_hour["missed"])
    hours = list(range(int(frame["hour"].min()), int(frame["hour"].max()) + 1))
    grid = frame.pivot_table(index="weekday", columns="hour", values="not_answered", aggfunc="sum")
    grid = grid.reindex(index=range(7), columns=hours).fillna(0)
    offered = frame.pivot_table(index="weekday", columns="hour", values="offered", aggfunc="sum")
    offered = offered.reindex(index=range(7), columns=hours).fillna(0)
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[f"{h:02d}:00" for h in hours], y=list(WEEKDAY_NAMES),
        customdata=offered.to_numpy(), colorscale="OrRd", colorbar={"title": "not answered"},
        hovertemplate=("%{y} %{x}: <b>%{z:.0f}</b> not answered of %{customdata:.0f} offered"
                       "<br>not answered = voicemail + abandoned + missed<extra>click for the calls</extra>"),
    ))
    fig.update_layout(**_LAYOUT, height=330,
                      title={"text": "When callers don't reach a person (voicemail, abandoned or missed)", "x": 0},
                      yaxis={"autorange": "reversed"}, xaxis={"title": "hour of day"})
    return _finish(fig)


def volume_by_hour(by_hour: pd.DataFrame, params: MetricParams) -> go.Figure:
    """Offered calls per hour of day, stacked by outcome."""
    if by_hour.empty:
        return empty_figure("No calls in this range")
    fig = go.Figure()
    for outcome, colour in OUTCOME_COLOURS.items():
        fig.add_trace(go.Bar(
            x=[f"{int(h):02d}:00" for h in by_hour["hour"]], y=by_hour[outcome], name=outcome, marker_color=colour,
            customdata=by_hour["offered"],
            hovertemplate=f"%{{x}}: %{{y}} {outcome} of %{{customdata}} offered<extra>click for the calls</extra>",
        ))
    fig.update_layout(**_LAYOUT, barmode="stack", height=330,
                      title={"text": "Call volume by hour of day (offered calls, by outcome)", "x": 0},
                      xaxis={"title": "hour of day"}, yaxis={"title": "calls"})
    return _finish(fig)


def staff_figure(by_staff: pd.DataFrame, params: MetricParams) -> go.Figure:
    """Answered calls per staff member, with their median ring time on a second axis."""
    frame = by_staff[by_staff["answered"] > 0] if not by_staff.empty else by_staff
    if frame.empty:
        return empty_figure("No answered calls in this range")
    frame = frame.sort_values("answered", ascending=False)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=frame["staff"], y=frame["answered"], name="answered calls", marker_color="#34a853",
        customdata=frame.get("answered_by"),
        hovertemplate="%{x}: <b>%{y}</b> calls answered<extra>click for their page</extra>",
    ))
    fig.add_trace(go.Scatter(
        x=frame["staff"], y=frame["asa_median_s"], name="median ring time (s)", yaxis="y2", mode="markers",
        marker={"size": 12, "color": "#1f6feb", "symbol": "diamond"}, customdata=frame["asa_median_rings"],
        hovertemplate="%{x}: median %{y:.1f} s ≈ %{customdata:.1f} rings before answering<extra></extra>",
    ))
    fig.add_hline(y=params.target_seconds, yref="y2", line={"color": "#b06000", "dash": "dot"},
                  annotation_text=f"target {params.target_seconds:g} s", annotation_position="top left")
    fig.update_layout(**{**_LAYOUT, "margin": {**_LAYOUT["margin"], "r": 70}}, height=340,
                      title={"text": "Per staff member: calls answered and median speed of answer", "x": 0},
                      xaxis={"type": "category", "title": "staff member (extension)"},
                      yaxis={"title": "answered calls"},
                      yaxis2={"title": "median ring time (s)", "overlaying": "y", "side": "right",
                              "rangemode": "tozero", "showgrid": False})
    return _finish(fig)


def follow_up_figure(by_week: pd.DataFrame) -> go.Figure:
    """Share of unanswered callers followed up within the window, and the median time it took."""
    if by_week.empty:
        return empty_figure("No voicemail, abandoned or missed calls in this range")
    fig = go.Figure()
    partial = by_week["partial"].tolist() if "partial" in by_week else [False] * len(by_week)
    words = _partial_words(by_week, "week")
    custom = pd.DataFrame({"f": by_week["followed_up"], "d": by_week["decided"], "p": by_week["pending"],
                           "w": words}).to_numpy()
    fig.add_trace(go.Bar(
        x=by_week["period"], y=[_pct(v) for v in by_week["follow_up_rate"]], name="followed up (%)",
        marker={"color": ["#b7dfc2" if p else "#34a853" for p in partial],
                "pattern": {"shape": ["/" if p else "" for p in partial], "fgcolor": "#1e7e34"}},
        customdata=custom,
        hovertemplate=("Week of %{x|%d %b %Y}%{customdata[3]}: <b>%{y:.1f} %</b> followed up<br>"
                       "= followed up %{customdata[0]} / decided %{customdata[1]}"
                       " (%{customdata[2]} still inside their window)<extra></extra>"),
    ))
    fig.add_trace(go.Scatter(
        x=by_week["period"], y=by_week["median_hours"], name="median time to follow-up (hours)", yaxis="y2",
        mode="lines+markers", line={"color": "#1f6feb"},
        hovertemplate="Week of %{x|%d %b %Y}: median %{y:.1f} h to follow up<extra></extra>",
    ))
    note = " (hatched: a week not over yet)" if any(partial) else ""
    fig.update_layout(**{**_LAYOUT, "margin": {**_LAYOUT["margin"], "r": 70}}, height=360,
                      title={"text": f"Follow-up rate and time to follow-up, by week{note}", "x": 0},
                      yaxis={"title": "% followed up", "range": [0, 105]},
                      yaxis2={"title": "hours", "overlaying": "y", "side": "right", "rangemode": "tozero",
                              "showgrid": False},
                      xaxis={"type": "date"})
    return _finish(fig)


def _first(x: pd.Series) -> date | None:
    return None if x.empty else pd.Timestamp(x.min()).date()


def _last(x: pd.Series) -> date | None:
    return None if x.empty else (pd.Timestamp(x.max()) + pd.Timedelta(days=6)).date()


def training_fit_figure(daily: pd.DataFrame, training_day: date, label: str) -> go.Figure:
    """One measure's daily rate around a training with the model's fitted lines (metrics.training).

    `daily` has date, value, weight, fitted and without_training (NaN when too
    little data): dots are days (hover: calls), the solid line what the model
    fitted, the dashed line where the earlier trend was heading without the training.
    """
    if daily.empty:
        return empty_figure("No calls around this training")
    x = [epoch_ms(d) for d in daily["date"]]
    fig = go.Figure()
    fig.add_scatter(x=x, y=100 * daily["value"], mode="markers", name="each day",
                    marker={"color": "#8a99ab", "size": 5},
                    customdata=daily["weight"].astype(int),
                    hovertemplate="%{x|%a %d %b}: %{y:.1f} % of %{customdata} calls<extra></extra>")
    if daily["fitted"].notna().any():
        fig.add_scatter(x=x, y=100 * daily["fitted"], mode="lines", name="fitted", line={"color": "#1f6feb"},
                        hovertemplate="fitted: %{y:.1f} %<extra></extra>")
        after = (daily["t"] > 0).to_numpy()
        fig.add_scatter(x=[v for v, a in zip(x, after, strict=True) if a],
                        y=100 * daily["without_training"][after], mode="lines", name="earlier trend carried on",
                        line={"color": "#6f42c1", "dash": "dash"},
                        hovertemplate="without the training: %{y:.1f} %<extra></extra>")
    fig.add_vline(x=epoch_ms(training_day), line={"dash": "dot", "color": "#6f42c1", "width": 1})
    fig.update_layout(**_LAYOUT)
    fig.update_layout(height=240, margin={"l": 50, "r": 10, "t": 30, "b": 30}, showlegend=True,
                      legend={"orientation": "h", "y": 1.15, "x": 0}, xaxis={"type": "date"},
                      yaxis={"title": f"{label}, %"})
    return _finish(fig)
