"""Three plain-language observations generated from the report's numbers.

Each candidate is a sentence with a weight for how much a manager would want
to hear it; the three heaviest are kept, in a stable order. Weights only rank
candidates, they are not shown.
"""

from __future__ import annotations

from callwatch.formatting import DAY_NAMES, hour_span, pct, seconds
from callwatch.report.model import WeeklyReport


def share_words(share: float) -> str:
    for value, words in ((1.0, "all"), (2 / 3, "two thirds"), (0.5, "half"), (1 / 3, "a third"), (0.25, "a quarter")):
        if abs(share - value) < 0.03:
            return words
    return pct(share)


def points(a: float, b: float) -> str:
    return f"{abs(a - b) * 100:.0f} point{'s' if round(abs(a - b) * 100) != 1 else ''}"


def _hotspot(report: WeeklyReport) -> tuple[float, str] | None:
    if report.lost_hours.empty or report.lost_total < 3:
        return None
    top = report.lost_hours.iloc[0]
    lost, share = int(top["lost"]), float(top["share"])
    parts = [
        f"{int(top[k])} {w}"
        for k, w in (("voicemail", "to voicemail"), ("abandoned", "hung up"), ("missed", "missed"))
        if int(top[k])
    ]
    noun = report.period.noun
    text = (
        f"{DAY_NAMES[int(top['weekday'])]} {hour_span(int(top['hour']))} lost {lost} call{'s' if lost != 1 else ''} "
        f"({', '.join(parts)}), {share_words(share)} of the {noun}'s {report.lost_total} unanswered calls."
    )
    return 2.0 + 4 * share, text


def _versus(report: WeeklyReport) -> tuple[float, str] | None:
    line = report.metric("answer_rate")
    if line.value is None:
        return None
    text = f"The answer rate was {pct(line.value)}"
    if line.previous is not None:
        moved = "up" if line.value > line.previous else "down"
        text += (
            f", {moved} {points(line.value, line.previous)} on the {report.period.noun} before"
            if round(line.value * 100) != round(line.previous * 100)
            else f", the same as the {report.period.noun} before"
        )
    if line.goal is not None:
        met = "meeting" if line.meets_goal() else "short of"
        text += f", {met} the {pct(line.goal)} goal"
    weight = 1.5 + (abs(line.value - line.previous) * 20 if line.previous is not None else 0)
    return weight, text + "."


def _hardest_day(report: WeeklyReport) -> tuple[float, str] | None:
    daily = report.daily[report.daily["offered"] > 0]
    if len(daily) < 2:
        return None
    rate = daily["answered"] / daily["offered"]
    worst = rate.idxmin()
    rest = daily.drop(index=worst)
    rest_rate = rest["answered"].sum() / rest["offered"].sum()
    gap = rest_rate - rate[worst]
    if gap < 0.03:
        return None
    day = daily.loc[worst, "date"]
    return 1.0 + gap * 10, (
        f"{DAY_NAMES[day.weekday()]} was the hardest day: {pct(rate[worst])} of {int(daily.loc[worst, 'offered'])} "
        f"calls answered, against {pct(rest_rate)} the rest of the {report.period.noun}."
    )


def _speed(report: WeeklyReport) -> tuple[float, str] | None:
    line = report.metric("asa_median_s")
    within = report.metric("within_target_rate")
    if line.value is None or within.value is None:
        return None
    # The within-target rate is over offered calls with a ring time; re-express it over the answered ones.
    answered = report.summary["answered_timed"]
    within_of_answered = within.value * report.summary["offered_timed"] / answered if answered else 0.0
    return 0.8, (
        f"Answered calls were picked up in a median {seconds(line.value)}; {pct(within_of_answered)} of them "
        f"within the {line.goal:.0f} s ring target."
    )


def _follow_up(report: WeeklyReport) -> tuple[float, str] | None:
    # Both counts are over every waiting caller, not the rows the report has room to print.
    waiting, overdue = report.awaiting_total, report.awaiting_overdue
    if waiting == 0:
        rate = report.follow_up.get("follow_up_rate")
        if rate is None:
            return None
        return 0.5, f"Every caller who missed the practice has been followed up; {pct(rate)} within the window."
    callers = f"{waiting} caller{'s' if waiting != 1 else ''}"
    text = f"{callers} from this {report.period.noun} {'are' if waiting != 1 else 'is'} still waiting for a call back"
    text += f", {overdue} of them past the follow-up window." if overdue else "."
    return 1.0 + min(waiting, 20) / 10, text


def _training(report: WeeklyReport) -> tuple[float, str] | None:
    for result in reversed(report.trainings):
        impact = result.impact
        if impact.verdict == "too little data":
            continue
        when = f"{result.session.date:%b} {result.session.date.day}"
        text = f"{result.session.title} ({when}): {impact.headline}"
        return 1.5 + (2.0 if impact.verdict in ("improved", "worsened") else 0.0), text
    return None


def observations(report: WeeklyReport, count: int = 3) -> list[str]:
    if report.summary["offered"] == 0:
        return [f"No calls were offered in business hours this {report.period.noun}, so there is nothing to measure."]
    found = [
        c
        for c in (
            _hotspot(report),
            _versus(report),
            _training(report),
            _hardest_day(report),
            _follow_up(report),
            _speed(report),
        )
        if c is not None
    ]
    ranked = sorted(range(len(found)), key=lambda i: -found[i][0])[:count]
    return [found[i][1] for i in sorted(ranked)]
