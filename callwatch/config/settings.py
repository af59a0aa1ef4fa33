"""The one validated settings object, loaded once at start and passed down.

Errors name the file, the key and the problem, so the office IT person can fix
`callwatch.yaml` without reading code. Secrets never live here: they come from
the environment (see `secrets`).
"""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callwatch.config import environment
from callwatch.model import CALL_FIELDS

DEFAULT_CONFIG_FILE = "callwatch.yaml"
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Opening hours when callwatch.yaml names none: Monday to Friday 08:00-17:00 (one tuple per weekday).
DEFAULT_BUSINESS_HOURS: tuple[tuple[tuple[time, time], ...], ...] = (((time(8, 0), time(17, 0)),),) * 5 + ((), ())


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text so that a bad one is
    reported by the validator with its key, not by the YAML parser."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote the file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpeningHours(_Strict):
    """One weekday's business hours, local time; `closed` days have none."""

    open: time
    close: time

    @model_validator(mode="after")
    def _order(self) -> OpeningHours:
        if self.close <= self.open:
            raise ValueError(f"close ({self.close}) must be after open ({self.open})")
        return self


def _default_hours() -> dict[str, list[OpeningHours]]:
    return {
        d: [OpeningHours(open=o, close=c) for o, c in hours]
        for d, hours in zip(WEEKDAYS, DEFAULT_BUSINESS_HOURS, strict=True)
    }


class Training(_Strict):
    date: date
    title: str = "Training"
    notes: str = ""


class AmiSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "callwatch"
    # Seconds without any byte from the PBX before the link counts as half-open.
    idle_timeout_seconds: float = Field(30.0, gt=0)
    ping_interval_seconds: float = Field(10.0, gt=0)
    reconnect_max_seconds: float = Field(60.0, gt=0)


class TailSettings(_Strict):
    """A CSV log the collector service re-reads on a schedule."""

    path: Path
    source: Literal["auto", "cdr-csv", "queue-log", "csv"] = "auto"
    interval_seconds: float = Field(30.0, gt=0)


class CsvColumnMap(_Strict):
    """How a generic CSV export maps onto Call fields.

    `columns` maps a Call field to the export's column header; `outcomes` maps
    the export's result words to callwatch outcomes; `time_format` is a
    strptime format (ISO 8601 when empty); naive times are in `timezone`
    (the practice's zone when empty).
    """

    columns: dict[str, str]
    outcomes: dict[str, Literal["answered", "voicemail", "abandoned", "missed"]] = {}
    directions: dict[str, Literal["inbound", "outbound", "internal"]] = {}
    time_format: str = ""
    timezone: str = ""

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CALL_FIELDS) - {"ring_seconds", "duration_seconds"})
        if unknown:
            raise ValueError(f"unknown Call field(s) {unknown}; known: {sorted(CALL_FIELDS)}")
        for needed in ("caller", "arrived_at"):
            if needed not in value:
                raise ValueError(f"column map needs a column for '{needed}'")
        return value


class ReportSettings(_Strict):
    day_of_week: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(7, ge=0, le=23)
    minute: int = Field(0, ge=0, le=59)
    recipients: list[str] = []
    out_dir: Path = Path("reports")
    # The practice's own goals the weekly report measures against (fractions);
    # the speed-of-answer goal is the ring target itself.
    goals: dict[Literal["answer_rate", "within_target_rate", "voicemail_rate", "abandonment_rate"], float] = {
        "answer_rate": 0.90,
        "within_target_rate": 0.80,
        "voicemail_rate": 0.07,
        "abandonment_rate": 0.03,
    }

    @field_validator("goals")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in value.items() if not 0 <= v <= 1)
        if bad:
            raise ValueError(f"goals {bad} must be fractions between 0 and 1 (0.9 for 90 %)")
        return value

    @property
    def goal_by_metric(self) -> dict[str, float]:
        """goals keyed by plain metric keys (as metrics.catalog names them)."""
        return {str(key): goal for key, goal in self.goals.items()}


