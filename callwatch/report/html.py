"""The weekly report as one self-contained HTML file (inline CSS and SVG; opens offline, prints on paper).

Every value passes through `escape`; caller numbers arrive already masked.
"""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

import pandas as pd

from callwatch import formatting
from callwatch.formatting import DAY_ABBREVIATIONS, DAY_NAMES, hour_span, pct, seconds
from callwatch.metrics.quality import NOT_IN_EXPORT, RING_TIME_KEYS, ring_time_known
from callwatch.metrics.training import SIMPLE_DAYS, MeasureImpact
from callwatch.report import charts
from callwatch.report.model import MetricLine, TrainingResult, WeeklyReport

CSS = """
:root { --ink:#1f2933; --muted:#6b7785; --line:#d9dee3; --good:#1b7f3b; --bad:#b3261e; --accent:#2a5db0; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); margin: 0; background: #f4f6f8; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 28px 40px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 14px 0 6px; }
p, li { line-height: 1.45; }
.sub { color: var(--muted); margin: 0 0 14px; }
.cards { display: grid; grid-template-columns: repeat(5, 1fr); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; border-top: 5px solid var(--muted); }
.card.good { border-top-color: var(--good); } .card.bad { border-top-color: var(--bad); }
.card .name { font-size: 12px; color: var(--muted); text-transform: uppercase; min-height: 30px; }
.card .value { font-size: 30px; font-weight: 700; margin: 2px 0; }
.card .cmp { font-size: 12px; color: var(--muted); line-height: 1.5; }
.up-good, .down-good { color: var(--good); font-weight: 600; }
.up-bad, .down-bad { color: var(--bad); font-weight: 600; }
.obs { background: #eef3fb; border-left: 5px solid var(--accent); padding: 10px 16px 10px 30px; margin: 16px 0 0; }
.obs li { margin: 4px 0; font-size: 15px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right; }
th { background: #f4f6f8; font-weight: 600; } th:first-child, td:first-child { text-align: left; }
td.left, th.left { text-align: left; } td:first-child { white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; align-items: start; }
.training { border: 1px solid var(--line); border-radius: 8px; padding: 4px 14px 10px; margin: 10px 0; }
.headline { font-size: 15px; font-weight: 600; }
.warn { color: #8a5a00; font-size: 13px; }
.note, footer { color: var(--muted); font-size: 12px; }
footer { margin-top: 28px; border-top: 1px solid var(--line); padding-top: 8px; }
@media (max-width: 800px) { .cards { grid-template-columns: repeat(2, 1fr); } .charts { grid-template-columns: 1fr; } }
small.ext { color: var(--muted); font-size: 0.8em; }
.card .value.unknown { font-size: 15px; color: var(--muted); }
.quality-note { background: #fff8e1; border-left: 4px solid #b06000; padding: 8px 12px; }
@media print {
  @page { size: letter; margin: 12mm; }
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; }
  .card, .training, table, svg, .obs, tr { break-inside: avoid; }
  h1 { font-size: 20px; } h2 { break-after: avoid; font-size: 15px; margin-top: 18px; }
  table { font-size: 10.5px; } th, td { padding: 3px 6px; }
  .obs li { font-size: 12px; } .card .value { font-size: 24px; } .card .cmp { font-size: 10.5px; }
  .cards { gap: 6px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


# The words the rest of the report uses ("hung up", not "abandoned").
OUTCOME_WORDS = {"voicemail": "voicemail", "abandoned": "hung up", "missed": "missed"}


def _fmt(line: MetricLine, value: float | None) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pct(value) if line.unit == "rate" else seconds(value)


def _delta(line: MetricLine, noun: str) -> str:
    if line.value is None or line.previous is None:
        return f"no earlier {noun} to compare"
    diff = line.value - line.previous
    amount = f"{abs(diff) * 100:.0f} pts" if line.unit == "rate" else f"{abs(diff):.0f} s"
    amount = "1 pt" if amount == "1 pts" else amount
    if amount in ("0 pts", "0 s"):
        return f"same as the {noun} before"
    arrow, word = ("▲", "up") if diff > 0 else ("▼", "down")
    css = f"{word}-{'good' if line.change_is_good() else 'bad'}"
    return f"<span class='{css}'>{arrow} {amount}</span> on the {noun} before"


def _card(line: MetricLine, noun: str, ring_time: bool = True) -> str:
    if not ring_time and line.key in RING_TIME_KEYS:
        return (f"<div class='card'><div class='name'>{escape(line.label)}</div>"
                f"<div class='value unknown'>{escape(NOT_IN_EXPORT)}</div><div class='cmp'>the call log does not "
                "say when calls were answered</div></div>")
    status = {True: " good", False: " bad", None: ""}[line.meets_goal()]
    goal_word = "target" if line.unit == "seconds" else "goal"
    goal = (
        "" if line.goal is None else f"{goal_word} {'≤' if not line.higher_is_better else '≥'} {_fmt(line, line.goal)}"
    )
    return (
        f"<div class='card{status}'><div class='name'>{escape(line.label)}</div>"
        f"<div class='value'>{_fmt(line, line.value)}</div><div class='cmp'>{_delta(line, noun)}<br>"
        f"4-{noun} average {_fmt(line, line.average)}<br>{goal}</div></div>"
    )


def _table(headers: list[str], rows: list[list[str]], total: list[str] | None = None, left: int = 1) -> str:
    """A table whose first `left` columns are text (left-aligned), the rest numbers."""

    def cls(i: int) -> str:
        return " class='left'" if i < left else ""

    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    if total:
        body += "<tr class='total'>" + "".join(f"<td>{c}</td>" for c in total) + "</tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _daily_section(report: WeeklyReport) -> str:
    daily = report.daily
    rows = [
        [
            f"{DAY_ABBREVIATIONS[d.date.weekday()]} {d.date:%b} {d.date.day}",
            str(int(d.offered)),
            str(int(d.answered)),
            pct(d.answer_rate),
            pct(d.within_target_rate),
            str(int(d.voicemail)),
            str(int(d.abandoned)),
            str(int(d.missed)),
            seconds(d.asa_median_s),
        ]
        for d in daily.itertuples()
    ]
    s = report.summary
    total = [
        "Week",
        str(s["offered"]),
        str(s["answered"]),
        pct(s["answer_rate"]),
        pct(s["within_target_rate"]),
        str(s["voicemail"]),
        str(s["abandoned"]),
        str(s["missed"]),
        seconds(s["asa_median_s"]),
    ]
    headers = [
        "Day",
        "Calls",
        "Answered",
        "Answer rate",
        "Within target",
        "Voicemail",
        "Hung up",
        "Missed",
        "Median answer",
    ]
    return _table(headers, rows, total)


def _lost_section(report: WeeklyReport) -> str:
    top = report.lost_hours
    if top.empty:
        return f"<p>No calls went unanswered this {report.period.noun}.</p>"
    rows = [
        [
            f"{DAY_NAMES[int(r.weekday)]} {hour_span(int(r.hour))}",
            str(int(r.lost)),
            str(int(r.offered)),
            str(int(r.voicemail)),
            str(int(r.abandoned)),
            str(int(r.missed)),
            pct(r.share),
        ]
        for r in top.itertuples()
    ]
    table = _table(
        ["Hour", "Unanswered", "Calls", "Voicemail", "Hung up", "Missed", f"Share of {report.period.noun}"], rows
    )
    grid = report.lost_by_hour
    cells = {(int(r.weekday), int(r.hour)): int(r.lost) for r in grid.itertuples()}
    hours = list(range(min(grid["hour"]), max(grid["hour"]) + 1)) if len(grid) else []
    days = sorted({int(d) for d in grid["weekday"]})
    return table + charts.lost_calls_grid(cells, hours, days)


def _staff_cell(extension: object, name: object) -> str:
    """The name a person reads, the extension in small type beside it."""
    ext = escape(str(extension))
    if not isinstance(name, str) or name in ("", str(extension)):
        return ext
    return f"{escape(name)} <small class='ext'>{ext}</small>"


def _staff_section(report: WeeklyReport) -> str:
    if report.staff.empty:
        return "<p>No answered call says who answered it (the PBX did not report it).</p>"
    rows = []
    for r in report.staff.itertuples():
        timed = int(r.answered_timed) > 0
        ring = [pct(r.within_target_share), seconds(r.asa_median_s), seconds(r.asa_p90_s)] if timed else \
            [escape(NOT_IN_EXPORT)] * 3
        rows.append([_staff_cell(r.answered_by, r.staff_name), str(int(r.answered)), pct(r.share), *ring])
    return _table(["Staff member", "Answered", "Share", "Within target", "Median answer", "90% answered by"], rows)


def _ring_time_note(report: WeeklyReport) -> str:
    note = report.ring_time_note
    return "" if note is None else f"<p class='quality-note'><b>{escape(note[0].upper() + note[1:])}.</b></p>"


def _follow_up_section(report: WeeklyReport, tz: ZoneInfo) -> str:
    f = report.follow_up
    median = f["median_follow_up_seconds"]
    when = "–" if median is None else (f"{median / 60:.0f} min" if median < 5400 else f"{median / 3600:.1f} h")
    text = (
        f"<p>{f['needing']} calls this {report.period.noun} needed a follow-up (voicemail, hung up or missed). "
        f"<b>{pct(f['follow_up_rate'])}</b> were followed up within the window "
        f"({f['followed_up']} of {f['decided']}; {f['pending']} still inside their window); median time {when}.</p>"
    )
    if report.awaiting.empty:
        return text + f"<p>No caller from this {report.period.noun} is still waiting.</p>"
    rows = [
        [
            escape(r.caller_masked),
            f"{r.first_arrived_local:%a %b %d %I:%M %p}",
            escape(OUTCOME_WORDS.get(str(r.last_outcome), str(r.last_outcome)))
            + (" (left message)" if r.left_message else ""),
            "yes" if r.overdue else "no",
            str(int(r.calls)),
        ]
        for r in report.awaiting.itertuples()
    ]
    more = report.awaiting_total - len(report.awaiting)
    extra = f"<p class='note'>…and {more} more on the dashboard.</p>" if more > 0 else ""
    return (
        text
        + f"<h3>Still awaiting a call back ({report.awaiting_total})</h3>"
        + _table(["Caller", "First call", "Last outcome", "Past window", "Calls"], rows, left=4)
        + extra
    )


def _measure_cells(m: MeasureImpact) -> list[str]:
    e = m.effect
    if m.unit == "rate":
        before, after, simple = pct(m.before), pct(m.after), formatting.points(m.simple_change)
        effect = "–" if e.estimate is None else f"{formatting.points(e.estimate)} ({formatting.points(e.ci_low)} to " \
            f"{formatting.points(e.ci_high)})"
    else:
        before, after = formatting.seconds(m.before), formatting.seconds(m.after)
        simple = "–" if m.simple_change is None else f"{m.simple_change:+.1f} s"
        effect = "–" if e.estimate is None else f"{e.estimate:+.1f} s ({e.ci_low:+.1f} to {e.ci_high:+.1f})"
    return [escape(m.label), before, after, simple, effect, formatting.p_value(e.p_value), e.verdict]


def _training_block(result: TrainingResult) -> str:
    impact, session = result.impact, result.session
    office = "every office" if session.site is None else escape(session.site)
    head = (f"<h3>{escape(session.title)} — {session.date:%A %b} {session.date.day}, {session.date.year} "
            f"<span class='note'>({office})</span></h3>")
    b0, _ = impact.before_window
    _, a1 = impact.after_window
    windows = (
        f"<p class='note'>Effect: daily rates from {b0:%b %d} to {a1:%b %d} (business hours, the training day left "
        f"out), allowing for the trend before the training, weekday and two weeks to settle in. Before/after: the "
        f"{SIMPLE_DAYS} days each side, for context.</p>"
    )
    rows = [_measure_cells(m) for m in impact.measures]
    table = _table(["Measure", "Before", "After", "Plain difference", "Effect (95% CI)", "p-value", "Verdict"], rows)
    why = f"<p class='note'>{escape(impact.explanation)}</p>" if impact.explanation else ""
    warns = "".join(f"<p class='warn'>⚠ {escape(w)}</p>" for w in impact.warnings)
    return (
        f"<div class='training'>{head}<p class='headline'>{escape(impact.headline)}</p>{why}{windows}{table}"
        f"{warns}</div>"
    )


def render_html(report: WeeklyReport) -> str:
    tz = ZoneInfo(report.timezone)
    period = report.period
    answer = report.metric("answer_rate")
    daily = report.daily
    day_labels = [f"{d:%a} {d.day}" for d in daily["date"]]
    rates = [None if pd.isna(v) else float(v) for v in daily.get("answer_rate", [])]
    trend = report.trend
    weeks = [pd.Timestamp(w).date() for w in trend["week"]]
    trend_svg = charts.weekly_trend(
        weeks,
        {
            "answer rate": [None if pd.isna(v) else float(v) for v in trend["answer_rate"]],
            "answered within target": [None if pd.isna(v) else float(v) for v in trend["within_target_rate"]],
        },
        answer.goal,
        [(t.session.date, t.session.title) for t in report.trainings],
        title=f"The last {len(weeks)} weeks",
    )
    generated = report.generated_at.astimezone(tz)
    ring_time = ring_time_known(report.summary) or not report.summary["offered"]
    trainings = "".join(_training_block(t) for t in report.trainings) or (
        f"<p>No training sessions in or in the six weeks before this {period.noun}.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Phone report — {escape(report.site)} — {escape(period.title)}</title><style>{CSS}</style></head>
<body><main>
<h1>How the phones were answered — {escape(period.title)}</h1>
<p class="sub">{escape(report.site)} · {report.summary["offered"]} calls in business hours ·
times in {escape(report.timezone)} · generated {generated:%a %b %d, %Y %I:%M %p}</p>
<section class="cards">{"".join(_card(m, period.noun, ring_time) for m in report.metrics)}</section>
{_ring_time_note(report)}
<ul class="obs">{"".join(f"<li>{escape(o)}</li>" for o in report.observations)}</ul>
<h2>Day by day</h2>
<div class="charts">{charts.daily_rate_bars(day_labels, rates, answer.goal)}{trend_svg}</div>
{_daily_section(report)}
<h2>Hours that lost the most calls</h2>
{_lost_section(report)}
<h2>Who answered</h2>
{_staff_section(report)}
<h2>Follow-ups</h2>
{_follow_up_section(report, tz)}
<h2>Training</h2>
{trainings}
<footer><p><b>How these numbers are made.</b> Calls are inbound calls in business hours; a caller who hung up within
the short-abandon limit (a likely wrong number) is left out. Answer, voicemail, abandonment (hung up while ringing or
waiting) and missed rates are shares of those calls and add up to 100%. "Within target" is answered within the ring
target. The 4-{period.noun} average pools the four {period.noun}s before this one. A training's effect is how far
each daily rate sits from where its earlier trend was heading once the change has settled (a regression on daily
rates allowing for weekday, the earlier trend and two weeks to settle in), with its 95% interval; the verdict is the
answer rate's. Caller numbers are masked. Settings:
{escape(report.params_note)}.</p></footer>
</main></body></html>
"""
