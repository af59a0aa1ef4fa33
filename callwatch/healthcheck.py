"""Container health checks: `python -m callwatch.healthcheck dashboard|collector`.

Exit 0 when healthy, 1 when not (the reason goes to stdout, which docker keeps
in `docker inspect`). Kept out of the `callwatch` command list on purpose: it
is plumbing for the Dockerfile's HEALTHCHECK and docker-compose.yml, not
something an office manager runs.

- dashboard: the login page answers on 127.0.0.1 at the configured port (the
  login page is the one route that needs no session, so no credentials here).
- collector: the collector wrote its heartbeat within `--max-age` seconds
  (default: the dashboard's heartbeat_stale_seconds). The heartbeat is written
  every second while the service loop runs, whether or not the PBX is
  reachable, so a stale one means the process is stuck or cannot write to the
  database — what a restart can fix. A PBX that is down shows on the dashboard.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime


def check_dashboard(port: int, timeout: float = 5.0) -> tuple[bool, str]:
    url = f"http://127.0.0.1:{port}/login"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200, f"{url} -> {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url} -> {exc}"


def check_collector(database_url: str, site: str, max_age: float) -> tuple[bool, str]:
    from callwatch import store  # lazy: start-up speed
    from callwatch.metrics.loader import load_live  # lazy: start-up speed

    try:
        engine = store.create_engine(database_url)
        beat = load_live(engine, site).heartbeat
        engine.dispose()
    except Exception as exc:  # any database failure is "unhealthy", with the reason
        return False, f"cannot read the heartbeat: {exc}"
    if beat is None:
        return False, f"no heartbeat yet for site {site!r}"
    age = (datetime.now(UTC) - beat["updated_at"]).total_seconds()
    state = "connected" if beat["connected"] else f"not connected ({beat.get('detail') or 'no detail'})"
    return age <= max_age, f"heartbeat {age:.0f} s old (limit {max_age:.0f} s), PBX {state}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callwatch.healthcheck", description=__doc__.split("\n")[0])
    parser.add_argument("service", choices=["dashboard", "collector"])
    parser.add_argument("--config", default=None, help="settings file (default: $CALLWATCH_CONFIG)")
    parser.add_argument("--port", type=int, default=None, help="dashboard port (default: dashboard.port)")
    parser.add_argument("--max-age", type=float, default=None, help="collector: oldest acceptable heartbeat, s")
    args = parser.parse_args(argv)

    from callwatch.config import ConfigError, load_settings  # lazy: start-up speed

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"unhealthy: config: {exc}")
        return 1
    if args.service == "dashboard":
        ok, why = check_dashboard(args.port or settings.dashboard.port)
    else:
        max_age = args.max_age if args.max_age is not None else settings.dashboard.heartbeat_stale_seconds
        ok, why = check_collector(settings.database_url, settings.site, max_age)
    print(("healthy: " if ok else "unhealthy: ") + why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
