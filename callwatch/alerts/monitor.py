"""The alert loop's one step: look at the phones, fire what began, clear what ended, notify once.

A condition fires when it starts to hold and stays one open row in the store
until it no longer holds; it is notified once, when it fires, unless it is
quiet hours (outside business hours or on a holiday), in which case it is kept
and shown but not sent. Nothing here holds state between steps: a restarted
collector picks up the open alerts from the store and does not notify again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from callwatch.alerts.conditions import Rules, Snapshot, Waiting, evaluate
from callwatch.alerts.notify import Notifier
from callwatch.config import Settings
from callwatch.metrics import hours, loader
from callwatch.metrics.frame import prepare
from callwatch.metrics.params import MetricParams
from callwatch.metrics.summary import summarize
from callwatch.model import Outcome
from callwatch.store import alert_log

log = logging.getLogger(__name__)
UNANSWERED = (Outcome.VOICEMAIL.value, Outcome.ABANDONED.value, Outcome.MISSED.value)


def rules_for(settings: Settings) -> Rules:
    a = settings.alerts
    return Rules(
        target_seconds=settings.target_rings * settings.ring_cycle_seconds if a.ring_past_target else None,
        queue_wait_seconds=a.queue_wait_seconds,
        answer_rate_goal=settings.report.goals.get("answer_rate") if a.answer_rate_min_calls else None,
        answer_rate_min_calls=a.answer_rate_min_calls or 0,
        missed_calls=a.missed_calls,
        missed_minutes=a.missed_minutes,
        collector_silent_seconds=a.collector_silent_seconds,
    )


def snapshot(engine: Engine, site: str, params: MetricParams, rules: Rules, now: datetime) -> Snapshot:
    """The phones of `site` at `now`, read through the metrics loader."""
    live = loader.load_live(engine, site)
    waiting = tuple(
        Waiting(str(row.state), _stamp(row.ring_started_at) or _stamp(row.arrived_at) or now,
                _text(row.queue) if row.state == "queued" else _text(row.location))
        for row in live.calls.itertuples(index=False)
    )
    day = now.astimezone(params.tz).date()
    start, _end = hours.local_day_bounds(params, day, day)
    today = prepare(loader.load_calls(engine, start=start, end=now + timedelta(seconds=1), site=site), params)
    summary = summarize(today, params)
    since = now - timedelta(minutes=rules.missed_minutes)
    ended = today["ended_at"].fillna(today["arrived_at"])
    recent = (
        (today["direction"] == "inbound") & today["outcome"].isin(UNANSWERED) & ~today["short_abandon"]
        & (ended >= pd.Timestamp(since))
    )
    beat = live.heartbeat or {}
    last_heard = beat.get("last_event_at") or beat.get("updated_at")
    local_now = hours.to_local(pd.Series([pd.Timestamp(now)]), params)
    return Snapshot(
        now=now,
        waiting=waiting,
        offered_today=int(summary["offered"]),
        answer_rate_today=summary["answer_rate"],
        unanswered_recent=int(recent.sum()),
        last_heard=last_heard,
        open_now=not bool(hours.after_hours(local_now, params).iloc[0]),
    )


class AlertMonitor:
    """One office's alerts: `check()` is one step of the loop (the collector runs it every few seconds)."""

    def __init__(self, engine: Engine, settings: Settings, notifier: Notifier | None = None) -> None:
        self.engine, self.settings = engine, settings
        self.site = settings.site
        self.params = MetricParams.from_settings(settings)
        self.rules = rules_for(settings)
        self.notifier = notifier if notifier is not None else Notifier([])

    def check(self, now: datetime | None = None) -> dict[str, str]:
        """Fire and clear alerts for the phones as they are now; returns the conditions that hold."""
        now = now or datetime.now(UTC)
        snap = snapshot(self.engine, self.site, self.params, self.rules, now)
        active = evaluate(snap, self.rules)
        opened = alert_log.open_alerts(self.engine, self.site)
        for condition, row in opened.items():
            if condition not in active:
                alert_log.clear_alert(self.engine, row["id"], now)
                log.info("alert cleared at %s: %s", self.site, condition)
        for condition, message in active.items():
            if condition in opened:
                continue  # one notification per condition until it clears
            alert_id = alert_log.fire_alert(self.engine, self.site, condition, message, now)
            log.warning("alert at %s: %s", self.site, message)
            self._notify(alert_id, message, snap)
        return active

    def _notify(self, alert_id: int, message: str, snap: Snapshot) -> None:
        if self.settings.alerts.quiet_outside_business_hours and not snap.open_now:
            alert_log.record_notification(self.engine, alert_id, None, "quiet hours: the practice is closed")
            return
        if not self.notifier:
            return
        sent = self.notifier.send(f"callwatch {self.site}: phones need attention", message)
        alert_log.record_notification(self.engine, alert_id, snap.now if sent.ok else None, sent.error)


def _stamp(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) or value in ("", "nan", "None") else str(value)