class SmtpSettings(_Strict):
    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    username: str = ""
    sender: str = "callwatch@localhost"


class DashboardSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    # username -> password hash (werkzeug format, `callwatch hash-password`).
    users: dict[str, str] = {}
    heartbeat_stale_seconds: float = Field(90.0, gt=0)


class Settings(_Strict):
    site: str = "main-office"
    timezone: str = "America/New_York"
    database_url: str = "sqlite:///data/callwatch.db"
    business_hours: dict[str, list[OpeningHours]] = Field(default_factory=_default_hours)
    holidays: list[date] = []
    ring_cycle_seconds: float = Field(6.0, gt=0)
    target_rings: int = Field(3, ge=1)
    short_abandon_seconds: float = Field(5.0, ge=0)
    voicemail_message_seconds: float = Field(8.0, ge=0)
    follow_up_window_business_days: int = Field(1, ge=0)
    # Dialplan contexts and DIDs whose calls count as inbound.
    inbound_contexts: list[str] = ["from-pstn", "from-trunk", "from-external", "from-did-direct"]
    inbound_dids: list[str] = []
    # Where the voicemail application answers, if not the VoiceMail app itself.
    voicemail_extensions: list[str] = []
    # Master.csv writes local time unless cdr.conf has usegmtime=yes.
    cdr_gmt: bool = True
    column_maps: dict[str, CsvColumnMap] = {}
    trainings: list[Training] = []
    ami: AmiSettings = AmiSettings()
    tail: list[TailSettings] = []
    report: ReportSettings = ReportSettings()
    smtp: SmtpSettings = SmtpSettings()
    dashboard: DashboardSettings = DashboardSettings()
    rejects_dir: Path = Path("data/rejects")
    journal_path: Path = Path("data/ami-journal.log")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as America/New_York)") from None
        return value

    @field_validator("business_hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[OpeningHours]]) -> dict[str, list[OpeningHours]]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {list(WEEKDAYS)}")
        return {d: value.get(d, []) for d in WEEKDAYS}

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def target_seconds(self) -> float:
        return self.target_rings * self.ring_cycle_seconds



def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_settings(path: str | os.PathLike[str] | None = None, *, env: dict[str, str] | None = None) -> Settings:
    """Load and validate the settings once.

    `path` None means `CALLWATCH_CONFIG` or `./callwatch.yaml`; a missing
    default file means all defaults, a missing named file is an error.
    `CALLWATCH_DATABASE_URL` overrides `database_url`.
    """
    env = dict(os.environ) if env is None else env
    explicit = path is not None or environment.CONFIG in env
    file = Path(path if path is not None else env.get(environment.CONFIG, DEFAULT_CONFIG_FILE))
    data: dict[str, Any] = {}
    if file.exists():
        try:
            loaded = yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "?"
            raise ConfigError([f"{file}: {where}: not valid YAML: {exc}"]) from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError([f"{file}: the top level must be a mapping of keys, not {type(loaded).__name__}"])
        data = loaded
    elif explicit:
        raise ConfigError([f"{file}: config file not found"])
    secret_keys = ("secret", "password")
    in_file = [k for k in (*secret_keys, "ami_secret") if k in data]
    for section in ("ami", "smtp"):
        if isinstance(data.get(section), dict):
            in_file += [f"{section}.{k}" for k in secret_keys if k in data[section]]
    if in_file:
        advice = "secrets do not belong in the file; set them in the environment"
        raise ConfigError([f"{file}: {key}: {advice}" for key in in_file])
    database_url = environment.read(environment.DATABASE_URL, env)
    if database_url:
        data = {**data, "database_url": database_url}
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{file}: {_location(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(problems) from None


def secret(name: str) -> str | None:
    """Secrets come only from the environment, e.g. CALLWATCH_AMI_SECRET (config/environment.py)."""
    return environment.secret(name)
