"""One test per trap real dialplans set for CDR reconstruction, each on rows set D's PBX recorded.

Every test writes the recorded Master.csv lines of one call (or the whole
file) to a file and imports it the way a user does; expected values are set
D's ground truth (tests/data/asterisk-set-d/ground-truth.csv).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from support.ground_truth import SET_A, SET_D, call_lines, cdr_table_rows, set_d_settings
from support.imports import open_engine
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.collector.reconstruct.cdr import call_from_rows, calls_from_cdr_rows
from callwatch.collector.reconstruct.channels import CallContext


def _import(tmp_path: Path, data: bytes, **overrides: Any) -> list[dict[str, Any]]:
    settings = set_d_settings(tmp_path, **overrides)
    engine = open_engine(settings)
    path = tmp_path / "Master.csv"
    path.write_bytes(data)
    summary = import_file(engine, settings, path, source="cdr-csv")
    assert summary.rejected == 0
    return store.select_calls(engine)


def _only_inbound(rows: list[dict[str, Any]]) -> dict[str, Any]:
    inbound = [r for r in rows if r["direction"] == "inbound"]
    assert len(inbound) == 1, f"{len(inbound)} inbound records for one call"
    return inbound[0]


def _s(a: datetime | None, b: datetime | None) -> float:
    assert a is not None and b is not None
    return (b - a).total_seconds()


def test_blind_transfer_rewrote_every_row_and_the_call_still_counts(tmp_path: Path) -> None:
    """Both inbound rows say `202 from-internal`; no row is in an inbound context (trap 3)."""
    lines = call_lines(SET_D, "3125550113")
    leg = [r for r in csv.reader(io.StringIO(lines.decode())) if r[5].endswith("from-trunk-0000002f;2")]
    assert len(leg) == 2 and {(r[2], r[3]) for r in leg} == {("202", "from-internal")}
    for overrides in ({}, {"inbound_contexts": [], "inbound_channels": ["Local/*@from-trunk-*"]},
                      {"inbound_contexts": []}):
        call = _only_inbound(_import(tmp_path / str(len(overrides)), lines, **overrides))
        assert (call["caller"], call["outcome"], call["answered_by"]) == ("3125550113", "answered", "201")
        assert abs(_s(call["ring_started_at"], call["answered_at"]) - 3) <= 1


def test_blind_transfer_into_voicemail_stays_answered_by_the_first_person(tmp_path: Path) -> None:
    """No CDR row shows the voicemail part (trap 9): the call was answered, by 201."""
    call = _only_inbound(_import(tmp_path, call_lines(SET_D, "3125550114")))
    assert (call["outcome"], call["answered_by"]) == ("answered", "201")
    assert abs(_s(call["ring_started_at"], call["answered_at"]) - 3) <= 1


def test_attended_transfer_consultation_is_not_a_call(tmp_path: Path) -> None:
    """201 consults 204 (a row `src=201 dst='' dcontext=phones`): one call, answered by 201 (trap 8)."""
    rows = _import(tmp_path, call_lines(SET_D, "3125550112"))
    assert len(rows) == 1
    call = _only_inbound(rows)
    assert (call["outcome"], call["answered_by"]) == ("answered", "201")
    assert abs(_s(call["ring_started_at"], call["answered_at"]) - 4) <= 1


def test_local_trunk_real_inbound_leg_is_the_half_that_dialled(tmp_path: Path) -> None:
    """The `;1` half (AppDial2, from-trunk, no dstchannel) is the outside caller; `;2` ran Dial (trap 1)."""
    lines = call_lines(SET_D, "3125550104")
    (caller_half,) = [r for r in csv.reader(io.StringIO(lines.decode())) if r[5].endswith(";1") and "trunk" in r[5]]
    assert (caller_half[3], caller_half[6], caller_half[7]) == ("from-trunk", "", "AppDial2")
    call = _only_inbound(_import(tmp_path, lines))
    assert call["outcome"] == "abandoned"
    assert call["ring_started_at"] is not None, "the abandoned call lost its ring time"
    assert abs(_s(call["ring_started_at"], call["ended_at"]) - 4) <= 1


def test_local_trunk_either_half_can_be_the_inbound_leg(tmp_path: Path) -> None:
    """Set A's simulated trunk runs the dialplan on `;1` and the caller on `;2`: the same rule finds it."""
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    import_file(engine, settings, SET_A / "Master.csv")
    inbound = [r for r in store.select_calls(engine) if r["direction"] == "inbound"]
    assert len(inbound) == 28 and all(r["caller"].startswith("617555") for r in inbound)


