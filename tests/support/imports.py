"""Shared bits for the import tests: an opened store, calls by caller, CDR layout variants."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from callwatch import store
from callwatch.config import Settings


def open_engine(settings: Settings) -> Any:
    engine = store.create_engine(settings.database_url)
    store.init_db(engine)
    return engine


def calls_by_caller(engine: Any) -> dict[str, dict[str, Any]]:
    calls = store.select_calls(engine)
    by_caller = {c["caller"]: c for c in calls}
    assert len(by_caller) == len(calls), "two records for one caller: a call was counted twice"
    return by_caller


def seconds(a: Any, b: Any) -> float:
    return (b - a).total_seconds()


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def write_cdr(path: Path, rows: list[list[str]]) -> Path:
    """Write rows the way cdr_csv does: every text field quoted, numbers bare, empty answer bare."""
    out = io.StringIO()
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if i in (12, 13) or (i == 10 and value == ""):
                cells.append(value)
            else:
                cells.append('"' + value.replace('"', '""') + '"')
        out.write(",".join(cells) + "\n")
    path.write_text(out.getvalue())
    return path


def _base(channel: str) -> str:
    return channel[:-2] if channel[-2:] in (";1", ";2") else channel


def with_linkedid(rows: list[list[str]]) -> list[list[str]]:
    """The 21-column (`newcdrcolumns`) layout of the same calls.

    Asterisk gives every channel of a call the linkedid of the channel that
    started it; in set A that is the caller's (or the dialling extension's)
    Local `;1` channel, whose uniqueid the queue_log also uses as callid. The
    order is reversed too, so grouping cannot lean on neighbouring rows.
    """
    linked: dict[str, str] = {}
    for row in rows:
        if row[3] in ("from-trunk", "from-internal"):
            for channel in (row[5], row[6]):
                if channel:
                    linked.setdefault(_base(channel), row[16])
    out = []
    for sequence, row in enumerate(rows):
        linkedid = linked[_base(row[5])]
        out.append([*row[:18], "", linkedid, str(sequence)])
    return out[::-1]
