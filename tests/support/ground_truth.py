"""Ground truth of the recorded Asterisk sets, and one checker every source's test uses.

`problems()` compares stored call rows with a set's ground-truth.csv and says,
in words, every way they differ (an empty list: every inbound call exact).
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"
SET_A = DATA / "asterisk-set-a"
SET_D = DATA / "asterisk-set-d"


def truth(data: Path) -> list[dict[str, str]]:
    with (data / "ground-truth.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def inbound(data: Path) -> list[dict[str, str]]:
    return [row for row in truth(data) if row["outcome"] != "outbound"]


def _seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def problems(rows: list[dict[str, Any]], data: Path, tolerance: float = 1.0,
             lag: dict[str, float] | None = None) -> list[str]:
    """Every difference between the stored rows and the set's inbound ground truth.

    Calls are matched by caller and start time (a repeat caller calls twice).
    `ring` is the ground truth's: to the answer, the start of voicemail or the
    hang-up; 0 means nothing rang (or a busy phone), which a record may show as
    never ringing. `lag` corrects callers who hung up themselves (set A's timer).
    """
    found: list[str] = []
    calls = [r for r in rows if r["direction"] == "inbound"]
    used: set[int] = set()
    for gt in inbound(data):
        name = gt["name"]
        started = datetime.fromisoformat(gt["started_utc"])
        mine = [i for i, c in enumerate(calls)
                if c["caller"] == gt["caller"] and abs(_seconds(started, c["arrived_at"])) <= 2]
        if len(mine) != 1:
            found.append(f"{name}: {len(mine)} inbound records, expected 1")
            continue
        used.add(mine[0])
        call = calls[mine[0]]
        if call["outcome"] != gt["outcome"]:
            found.append(f"{name}: outcome {call['outcome']}, expected {gt['outcome']}")
        expected_by = gt["answered_by"].split("|") if gt["answered_by"] else [None]
        if call["answered_by"] not in expected_by:
            found.append(f"{name}: answered_by {call['answered_by']}, expected {gt['answered_by'] or 'nobody'}")
        if gt["outcome"] == "voicemail" and call["left_message"] is not (float(gt["voicemail_seconds"]) >= 8):
            found.append(f"{name}: left_message {call['left_message']}")
        ring = float(gt["ring"]) + (lag or {}).get(gt["caller"], 0.0) if gt["outcome"] == "abandoned" else float(
            gt["ring"])
        if call["ring_started_at"] is None:
            if ring > 0:
                found.append(f"{name}: never rang, expected ring {ring}")
            elif abs(_seconds(call["arrived_at"], call["ended_at"]) - float(gt["pre_ring"])) > tolerance and \
                    gt["outcome"] == "abandoned":
                found.append(f"{name}: ended {_seconds(call['arrived_at'], call['ended_at']):.2f} s in, "
                             f"expected {gt['pre_ring']}")
            continue
        pre = _seconds(call["arrived_at"], call["ring_started_at"])
        if abs(pre - float(gt["pre_ring"])) > tolerance:
            found.append(f"{name}: pre-ring {pre:.2f} s, expected {gt['pre_ring']}")
        stop = call["answered_at"] or call.get("ring_ended_at") or call["ended_at"]
        got = _seconds(call["ring_started_at"], stop)
        if abs(got - ring) > tolerance:
            found.append(f"{name}: ring {got:.2f} s, expected {ring}")
    extra = [c for i, c in enumerate(calls) if i not in used]
    found += [f"inbound record {c['call_id']} from {c['caller']} is no inbound call of the ground truth"
              for c in extra]
    return found


def score(rows: list[dict[str, Any]], data: Path, tolerance: float = 1.0) -> str:
    """`exact/total` for the report: calls with no problem."""
    bad = {p.split(":", 1)[0] for p in problems(rows, data, tolerance)}
    total = len(inbound(data))
    return f"{total - len([n for n in bad if not n.startswith('inbound record')])}/{total}"


def cdr_table_rows(data: Path, zone: str) -> list[Any]:
    """The set's `cdr-table.csv` (an export of the PBX's cdr table) as the rows a CDR table source reads."""
    from zoneinfo import ZoneInfo

    from callwatch.collector.sources.master_csv import table_row

    with (data / "cdr-table.csv").open(newline="", encoding="utf-8") as fh:
        return [table_row(record, line, gmt=False, zone=ZoneInfo(zone))
                for line, record in enumerate(csv.DictReader(fh), start=2)]


def set_d_settings(tmp_path: Path, **overrides: Any) -> Any:
    """Set D's PBX wrote Master.csv and the cdr table in its local time, America/Chicago."""
    from support.settings import make_settings

    return make_settings(tmp_path, cdr_gmt=False, timezone="America/Chicago", **overrides)


def call_lines(data: Path, caller: str, nth: int = 0) -> bytes:
    """The recorded Master.csv lines of one call (its whole CDR group), as the PBX wrote them."""
    from zoneinfo import ZoneInfo

    from callwatch.collector.reconstruct.cdr import CdrGrouper
    from callwatch.collector.sources import LineCursor
    from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser

    path = data / "Master.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    grouper = CdrGrouper()
    groups: list[list[CdrRow]] = []
    with path.open("rb") as fh:
        for row in MasterCsvParser(gmt=False, zone=ZoneInfo("America/Chicago")).rows(fh, LineCursor()):
            assert isinstance(row, CdrRow)
            groups += grouper.add(row)
    groups += grouper.finish(0)[0]
    mine = [g for g in groups if any(r.src == caller for r in g)]
    mine.sort(key=lambda g: min(r.start for r in g))
    return b"".join(lines[r.line - 1] for r in sorted(mine[nth], key=lambda r: r.line))
