"""A deterministic call history with a known training effect, for report tests.

Eight weeks of inbound calls for one practice (America/New_York, 8:00-17:00
Mon-Fri). From the training date on, the answer rate rises from about 80 % to
about 90 % and answered calls are picked up faster; Tuesday 12-1 pm is
understaffed all along, so it loses a cluster of calls every week. Some
missed callers are phoned back an hour later (outbound), others never are.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from callwatch.model import Call, Direction, Outcome, RingQuality, Source
from support.clock import local

SITE = "main-office"
STAFF = ("201", "202", "203")


def _call(call_id: str, site: str, direction: Direction, caller: str, arrived: datetime, ended: datetime,
          outcome: Outcome, ring_started: datetime, answered: datetime | None = None, answered_by: str | None = None,
          *, left_message: bool | None = None) -> Call:
    """One call of the history: from CDR CSV, its ring time exact."""
    return Call(call_id, site, direction, caller, arrived, ended, outcome, ring_started, answered, answered_by, None,
                left_message, Source.CSV, ring_quality=RingQuality.EXACT)


def history(
    first_monday: date,
    weeks: int,
    training: date,
    *,
    seed: int = 7,
    calls_per_day: int = 60,
    answer_before: float = 0.80,
    answer_after: float = 0.90,
    site: str = SITE,
) -> list[Call]:
    rng = np.random.default_rng(seed)
    callers = [f"+1555{n:07d}" for n in rng.choice(10_000_000, size=400, replace=False)]
    out: list[Call] = []
    for offset in range(weeks * 7):
        day = first_monday + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        after = day >= training
        count = calls_per_day + (15 if day.weekday() == 0 else 0)
        for k in range(count):
            if day.weekday() == 1 and k < 14:
                start = rng.uniform(12 * 3600, 13 * 3600)  # Tuesday lunch rush
                p_answer = 0.3
            else:
                start = rng.uniform(8 * 3600, 17 * 3600 - 120)
                p_answer = answer_after if after else answer_before
            arrived = local(day, seconds=start)
            ring_started = arrived + timedelta(seconds=float(rng.uniform(2, 6)))
            caller = str(rng.choice(callers))
            call_id = f"{day:%Y%m%d}-{k:03d}"
            roll = rng.uniform()
            if roll < p_answer:
                ring = float(rng.gamma(3.0, (3.5 if after else 5.5)))
                answered = ring_started + timedelta(seconds=ring)
                out.append(_call(call_id, site, Direction.INBOUND, caller, arrived, answered + timedelta(seconds=150),
                                 Outcome.ANSWERED, ring_started, answered, str(rng.choice(STAFF))))
                continue
            voicemail = rng.uniform() < 0.6
            ring = float(rng.uniform(20, 30)) if voicemail else float(rng.uniform(8, 40))
            ended = ring_started + timedelta(seconds=ring + (30 if voicemail else 0))
            outcome = Outcome.VOICEMAIL if voicemail else Outcome.ABANDONED
            out.append(_call(call_id, site, Direction.INBOUND, caller, arrived, ended, outcome, ring_started,
                             left_message=voicemail or None))
            if rng.uniform() < 0.7:  # the practice phones back within the hour
                back = ended + timedelta(minutes=float(rng.uniform(10, 60)))
                out.append(_call(f"{call_id}-fu", site, Direction.OUTBOUND, caller, back, back + timedelta(seconds=90),
                                 Outcome.ANSWERED, back, back + timedelta(seconds=5), str(rng.choice(STAFF))))
    return out
