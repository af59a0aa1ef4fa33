"""The PBX database tables the CDR/CEL database tests (and bench) load set D's recorded rows into.

Schemas, as the distributions create them:
- FreePBX 17 `cdr`: FreePBX/framework installlib/SQL/cdr.sql plus linkedid, peeraccount, sequence
  added by the cdr module (FreePBX/cdr release/17.0 install.php);
- FreePBX `cel`: the same cdr.sql;
- Issabel `cdr`: IssabelPBX framework/SQL/cdr_mysql_table.sql as first released (did, no linkedid).
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

SET_D = Path(__file__).resolve().parent.parent / "data" / "asterisk-set-d"
CHICAGO = ZoneInfo("America/Chicago")

_TEXT = "varchar(80) NOT NULL DEFAULT ''"
FREEPBX17_CDR = f"""CREATE TABLE cdr (
  calldate datetime NOT NULL DEFAULT '0000-00-00 00:00:00', clid {_TEXT}, src {_TEXT}, dst {_TEXT},
  dcontext {_TEXT}, channel {_TEXT}, dstchannel {_TEXT}, lastapp {_TEXT}, lastdata {_TEXT},
  duration int(11) NOT NULL DEFAULT 0, billsec int(11) NOT NULL DEFAULT 0,
  disposition varchar(45) NOT NULL DEFAULT '', amaflags int(11) NOT NULL DEFAULT 0,
  accountcode varchar(20) NOT NULL DEFAULT '', uniqueid varchar(32) NOT NULL DEFAULT '',
  userfield varchar(255) NOT NULL DEFAULT '', recordingfile varchar(255) NOT NULL DEFAULT '',
  cnum varchar(40) NOT NULL DEFAULT '', cnam varchar(40) NOT NULL DEFAULT '',
  outbound_cnum varchar(40) NOT NULL DEFAULT '', outbound_cnam varchar(40) NOT NULL DEFAULT '',
  dst_cnam varchar(40) NOT NULL DEFAULT '', did varchar(50) NOT NULL DEFAULT '',
  linkedid varchar(32) NOT NULL DEFAULT '', peeraccount varchar(80) NOT NULL DEFAULT '',
  sequence int(11) NOT NULL DEFAULT 0,
  KEY calldate (calldate), KEY linkedid (linkedid)
) DEFAULT CHARSET=utf8mb4"""
FREEPBX_CEL = f"""CREATE TABLE cel (
  id int(11) NOT NULL AUTO_INCREMENT, eventtype varchar(30) NOT NULL DEFAULT '', eventtime datetime NOT NULL,
  cid_name {_TEXT}, cid_num {_TEXT}, cid_ani {_TEXT}, cid_rdnis {_TEXT}, cid_dnid {_TEXT}, exten {_TEXT},
  context {_TEXT}, channame {_TEXT}, appname {_TEXT}, appdata {_TEXT}, amaflags int(11) NOT NULL DEFAULT 0,
  accountcode varchar(20) NOT NULL DEFAULT '', uniqueid varchar(32) NOT NULL DEFAULT '',
  linkedid varchar(32) NOT NULL DEFAULT '', peer {_TEXT}, userdeftype varchar(255) NOT NULL DEFAULT '',
  eventextra varchar(255) NOT NULL DEFAULT '', userfield varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (id), KEY linkedid_index (linkedid)
) DEFAULT CHARSET=utf8mb4"""
ISSABEL_CDR = f"""CREATE TABLE cdr (
  calldate datetime NOT NULL DEFAULT '0000-00-00 00:00:00', clid {_TEXT}, src {_TEXT}, dst {_TEXT},
  dcontext {_TEXT}, channel {_TEXT}, dstchannel {_TEXT}, lastapp {_TEXT}, lastdata {_TEXT},
  duration int(11) NOT NULL DEFAULT 0, billsec int(11) NOT NULL DEFAULT 0,
  disposition varchar(45) NOT NULL DEFAULT '', amaflags int(11) NOT NULL DEFAULT 0,
  accountcode varchar(20) NOT NULL DEFAULT '', uniqueid varchar(32) NOT NULL DEFAULT '',
  userfield varchar(255) NOT NULL DEFAULT '', did varchar(50) NOT NULL DEFAULT '',
  recordingfile varchar(255) NOT NULL DEFAULT '', KEY calldate (calldate)
) DEFAULT CHARSET=utf8mb4"""
# cel_custom legacy columns (tests/data/*/conf/cel_custom.conf) -> FreePBX cel columns.
CEL_COLUMNS = ("eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten",
               "context", "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid", "linkedid",
               "peer", "userfield", "userdeftype", "eventextra")


def cdr_rows() -> list[dict[str, Any]]:
    """set D's cdr table as recorded (calldate is Chicago local time)."""
    with (SET_D / "cdr-table.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["amaflags"] = int(row["amaflags"] or 0)
        row["sequence"] = int(row["sequence"] or 0)
    return rows


def cel_rows(local: bool = True) -> list[dict[str, Any]]:
    """set D's CEL events as cel_odbc writes them into FreePBX's `cel` (eventtime a local DATETIME)."""
    with (SET_D / "cel-custom.csv").open(newline="", encoding="utf-8") as fh:
        rows = [dict(zip(CEL_COLUMNS, r, strict=True)) for r in csv.reader(fh)]
    for row in rows:
        moment = datetime.fromtimestamp(float(row["eventtime"]), CHICAGO)
        row["eventtime"] = moment.replace(tzinfo=None) if local else moment
        row["amaflags"] = int(row["amaflags"] or 0)
        # FreePBX's eventextra is VARCHAR(255); MariaDB keeps what fits of a longer JSON (sql_mode without STRICT).
        row["eventextra"] = row["eventextra"][:255]
    return rows


def insert(url: str, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows, keeping only the columns the table has (Issabel lacks linkedid and friends)."""
    engine = sa.create_engine(url)
    try:
        target = sa.Table(table, sa.MetaData(), autoload_with=engine)
        keep = [{k: v for k, v in row.items() if k in target.c} for row in rows]
        with engine.begin() as conn:
            conn.execute(sa.insert(target), keep)
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()
