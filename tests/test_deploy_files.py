"""Dockerfile, docker-compose.yml and .env.example agree with the code.

No Docker engine runs in CI, so these read the files: every command they run
exists in `callwatch --help` with the options used, ports match the settings,
every CALLWATCH_ variable they set is one the code reads (and every secret the
code reads can be set from .env), health checks and restart policies are there.
The health-check module itself is run for real against a database and a socket.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from support.ports import free_port

from callwatch import store
from callwatch.cli import main
from callwatch.config.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
CALLWATCH_SERVICES = ("collector", "dashboard")
SECRETS = ("CALLWATCH_AMI_SECRET", "CALLWATCH_DATABASE_URL", "CALLWATCH_DASHBOARD_USERS", "CALLWATCH_SMTP_PASSWORD")


def _instructions() -> list[tuple[str, str]]:
    """Dockerfile instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def _exec_form(args: str) -> list[str]:
    return yaml.safe_load(args) if args.startswith("[") else shlex.split(args)


def _argv(command: Any) -> list[str]:
    return list(command) if isinstance(command, list) else shlex.split(command)


def _check_callwatch_argv(argv: list[str]) -> None:
    """argv is `callwatch <command> [options]` and click accepts it (parsing only, nothing runs)."""
    assert argv[0] == "callwatch", argv
    command = main.commands.get(argv[1])
    assert command is not None, f"`callwatch {argv[1]}` is not a command: {sorted(main.commands)}"
    ctx = click.Context(command, info_name=argv[1])
    command.parse_args(ctx, list(argv[2:]))  # raises on an unknown option or a bad value


