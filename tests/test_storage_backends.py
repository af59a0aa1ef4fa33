"""The store behaves the same on SQLite and PostgreSQL.

Every test here takes the parametrised `engine` fixture (tests/support/pg.py): once on
a SQLite file, once on a fresh database in a throwaway PostgreSQL cluster.
Upserts, merging two sources' views of one call, re-importing a log, the live
tables, trainings and the metrics loader are what a group of offices sharing a
central PostgreSQL depends on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
from support.data import MASTER_CSV, QUEUE_LOG, ground_truth
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.metrics.loader import load_calls, load_live, load_trainings
from callwatch.model import Call, Direction, Outcome, Source
from callwatch.sample import history

T0 = datetime(2026, 3, 9, 14, 0, 0, 123456, tzinfo=UTC)


def _call(call_id: str = "1741528800.1", site: str = "north", **kw: object) -> Call:
    values: dict[str, object] = {
        "call_id": call_id,
        "site": site,
        "direction": Direction.INBOUND,
        "caller": "+15035550123",
        "arrived_at": T0,
        "ended_at": T0 + timedelta(seconds=95),
        "outcome": Outcome.ANSWERED,
        "ring_started_at": T0 + timedelta(seconds=2),
        "answered_at": T0 + timedelta(seconds=11, microseconds=500),
        "answered_by": "201",
        "queue": None,
        "left_message": None,
        "source": Source.CDR_CSV,
    }
    values.update(kw)
    return Call(**values)  # type: ignore[arg-type]


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_save_and_select_round_trip_keeps_instants_and_microseconds(engine: sa.Engine) -> None:
    local = T0.astimezone(ZoneInfo("America/New_York"))  # any zone in, UTC out
    call = _call(arrived_at=local, outcome=Outcome.VOICEMAIL, answered_at=None, answered_by=None, left_message=True)
    assert store.save_calls(engine, [call]) == 1
    [row] = store.select_calls(engine)
    assert row["arrived_at"] == T0 and row["arrived_at"].tzinfo == UTC
    assert row["arrived_at"].microsecond == 123456
    assert row["left_message"] is True and row["answered_at"] is None and row["queue"] is None
    assert row["outcome"] == "voicemail" and row["source"] == "cdr-csv"


def test_saving_the_same_calls_twice_stores_them_once(engine: sa.Engine) -> None:
    calls = [_call(f"17415288{i:02d}.{i}", arrived_at=T0 + timedelta(minutes=i)) for i in range(30)]
    assert store.save_calls(engine, calls, batch_size=7) == 30
    store.save_calls(engine, calls, batch_size=11)
    assert _count(engine, store.calls) == 30


def test_same_call_twice_in_one_batch_is_one_row(engine: sa.Engine) -> None:
    first = _call(source=Source.QUEUE_LOG, outcome=Outcome.MISSED, answered_at=None, queue="reception")
    second = _call(source=Source.CDR_CSV, outcome=Outcome.VOICEMAIL, answered_at=None, left_message=True)
    store.save_calls(engine, [first, second])
    [row] = store.select_calls(engine)
    assert row["outcome"] == "voicemail" and row["queue"] == "reception"


@pytest.mark.parametrize("order", ["queue_log first", "cdr first"])
def test_merge_richer_source_wins_and_other_fills_gaps(engine: sa.Engine, order: str) -> None:
    from_queue_log = _call(source=Source.QUEUE_LOG, outcome=Outcome.MISSED, answered_at=None, answered_by=None,
                           queue="reception")
    from_cdr = _call(source=Source.CDR_CSV, outcome=Outcome.VOICEMAIL, answered_at=None, answered_by=None,
                     left_message=True)
    batches = [[from_queue_log], [from_cdr]] if order == "queue_log first" else [[from_cdr], [from_queue_log]]
    for batch in batches:
        store.save_calls(engine, batch)
    [row] = store.select_calls(engine)
    assert (row["outcome"], row["queue"], row["left_message"], row["source"]) == (
        "voicemail", "reception", True, "cdr-csv",
    )


def test_select_calls_is_half_open_and_filters_by_site(engine: sa.Engine) -> None:
    calls = [_call(f"c{i}", site=site, arrived_at=T0 + timedelta(hours=i)) for i in range(4) for site in ("a", "b")]
    store.save_calls(engine, calls)
    got = store.select_calls(engine, start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=3), site="a")
    assert [r["call_id"] for r in got] == ["c1", "c2"]


def test_long_values_at_column_limits_fit(engine: sa.Engine) -> None:
    # PostgreSQL enforces VARCHAR lengths that SQLite ignores; the limits must be what the code promises.
    call = _call("x" * 128, site="s" * 64, caller="9" * 64, answered_by="a" * 64, queue="q" * 64)
    store.save_calls(engine, [call])
    assert store.select_calls(engine)[0]["call_id"] == "x" * 128


def test_over_long_descriptions_are_cut_to_fit_on_every_backend(engine: sa.Engine) -> None:
    # A staff name or queue label longer than its column must not make PostgreSQL refuse the whole batch.
    long_name = "Dr. Jane Smith-Doe, Front Desk Reception Team (Main Office, Building B)"
    calls = [_call("c1", answered_by=long_name, queue="q" * 80), _call("c2", arrived_at=T0 + timedelta(minutes=1))]
    assert store.save_calls(engine, calls) == 2
    first = store.select_calls(engine)[0]
    assert first["answered_by"] == long_name[:64] and first["queue"] == "q" * 64


def test_live_tables_upsert_and_load(engine: sa.Engine) -> None:
    row = {"site": "north", "call_id": "L1", "caller": "+15035550123", "state": "ringing",
           "ring_started_at": T0, "arrived_at": T0, "location": "Reception", "queue": None, "updated_at": T0}
    store.upsert_rows(engine, store.live_calls, [row], keys=("site", "call_id"))
    store.upsert_rows(engine, store.live_calls, [{**row, "state": "queued", "queue": "reception"}],
                      keys=("site", "call_id"))
    beat = {"site": "north", "last_event_at": T0, "connected": True, "updated_at": T0, "detail": "ok"}
    store.upsert_rows(engine, store.heartbeat, [beat], keys=("site",))
    store.upsert_rows(engine, store.heartbeat, [{**beat, "connected": False}], keys=("site",))
    live = load_live(engine, "north")
    assert list(live.calls["state"]) == ["queued"] and list(live.calls["caller_masked"]) == ["•••••••0123"]
    assert live.heartbeat is not None and live.heartbeat["connected"] is False
    assert live.heartbeat["last_event_at"] == T0


def test_report_runs_and_follow_up_handled_upsert(engine: sa.Engine) -> None:
    run = {"site": "north", "week": "2026-W10", "sent_at": T0, "detail": "sent to 1"}
    store.upsert_rows(engine, store.report_runs, [run, {**run, "site": "south"}], keys=("site", "week"))
    store.upsert_rows(engine, store.report_runs, [{**run, "detail": "again"}], keys=("site", "week"))
    done = {"site": "north", "call_id": "c1", "handled_at": T0, "handled_by": "maria"}
    store.upsert_rows(engine, store.follow_up_handled, [done], keys=("site", "call_id"))
    assert _count(engine, store.report_runs) == 2 and _count(engine, store.follow_up_handled) == 1


def test_trainings_table_round_trip(engine: sa.Engine) -> None:
    from callwatch.config.settings import Settings

    first = store.add_training(engine, "north", date(2026, 2, 2), "Phone manner", "all staff")
    second = store.add_training(engine, "south", date(2026, 2, 9), "Queue refresher")
    assert second != first
    sessions = load_trainings(engine, Settings(site="north"), "north")
    assert [(s.date, s.title, s.notes) for s in sessions] == [(date(2026, 2, 2), "Phone manner", "all staff")]


def test_loader_returns_exactly_the_generated_frame(engine: sa.Engine) -> None:
    start, end = date(2026, 2, 2), date(2026, 2, 9)
    offices = history.make_offices(2, start, end, seed=3, calls_per_day=40)
    frame = history.generate_frame(offices, start, end, seed=3)
    store.save_calls(engine, history.iter_calls(frame), batch_size=200)
    loaded = load_calls(engine)
    expected = frame.sort_values(["arrived_at", "site", "call_id"], ignore_index=True)
    pd.testing.assert_frame_equal(loaded, expected)
    one = load_calls(engine, site=offices[1].site, start=datetime(2026, 2, 4, tzinfo=UTC))
    assert set(one["site"]) == {offices[1].site} and one["arrived_at"].min() >= pd.Timestamp("2026-02-04", tz="UTC")


def _import_set_a(engine: sa.Engine, tmp_path: Path) -> list[dict[str, object]]:
    settings = make_settings(tmp_path)
    first = [import_file(engine, settings, MASTER_CSV), import_file(engine, settings, QUEUE_LOG)]
    assert all(s.calls_written > 0 for s in first)
    again = [import_file(engine, settings, MASTER_CSV), import_file(engine, settings, QUEUE_LOG)]
    assert all(s.unchanged and s.calls_written == 0 for s in again)
    return store.select_calls(engine)


def test_set_a_reimport_adds_nothing_and_records_import_state(engine: sa.Engine, tmp_path: Path) -> None:
    calls = _import_set_a(engine, tmp_path)
    # One record per ground-truth call (one of them outbound), however many sources described it.
    assert len(calls) == len({c["call_id"] for c in calls}) == len(ground_truth())
    inbound = {c["caller"] for c in calls if c["direction"] == "inbound"}
    assert inbound == {g["caller"] for g in ground_truth() if g["outcome"] != "outbound"}
    with engine.connect() as conn:
        states = {r.path: r for r in conn.execute(sa.select(store.import_state))}
    assert states[str(MASTER_CSV.resolve())].size == MASTER_CSV.stat().st_size
    assert states[str(QUEUE_LOG.resolve())].size == QUEUE_LOG.stat().st_size


@pytest.mark.postgres
def test_set_a_import_is_identical_on_sqlite_and_postgresql(pg_url: str, tmp_path: Path) -> None:
    results = []
    for name, url in (("sqlite", f"sqlite:///{tmp_path / 'a.db'}"), ("postgresql", pg_url)):
        engine = store.create_engine(url)
        store.init_db(engine)
        results.append(_import_set_a(engine, tmp_path / name))
        engine.dispose()
    assert results[0] == results[1]


def test_demo_command_with_the_example_settings(engine: sa.Engine) -> None:
    """What docker compose's demo service runs: `callwatch demo` with config/callwatch.example.yaml."""
    from click.testing import CliRunner

    from callwatch.cli import main

    example = Path(__file__).resolve().parents[1] / "config" / "callwatch.example.yaml"
    url = engine.url.render_as_string(hide_password=False)
    args = ["demo", "--config", str(example), "--offices", "2", "--months", "1", "--end", "2026-03-31"]
    for _ in range(2):  # a restarted one-shot service must not double anything
        result = CliRunner().invoke(main, args, env={"CALLWATCH_DATABASE_URL": url})
        assert result.exit_code == 0, result.output
    calls = load_calls(engine)
    assert set(calls["site"]) == {"main-office", "northside"} and not calls.duplicated(["site", "call_id"]).any()
    with engine.connect() as conn:
        titles = conn.execute(sa.select(store.trainings.c.site, store.trainings.c.title)).all()
    assert len(titles) == len(set(titles)) >= 1
