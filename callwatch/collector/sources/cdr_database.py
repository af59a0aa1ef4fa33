"""The PBX's own CDR/CEL database as a source: FreePBX/Issabel `asteriskcdrdb`, cdr_pgsql, cdr_sqlite3_custom.

FreePBX writes its CDR to MariaDB `asteriskcdrdb.cdr` (cdr_adaptive_odbc) and
CEL to `asteriskcdrdb.cel`; it writes no Master.csv. Which columns a `cdr`
table has depends on the distribution and its age, so they are read from the
database, never assumed:

- FreePBX 17: calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp,
  lastdata, duration, billsec, disposition, amaflags, accountcode, uniqueid,
  userfield, did, recordingfile, cnum, cnam, outbound_cnum, outbound_cnam,
  dst_cnam, linkedid, peeraccount, sequence (the base table:
  https://github.com/FreePBX/framework/blob/release/17.0/installlib/SQL/cdr.sql ;
  linkedid VARCHAR(32), peeraccount VARCHAR(80), sequence INT(11) added by the cdr
  module: https://github.com/FreePBX/cdr/blob/release/17.0/install.php );
- Issabel (IssabelPBX framework/SQL/cdr_mysql_table.sql as first released):
  calldate .. userfield, did, recordingfile — no linkedid, no sequence;
- Asterisk's own cdr_pgsql/cdr_odbc tables may keep start/answer/end instead of calldate.

Only `cdr` and `cel` are read, never FreePBX's `transient_cdr` (a copy of the
last months that FreePBX purges). The password comes only from the
environment (CALLWATCH_CDR_DATABASE_PASSWORD), never from the URL or a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from callwatch.collector.sources import SourceError, clip
from callwatch.collector.sources.cel import ALIASES, NEEDED, CelEvent, event_from
from callwatch.collector.sources.master_csv import local_to_utc
from callwatch.config import environment

PASSWORD_VARIABLE = environment.CDR_DATABASE_PASSWORD
CDR_TABLE = "cdr"
CEL_TABLE = "cel"
# Drivers callwatch installs for each kind of URL a PBX admin will write.
DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mysql+pymysql", "postgresql": "postgresql+psycopg",
           "postgres": "postgresql+psycopg"}
CDR_NEEDED = ("channel", "disposition", "duration", "billsec")


def is_database_url(name: str) -> bool:
    return "://" in name and name.split("://", 1)[0].split("+")[0] in {"mysql", "mariadb", "postgresql",
                                                                       "postgres", "sqlite"}


def redacted(name: str) -> str:
    """The URL as it may be shown and remembered: never a password."""
    return sa.make_url(name).render_as_string(hide_password=True)


def open_database(name: str, password: str | None) -> Engine:
    """A read-only connection to the PBX database; SourceError for a URL carrying a password."""
    url = sa.make_url(name)
    if url.password:
        raise SourceError(f"put the password in {PASSWORD_VARIABLE}, not in the URL")
    backend = url.drivername.split("+")[0]
    if "+" not in url.drivername and backend in DRIVERS:
        url = url.set(drivername=DRIVERS[backend])
    if password and url.username:
        url = url.set(password=password)
    return sa.create_engine(_with_charset(url), pool_pre_ping=True)


def _with_charset(url: URL) -> URL:
    # Caller names are UTF-8 (José); MariaDB's default connection charset would mangle them.
    if url.drivername.startswith("mysql") and "charset" not in url.query:
        return url.update_query_dict({"charset": "utf8mb4"})
    return url


class PbxTables:
    """The `cdr` and `cel` tables of one PBX database, as far as they exist, with their columns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            meta = sa.MetaData()
            inspector = sa.inspect(engine)
            names = set(inspector.get_table_names())
            self.cdr = sa.Table(CDR_TABLE, meta, autoload_with=engine) if CDR_TABLE in names else None
            self.cel = sa.Table(CEL_TABLE, meta, autoload_with=engine) if CEL_TABLE in names else None
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"cannot read the PBX database: {_reason(exc)}") from None
        if self.cdr is None and self.cel is None:
            raise SourceError(f"the database has neither a '{CDR_TABLE}' nor a '{CEL_TABLE}' table")
        if self.cdr is not None:
            missing = [c for c in CDR_NEEDED if c not in self.cdr.c]
            if "calldate" not in self.cdr.c and "start" not in self.cdr.c:
                missing.append("calldate")
            if missing:
                raise SourceError(f"table {CDR_TABLE} has no column {', '.join(missing)}")
        if self.cel is not None:
            have = {ALIASES.get(c.name.lower()) for c in self.cel.columns}
            missing = [n for n in NEEDED if n not in have]
            if missing:
                raise SourceError(f"table {CEL_TABLE} has no column for {', '.join(missing)}")

    def time_column(self, table: sa.Table) -> sa.Column[Any]:
        if table is self.cel:
            return next(c for c in table.columns if ALIASES.get(c.name.lower()) == "eventtime")
        return table.c["calldate"] if "calldate" in table.c else table.c["start"]

    def linkedid_column(self, table: sa.Table) -> sa.Column[Any] | None:
        return next((c for c in table.columns if c.name.lower() == "linkedid"), None)

    def rows_since(self, table: sa.Table, since: datetime | None) -> list[dict[str, Any]]:
        """Every row from `since` on (a naive time as the table writes it), oldest first, exact duplicates dropped;
        plus the earlier rows of every linkedid seen, so that no call is read in part."""
        when = self.time_column(table)
        # Events of one second keep the order they were written in (cel's AUTO_INCREMENT id).
        order = [when, *([table.c["id"]] if "id" in table.c else [])]
        query = sa.select(table).order_by(*order)
        if since is not None:
            query = query.where(when >= self._bind(since))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            linked = self.linkedid_column(table)
            if since is not None and linked is not None and rows:
                ids = sorted({r[linked.name] for r in rows if r[linked.name]})
                for start in range(0, len(ids), 500):
                    earlier = sa.select(table).where(linked.in_(ids[start:start + 500]), when < self._bind(since))
                    rows = [dict(r) for r in conn.execute(earlier.order_by(*order)).mappings()] + rows
        # Two CDR backends writing one table duplicate every row; CEL rows carry their own id.
        return unique_rows(rows) if table is self.cdr else rows

    def rows_of_call(self, table: sa.Table, linkedid: str) -> list[dict[str, Any]]:
        """Every row of one linkedid in the order it was written (`calls --explain`); none without a linkedid."""
        linked = self.linkedid_column(table)
        if linked is None:
            return []
        order = [self.time_column(table), *([table.c["id"]] if "id" in table.c else [])]
        with self.engine.connect() as conn:
            query = sa.select(table).where(linked == linkedid).order_by(*order)
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return unique_rows(rows) if table is self.cdr else rows

    def _bind(self, when: datetime) -> datetime | str:
        # cdr_sqlite3_custom stores text 'YYYY-MM-DD HH:MM:SS': compare text with text.
        if self.engine.dialect.name == "sqlite":
            return when.strftime("%Y-%m-%d %H:%M:%S")
        return when

    def column_signature(self, table: sa.Table) -> str:
        return ",".join(c.name for c in table.columns)


