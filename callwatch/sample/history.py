"""A realistic, deterministic call history for several offices sharing one store.

Used by `callwatch demo` (so the dashboard and report have something to show),
by benchmarks (a year of 10 offices is about a million calls) and by tests.
Everything is drawn with numpy in whole columns per office; a Python loop runs
only over offices, never over calls, so a million calls take seconds.

What the history contains, and why each pattern is there (each is something a
practice manager would recognise on the dashboard):
- Monday is the busiest day (the weekend's backlog), mornings peak at 9-11;
  a lunch hour (12-1 pm) with fewer people at the desk answers less and slower.
- Calls outside business hours go to voicemail (or hang up in the greeting).
- Offices differ: volume, base answer rate, speed, queue or ring group, IVR.
- Staff differ in how fast they pick up (the by-staff view has a story).
- Missed callers are sometimes phoned back (outbound) or call again and reach
  a person, so follow-ups have both kinds of match.
- Every office has its own training date; in most, answering improves over
  two weeks after it, in one office in four nothing changes (the control group).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from callwatch.config.settings import DEFAULT_BUSINESS_HOURS, WEEKDAYS
from callwatch.metrics.loader import calls_frame
from callwatch.model import CALL_FIELDS, Call

SITE_NAMES = (
    "main-office", "northside", "riverside", "lakeview", "westgate",
    "hillcrest", "parkway", "southpoint", "elmwood", "harbor",
)
# Calls per weekday relative to Wednesday: Monday carries the weekend's backlog.
WEEKDAY_VOLUME = np.array([1.35, 1.08, 1.0, 0.97, 0.86, 0.10, 0.05])
# Relative arrivals per local hour on a weekday (index = hour): morning peak,
# a lunch lull, a second smaller peak, a trickle after closing.
_WEEKDAY_HOURS = np.array(
    [0.05, 0.03, 0.03, 0.03, 0.05, 0.1, 0.3, 1.4, 9.0, 11.0, 10.5, 9.0,
     6.0, 8.0, 8.5, 7.5, 6.0, 1.6, 0.8, 0.5, 0.3, 0.2, 0.1, 0.08]
)
_MONDAY_HOURS = _WEEKDAY_HOURS * np.where((np.arange(24) >= 8) & (np.arange(24) < 11), 1.45, 1.0)
_WEEKEND_HOURS = np.array([0.1] * 7 + [0.5, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1.5, 1, 0.8, 0.5, 0.3, 0.2, 0.1])


@dataclass(frozen=True)
class Office:
    """How one office answers its phones; every number here shapes the history."""

    site: str
    calls_per_day: float  # mean inbound calls on an ordinary Wednesday
    answer_rate: float  # chance a business-hours call is answered, outside lunch, before training
    ring_median_s: float  # median ring time of answered calls
    lunch_dip: float  # answer chance lost between 12 and 1 pm
    staff: tuple[str, ...]
    staff_weights: tuple[float, ...]
    staff_speed: tuple[float, ...]  # ring-time multiplier per staff member
    queues: tuple[str, ...]  # empty: a ring group with no queue
    greeting_s: float  # greeting/IVR before anything rings
    ring_timeout_s: float  # then voicemail picks up
    follow_up_rate: float  # share of missed callers phoned back
    training: date | None
    training_gain: float  # answer-chance improvement once training has settled in
    area_code: str
    training_ramp_days: int = 14  # how long the gain takes to settle in (0: all at once)
    drift_per_week: float = 0.0  # a steady change in answer chance over the whole history


def make_offices(
    count: int, start: date, end: date, seed: int, *, calls_per_day: float | None = None, first_site: str | None = None
) -> list[Office]:
    """`count` offices with plausible, different characters (deterministic in `seed`).

    `calls_per_day` fixes every office's Wednesday volume (benchmarks size the
    data with it); otherwise offices range from a small dental practice to a
    busy clinic. The first office takes `first_site` (the configured site).
    """
    rng = np.random.default_rng([seed, 0])
    span = (end - start).days
    offices = []
    for i in range(count):
        site = SITE_NAMES[i] if i < len(SITE_NAMES) else f"office-{i + 1}"
        if i == 0 and first_site:
            site = first_site
        n_staff = int(rng.integers(3, 9))
        staff = tuple(str(200 + 10 * i + k) for k in range(n_staff))
        with_queue = bool(rng.uniform() < 0.6)
        queues = ("reception", "appointments", "billing")[: int(rng.integers(1, 4))] if with_queue else ()
        # Every office holds a training; in one office of four it changes nothing (the control group).
        effective = i == 0 or rng.uniform() < 0.75
        training = None
        if span >= 28:
            training = start + pd.Timedelta(days=int(span * rng.uniform(0.4, 0.6))).to_pytimedelta()
        offices.append(
            Office(
                site=site,
                calls_per_day=float(calls_per_day or rng.uniform(60, 260)),
                answer_rate=float(rng.uniform(0.72, 0.9)),
                ring_median_s=float(rng.uniform(7, 16)),
                lunch_dip=float(rng.uniform(0.08, 0.25)),
                staff=staff,
                staff_weights=tuple(float(w) for w in rng.dirichlet(np.full(n_staff, 2.0))),
                staff_speed=tuple(float(s) for s in rng.lognormal(0, 0.25, n_staff)),
                queues=queues,
                greeting_s=float(rng.uniform(6, 12) if with_queue else rng.uniform(0, 2)),
                ring_timeout_s=float(rng.choice([20.0, 24.0, 30.0])),
                follow_up_rate=float(rng.uniform(0.3, 0.6)),
                training=training,
                training_gain=float(rng.uniform(0.05, 0.1)) if effective else 0.0,
                area_code=str(rng.choice(["212", "415", "503", "617", "720", "919"])),
            )
        )
    return offices


class _Week:
    """Opening hours as arrays, so "is it open?" is one vectorised comparison."""

    def __init__(self, hours: Sequence[Sequence[tuple[time, time]]], holidays: Sequence[date]) -> None:
        width = max(1, *(len(day) for day in hours))
        self.opens = np.full((7, width), -1.0)
        self.closes = np.full((7, width), -1.0)
        for wd, day in enumerate(hours):
            for k, (o, c) in enumerate(day):
                self.opens[wd, k] = o.hour * 3600 + o.minute * 60 + o.second
                self.closes[wd, k] = c.hour * 3600 + c.minute * 60 + c.second
        self.holidays = np.array(sorted(holidays), dtype="datetime64[D]")

    def is_open(self, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        wd = _weekday(day)
        inside = ((seconds[:, None] >= self.opens[wd]) & (seconds[:, None] < self.closes[wd])).any(axis=1)
        return inside & ~np.isin(day, self.holidays)

    def next_open(self, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """Seconds after midnight of the day's next opening after `seconds` (NaN: none left that day)."""
        opens = self.opens[_weekday(day)]
        later = np.where((opens >= 0) & (opens > seconds[:, None]), opens, np.inf).min(axis=1)
        later[np.isin(day, self.holidays)] = np.inf
        return np.where(np.isfinite(later), later, np.nan)

    def first_open(self, day: np.ndarray) -> np.ndarray:
        """Seconds after midnight of the day's first opening (NaN when closed all day)."""
        opens = self.opens[_weekday(day)]
        first = np.where(opens >= 0, opens, np.inf).min(axis=1)
        first[np.isin(day, self.holidays)] = np.inf
        return np.where(np.isfinite(first), first, np.nan)


