"""What a real call can look like: the one place every source's calls are checked before they are stored.

A row dated 1970, 2099 or 9999, a call lasting days, or a ring of hours is a
corrupt line or a wrong column map, not a call; stored, one such row makes a
day's mean speed of answer years long. The importer rejects it (kept and
counted in the rejects file with the lines it came from), and the AMI
collector keeps it in its own rejects file. The limits are settings
(`plausibility:` in callwatch.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from callwatch.config.settings import Settings
from callwatch.model import Call

_TIMES = ("arrived_at", "ring_started_at", "answered_at", "ring_ended_at", "ended_at")


@dataclass(frozen=True, slots=True)
class Plausibility:
    earliest: datetime
    latest: datetime
    max_call: timedelta
    max_ring: timedelta

    @classmethod
    def from_settings(cls, settings: Settings, now: datetime | None = None) -> Plausibility:
        rules = settings.plausibility
        now = now or datetime.now(UTC)
        return cls(
            earliest=datetime.combine(rules.earliest, time(0), tzinfo=UTC),
            latest=now + timedelta(seconds=rules.future_seconds),
            max_call=timedelta(seconds=rules.max_call_seconds),
            max_ring=timedelta(seconds=rules.max_ring_seconds),
        )

    def problem(self, call: Call) -> str | None:
        """Why `call` cannot be real, or None when it can."""
        for name in _TIMES:
            value: datetime | None = getattr(call, name)
            if value is None:
                continue
            if value < self.earliest:
                return f"{name} {value:%Y-%m-%d %H:%M:%S} is before {self.earliest:%Y-%m-%d} (plausibility.earliest)"
            if value > self.latest:
                return (f"{name} {value:%Y-%m-%d %H:%M:%S} UTC is in the future "
                        "(more than plausibility.future_seconds ahead)")
        if call.ended_at is not None and call.ended_at - call.arrived_at > self.max_call:
            hours = (call.ended_at - call.arrived_at).total_seconds() / 3600
            return f"the call lasts {hours:.1f} h, longer than plausibility.max_call_seconds"
        ring = call.ring_seconds
        if ring is not None and ring > self.max_ring.total_seconds():
            return f"ring time {ring:.0f} s is longer than plausibility.max_ring_seconds"
        return None
