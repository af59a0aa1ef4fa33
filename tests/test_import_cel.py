"""cel_custom CSV of sets A and D: CEL alone rebuilds every inbound call exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from support.ground_truth import SET_A, SET_D, problems
from support.imports import open_engine
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.collector.sources.cel import ADVANCED_SAMPLE_24, LEGACY_20

CHICAGO = "America/Chicago"


def _rows(folder: Path) -> list[list[str]]:
    with (folder / "cel-custom.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _import(tmp_path: Path, path: Path, source: str = "auto", **overrides: object) -> tuple[object, object]:
    settings = make_settings(tmp_path, timezone=CHICAGO, **overrides)
    engine = open_engine(settings)
    return engine, import_file(engine, settings, path, source=source)


def test_set_d_every_inbound_call_exact_from_cel_alone(tmp_path: Path) -> None:
    engine, summary = _import(tmp_path, SET_D / "cel-custom.csv")
    assert summary.source == "cel-csv"
    assert summary.rejected == 0
    assert problems(store.select_calls(engine), SET_D) == []


def test_set_a_every_inbound_call_exact_from_cel_alone(tmp_path: Path) -> None:
    engine, summary = _import(tmp_path, SET_A / "cel-custom.csv")
    assert summary.source == "cel-csv"
    assert problems(store.select_calls(engine), SET_A) == []


def test_pickup_is_credited_to_who_picked_up_and_transfers_keep_the_first_answerer(tmp_path: Path) -> None:
    engine, _ = _import(tmp_path, SET_D / "cel-custom.csv")
    by_caller = {c["caller"]: c for c in store.select_calls(engine)}
    assert by_caller["3125550111"]["answered_by"] == "203"  # 201 rang, 203 dialled **201
    assert by_caller["3125550112"]["answered_by"] == "201"  # attended transfer to 204 afterwards
    assert by_caller["3125550114"]["answered_by"] == "201"  # blind transfer into 202's voicemail
    assert by_caller["3125550123"]["answered_by"] == "201"  # parked, then retrieved by 202
    # CEL's times are microseconds: the pickup came 6.0 s after 201 began ringing.
    pickup = by_caller["3125550111"]
    assert pickup["ring_quality"] == "exact"  # so the ring-time metrics count it
    assert abs((pickup["answered_at"] - pickup["ring_started_at"]).total_seconds() - 6.0) < 0.1


def test_advanced_fields_mapping_gives_the_same_calls(tmp_path: Path) -> None:
    # The recorded events rewritten in the column order of Asterisk's sample `fields =` line.
    where = {name: LEGACY_20.index(name) for name in LEGACY_20}
    rewritten = [[row[where[name]] if name in where else ("My Literal" if name == "-" else "") for name in
                  ADVANCED_SAMPLE_24] for row in _rows(SET_D)]
    for row, original in zip(rewritten, _rows(SET_D), strict=True):
        row[ADVANCED_SAMPLE_24.index("acctcode")] = original[where["accountcode"]]
        row[ADVANCED_SAMPLE_24.index("extra")] = original[where["eventextra"]]
    path = _write(tmp_path / "cel_master_advanced.csv", rewritten)
    engine, summary = _import(tmp_path, path)
    assert summary.source == "cel-csv"
    assert summary.rejected == 0
    assert problems(store.select_calls(engine), SET_D) == []


def test_a_custom_mapping_is_read_through_cel_fields(tmp_path: Path) -> None:
    fields = ["LinkedID", "UniqueID", "EventTime", "EventType", "ChanName", "Context", "Exten", "CIDNum",
              "AppName", "AppData", "Peer", "Extra"]
    legacy = {"linkedid": 15, "uniqueid": 14, "eventtime": 1, "eventtype": 0, "channame": 9, "context": 8,
              "exten": 7, "cidnum": 3, "appname": 10, "appdata": 11, "peer": 16, "extra": 19}
    rows = [[row[legacy[f.lower()]] for f in fields] for row in _rows(SET_D)]
    path = _write(tmp_path / "custom.csv", rows)
    engine, summary = _import(tmp_path, path, source="cel-csv", cel_fields=fields)
    assert summary.rejected == 0
    assert problems(store.select_calls(engine), SET_D) == []


def test_a_growing_log_read_in_two_parts_stores_each_call_once(tmp_path: Path) -> None:
    rows = _rows(SET_D)
    path = _write(tmp_path / "cel-custom.csv", rows[:700])
    settings = make_settings(tmp_path, timezone=CHICAGO)
    engine = open_engine(settings)
    import_file(engine, settings, path)
    _write(path, rows)
    second = import_file(engine, settings, path)
    assert second.rows_read == len(rows) - 700
    assert problems(store.select_calls(engine), SET_D) == []
    assert import_file(engine, settings, path).unchanged


def test_bad_lines_are_rejected_with_line_and_reason(tmp_path: Path) -> None:
    rows = _rows(SET_D)
    broken = [*rows[:5], ["NOT_AN_EVENT", *rows[5][1:]], rows[6][:7], *rows[6:]]
    path = _write(tmp_path / "cel-custom.csv", broken)
    engine, summary = _import(tmp_path, path)
    assert summary.rejected == 2
    rejects = Path(summary.rejects_path).read_text(encoding="utf-8").splitlines()
    assert "\t6\tunknown CEL event type 'NOT_AN_EVENT'" in rejects[0]
    assert "\t7\t7 columns" in rejects[1]
    assert problems(store.select_calls(engine), SET_D) == []