def _weekday(day: np.ndarray) -> np.ndarray:
    return (day.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _cdf(weights: np.ndarray) -> np.ndarray:
    c = np.cumsum(weights)
    return c / c[-1]


def _to_utc(day: np.ndarray, seconds: np.ndarray, timezone: str) -> pd.Series:
    local = pd.DatetimeIndex(day.astype("datetime64[s]") + (seconds * 1e6).astype("timedelta64[us]"))
    # Autumn's repeated hour: take the first; spring's missing hour: shift forward.
    aware = local.tz_localize(timezone, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_forward")
    return pd.Series(aware.tz_convert("UTC").astype("datetime64[us, UTC]"))


def _office_frame(
    office: Office, index: int, start: date, end: date, seed: int, timezone: str, week: _Week
) -> pd.DataFrame:
    rng = np.random.default_rng([seed, index + 1])
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    wd_of_day = _weekday(days)
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    season = 1 + 0.08 * np.cos(2 * np.pi * (doy - 15) / 365)  # winter flu season is busier
    closed_day = np.isin(days, week.holidays)
    expected = office.calls_per_day * WEEKDAY_VOLUME[wd_of_day] * season * rng.normal(1, 0.08, len(days))
    expected = np.where(closed_day, expected * 0.15, np.clip(expected, 0, None))
    day_staffing = rng.normal(0, 0.04, len(days))  # someone off sick, a new hire
    counts = rng.poisson(expected)
    di = np.repeat(np.arange(len(days)), counts)
    n = len(di)
    day, wd = days[di], wd_of_day[di]

    cdfs = np.stack([_cdf(_MONDAY_HOURS)] + [_cdf(_WEEKDAY_HOURS)] * 4 + [_cdf(_WEEKEND_HOURS)] * 2)
    hour = (rng.uniform(size=n)[:, None] > cdfs[wd]).sum(axis=1)
    secs = hour * 3600 + rng.uniform(0, 3600, n)
    order = np.lexsort((secs, di))
    di, day, wd, hour, secs = di[order], day[order], wd[order], hour[order], secs[order]
    open_ = week.is_open(day, secs)

    # Training settles in over two weeks; it lifts answering and speed.
    since = (day - np.datetime64(office.training, "D")).astype(int) if office.training else np.full(n, -1)
    ramp_days = max(office.training_ramp_days, 1)
    ramp = np.clip(since / ramp_days, 0, 1) * (since > 0 if office.training_ramp_days == 0 else since >= 0)
    ramp = ramp * (office.training_gain > 0)  # a training that changed nothing speeds nobody up either
    drift = office.drift_per_week * (day - np.datetime64(start, "D")).astype(int) / 7
    lunch = (hour == 12) & open_
    monday_rush = (wd == 0) & (hour < 11)
    p_answer = (office.answer_rate + office.training_gain * ramp + drift - office.lunch_dip * lunch
                - 0.06 * monday_rush)
    p_answer = np.clip(p_answer + day_staffing[di], 0.3, 0.98)
    u = rng.uniform(size=n)
    answered = open_ & (u < p_answer)
    miss_kind = rng.choice(3, size=n, p=[0.5, 0.42, 0.08])  # voicemail, abandoned, missed
    outcome = np.where(answered, "answered", np.array(["voicemail", "abandoned", "missed"])[miss_kind])
    # After hours the greeting says "we are closed"; callers leave a message or hang up.
    outcome = np.where(~open_, np.where(rng.uniform(size=n) < 0.8, "voicemail", "abandoned"), outcome)

    pre_ring = office.greeting_s + rng.uniform(0, 1.5, n)
    staff_i = rng.choice(len(office.staff), size=n, p=np.array(office.staff_weights))
    speed = np.array(office.staff_speed)[staff_i] * (1 + 0.3 * lunch + 0.2 * monday_rush) * (1 - 0.3 * ramp)
    ring = np.where(
        outcome == "answered",
        np.clip(rng.lognormal(np.log(office.ring_median_s), 0.55, n) * speed, 1, office.ring_timeout_s - 0.5),
        0.0,
    )
    ring = np.where(outcome == "abandoned", np.minimum(rng.gamma(2.0, 8.0, n), office.ring_timeout_s), ring)
    ring = np.where(outcome == "voicemail", office.ring_timeout_s + rng.uniform(0, 1, n), ring)
    ring = np.where(outcome == "missed", office.ring_timeout_s + rng.uniform(5, 15, n), ring)
    left = (outcome == "voicemail") & (rng.uniform(size=n) < 0.65)
    after_vm = np.where(left, rng.uniform(12, 70, n), rng.uniform(1, 7, n))
    talk = rng.lognormal(np.log(140), 0.7, n)

    arrived = _to_utc(day, secs, timezone)
    rang = open_  # after hours nothing rings: the closed greeting leads to voicemail
    ring_started = arrived + pd.to_timedelta(pre_ring * 1e6, unit="us")
    is_ans = outcome == "answered"
    is_vm = outcome == "voicemail"
    answered_at = ring_started + pd.to_timedelta(ring * 1e6, unit="us")
    end_offset = np.where(is_ans, ring + talk, np.where(is_vm, ring + after_vm, ring))
    end_offset = np.where(rang, end_offset, np.where(is_vm, after_vm + 8, rng.uniform(1, 8, n)))
    ended = ring_started.where(rang, arrived) + pd.to_timedelta(end_offset * 1e6, unit="us")

    pool = _caller_pool(rng, office, size=max(500, int(office.calls_per_day * 60)))
    caller = pool[(len(pool) * rng.uniform(size=n) ** 2).astype(int)]  # a few patients call often
    queue = np.array(office.queues)[rng.integers(0, len(office.queues), n)] if office.queues else None
    seq = np.arange(n)
    epoch = arrived.astype("int64") // 1_000_000
    frame = pd.DataFrame({
        "call_id": epoch.astype(str) + "." + pd.Series(seq).astype(str),
        "site": office.site,
        "direction": "inbound",
        "caller": caller,
        "arrived_at": arrived,
        "ended_at": ended,
        "outcome": outcome,
        "ring_started_at": ring_started.where(rang),
        "answered_at": answered_at.where(is_ans),
        "answered_by": pd.Series(np.array(office.staff)[staff_i]).where(is_ans),
        "queue": pd.Series(queue).where(open_) if queue is not None else None,
        "left_message": pd.Series(left).where(is_vm),
        "source": "demo",
        "incomplete": False,
        # Ringing stopped without an answer: voicemail picked up, the caller hung up, the ring timed out.
        "ring_ended_at": answered_at.where(rang & ~is_ans),
        "ring_quality": "exact",  # the simulated PBX reports ringing as AMI would
        "answered_by_name": pd.Series(staff_names(office.staff)[staff_i]).where(is_ans),
    })
    unanswered = ~is_ans & (open_ | left)
    extra = _follow_ups(rng, office, frame, unanswered, ramp, week, timezone, n)
    return pd.concat([frame, *extra], ignore_index=True)


# The names an AMI queue would report as MemberName, so the demo's staff pages show people.
_FIRST_NAMES = ("Ann", "Bob", "Cara", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo")


def staff_names(extensions: Sequence[str] | np.ndarray) -> np.ndarray:
    """A demo name per extension ("213" -> "Dana"), the same every run."""
    return np.array([_FIRST_NAMES[int(e) % len(_FIRST_NAMES)] for e in extensions], dtype=object)


def _caller_pool(rng: np.random.Generator, office: Office, size: int) -> np.ndarray:
    numbers = rng.choice(8_000_000, size=size, replace=False) + 2_000_000  # exchanges 200-999
    return np.array([f"+1{office.area_code}{n:07d}" for n in numbers])


def _follow_ups(
    rng: np.random.Generator, office: Office, frame: pd.DataFrame, unanswered: np.ndarray, ramp: np.ndarray,
    week: _Week, timezone: str, seq0: int,
) -> list[pd.DataFrame]:
    """Outbound call-backs to some missed callers, and some callers who try again and get through."""
    back = unanswered & (rng.uniform(size=len(frame)) < office.follow_up_rate + 0.15 * ramp)
    again = unanswered & ~back & (rng.uniform(size=len(frame)) < 0.15)
    out = []
    for kind, mask, delay_median in (("outbound", back, 45 * 60), ("inbound", again, 20 * 60)):
        src = frame[mask]
        m = len(src)
        if m == 0:
            continue
        when = src["ended_at"] + pd.to_timedelta(rng.lognormal(np.log(delay_median), 0.8, m) * 1e6, unit="us")
        when = _next_open(rng, when, week, timezone)
        ring_s = rng.gamma(2.0, 4.0, m)
        picked_up = rng.uniform(size=m) < (0.7 if kind == "outbound" else 1.0)
        ring_started = when + pd.Timedelta(seconds=1)
        answered_at = ring_started + pd.to_timedelta(ring_s * 1e6, unit="us")
        talk = pd.to_timedelta(rng.lognormal(np.log(120), 0.6, m) * 1e6, unit="us")
        staff = np.array(office.staff)[rng.choice(len(office.staff), size=m, p=np.array(office.staff_weights))]
        seq = seq0 + np.arange(m) + (0 if kind == "outbound" else len(frame))
        out.append(pd.DataFrame({
            "call_id": (when.astype("int64") // 1_000_000).astype(str) + "." + pd.Series(seq).astype(str),
            "site": office.site,
            "direction": kind,
            "caller": src["caller"].to_numpy(),
            "arrived_at": when,
            "ended_at": (answered_at + talk).where(picked_up, ring_started + pd.Timedelta(seconds=30)),
            "outcome": np.where(picked_up, "answered", "missed"),
            "ring_started_at": ring_started,
            "answered_at": answered_at.where(picked_up),
            "answered_by": pd.Series(staff).where(picked_up),
            "queue": None,
            "left_message": None,
            "source": "demo",
            "incomplete": False,
            "ring_ended_at": (ring_started + pd.Timedelta(seconds=30)).where(~picked_up),
            "ring_quality": "exact",
            "answered_by_name": pd.Series(staff_names(np.array(staff))).where(picked_up),
        }))
    return out


def _next_open(rng: np.random.Generator, when: pd.Series, week: _Week, timezone: str) -> pd.Series:
    """Move times that fall outside business hours to the next opening (plus a little)."""
    when = when.reset_index(drop=True)
    for _ in range(10):  # a long weekend plus holidays is at most a few days
        local = when.dt.tz_convert(timezone).dt.tz_localize(None)
        day = local.dt.normalize().to_numpy().astype("datetime64[D]")
        secs = (local - local.dt.normalize()).dt.total_seconds().to_numpy()
        closed = ~week.is_open(day, secs)
        if not closed.any():
            break
        later_today = week.next_open(day[closed], secs[closed])  # after lunch, or before opening
        same_day = ~np.isnan(later_today)
        nxt = day[closed] + np.where(same_day, 0, 1)
        first = np.where(same_day, later_today, week.first_open(nxt))
        ok = ~np.isnan(first)
        moved = _to_utc(nxt, np.nan_to_num(first) + rng.uniform(5 * 60, 90 * 60, len(nxt)), timezone)
        # Closed all day: try the following midnight next round.
        moved = moved.where(ok, _to_utc(nxt + 1, np.zeros(len(nxt)), timezone))
        when.loc[closed] = moved.array
    return when


def generate_frame(
    offices: Sequence[Office],
    start: date,
    end: date,
    seed: int = 1,
    *,
    timezone: str = "America/New_York",
    business_hours: Sequence[Sequence[tuple[time, time]]] = DEFAULT_BUSINESS_HOURS,
    holidays: Sequence[date] = (),
) -> pd.DataFrame:
    """Every office's calls arriving on local dates [start, end), as a Call frame (loader dtypes), oldest first."""
    week = _Week(business_hours, holidays)
    parts = [_office_frame(o, i, start, end, seed, timezone, week) for i, o in enumerate(offices)]
    frame = pd.concat(parts, ignore_index=True) if parts else calls_frame([])
    # Sorting on the raw microseconds is much cheaper than a multi-key pandas sort.
    order = np.argsort(frame["arrived_at"].astype("int64").to_numpy(), kind="stable")
    frame = frame.take(order).reset_index(drop=True)
    typed = calls_frame([])
    frame = frame.reindex(columns=list(dict.fromkeys([*CALL_FIELDS, *frame.columns])))
    for name in CALL_FIELDS:
        frame[name] = frame[name].astype(typed[name].dtype) if name != "left_message" else frame[name].astype("boolean")
    return frame[list(CALL_FIELDS)]


def frame_rows(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Store rows (plain Python values, aware UTC datetimes, None for gaps) from a Call frame."""
    columns: dict[str, list[Any]] = {}
    for name in CALL_FIELDS:
        col = frame[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            # Epoch microseconds -> datetime is much faster than Timestamp.to_pydatetime per value.
            us = col.astype("int64").to_numpy()
            na = col.isna().to_numpy()
            columns[name] = [None if m else _EPOCH + _US * int(v) for v, m in zip(us, na, strict=True)]
        else:
            columns[name] = col.astype(object).where(col.notna(), None).tolist()
    for values in zip(*columns.values(), strict=True):
        yield dict(zip(CALL_FIELDS, values, strict=True))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = pd.Timedelta(microseconds=1).to_pytimedelta()


def iter_calls(frame: pd.DataFrame) -> Iterator[Call]:
    """The frame's rows as Call records."""
    for row in frame_rows(frame):
        yield Call(**row)


def generate_calls(
    offices: Sequence[Office], start: date, end: date, seed: int = 1, **kwargs: Any
) -> Iterator[Call]:
    """Call records for `offices` over local dates [start, end); see generate_frame."""
    return iter_calls(generate_frame(offices, start, end, seed, **kwargs))


def settings_kwargs(settings: Any) -> Mapping[str, Any]:
    """generate_frame's keyword arguments (time zone, opening hours, holidays) from Settings."""
    hours = tuple(tuple((h.open, h.close) for h in settings.business_hours.get(d, [])) for d in WEEKDAYS)
    return {"timezone": settings.timezone, "business_hours": hours, "holidays": tuple(settings.holidays)}
