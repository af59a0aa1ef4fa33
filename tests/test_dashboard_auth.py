"""Login: no page, callback, layout, script or download answers without one."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.dashboard import (
    PASSWORD,
    USER,
    calls_callback,
    login,
    practice_day,
    seeded_engine,
    settings_for,
)
from support.ports import free_port
from werkzeug.security import check_password_hash, generate_password_hash

from callwatch.cli import main as cli
from callwatch.dashboard.app import create_app
from callwatch.dashboard.auth import users_from

PAGES = ["/", "/live", "/live?wall=1", "/trends", "/staffing", "/follow-ups", "/calls?outcome=voicemail", "/training"]
DATA_ROUTES = ["/_dash-layout", "/_dash-dependencies", "/download/calls.csv?start=2026-03-03&end=2026-03-03",
               "/assets/callwatch.css", "/_dash-component-suites/dash/dcc/async-graph.js"]


@pytest.fixture
def app(tmp_path: Path):
    settings = settings_for(tmp_path)
    return create_app(settings, engine=seeded_engine(settings, practice_day()))


def test_every_page_redirects_to_login_without_a_session(app) -> None:
    client = app.server.test_client()
    for path in PAGES:
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_callbacks_layouts_and_downloads_refuse_without_login(app) -> None:
    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=calls_callback())
    assert response.status_code == 401
    assert "6175550101" not in response.text
    for path in DATA_ROUTES:
        assert client.get(path, headers={"Accept": "text/html,*/*"}).status_code == 401, path


def test_wrong_password_is_refused(app) -> None:
    client = app.server.test_client()
    response = login(client, password="wrong")
    assert response.status_code == 200
    assert "Wrong user name or password" in response.text
    assert login(client, username="nobody").status_code == 200
    assert client.post("/_dash-update-component", json=calls_callback()).status_code == 401


def test_login_form_needs_its_token(app) -> None:
    client = app.server.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": USER, "password": PASSWORD})
    assert "expired" in response.text
    assert client.get("/_dash-layout").status_code == 401


def test_after_login_callbacks_answer_with_masked_callers(app) -> None:
    client = app.server.test_client()
    assert login(client).status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    response = client.post("/_dash-update-component", json=calls_callback())
    assert response.status_code == 200
    rows = response.json["response"]["calls-table"]["data"]
    assert len(rows) == 7  # inbound only: the call-back is outbound
    assert {r["caller"] for r in rows} >= {"•••••••0101", "•••••••0103"}
    assert "6175550101" not in response.text


def test_login_never_redirects_off_site(app) -> None:
    client = app.server.test_client()
    response = login(client, next_path="https://evil.example/phish")
    assert response.headers["Location"] == "/"
    client.get("/logout")
    assert login(client, next_path="//evil.example").headers["Location"] == "/"


def test_logout_ends_the_session(app) -> None:
    client = app.server.test_client()
    login(client)
    assert client.get("/_dash-layout").status_code == 200
    client.get("/logout")
    assert client.get("/_dash-layout").status_code == 401


def test_users_come_from_settings_and_environment_as_hashes() -> None:
    hashed = generate_password_hash("pw")
    env = {"CALLWATCH_DASHBOARD_USERS": f"bob={hashed},carol={hashed}"}
    assert set(users_from({"alice": hashed}, env)) == {"alice", "bob", "carol"}
    assert set(users_from({}, {"CALLWATCH_DASHBOARD_USERS": json.dumps({"dan": hashed})})) == {"dan"}
    with pytest.raises(ValueError, match="not a hash"):
        users_from({"eve": "plaintext"}, {})


def test_hash_password_command_prints_a_working_hash() -> None:
    result = CliRunner().invoke(cli, ["hash-password", "alice"], input="s3cret pass\ns3cret pass\n")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("alice: "))
    assert check_password_hash(line.split(": ", 1)[1].strip("'"), "s3cret pass")


def test_dashboard_command_without_users_says_what_to_do(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'c.db'}\n")
    result = CliRunner().invoke(cli, ["dashboard", "--config", str(config)], env={"CALLWATCH_DASHBOARD_USERS": ""})
    assert result.exit_code == 2
    assert "callwatch hash-password" in result.output


def test_create_server_is_the_gunicorn_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path / 'c.db'}\njournal_path: {tmp_path / 'journal.log'}\n"
        f"dashboard:\n  users:\n    {USER}: '{generate_password_hash(PASSWORD)}'\n"
    )
    monkeypatch.setenv("CALLWATCH_CONFIG", str(config))
    from callwatch.cli.dashboard import create_server

    client = create_server().test_client()
    assert client.get("/_dash-layout").status_code == 401
    login(client)
    assert client.get("/_dash-layout").status_code == 200


def test_dashboard_command_listens_on_localhost_by_default(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path / 'c.db'}\njournal_path: {tmp_path / 'journal.log'}\n"
        f"dashboard:\n  users:\n    {USER}: '{generate_password_hash(PASSWORD)}'\n"
    )
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "callwatch"), "dashboard", "--config", str(config),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("dashboard did not start")
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        if listening:  # ss is in iproute2; where present it shows the bound address
            assert listening.split()[3] == f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert f"http://127.0.0.1:{port}/" in output
