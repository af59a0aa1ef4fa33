"""Master.csv of set A: every inbound call becomes one record with the ground truth's outcome and ring time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.data import MASTER_CSV, ground_truth
from support.imports import calls_by_caller, open_engine, read_rows, seconds, with_linkedid, write_cdr
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.collector.sources.master_csv import local_to_utc


def _import(tmp_path: Path, path: Path = MASTER_CSV, **settings_overrides: object) -> dict[str, dict]:
    settings = make_settings(tmp_path, **settings_overrides)
    engine = open_engine(settings)
    summary = import_file(engine, settings, path)
    assert summary.source == "cdr-csv"
    assert summary.rejected == 0
    return calls_by_caller(engine)


def assert_matches_ground_truth(calls: dict[str, dict]) -> None:
    for truth in ground_truth():
        name = truth["name"]
        if truth["outcome"] == "outbound":
            # For an outbound call `caller` holds the number dialled (what a follow-up is matched on).
            assert calls[truth["did"]]["direction"] == "outbound", name
            assert truth["caller"] not in calls, name
            continue
        call = calls[truth["caller"]]
        assert call["direction"] == "inbound", name
        assert call["outcome"] == truth["outcome"], name
        if truth["answered_by"]:
            assert call["answered_by"] in truth["answered_by"].split("|"), name
        else:
            assert call["answered_by"] is None, name
        started = datetime.fromisoformat(truth["started_utc"])
        assert abs(seconds(started, call["arrived_at"])) <= 1, name
        if truth["ring"] == "0" and truth["pre_ring"] != "0":
            # Hung up during the greeting: no phone ever rang.
            assert call["ring_started_at"] is None, name
            assert abs(seconds(call["arrived_at"], call["ended_at"]) - float(truth["pre_ring"])) <= 1, name
            continue
        assert abs(seconds(call["arrived_at"], call["ring_started_at"]) - float(truth["pre_ring"])) <= 1, name
        if truth["outcome"] == "voicemail":
            assert call["left_message"] is (float(truth["voicemail_seconds"]) >= 8), name
            assert call["ring_ended_at"] is not None, f"{name}: voicemail must say when ringing stopped"
        # DESIGN.md: answered_at, or the moment the call left ringing, minus ring_started_at.
        ring = seconds(call["ring_started_at"], call["answered_at"] or call["ring_ended_at"] or call["ended_at"])
        assert abs(ring - float(truth["ring"])) <= 1, f"{name}: ring {ring} != {truth['ring']}"


def test_every_inbound_call_matches_ground_truth(tmp_path: Path) -> None:
    calls = _import(tmp_path)
    assert_matches_ground_truth(calls)
    assert len(calls) == len(ground_truth())


def test_pstn_side_rows_are_not_calls(tmp_path: Path) -> None:
    calls = _import(tmp_path)
    assert "caller" not in {c["caller"] for c in calls.values()}
    assert sum(c["direction"] == "inbound" for c in calls.values()) == 28


def test_outbound_call_is_not_inbound(tmp_path: Path) -> None:
    calls = _import(tmp_path)
    outbound = [c for c in calls.values() if c["direction"] == "outbound"]
    assert len(outbound) == 1
    assert outbound[0]["answered_by"] == "101"


def test_ring_group_counts_once_first_answer_wins(tmp_path: Path) -> None:
    call = _import(tmp_path)["6175550115"]
    assert call["answered_by"] == "101"
    assert seconds(call["ring_started_at"], call["answered_at"]) == 9


def test_transfer_is_one_call_answered_by_the_first_person(tmp_path: Path) -> None:
    calls = _import(tmp_path)
    call = calls["6175550122"]
    assert (call["outcome"], call["answered_by"]) == ("answered", "101")
    assert seconds(call["ring_started_at"], call["answered_at"]) == 4


def test_queue_timeout_then_voicemail_is_voicemail(tmp_path: Path) -> None:
    call = _import(tmp_path)["6175550129"]
    assert (call["outcome"], call["queue"], call["left_message"]) == ("voicemail", "frontdesk", True)


def test_call_id_is_the_caller_channel_uniqueid(tmp_path: Path) -> None:
    calls = _import(tmp_path)
    assert calls["6175550121"]["call_id"] == "1795553490.506"  # the queue_log callid of the same call


def test_linkedid_layout_gives_the_same_calls(tmp_path: Path) -> None:
    variant = write_cdr(tmp_path / "Master-21.csv", with_linkedid(read_rows(MASTER_CSV)))
    assert {len(r) for r in read_rows(variant)} == {21}
    plain = _import(tmp_path / "a")
    linked = _import(tmp_path / "b", variant)
    assert_matches_ground_truth(linked)
    assert {k: v["call_id"] for k, v in linked.items()} == {k: v["call_id"] for k, v in plain.items()}


@pytest.mark.parametrize("width", [16, 17])
def test_narrow_layouts_without_uniqueid_still_reconstruct(tmp_path: Path, width: int) -> None:
    rows = [r[:width] if width == 16 else [*r[:16], r[17]] for r in read_rows(MASTER_CSV)]
    calls = _import(tmp_path, write_cdr(tmp_path / "Master.csv", rows))
    assert_matches_ground_truth(calls)


def test_rows_of_one_call_far_apart_in_the_file(tmp_path: Path) -> None:
    rows = read_rows(MASTER_CSV)
    # The staff leg of the first call written first, its caller rows last, everything else between.
    first = [r for r in rows if r[1] == "6175550101"]
    others = [r for r in rows if r[1] != "6175550101"]
    calls = _import(tmp_path, write_cdr(tmp_path / "Master.csv", [first[0], *others, *first[1:]]))
    assert_matches_ground_truth(calls)


def test_local_time_log_gives_the_same_utc_times(tmp_path: Path) -> None:
    zone = ZoneInfo("America/Chicago")
    rows = read_rows(MASTER_CSV)
    for row in rows:
        for i in (9, 10, 11):
            if row[i]:
                utc = datetime.fromisoformat(row[i]).replace(tzinfo=UTC)
                row[i] = utc.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    local = write_cdr(tmp_path / "Master.csv", rows)
    calls = _import(tmp_path, local, cdr_gmt=False, timezone="America/Chicago")
    assert_matches_ground_truth(calls)


def test_dst_ambiguous_and_nonexistent_local_times_do_not_crash(tmp_path: Path) -> None:
    zone = ZoneInfo("America/New_York")
    # 01:30 on 2026-11-01 happens twice; the uniqueid's epoch says which one.
    second_0130 = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), zone, second_0130) == second_0130
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), zone) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    # 02:30 on 2026-03-08 never happens; it still becomes some UTC time instead of an error.
    assert local_to_utc(datetime(2026, 3, 8, 2, 30), zone).tzinfo is not None
    epoch = int(second_0130.timestamp())
    rows = [
        ["", "6175550199", "5550100", "from-trunk", "", "PJSIP/trunk-01", "", "VoiceMail", "100@default",
         "2026-11-01 01:30:00", "2026-11-01 01:30:00", "2026-11-01 01:30:20", "20", "20", "ANSWERED",
         "DOCUMENTATION", f"{epoch}.1", ""],
        ["", "6175550198", "5550100", "from-trunk", "", "PJSIP/trunk-02", "", "Hangup", "",
         "2026-03-08 02:30:00", "", "2026-03-08 02:30:05", "5", "0", "NO ANSWER", "DOCUMENTATION", "1772955000.2", ""],
    ]
    settings = make_settings(tmp_path, cdr_gmt=False, timezone="America/New_York")
    engine = open_engine(settings)
    summary = import_file(engine, settings, write_cdr(tmp_path / "Master.csv", rows))
    assert (summary.rows_read, summary.rejected) == (2, 0)
    stored = {c["caller"]: c for c in store.select_calls(engine)}
    assert stored["6175550199"]["arrived_at"] == second_0130
    assert stored["6175550199"]["outcome"] == "voicemail"


def test_sample_generator_logs_import_to_the_outcomes_it_simulated(tmp_path: Path) -> None:
    from datetime import date

    from callwatch.sample.generate import simulate

    with (tmp_path / "Master.csv").open("w") as master, (tmp_path / "queue_log").open("w") as qlog:
        counts = simulate(date(2026, 10, 12), 3, 55, 7, master, qlog)
    settings = make_settings(tmp_path)
    engine = open_engine(settings)
    for name in ("Master.csv", "queue_log"):
        assert import_file(engine, settings, tmp_path / name).rejected == 0
    stored = store.select_calls(engine)
    for outcome in ("answered", "voicemail", "abandoned"):
        assert sum(c["outcome"] == outcome and c["direction"] == "inbound" for c in stored) == counts[outcome]
    assert sum(c["direction"] == "outbound" for c in stored) == counts["outbound"]


def test_call_ids_are_the_ami_linkedids_of_the_same_calls(tmp_path: Path) -> None:
    # So a call seen live over AMI and imported later from Master.csv is one record, not two.
    text = (MASTER_CSV.parent / "ami-events.txt").read_text()
    linkedids = {line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Linkedid:")}
    calls = _import(tmp_path)
    assert {c["call_id"] for c in calls.values()} <= linkedids
