"""Every CALLWATCH_* environment variable callwatch reads: named, explained and read here, nowhere else.

Secrets live only in the environment (never in callwatch.yaml); the other
variables point at the settings file or override one setting. The Alembic
env.py of a hand-run `alembic` command is the one other reader: the store may
not import config (docs/DESIGN.md, "Layout").
"""

from __future__ import annotations

import os
from collections.abc import Mapping

CONFIG = "CALLWATCH_CONFIG"
DATABASE_URL = "CALLWATCH_DATABASE_URL"
AMI_SECRET = "CALLWATCH_AMI_SECRET"
SMTP_PASSWORD = "CALLWATCH_SMTP_PASSWORD"
DASHBOARD_USERS = "CALLWATCH_DASHBOARD_USERS"
DASHBOARD_SECRET_KEY = "CALLWATCH_DASHBOARD_SECRET_KEY"
ALERT_URLS = "CALLWATCH_ALERT_URLS"
CDR_DATABASE_PASSWORD = "CALLWATCH_CDR_DATABASE_PASSWORD"

VARIABLES: dict[str, str] = {
    CONFIG: "the settings file (default ./callwatch.yaml)",
    DATABASE_URL: "overrides database_url from the settings file",
    AMI_SECRET: "the AMI user's secret (callwatch collect)",
    SMTP_PASSWORD: "the SMTP password for the weekly report",
    DASHBOARD_USERS: 'dashboard users: "name=hash,name2=hash" or a JSON object; wins over the file',
    DASHBOARD_SECRET_KEY: "the dashboard's session signing key (default: a 0600 file beside the journal)",
    ALERT_URLS: "alert notification targets that carry a token or password (Apprise URLs, space separated)",
    CDR_DATABASE_PASSWORD: "the password of the PBX's CDR/CEL database user (import or tail: by URL)",
}


def read(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of one of VARIABLES from `env` (default: the process environment); None when unset or empty."""
    if name not in VARIABLES:
        raise KeyError(f"{name} is not a callwatch environment variable; known: {', '.join(VARIABLES)}")
    value = (os.environ if env is None else env).get(name)
    return value or None


def secret(name: str) -> str | None:
    """A secret (AMI_SECRET, SMTP_PASSWORD, ...) from the process environment only."""
    return read(name)
