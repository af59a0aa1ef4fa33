"""A free TCP port on loopback, for the test servers (SMTP, PostgreSQL, MariaDB, the dashboard) and for a
port that is sure to refuse a connection."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nobody listens on at this moment: the system picks it, and the probe closes at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
