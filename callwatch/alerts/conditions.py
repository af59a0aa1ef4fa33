"""Which alert conditions hold right now: pure functions of a Snapshot and the rules.

Every message names what to do something about (where it rings, which queue,
how many) and never a caller's number: notifications leave the practice's
network (e-mail, Teams, SMS gateways).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callwatch.formatting import pct, seconds_words

# The conditions, in the order the wall board lists them.
RING_PAST_TARGET = "ring_past_target"
QUEUE_WAIT = "queue_wait"
ANSWER_RATE = "answer_rate_below_goal"
MISSED_CALLS = "missed_calls"
COLLECTOR_SILENT = "collector_silent"
CONDITIONS = (RING_PAST_TARGET, QUEUE_WAIT, ANSWER_RATE, MISSED_CALLS, COLLECTOR_SILENT)


@dataclass(frozen=True)
class Waiting:
    """One call ringing or waiting in a queue now: where, and since when."""

    state: str  # 'ringing' | 'queued'
    since: datetime
    where: str | None


@dataclass(frozen=True)
class Snapshot:
    """What the phones look like at `now`, for one office."""

    now: datetime
    waiting: tuple[Waiting, ...]
    offered_today: int
    answer_rate_today: float | None
    unanswered_recent: int  # calls nobody answered in the last `missed_minutes` (short abandons left out)
    last_heard: datetime | None  # when the collector last heard from the PBX; None: no collector yet
    open_now: bool


@dataclass(frozen=True)
class Rules:
    """The thresholds (AlertSettings plus the office's ring target and answer-rate goal); None turns one off."""

    target_seconds: float | None
    queue_wait_seconds: float | None
    answer_rate_goal: float | None
    answer_rate_min_calls: int
    missed_calls: int | None
    missed_minutes: float
    collector_silent_seconds: float | None


def evaluate(snap: Snapshot, rules: Rules) -> dict[str, str]:
    """condition -> a sentence for each condition that holds now (absent: it does not)."""
    active: dict[str, str] = {}
    for key, check in ((RING_PAST_TARGET, _ring_past_target), (QUEUE_WAIT, _queue_wait),
                       (ANSWER_RATE, _answer_rate), (MISSED_CALLS, _missed_calls),
                       (COLLECTOR_SILENT, _collector_silent)):
        message = check(snap, rules)
        if message is not None:
            active[key] = message
    return active


def _longest(snap: Snapshot, state: str) -> tuple[list[Waiting], float]:
    calls = [w for w in snap.waiting if w.state == state]
    longest = max(((snap.now - w.since).total_seconds() for w in calls), default=0.0)
    return calls, longest


def _ring_past_target(snap: Snapshot, rules: Rules) -> str | None:
    if rules.target_seconds is None:
        return None
    late = [w for w in snap.waiting if w.state == "ringing"
            and (snap.now - w.since).total_seconds() > rules.target_seconds]
    if not late:
        return None
    worst = min(late, key=lambda w: w.since)
    rung = (snap.now - worst.since).total_seconds()
    where = f" at {worst.where}" if worst.where else ""
    more = f" ({len(late)} calls past target)" if len(late) > 1 else ""
    return (f"A call has rung {seconds_words(rung)}{where}, past the "
            f"{seconds_words(rules.target_seconds)} target{more}. Please pick up.")


def _queue_wait(snap: Snapshot, rules: Rules) -> str | None:
    if rules.queue_wait_seconds is None:
        return None
    queued, longest = _longest(snap, "queued")
    if longest <= rules.queue_wait_seconds:
        return None
    queues = sorted({w.where for w in queued if w.where})
    where = f" in {', '.join(queues)}" if queues else ""
    callers = "1 caller is" if len(queued) == 1 else f"{len(queued)} callers are"
    return (f"{callers} waiting{where}; the longest for {seconds_words(longest)} "
            f"(limit {seconds_words(rules.queue_wait_seconds)}).")


def _answer_rate(snap: Snapshot, rules: Rules) -> str | None:
    rate, goal = snap.answer_rate_today, rules.answer_rate_goal
    if goal is None or rate is None or snap.offered_today < rules.answer_rate_min_calls or rate >= goal:
        return None
    return f"Today's answer rate is {pct(rate)} after {snap.offered_today} calls, below the {pct(goal)} goal."


def _missed_calls(snap: Snapshot, rules: Rules) -> str | None:
    if rules.missed_calls is None or snap.unanswered_recent < rules.missed_calls:
        return None
    return (f"{snap.unanswered_recent} calls were not answered in the last "
            f"{rules.missed_minutes:g} minutes.")


def _collector_silent(snap: Snapshot, rules: Rules) -> str | None:
    if rules.collector_silent_seconds is None or snap.last_heard is None:
        return None
    quiet = (snap.now - snap.last_heard).total_seconds()
    if quiet <= rules.collector_silent_seconds:
        return None
    return (f"No word from the phone system for {seconds_words(quiet)}: calls are not being counted "
            "and the wall board is not live. Check the PBX link and `callwatch collect`.")