def _code_env_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "callwatch").rglob("*.py"):
        names.update(re.findall(r"CALLWATCH_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    return names


def test_every_command_exists_with_its_options() -> None:
    commands = [_argv(s["command"]) for s in SERVICES.values() if "command" in s]
    commands.append(_exec_form(dict(_instructions())["CMD"]))
    callwatch_commands = [c for c in commands if c[0] == "callwatch"]
    assert {c[1] for c in callwatch_commands} >= {"collect", "dashboard", "demo"}
    for argv in callwatch_commands:
        _check_callwatch_argv(argv)


def test_health_checks_run_real_module_commands() -> None:
    health = dict(_instructions())["HEALTHCHECK"]
    argv = _exec_form(health.split(" CMD ", 1)[1])
    checks = [argv] + [SERVICES[s]["healthcheck"]["test"][1:] for s in CALLWATCH_SERVICES]
    done = subprocess.run([sys.executable, "-m", "callwatch.healthcheck", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for check in checks:
        assert check[:3] == ["python", "-m", "callwatch.healthcheck"], check
        assert check[3] in done.stdout
    assert SERVICES["dashboard"]["healthcheck"]["test"][-1] == "dashboard"
    assert SERVICES["collector"]["healthcheck"]["test"][-1] == "collector"
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]


def test_restart_policies_and_startup_order() -> None:
    for name in ("postgres", *CALLWATCH_SERVICES):
        assert SERVICES[name]["restart"] in ("always", "unless-stopped", "on-failure"), name
    for name in CALLWATCH_SERVICES:
        assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    one_shots = [n for n, s in SERVICES.items() if "demo" in s.get("profiles", []) and "demo" in s["command"][1:2]]
    assert one_shots and all(SERVICES[n]["restart"] == "no" for n in one_shots)


def test_ports_match_settings_and_dockerfile() -> None:
    default_port = Settings().dashboard.port
    exposed = [int(p.split("/")[0]) for k, v in _instructions() if k == "EXPOSE" for p in v.split()]
    assert exposed == [default_port]
    argv = _argv(SERVICES["dashboard"]["command"])
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else default_port
    published = [str(p).rsplit(":", 1)[1] for p in SERVICES["dashboard"]["ports"]]
    assert published == [str(port)]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"  # inside the container; publishing decides who sees it
    assert "${DASHBOARD_BIND:-127.0.0.1}" in SERVICES["dashboard"]["ports"][0]  # this machine only by default


def test_environment_names_are_ones_the_code_reads() -> None:
    read = _code_env_names()
    assert set(SECRETS) <= read  # the list above is not stale
    compose_text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"CALLWATCH_[A-Z_]+[A-Z]", compose_text + ENV_EXAMPLE))
    assert used <= read, f"set but never read: {sorted(used - read)}"
    in_env_file = set(re.findall(r"^#?\s*(CALLWATCH_[A-Z_]+)=", ENV_EXAMPLE, flags=re.M))
    assert set(SECRETS) <= in_env_file
    for name in CALLWATCH_SERVICES:
        assert SERVICES[name]["env_file"] == ".env"
        assert "CALLWATCH_CONFIG" in SERVICES[name]["environment"]


def test_compose_variables_are_documented_or_defaulted() -> None:
    compose_text = (ROOT / "docker-compose.yml").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", ENV_EXAMPLE, flags=re.M))
    for match in re.finditer(r"\$\{([A-Z_]+)(:?[-?][^}]*)?\}", compose_text):
        assert match.group(1) in documented or (match.group(2) or "").startswith(":-"), match.group(0)


def test_dockerfile_builds_a_non_root_python_image() -> None:
    steps = _instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert any(k == "RUN" and "pip install ." in v for k, v in steps)
    users = [v for k, v in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    for keyword, value in steps:
        if keyword == "COPY":
            for source in value.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    mounted = [v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if v.startswith("./")]
    assert all((ROOT / m).exists() for m in mounted), mounted
    assert (ROOT / "config" / "callwatch.example.yaml").exists()  # the demo profile's settings


def test_demo_profile_uses_the_example_settings_and_its_own_database() -> None:
    demo = SERVICES["demo"]
    assert demo["environment"]["CALLWATCH_CONFIG"] == "/etc/callwatch/callwatch.example.yaml"
    assert "./config:/etc/callwatch:ro" in demo["volumes"]
    production = SERVICES["collector"]["environment"]["CALLWATCH_DATABASE_URL"]
    for name in ("demo", "demo-dashboard"):
        assert SERVICES[name]["profiles"] == ["demo"]
        assert SERVICES[name]["environment"]["CALLWATCH_DATABASE_URL"] != production
        assert "callwatch-demo:/var/lib/callwatch-demo" in SERVICES[name]["volumes"]


# -- the health-check module, for real ------------------------------------------------------------


def _run_health(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callwatch.healthcheck", *args, "--config", str(config)],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )


def test_collector_health_follows_the_heartbeat(tmp_path: Path) -> None:
    db = tmp_path / "cw.db"
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"site: north\ndatabase_url: sqlite:///{db}\n")
    engine = store.create_engine(f"sqlite:///{db}")
    store.init_db(engine)
    assert _run_health("collector", config=config).returncode == 1  # no heartbeat yet
    beat = {"site": "north", "last_event_at": None, "connected": False, "detail": "PBX unreachable"}
    store.upsert_rows(engine, store.heartbeat, [{**beat, "updated_at": datetime.now(UTC)}], keys=("site",))
    fresh = _run_health("collector", config=config)
    assert fresh.returncode == 0 and "PBX not connected" in fresh.stdout
    old = datetime.now(UTC) - timedelta(minutes=10)
    store.upsert_rows(engine, store.heartbeat, [{**beat, "updated_at": old}], keys=("site",))
    assert _run_health("collector", config=config).returncode == 1


class _LoginPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/login" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_dashboard_health_asks_the_login_page(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _LoginPage)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = tmp_path / "callwatch.yaml"
    try:
        config.write_text(f"dashboard: {{port: {port}}}\n")
        assert _run_health("dashboard", config=config).returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    closed = free_port()  # a port nobody listens on
    config.write_text(f"dashboard: {{port: {closed}}}\n")
    assert _run_health("dashboard", config=config).returncode == 1


@pytest.mark.parametrize("name", ["Dockerfile", "docker-compose.yml", ".env.example", ".dockerignore"])
def test_deploy_files_are_committed_to_the_repository_root(name: str) -> None:
    assert (ROOT / name).is_file()
