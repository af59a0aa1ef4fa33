"""check-config refuses what would only fail later: a long site name, plain passwords, duplicate keys, bad addresses."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from callwatch.cli import main


def _check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "callwatch.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check-config", "--config", str(path)], env={"CALLWATCH_DATABASE_URL": ""})
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("site: " + "x" * 65 + "\n", "site: String should have at most 64 characters"),
        ("dashboard:\n  users:\n    frontdesk: hunter2hunter2\n", "a plain password, not a hash"),
        ("site: north\ntimezone: UTC\nsite: south\n", "duplicate key 'site' (first on line 1"),
        ("database_url: postgresql+psycopg://cw:s3cret@db/callwatch\n", "database_url: holds a password"),
        ("report:\n  recipients: ['manager@example.org, owner@example.org']\n", "are not email addresses"),
        ("report:\n  recipients: [front desk]\n", "are not email addresses"),
    ],
)
def test_check_config_refuses(tmp_path: Path, text: str, named: str) -> None:
    code, output = _check(tmp_path, text)
    assert code == 2, output
    assert named in output
    assert "hunter2" not in output and "s3cret" not in output  # a refused secret is never echoed


def test_check_config_accepts_hashes_addresses_and_a_url_without_password(tmp_path: Path) -> None:
    hashed = generate_password_hash("hunter2hunter2")
    code, output = _check(
        tmp_path,
        f"database_url: postgresql+psycopg://cw@db/callwatch\ndashboard:\n  users:\n    frontdesk: '{hashed}'\n"
        "report:\n  recipients: [manager@example.org, root@localhost]\n",
    )
    assert code == 0, output
