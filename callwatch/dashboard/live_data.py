"""What the Live page reads: calls ringing or queued now and the collector's heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from callwatch.dashboard.data import DashboardContext
from callwatch.metrics import loader

ALL_OFFICES = "all"


def office(ctx: DashboardContext, site: str | None) -> str:
    """The office a live screen shows: ?site= if given, else the configured one; "all" pools every office."""
    return str(site) if site else ctx.settings.site


def site_filter(office: str) -> str | None:
    """The store's site filter for an office choice (None reads every site)."""
    return None if office == ALL_OFFICES else office


def office_name(office: str) -> str:
    return "all offices" if office == ALL_OFFICES else office


@dataclass(frozen=True)
class LiveView:
    state: dict[str, Any]  # what the browser's ring counter needs (callers masked)
    heartbeat: dict[str, Any] | None


def _epoch_ms(value: Any) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(pd.Timestamp(value).timestamp() * 1000)


def live_state(ctx: DashboardContext, site: str | None, now: datetime) -> LiveView:
    """Calls ringing or queued now, ready for the browser: masked caller, ring start in epoch ms."""
    live = loader.load_live(ctx.engine, site)
    calls = []
    for row in live.calls.itertuples(index=False):
        since = _epoch_ms(row.ring_started_at) or _epoch_ms(row.arrived_at)
        calls.append({
            "id": f"{row.site}-{row.call_id}".replace(".", "_"),
            "caller": row.caller_masked or "unknown",
            "state": row.state,
            "since_ms": since,
            "where": None if pd.isna(row.location) else row.location,
            "queue": None if pd.isna(row.queue) else row.queue,
        })
    p = ctx.params
    state = {
        "server_now_ms": _epoch_ms(now),
        "cycle_s": p.ring_cycle_seconds,
        "target_s": p.target_seconds,
        "target_rings": p.target_rings,
        "calls": calls,
    }
    return LiveView(state, live.heartbeat)


def heartbeat_status(ctx: DashboardContext, heartbeat: dict[str, Any] | None, now: datetime) -> tuple[str, str]:
    """('ok'|'never'|'stale'|'down', words for the banner) from the collector's heartbeat row."""
    if heartbeat is None:
        return "never", ""
    updated = heartbeat.get("updated_at")
    age = (now - updated).total_seconds() if updated is not None else float("inf")
    if age > ctx.settings.dashboard.heartbeat_stale_seconds:
        return "stale", f"{age / 60:.0f} min" if age >= 120 else f"{age:.0f} s"
    if not heartbeat.get("connected"):
        return "down", str(heartbeat.get("detail") or "")
    return "ok", ""