def test_pickup_is_answered_by_the_person_who_picked_up(tmp_path: Path) -> None:
    """201 rings, 203 dials **201 at 6 s: answered by 203; the masqueraded `**201` row is no call (trap 7)."""
    lines = call_lines(SET_D, "3125550111")
    assert b'"**201","from-internal"' in lines
    rows = _import(tmp_path, lines)
    assert len(rows) == 1
    call = _only_inbound(rows)
    assert (call["caller"], call["outcome"], call["answered_by"]) == ("3125550111", "answered", "203")
    assert abs(_s(call["ring_started_at"], call["answered_at"]) - 6) <= 1


def test_park_and_retrieval_is_answered_by_who_first_answered(tmp_path: Path) -> None:
    """201 answers and parks; 202 retrieves with 701 (`ParkedCall` row, same call): answered by 201 (trap 10)."""
    lines = call_lines(SET_D, "3125550123")
    assert b'"701","from-internal"' in lines and b'"Park"' in lines
    rows = _import(tmp_path, lines)
    assert len(rows) == 1
    call = _only_inbound(rows)
    assert (call["caller"], call["outcome"], call["answered_by"]) == ("3125550123", "answered", "201")
    assert abs(_s(call["ring_started_at"], call["answered_at"]) - 3) <= 1


def test_duplicate_rows_from_two_cdr_backends_count_once(tmp_path: Path) -> None:
    """Two backends loaded at once write every row twice: the calls are the same as from one copy."""
    once = (SET_D / "Master.csv").read_bytes()
    twice = b"".join(line + line for line in once.splitlines(keepends=True))
    single = _import(tmp_path / "once", once)
    double = _import(tmp_path / "twice", twice)
    assert double == single and len(double) == 35
    ctx = CallContext.from_settings(set_d_settings(tmp_path))
    table = cdr_table_rows(SET_D, "America/Chicago")
    assert [c.as_dict() for c in calls_from_cdr_rows(table + table, ctx)] == \
        [c.as_dict() for c in calls_from_cdr_rows(table, ctx)]


def test_ivr_time_is_pre_ring_not_ring(tmp_path: Path) -> None:
    """8 s prompt + 5 s WaitExten, then 201 rings 4 s: pre-ring 13 s, ring 4 s; a hang-up in the IVR never rang."""
    call = _only_inbound(_import(tmp_path / "timeout", call_lines(SET_D, "3125550118")))
    assert abs(_s(call["arrived_at"], call["ring_started_at"]) - 13) <= 1
    assert abs(_s(call["ring_started_at"], call["answered_at"]) - 4) <= 1
    hung_up = _only_inbound(_import(tmp_path / "abandon", call_lines(SET_D, "3125550116")))
    assert (hung_up["outcome"], hung_up["ring_started_at"]) == ("abandoned", None)


def test_ring_group_of_local_members_counts_once_answered_by_the_phone(tmp_path: Path) -> None:
    """Members are `Local/20X@from-internal`; Local optimisation adds a second ANSWERED row (trap 4)."""
    lines = call_lines(SET_D, "3125550106")
    assert lines.count(b'"ANSWERED"') >= 4
    call = _only_inbound(_import(tmp_path, lines))
    assert (call["outcome"], call["answered_by"]) == ("answered", "202")
    assert abs(_s(call["ring_started_at"], call["answered_at"]) - 5) <= 1


def test_busy_closed_mode_and_no_failover(tmp_path: Path) -> None:
    """Busy goes straight to voicemail; the closed DID never rings; group 610 rings 20 s and the PBX hangs up."""
    busy = _only_inbound(_import(tmp_path / "busy", call_lines(SET_D, "3125550124")))
    assert busy["outcome"] == "voicemail" and abs(_s(busy["ring_started_at"], busy["ring_ended_at"])) <= 1
    closed = _only_inbound(_import(tmp_path / "closed", call_lines(SET_D, "3125550125")))
    assert (closed["outcome"], closed["ring_started_at"], closed["left_message"]) == ("voicemail", None, True)
    warehouse = _only_inbound(_import(tmp_path / "missed", call_lines(SET_D, "3125550110")))
    assert warehouse["outcome"] == "missed"


def test_explanation_names_the_rows_behind_each_field() -> None:
    """The reasons a call has its values, from the same reconstruction (what `calls --explain` prints)."""
    ctx = CallContext.from_settings(set_d_settings(Path("/nonexistent")))
    rows = [r for r in cdr_table_rows(SET_D, "America/Chicago") if r.linkedid == "1796099287.82"]
    why: list[tuple[str, str]] = []
    call = call_from_rows(rows, ctx, why)
    assert call is not None and call.answered_by == "203"
    reasons = dict(why)
    assert reasons["direction"].startswith("inbound: did 3125550200")
    assert "Local/3125550200@from-trunk-00000029;2" in reasons["leg"]
    assert "Local/203@offhook-0000002b" in reasons["answered_at"]