def unique_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with exact duplicates dropped: two CDR backends loaded at once write every row twice."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for row in rows:
        key = tuple(v for k, v in row.items() if k.lower() != "id")
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _reason(exc: BaseException) -> str:
    return clip(str(getattr(exc, "orig", None) or exc).splitlines()[0], 300)


def table_time(value: object, name: str, *, gmt: bool, zone: tzinfo, hint: datetime | None = None) -> datetime:
    """A time column (a DATETIME, or text from SQLite) as UTC: GMT or the PBX's local time, as cdr_gmt says."""
    if isinstance(value, datetime):
        naive = value
    else:
        try:
            naive = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"{name} {clip(str(value), 40)!r} is not YYYY-MM-DD HH:MM:SS") from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=UTC) if gmt else local_to_utc(naive, zone, hint)


def as_table_time(when: datetime, *, gmt: bool, zone: tzinfo) -> datetime:
    """The naive time a table holds for the UTC moment `when`."""
    return when.astimezone(UTC if gmt else zone).replace(tzinfo=None)


def cel_event(record: Mapping[str, Any], line: int, *, gmt: bool, zone: tzinfo) -> CelEvent:
    """A `cel` table row (cel_odbc, cel_pgsql, FreePBX column names) as a CelEvent."""
    values = {ALIASES[k.lower()]: v for k, v in record.items() if k.lower() in ALIASES}
    return event_from(values, line, gmt=gmt, zone=zone)


def converted(rows: list[dict[str, Any]], convert: Any, *, gmt: bool, zone: tzinfo) -> Iterator[Any]:
    """Each row converted, or a (row number, reason) pair for one that cannot be."""
    for i, record in enumerate(rows):
        try:
            yield convert(record, i, gmt=gmt, zone=zone)
        except ValueError as exc:
            yield (i, str(exc))
