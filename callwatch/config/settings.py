"""The one validated settings object, loaded once at start and passed down.

Errors name the file, the key and the problem, so the office IT person can fix
`callwatch.yaml` without reading code. Secrets never live here: they come from
the environment (see `secrets`).
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from callwatch.config import environment
from callwatch.model import CALL_FIELDS

DEFAULT_CONFIG_FILE = "callwatch.yaml"
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Opening hours when callwatch.yaml names none: Monday to Friday 08:00-17:00 (one tuple per weekday).
DEFAULT_BUSINESS_HOURS: tuple[tuple[tuple[time, time], ...], ...] = (((time(8, 0), time(17, 0)),),) * 5 + ((), ())


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text so that a bad one is
    reported by the validator with its key, not by the YAML parser."""


def _no_duplicate_keys(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """A key given twice is refused: YAML would keep the last one silently."""
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1}; the last would win silently)",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)

_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# An address as mail servers take it in RCPT TO: something@somewhere, no spaces, brackets or lists.
EMAIL_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
# What `callwatch hash-password` prints (werkzeug): method$salt$hash.
PASSWORD_HASH = re.compile(r"^(scrypt|pbkdf2)(:[^$]*)?\$[^$]+\$[0-9a-f]+$")
# calls.site and every other site column are VARCHAR(64): PostgreSQL refuses a longer name at every write.
SITE_MAX_LENGTH = 64


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
    """A staff training; `site` None means every office (the trainings list at the top level)."""

    date: date
    title: str = "Training"
    notes: str = ""
    site: str | None = None


class StaffName(_Strict):
    """Who an extension (or number) was, optionally only from/until a date (both days included)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1, max_length=128)
    since: date | None = Field(None, alias="from")
    until: date | None = None

    @model_validator(mode="after")
    def _order(self) -> StaffName:
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"until ({self.until}) is before from ({self.since})")
        return self


def _staff_directory(value: Any) -> Any:
    """`staff:` accepts `201: Ann` or a list of dated names per extension; keys become text."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, names in value.items():
        if isinstance(names, str):
            names = [{"name": names}]
        elif isinstance(names, dict):
            names = [names]
        out[str(key).strip()] = names
    return out


class AmiSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "callwatch"
    # Seconds without any byte from the PBX before the link counts as half-open.
    idle_timeout_seconds: float = Field(30.0, gt=0)
    ping_interval_seconds: float = Field(10.0, gt=0)
    reconnect_max_seconds: float = Field(60.0, gt=0)
    # Rotated journals (full caller numbers) older than this are deleted.
    journal_keep_days: int = Field(35, ge=1)
    # Calls that never hang up must not grow memory without bound: beyond this
    # many in flight the oldest is dropped, with a warning.
    max_calls_in_flight: int = Field(10_000, ge=10)


class TailSettings(_Strict):
    """A CSV log, or the PBX's CDR/CEL database (a URL), that the collector service re-reads on a schedule."""

    path: str
    source: Literal["auto", "cdr-csv", "cel-csv", "queue-log", "csv"] = "auto"
    interval_seconds: float = Field(30.0, gt=0)


class CsvColumnMap(_Strict):
    """How a generic CSV export maps onto Call fields.

    `columns` maps a Call field to the export's column header; `outcomes` maps
    the export's result words to callwatch outcomes; `time_format` is a
    strptime format (ISO 8601 when empty); naive times are in `timezone`
    (the practice's zone when empty). `ring_time` says how well the export
    knows how long a call rang (model.RingQuality); left empty it follows
    from the columns: a ring/wait seconds column is exact, an answer time is
    derived, neither is unknown.
    """

    columns: dict[str, str]
    ring_time: Literal["exact", "derived", "unknown"] | None = None
    outcomes: dict[str, Literal["answered", "voicemail", "abandoned", "missed"]] = {}
    directions: dict[str, Literal["inbound", "outbound", "internal"]] = {}
    time_format: str = ""
    timezone: str = ""

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        known = (set(CALL_FIELDS) - {"ring_quality"}) | {"ring_seconds", "duration_seconds"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown Call field(s) {unknown}; known: {sorted(known)}")
        for needed in ("caller", "arrived_at"):
            if needed not in value:
                raise ValueError(f"column map needs a column for '{needed}'")
        return value

    @property
    def ring_quality(self) -> str:
        """exact, derived or unknown: `ring_time` if given, else what the mapped columns allow."""
        if self.ring_time is not None:
            return self.ring_time
        if "ring_seconds" in self.columns:
            return "exact"
        return "derived" if "answered_at" in self.columns else "unknown"


class PlausibilitySettings(_Strict):
    """What a real call can look like; a row outside it is rejected (kept in the rejects file), not stored.

    One row dated 2099 would otherwise turn a day's mean speed of answer into years.
    """

    # No call is older than this date...
    earliest: date = date(2000, 1, 1)
    # ...or later than now plus this (a PBX clock a little ahead is fine).
    future_seconds: float = Field(86_400.0, ge=0)
    # Longest plausible call, arrival to hang-up.
    max_call_seconds: float = Field(12 * 3600.0, gt=0)
    # Longest plausible ring (or queue wait) before an answer or giving up.
    max_ring_seconds: float = Field(3600.0, gt=0)


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

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not EMAIL_ADDRESS.match(v.strip())]
        if bad:
            raise ValueError(f"{bad} are not email addresses (one address per list item: name@example.org)")
        return [v.strip() for v in value]

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


