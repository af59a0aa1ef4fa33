"""Every training judged at its own office, read from the store: the one list every screen prints.

A training with an office is judged on that office's calls, by that office's
settings (time zone, opening hours, ring target); one for every office is
judged at each office with calls. The CLI, the Training page, the Trends
markers and the weekly report all take their verdicts from `judge_trainings`,
so they cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine

from callwatch.config.settings import Settings
from callwatch.metrics import loader
from callwatch.metrics.effect import AFTER_DAYS, BEFORE_DAYS
from callwatch.metrics.frame import prepare
from callwatch.metrics.hours import local_day_bounds
from callwatch.metrics.loader import TrainingSession, load_calls, load_trainings, settings_for_site
from callwatch.metrics.params import MetricParams
from callwatch.metrics.training import TrainingImpact, training_impact


@dataclass(frozen=True)
class JudgedTraining:
    session: TrainingSession  # session.site None: a training for every office
    office: str  # the office whose calls judged it
    impact: TrainingImpact


def _concerns(session: TrainingSession, office: str) -> bool:
    return session.site in (None, office)


def judge_trainings(engine: Engine, settings: Settings, site: str | None = None) -> list[JudgedTraining]:
    """(training, office) pairs with their verdicts, oldest training first.

    site given: only that office, with its own trainings and those for every office.
    """
    sessions = load_trainings(engine, settings, site)
    offices = [site] if site is not None else loader.stored_sites(engine)
    todo: dict[str, list[TrainingSession]] = defaultdict(list)
    for session in sessions:
        for office in [session.site] if session.site is not None else offices:
            if site is None or office == site:
                todo[office].append(session)
    judged = [j for office, own in todo.items() for j in _judge_office(engine, settings, office, own, sessions)]
    return sorted(judged, key=lambda j: (j.session.date, j.session.title, j.office))


def _judge_office(engine: Engine, settings: Settings, office: str, own: list[TrainingSession],
                  every: list[TrainingSession]) -> list[JudgedTraining]:
    params = MetricParams.from_settings(settings_for_site(engine, settings, office))
    first = min(s.date for s in own) - timedelta(days=BEFORE_DAYS)
    last = max(s.date for s in own) + timedelta(days=AFTER_DAYS)
    start, end = local_day_bounds(params, first, last)
    prepared = prepare(load_calls(engine, start=start, end=end, site=office), params)
    nearby = tuple(sorted({s.date for s in every if _concerns(s, office)}))
    return [JudgedTraining(s, office, training_impact(prepared, s.date, site=office, other_trainings=nearby))
            for s in own]
