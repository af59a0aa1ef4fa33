"""Sending an alert through Apprise: e-mail, Microsoft Teams, Slack, ntfy, SMS gateways, webhooks.

Apprise (https://github.com/caronc/apprise) speaks to some hundred services
from one URL each, so a practice points callwatch at whatever the front desk
already watches. URLs come from `alerts.notify` and, for those carrying a
token or password, from CALLWATCH_ALERT_URLS (whitespace or comma separated):
secrets never live in callwatch.yaml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import apprise

from callwatch.config import environment, secret

URLS_ENV = environment.ALERT_URLS
log = logging.getLogger(__name__)


def notify_urls(configured: Sequence[str]) -> list[str]:
    """The configured URLs plus those in CALLWATCH_ALERT_URLS."""
    extra = re.split(r"[\s,]+", secret(URLS_ENV) or "")
    return [u for u in (*configured, *extra) if u.strip()]


@dataclass(frozen=True)
class Sent:
    ok: bool
    error: str = ""


class Notifier:
    """Sends one alert to every target; says whether all of them took it."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self._apprise = apprise.Apprise()
        for url in self.urls:
            if not self._apprise.add(url):
                # Never log the URL itself: it may hold a token.
                raise ValueError(f"alerts: a notification URL ({url.split(':', 1)[0]}://...) is not one Apprise knows")

    def __bool__(self) -> bool:
        return bool(self.urls)

    def send(self, title: str, body: str) -> Sent:
        if not self.urls:
            return Sent(False, "no notification targets set (alerts.notify or CALLWATCH_ALERT_URLS)")
        try:
            ok = bool(self._apprise.notify(title=title, body=body))
        except Exception as exc:  # a target's library failing must not stop the monitor
            log.warning("alert notification failed: %s", type(exc).__name__)
            return Sent(False, f"notification failed: {type(exc).__name__}")
        return Sent(True) if ok else Sent(False, "at least one notification target refused it (see the log)")