class AlertSettings(_Strict):
    """When to alert the front desk, and where to send it (callwatch.alerts).

    Each threshold turns its condition off when null. `notify` holds Apprise
    URLs (mailto://, json://, msteams://, slack://, ntfy://, ...); URLs that
    carry a token or password belong in CALLWATCH_ALERT_URLS instead.
    """

    enabled: bool = True
    notify: list[str] = []
    check_seconds: float = Field(5.0, gt=0)
    ring_past_target: bool = True
    queue_wait_seconds: float | None = Field(60.0, gt=0)
    # The day's answer rate is judged against report.goals.answer_rate after this many offered calls.
    answer_rate_min_calls: int | None = Field(20, ge=1)
    missed_calls: int | None = Field(3, ge=1)
    missed_minutes: float = Field(15.0, gt=0)
    collector_silent_seconds: float | None = Field(120.0, gt=0)
    # Outside business hours (and on holidays) alerts are kept and shown but not sent.
    quiet_outside_business_hours: bool = True
    # The wall board plays a short chime when an alert fires (browsers allow sound only after a click/key).
    chime: bool = False
GoalKey = Literal["answer_rate", "within_target_rate", "voicemail_rate", "abandonment_rate"]


class SiteSettings(_Strict):
    """One office's own settings under `sites:`; a key left out takes the top level's value.

    Stored per office in the database (store.site_settings) so that every
    process reading the store judges the office by these, not by its own file.
    """

    timezone: str | None = None
    business_hours: dict[str, list[OpeningHours]] | None = None
    holidays: list[date] | None = None
    ring_cycle_seconds: float | None = Field(None, gt=0)
    target_rings: int | None = Field(None, ge=1)
    short_abandon_seconds: float | None = Field(None, ge=0)
    voicemail_message_seconds: float | None = Field(None, ge=0)
    follow_up_window_business_days: int | None = Field(None, ge=0)
    trainings: list[Training] | None = None
    goals: dict[GoalKey, float] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _known_zone(value)

    @field_validator("business_hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[OpeningHours]] | None) -> dict[str, list[OpeningHours]] | None:
        return None if value is None else _all_weekdays(value)

    @field_validator("goals")
    @classmethod
    def _fractions(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else _goal_fractions(value)


# The keys a site section may set, in the order they are stored.
SITE_KEYS: tuple[str, ...] = tuple(SiteSettings.model_fields)


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as America/New_York)") from None
    return value


def _all_weekdays(value: dict[str, list[OpeningHours]]) -> dict[str, list[OpeningHours]]:
    unknown = sorted(set(value) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"unknown weekday(s) {unknown}; use {list(WEEKDAYS)}")
    return {d: value.get(d, []) for d in WEEKDAYS}


def _goal_fractions(value: dict[str, float]) -> dict[str, float]:
    bad = sorted(k for k, v in value.items() if not 0 <= v <= 1)
    if bad:
        raise ValueError(f"goals {bad} must be fractions between 0 and 1 (0.9 for 90 %)")
    return value


class SmtpSettings(_Strict):
    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    username: str = ""
    sender: str = "callwatch@localhost"
    # Each command's reply; the reply to the end of DATA may take longer (RFC 5321
    # 4.5.3.2.6 suggests 10 minutes), and giving up early would send the report twice.
    timeout_seconds: float = Field(30.0, gt=0)
    data_timeout_seconds: float = Field(600.0, gt=0)


class DashboardSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    # username -> password hash (werkzeug format, `callwatch hash-password`).
    users: dict[str, str] = {}
    # The collector writes its heartbeat every second; this long without one
    # and the Live page says the collector is silent.
    heartbeat_stale_seconds: float = Field(10.0, gt=0)
    # Behind an HTTPS reverse proxy: send the session cookie only over HTTPS.
    secure_cookies: bool = False
    # Who may see a waiting caller's full number on the Follow-ups page (to call
    # them back; every look is kept in the caller_reveals table). None: every
    # dashboard user; []: nobody.
    caller_number_viewers: list[str] | None = None

    @field_validator("users")
    @classmethod
    def _hashes_only(cls, value: dict[str, str]) -> dict[str, str]:
        # The value itself is never repeated in the message: it may be someone's password.
        plain = sorted(name for name, hashed in value.items() if not PASSWORD_HASH.match(str(hashed)))
        if plain:
            raise ValueError(f"users {plain}: a plain password, not a hash; run `callwatch hash-password NAME` "
                             "and paste the line it prints")
        return value


class Settings(_Strict):
    site: str = Field("main-office", min_length=1, max_length=SITE_MAX_LENGTH)
    timezone: str = "America/New_York"
    database_url: str = "sqlite:///data/callwatch.db"
    # How long a write waits for another process's lock on a SQLite store before it gives up.
    database_busy_timeout_seconds: float = Field(30.0, gt=0)
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
    # Channel-name glob patterns of the trunks calls come in on (`PJSIP/trunk-*`, `SIP/provider-*`):
    # a call whose first channel matches is inbound whatever dialplan context it ran.
    inbound_channels: list[str] = []
    # Where the voicemail application answers, if not the VoiceMail app itself.
    voicemail_extensions: list[str] = []
    # Master.csv writes local time unless cdr.conf has usegmtime=yes.
    cdr_gmt: bool = True
    # A cel_custom.conf mapping other than the known ones: its fields in order, by the names of
    # the advanced mapping (EventType, EventTime, CIDName, ..., ChanName, UniqueID, LinkedID, Peer, Extra).
    cel_fields: list[str] = []
    column_maps: dict[str, CsvColumnMap] = {}
    plausibility: PlausibilitySettings = PlausibilitySettings()
    trainings: list[Training] = []
    # Extension or number -> who that is (metrics.staff): wins over names the PBX reports.
    staff: dict[str, list[StaffName]] = {}
    # Offices with settings of their own (time zone, hours, ring target, trainings, goals);
    # the top level is every office's default.
    sites: dict[str, SiteSettings] = {}
    ami: AmiSettings = AmiSettings()
    tail: list[TailSettings] = []
    report: ReportSettings = ReportSettings()
    smtp: SmtpSettings = SmtpSettings()
    dashboard: DashboardSettings = DashboardSettings()
    alerts: AlertSettings = AlertSettings()
    rejects_dir: Path = Path("data/rejects")
    journal_path: Path = Path("data/ami-journal.log")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _known_zone(value)

    @field_validator("business_hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[OpeningHours]]) -> dict[str, list[OpeningHours]]:
        return _all_weekdays(value)

    @field_validator("sites")
    @classmethod
    def _own_trainings(cls, value: dict[str, SiteSettings]) -> dict[str, SiteSettings]:
        for name, section in value.items():
            for training in section.trainings or []:
                if training.site not in (None, name):
                    raise ValueError(f"{name}: a training under this office names another office "
                                     f"({training.site!r}); list it under that office or at the top level")
        return value

    @property
    def site_names(self) -> list[str]:
        """The offices this file configures: its own site and every `sites:` entry."""
        return sorted({self.site, *self.sites})

    def site_section(self, name: str) -> SiteSettings:
        """Every site key for office `name`, resolved: its own section over the top level."""
        own = self.sites.get(name, SiteSettings())
        trainings = [t for t in self.trainings if t.site in (None, name)]
        trainings += [t.model_copy(update={"site": name}) for t in own.trainings or []]
        resolved = {key: getattr(self, key) for key in SITE_KEYS if key not in ("trainings", "goals")}
        resolved.update({k: v for k, v in own if v is not None and k not in ("trainings", "goals")})
        return SiteSettings(**resolved, trainings=trainings, goals={**self.report.goals, **(own.goals or {})})

    def for_site(self, name: str, stored: SiteSettings | None = None) -> Settings:
        """These settings as office `name` sees them; `stored` (the office's own, from the
        database) wins over this file's section for it."""
        section = stored if stored is not None else self.site_section(name)
        update: dict[str, Any] = {k: v for k, v in section if v is not None and k != "goals"}
        if stored is not None:
            # What an office's collector stored concerns that office, even its file's "every office" trainings.
            update["trainings"] = [t.model_copy(update={"site": name}) for t in stored.trainings or []]
        update["report"] = self.report.model_copy(update={"goals": {**self.report.goals, **(section.goals or {})}})
        return self.model_copy(update={**update, "site": name})

    @field_validator("staff", mode="before")
    @classmethod
    def _staff_keys(cls, value: Any) -> Any:
        return _staff_directory(value)

    @field_validator("staff")
    @classmethod
    def _staff_periods(cls, value: dict[str, list[StaffName]]) -> dict[str, list[StaffName]]:
        for key, names in value.items():
            spans = sorted((n.since or date.min, n.until or date.max, n.name) for n in names)
            for (_, end, first), (start, _, second) in pairwise(spans):
                if start <= end:
                    raise ValueError(f"{key}: {first!r} and {second!r} overlap; give each a from/until")
        return value

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
    if isinstance(data.get("database_url"), str) and _has_password(data["database_url"]):
        raise ConfigError([f"{file}: database_url: holds a password; {_SECRET_ADVICE}"])
    database_url = environment.read(environment.DATABASE_URL, env)
    if database_url:
        data = {**data, "database_url": database_url}
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{file}: {_location(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(problems) from None


_SECRET_ADVICE = "secrets do not belong in the file; set the whole URL in CALLWATCH_DATABASE_URL instead"


def _has_password(url: str) -> bool:
    try:
        return make_url(url).password is not None
    except (ArgumentError, ValueError):
        return False  # not a URL at all: the engine will say so by name


def secret(name: str) -> str | None:
    """Secrets come only from the environment, e.g. CALLWATCH_AMI_SECRET (config/environment.py)."""
    return environment.secret(name)
