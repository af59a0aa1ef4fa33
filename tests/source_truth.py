"""Scoring stored calls against a recording's ground-truth.csv (sets A and D share its columns).

`mismatches` lists, per inbound call of the truth, what the store got wrong
(missing, counted twice, outcome, answerer, ring or pre-ring time beyond the
tolerance, voicemail message); an empty list means every call is exact.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

from callwatch import store

DATA = Path(__file__).parent / "data"
SET_A = DATA / "asterisk-set-a"
SET_D = DATA / "asterisk-set-d"


def truth_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "ground-truth.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _ring(call: dict[str, Any]) -> float | None:
    start = call["ring_started_at"]
    stop = call["answered_at"] or call["ring_ended_at"] or call["ended_at"]
    return None if start is None or stop is None else (stop - start).total_seconds()


def _problems(call: dict[str, Any], truth: dict[str, str], tolerance: float) -> list[str]:
    out = []
    if call["direction"] != "inbound":
        out.append(f"direction {call['direction']}")
    if call["outcome"] != truth["outcome"]:
        out.append(f"outcome {call['outcome']} != {truth['outcome']}")
    expected_by = truth["answered_by"].split("|") if truth["answered_by"] else [None]
    if call["answered_by"] not in expected_by:
        out.append(f"answered_by {call['answered_by']} != {truth['answered_by'] or None}")
    if truth["ring"] == "0" and truth["pre_ring"] != "0":
        # Hung up during the greeting: no phone ever rang.
        if call["ring_started_at"] is not None:
            out.append("rang, but the caller hung up during the greeting")
        return out
    ring = _ring(call)
    if ring is None or abs(ring - float(truth["ring"])) > tolerance:
        out.append(f"ring {ring} != {truth['ring']}")
    if call["ring_started_at"] is None:
        out.append("no ring start")
    else:
        pre = (call["ring_started_at"] - call["arrived_at"]).total_seconds()
        if abs(pre - float(truth["pre_ring"])) > tolerance:
            out.append(f"pre_ring {pre:.1f} != {truth['pre_ring']}")
    if truth["outcome"] == "voicemail" and call["left_message"] is not (float(truth["voicemail_seconds"]) >= 8):
        out.append(f"left_message {call['left_message']}")
    return out


def mismatches(engine: Any, folder: Path, tolerance: float = 1.0) -> list[str]:
    """What is wrong, per inbound call of the truth; [] when every one is exact."""
    calls = store.select_calls(engine)
    found = []
    for truth in truth_rows(folder):
        if truth["outcome"] == "outbound":
            if any(c["direction"] == "inbound" and c["caller"] == truth["caller"]
                   and abs((c["arrived_at"] - datetime.fromisoformat(truth["started_utc"])).total_seconds()) < 2
                   for c in calls):
                found.append(f"{truth['name']}: an outbound call stored as inbound")
            continue
        started = datetime.fromisoformat(truth["started_utc"])
        same = [c for c in calls if c["caller"] == truth["caller"]
                and abs((c["arrived_at"] - started).total_seconds()) <= tolerance]
        if len(same) != 1:
            found.append(f"{truth['name']}: {len(same)} records")
            continue
        found += [f"{truth['name']}: {p}" for p in _problems(same[0], truth, tolerance)]
    inbound = sum(c["direction"] == "inbound" for c in calls)
    expected = sum(t["outcome"] != "outbound" for t in truth_rows(folder))
    if inbound != expected:
        found.append(f"{inbound} inbound records for {expected} inbound calls")
    return found


def exact_count(engine: Any, folder: Path) -> tuple[int, int]:
    """(calls exact, inbound calls in the truth): the score a report quotes."""
    wrong = {m.split(":")[0] for m in mismatches(engine, folder)}
    names = [t["name"] for t in truth_rows(folder) if t["outcome"] != "outbound"]
    return sum(n not in wrong for n in names), len(names)
