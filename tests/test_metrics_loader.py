"""loader: the one place metrics reads the store, on real SQLite files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from support.calls import call, local

from callwatch import store
from callwatch.metrics.loader import load_calls, load_follow_up_handled, load_live
from callwatch.model import CALL_FIELDS


def _engine(tmp_path: Path) -> sa.Engine:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'calls.db'}")
    store.init_db(engine)
    return engine


def test_load_calls_columns_types_and_strings(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    store.save_calls(engine, [
        call("answered", 4.25, at="2026-03-09 10:00", caller="01632960123", call_id="1700000000.10"),
        call("voicemail", 20, at="2026-03-09 11:00", caller="+16175550101", call_id="1700000000.1",
             left_message=True),
    ])
    df = load_calls(engine)
    assert list(df.columns) == list(CALL_FIELDS)
    assert df["call_id"].tolist() == ["1700000000.10", "1700000000.1"]
    assert df["caller"].tolist() == ["01632960123", "+16175550101"]
    assert str(df["arrived_at"].dtype) == "datetime64[us, UTC]"
    assert df["arrived_at"].iloc[0] == pd.Timestamp(local("2026-03-09 10:00"))
    assert (df["answered_at"].iloc[0] - df["ring_started_at"].iloc[0]).total_seconds() == 4.25
    assert df["answered_at"].isna().tolist() == [False, True]
    assert df["left_message"].tolist()[1] is True and df["direction"].tolist() == ["inbound", "inbound"]


def test_load_calls_reads_only_the_range_and_site(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    store.save_calls(engine, [
        call(at="2026-03-09 09:00", call_id="a"),
        call(at="2026-03-09 10:00", call_id="b", site="annex"),
        call(at="2026-03-09 11:00", call_id="c"),
    ])
    start, end = local("2026-03-09 10:00"), local("2026-03-09 11:00")
    assert load_calls(engine, start=start, end=end)["call_id"].tolist() == ["b"]  # [start, end)
    assert load_calls(engine, site="main")["call_id"].tolist() == ["a", "c"]
    assert load_calls(engine, site=["main", "annex"])["call_id"].tolist() == ["a", "b", "c"]
    empty = load_calls(engine, site="nowhere")
    assert len(empty) == 0 and list(empty.columns) == list(CALL_FIELDS)


def test_load_live_reads_live_calls_and_heartbeat(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    live, beat = load_live(engine, "main")
    assert len(live) == 0 and "caller_masked" in live.columns and beat is None
    now = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    store.upsert_rows(engine, store.live_calls, [
        {"site": "main", "call_id": "x", "caller": "6175550101", "state": "ringing", "ring_started_at": now,
         "arrived_at": now, "location": "Reception", "queue": None, "updated_at": now},
    ], keys=("site", "call_id"))
    store.upsert_rows(engine, store.heartbeat, [
        {"site": "main", "last_event_at": now, "connected": True, "updated_at": now, "detail": "ok"},
    ], keys=("site",))
    live, beat = load_live(engine, "main")
    assert live["caller_masked"].tolist() == ["••••••0101"] and live["state"].tolist() == ["ringing"]
    assert live["ring_started_at"].iloc[0] == pd.Timestamp(now)
    assert beat is not None and beat["connected"] is True and beat["last_event_at"] == now
    assert len(load_live(engine, "annex").calls) == 0


def test_load_live_copes_with_a_store_without_live_tables(tmp_path: Path) -> None:
    engine = store.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    store.calls.create(engine)  # an older database: only the calls table
    live, beat = load_live(engine, None)
    assert len(live) == 0 and beat is None
    assert len(load_follow_up_handled(engine)) == 0
