"""Small hand-built Call fixtures for the metrics tests: one line per call, times in the practice's zone."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pandas as pd

from callwatch.metrics.frame import prepare
from callwatch.metrics.loader import calls_from_records
from callwatch.metrics.params import MetricParams
from callwatch.model import Call
from support.clock import local

PARAMS = MetricParams()  # America/New_York, 6 s rings, 3-ring target, 5 s short abandon, Mon-Fri 8-17
_ids = itertools.count(1)


def call(
    outcome: str | None = "answered",
    ring: float | None = 5.0,
    *,
    at: str | datetime = "2026-03-09 10:00",
    caller: str = "6175550100",
    direction: str = "inbound",
    site: str = "main",
    pre_ring: float = 0.0,
    answered_by: str | None = "101",
    queue: str | None = None,
    left_message: bool | None = None,
    call_id: str | None = None,
    ring_quality: str = "exact",
    answered_by_name: str | None = None,
) -> Call:
    """One call; `ring` seconds of ringing (None: never rang), answered calls talk 60 s."""
    arrived = local(at) if isinstance(at, str) else at
    ring_started = arrived + timedelta(seconds=pre_ring) if ring is not None else None
    answered = ring_started + timedelta(seconds=ring) if outcome == "answered" and ring_started else None
    if answered is not None:
        ended = answered + timedelta(seconds=60)
    elif ring_started is not None:
        ended = ring_started + timedelta(seconds=ring or 0)
    else:
        ended = arrived + timedelta(seconds=pre_ring or 3)
    return Call(
        call_id=call_id or f"c{next(_ids)}",
        site=site,
        direction=direction,
        caller=caller,
        arrived_at=arrived,
        ended_at=ended,
        outcome=outcome,
        ring_started_at=ring_started,
        answered_at=answered,
        answered_by=answered_by if answered is not None else None,
        queue=queue,
        left_message=left_message,
        ring_quality=ring_quality,
        answered_by_name=answered_by_name if answered is not None else None,
    )


def prepared(calls: list[Call], params: MetricParams = PARAMS) -> pd.DataFrame:
    return prepare(calls_from_records(calls), params)
