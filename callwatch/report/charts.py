"""Small inline SVG charts for the report.

Drawn by hand rather than with plotly: the report must open offline, print
crisply on paper and stay a small email body, and the image exporter plotly
needs (kaleido) is not something a practice's server will have.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from callwatch.formatting import DAY_ABBREVIATIONS

GOOD, BAD, INK, MUTED, GRID, ACCENT = "#1b7f3b", "#b3261e", "#1f2933", "#6b7785", "#d9dee3", "#2a5db0"
FONT = "font-family='Segoe UI, Helvetica, Arial, sans-serif'"


def _svg(width: int, height: int, body: list[str], label: str, fluid: bool = True) -> str:
    # Charts fill their column; the grid keeps its natural size (scaled up it looks shouty).
    size = "width='100%'" if fluid else f"width='{width}' height='{height}' style='max-width:100%;height:auto'"
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' {size} role='img' "
        f"aria-label='{escape(label)}' {FONT}>" + "".join(body) + "</svg>"
    )


def _text(
    x: float, y: float, text: str, size: int = 11, anchor: str = "middle", fill: str = INK, bold: bool = False
) -> str:
    weight = " font-weight='600'" if bold else ""
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' fill='{fill}'{weight}>"
        f"{escape(text)}</text>"
    )


def _rate_axis(left: float, top: float, width: float, height: float, low: float) -> list[str]:
    out = []
    for step in range(5):
        value = low + (1 - low) * step / 4
        y = top + height - height * step / 4
        out.append(f"<line x1='{left}' x2='{left + width}' y1='{y:.1f}' y2='{y:.1f}' stroke='{GRID}'/>")
        out.append(_text(left - 6, y + 4, f"{value * 100:.0f}%", 10, "end", MUTED))
    return out


def daily_rate_bars(
    labels: Sequence[str], rates: Sequence[float | None], goal: float | None, title: str = "Answer rate by day"
) -> str:
    """One bar per day with its value on top and the goal as a dashed line."""
    width, height, left, top, bottom = 470, 230, 42, 30, 36
    plot_w, plot_h = width - left - 56, height - top - bottom  # the right margin holds the goal label
    body = [_text(left, 16, title, 13, "start", bold=True), *_rate_axis(left, top, plot_w, plot_h, 0.0)]
    slot = plot_w / max(len(labels), 1)
    for i, (label, rate) in enumerate(zip(labels, rates, strict=True)):
        x = left + i * slot + slot * 0.2
        body.append(_text(x + slot * 0.3, height - bottom + 16, label, 11, fill=MUTED))
        if rate is None:
            body.append(_text(x + slot * 0.3, top + plot_h - 6, "no calls", 10, fill=MUTED))
            continue
        bar_h = plot_h * rate
        colour = ACCENT if goal is None or rate >= goal else BAD
        body.append(
            f"<rect x='{x:.1f}' y='{top + plot_h - bar_h:.1f}' width='{slot * 0.6:.1f}' height='{bar_h:.1f}' "
            f"fill='{colour}' rx='2'/>"
        )
        body.append(_text(x + slot * 0.3, top + plot_h - bar_h - 5, f"{rate * 100:.0f}%", 11, bold=True))
    if goal is not None:
        y = top + plot_h * (1 - goal)
        body.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='{INK}' stroke-dasharray='5 4'/>"
        )
        body.append(_text(left + plot_w + 4, y + 4, f"goal {goal * 100:.0f}%", 10, "start", INK))
    return _svg(width, height, body, title)


def weekly_trend(
    weeks: Sequence[date],
    series: dict[str, Sequence[float | None]],
    goal: float | None,
    trainings: Sequence[tuple[date, str]],
    title: str = "Weekly trend",
) -> str:
    """Lines per series over weeks (x = each week's Monday), training dates as labelled markers."""
    width, height, left, top, bottom = 470, 250, 42, 44, 54
    plot_w, plot_h = width - left - 56, height - top - bottom
    values = [v for vals in series.values() for v in vals if v is not None]
    lowest = min([*values, goal if goal is not None else 1.0, 1.0])
    # Axis floors that give round ticks: 60-70-80-90-100, 20-40-60-80-100 or 0-25-50-75-100.
    low = next(floor for floor in (0.6, 0.2, 0.0) if lowest >= floor + 0.05)
    body = [_text(left, 16, title, 13, "start", bold=True), *_rate_axis(left, top, plot_w, plot_h, low)]
    if not weeks:
        return _svg(width, height, [*body, _text(width / 2, height / 2, "no data", 12, fill=MUTED)], title)
    span = max((weeks[-1] - weeks[0]).days, 1)

    def x_of(day: date) -> float:
        return left + 10 + (plot_w - 20) * (day - weeks[0]).days / span if len(weeks) > 1 else left + plot_w / 2

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (1 - low))

    for week in weeks:
        body.append(_text(x_of(week), height - bottom + 16, f"{week:%b} {week.day}", 10, fill=MUTED))
    if goal is not None:
        body.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y_of(goal):.1f}' y2='{y_of(goal):.1f}' stroke='{INK}' "
            "stroke-dasharray='5 4'/>"
        )
        body.append(_text(left + plot_w + 4, y_of(goal) + 4, f"goal {goal * 100:.0f}%", 10, "start", INK))
    for day, label in trainings:
        if weeks[0] <= day <= weeks[-1] or (day - weeks[-1]).days < 7:
            x = x_of(day)
            body.append(
                f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top - 4}' y2='{top + plot_h}' stroke='{GOOD}' stroke-width='2'/>"
            )
            anchor = "end" if x > left + plot_w * 0.6 else "start"
            body.append(_text(x, top - 8, f"training {day:%b} {day.day}: {label}"[:40], 10, anchor, GOOD, True))
    colours = (ACCENT, "#8a5a00", MUTED)
    for n, (name, vals) in enumerate(series.items()):
        colour = colours[n % len(colours)]
        points = [(x_of(w), y_of(v)) for w, v in zip(weeks, vals, strict=True) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            dash = " stroke-dasharray='2 3'" if n else ""
            body.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2.5'{dash}/>")
        body.extend(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5' fill='{colour}'/>" for x, y in points)
        legend_x = left + 8 + n * 150
        body.append(f"<rect x='{legend_x}' y='{height - 18}' width='10' height='10' fill='{colour}'/>")
        body.append(_text(legend_x + 14, height - 9, name, 10, "start", INK))
    return _svg(width, height, body, title)


def lost_calls_grid(cells: dict[tuple[int, int], int], hours: Sequence[int], days: Sequence[int]) -> str:
    """Weekday x hour grid of unanswered calls; darker = more, with the count written in."""
    names = DAY_ABBREVIATIONS
    cell_w, cell_h, left, top = 50, 26, 44, 34
    width, height = left + cell_w * len(hours) + 8, top + cell_h * len(days) + 8
    body = [_text(left, 16, "Unanswered calls by hour", 13, "start", bold=True)]
    peak = max([*cells.values(), 1])
    for j, hour in enumerate(hours):
        label = f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}"
        body.append(_text(left + j * cell_w + cell_w / 2, top - 6, label, 10, fill=MUTED))
    for i, day in enumerate(days):
        body.append(_text(left - 6, top + i * cell_h + cell_h / 2 + 4, names[day], 10, "end", MUTED))
        for j, hour in enumerate(hours):
            count = cells.get((day, hour), 0)
            shade = 0.08 + 0.85 * count / peak if count else 0.0
            x, y = left + j * cell_w, top + i * cell_h
            body.append(
                f"<rect x='{x + 1}' y='{y + 1}' width='{cell_w - 2}' height='{cell_h - 2}' fill='{BAD}' "
                f"fill-opacity='{shade:.2f}' stroke='{GRID}'/>"
            )
            if count:
                body.append(
                    _text(x + cell_w / 2, y + cell_h / 2 + 4, str(count), 11, fill="#fff" if shade > 0.5 else INK)
                )
    return _svg(width, height, body, "Unanswered calls by weekday and hour", fluid=False)
