"""Settings: defaults with no file, and errors that name file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from callwatch.cli import main
from callwatch.config import ConfigError, load_settings

EXAMPLE = Path(__file__).parents[1] / "config" / "callwatch.example.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "callwatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_file_means_sensible_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.target_seconds == 18
    assert settings.database_url == "sqlite:///data/callwatch.db"
    assert "from-trunk" in settings.inbound_contexts
    assert settings.business_hours["sat"] == []


def test_example_config_is_valid() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert settings.business_hours["mon"][1].open.hour == 13
    assert settings.column_maps["cloudphone"].columns["caller"] == "From"


def test_environment_overrides_database_url(tmp_path: Path) -> None:
    path = _write(tmp_path, "database_url: sqlite:///x.db\n")
    settings = load_settings(path, env={"CALLWATCH_DATABASE_URL": "postgresql+psycopg://db/callwatch"})
    assert settings.database_url == "postgresql+psycopg://db/callwatch"


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, "site: north\n")
    assert load_settings(env={"CALLWATCH_CONFIG": str(path)}).site == "north"


def test_every_error_names_file_key_and_problem(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "timezone: Mars/Olympus\n"
        "target_rings: 0\n"
        "business_hours:\n  mon: [{open: '17:00', close: '08:00'}]\n  funday: []\n"
        "holidays: [2026-13-01]\n"
        "colour: blue\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    problems = caught.value.problems
    text = "\n".join(problems)
    assert all(p.startswith(f"{path}: ") for p in problems)
    assert "timezone: Value error, unknown time zone 'Mars/Olympus'" in text
    assert "target_rings:" in text
    assert "business_hours.mon.0:" in text and "close (08:00:00) must be after open (17:00:00)" in text
    assert "holidays.0:" in text
    assert "colour:" in text
    assert len(problems) >= 5


def test_business_hours_unknown_weekday_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "business_hours:\n  funday: []\n")
    with pytest.raises(ConfigError, match=r"business_hours: .*unknown weekday\(s\) \['funday'\]"):
        load_settings(path, env={})


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "ami:\n  host: pbx\n  secret: hunter2\n")
    with pytest.raises(ConfigError, match=r"ami\.secret: secrets do not belong in the file"):
        load_settings(path, env={})


def test_column_map_must_name_known_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "column_maps:\n  other:\n    columns: {caller: From, arrived_at: Start, colour: X}\n")
    with pytest.raises(ConfigError, match=r"column_maps.other.columns: .*unknown Call field\(s\) \['colour'\]"):
        load_settings(path, env={})


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "site: a\ntimezone: [unclosed\n")
    with pytest.raises(ConfigError, match=r"callwatch.yaml: line \d+: not valid YAML"):
        load_settings(path, env={})


def test_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_check_config_command_reports_errors_and_exit_code(tmp_path: Path) -> None:
    path = _write(tmp_path, "ring_cycle_seconds: -1\n")
    result = CliRunner().invoke(main, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    assert f"config error: {path}: ring_cycle_seconds: Input should be greater than 0" in result.output


def test_check_config_command_hides_database_password(tmp_path: Path) -> None:
    path = _write(tmp_path, "site: x\n")
    result = CliRunner().invoke(
        main, ["check-config", "--config", str(path)], env={"CALLWATCH_DATABASE_URL": "postgresql://u:s3cret@h/db"}
    )
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
