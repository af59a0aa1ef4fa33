"""Per-day rollups persisted in the store (call_rollups): equal to daily_rollup over the calls,
kept current by the writers, recomputed when the settings that shaped them change."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from support.dashboard import DAY, call, practice_day
from support.imports import open_engine
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.metrics import rollup_store
from callwatch.metrics.frame import prepare
from callwatch.metrics.hours import local_day_bounds
from callwatch.metrics.loader import load_calls
from callwatch.metrics.params import MetricParams
from callwatch.metrics.rollup import ROLLUP_COLUMNS, daily_rollup, settings_key, summarize_rollup
from callwatch.metrics.rollup_store import load_rollups
from callwatch.metrics.summary import COUNT_KEYS, RATE_KEYS, summarize

PARAMS = MetricParams()  # America/New_York, Mon-Fri 08:00-17:00
FIRST, LAST = DAY - timedelta(days=6), DAY + timedelta(days=1)


def _history() -> list:
    """Eight days for two offices: queues, a weekend, a late call past UTC midnight."""
    calls = []
    for back in (6, 5, 2, 0):
        calls += practice_day(DAY - timedelta(days=back))
    for c in practice_day(DAY - timedelta(days=1)):
        c.site = "annex"
        calls.append(c)
    calls.append(call("late", "23:30", "answered", 4, day=DAY))  # 04:30 UTC on the next day
    calls.append(call("sat", "10:00", "missed", 30, day=date(2026, 2, 28), queue="reception"))
    return calls


def _from_calls(engine: sa.Engine, params: MetricParams = PARAMS, first: date = FIRST, last: date = LAST):
    start, end = local_day_bounds(params, first, last)
    return daily_rollup(prepare(load_calls(engine, start=start, end=end), params), params)


def _stored(engine: sa.Engine, table: sa.Table) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def test_persisted_rollups_equal_daily_rollup_of_the_calls(engine: sa.Engine) -> None:
    store.save_calls(engine, _history())
    persisted = load_rollups(engine, PARAMS, start=FIRST, end=LAST)
    assert list(persisted.columns) == list(ROLLUP_COLUMNS)
    pd.testing.assert_frame_equal(persisted, _from_calls(engine))
    assert {r["settings_key"] for r in _stored(engine, store.call_rollups)} == {settings_key(PARAMS)}
    # Every site x day is known to be done, calls or not; nothing is left marked.
    done = {(r["site"], r["date"]) for r in _stored(engine, store.rollup_days)}
    days = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    assert done >= {(s, d) for s in ("annex", "main-office") for d in days}
    assert _stored(engine, store.rollup_dirty) == []
    one = load_rollups(engine, PARAMS, start=FIRST, end=LAST, site="annex")
    assert set(one["site"]) == {"annex"} and one["offered"].sum() == 5


def test_a_second_read_recomputes_nothing(engine: sa.Engine) -> None:
    store.save_calls(engine, _history())
    # 2 sites x 8 days, plus the day before the first: a UTC day's mark spans two local dates.
    assert rollup_store.ensure_rollups(engine, PARAMS, None, FIRST, LAST) == 17
    assert rollup_store.ensure_rollups(engine, PARAMS, None, FIRST, LAST) == 0


def test_summarize_rollup_over_persisted_rows_equals_summarize_over_the_calls(engine: sa.Engine) -> None:
    store.save_calls(engine, _history())
    start, end = local_day_bounds(PARAMS, FIRST, LAST)
    whole = summarize(prepare(load_calls(engine, start=start, end=end), PARAMS), PARAMS)
    totals = summarize_rollup(load_rollups(engine, PARAMS, start=FIRST, end=LAST))
    assert isinstance(totals, dict)
    assert {k: totals[k] for k in COUNT_KEYS} == {k: whole[k] for k in COUNT_KEYS}
    assert {k: totals[k] for k in RATE_KEYS} == pytest.approx({k: whole[k] for k in RATE_KEYS})
    assert totals["asa_mean_s"] == pytest.approx(whole["asa_mean_s"])


def test_importing_more_calls_for_an_old_day_updates_its_rollup_at_once(tmp_path: Path) -> None:
    from test_import_generic_csv import HEADER, HOSTED_MAP

    settings = make_settings(tmp_path, column_maps={"hosted": HOSTED_MAP})
    engine = open_engine(settings)
    old, today = date(2026, 3, 2), date(2026, 11, 24)
    first = HEADER + "03/02/2026 09:00:05 AM,+16175550101,Incoming,Accepted,7,95,Alice\n"
    import_file(engine, settings, _write(tmp_path / "a.csv", first), source="csv:hosted")
    before = load_rollups(engine, PARAMS, start=old, end=today)
    assert before["answered"].sum() == 1 and before["missed"].sum() == 0
    # A late log for the same old day: the import marks the day, and the refresh that
    # `callwatch import` runs after its files (and the tail job after each run) recomputes it.
    late = HEADER + "03/02/2026 10:00:00 AM,+16175550102,Incoming,Missed,30,30,\n"
    import_file(engine, settings, _write(tmp_path / "b.csv", late), source="csv:hosted")
    assert [r["site"] for r in _stored(engine, store.rollup_dirty)] == [settings.site]
    rollup_store.refresh_written_rollups(engine, settings)
    assert _stored(engine, store.rollup_dirty) == []
    (row,) = [r for r in _stored(engine, store.call_rollups) if r["date"] == old]
    assert (row["offered"], row["answered"], row["missed"]) == (2, 1, 1)
    after = load_rollups(engine, PARAMS, start=old, end=today)
    assert rollup_store.ensure_rollups(engine, PARAMS, None, old, today) == 0
    assert after["missed"].sum() == 1 and after["offered"].sum() == 2


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_saving_calls_marks_their_days_and_a_read_picks_them_up(engine: sa.Engine) -> None:
    store.save_calls(engine, practice_day(DAY))
    assert load_rollups(engine, PARAMS, start=DAY, end=DAY)["offered"].sum() == 5
    store.save_calls(engine, [call("more", "09:00", "answered", 3, day=DAY)])
    assert [(r["site"], r["day"]) for r in _stored(engine, store.rollup_dirty)] == [("main-office", DAY)]
    assert load_rollups(engine, PARAMS, start=DAY, end=DAY)["offered"].sum() == 6
    assert _stored(engine, store.rollup_dirty) == []
    store.save_calls(engine, [call("more", "09:00", "answered", 3, day=DAY)])  # the same call again
    assert _stored(engine, store.rollup_dirty) == []


def test_a_mark_made_during_a_refresh_survives_it(engine: sa.Engine) -> None:
    store.save_calls(engine, practice_day(DAY))
    marks = rollup_store.dirty_marks(engine, None)
    store.save_calls(engine, [call("more", "09:00", "answered", 3, day=DAY)])  # marks the day again
    rollup_store.clear_marks(engine, marks)  # what a refresh that read the older mark does at its end
    assert [r["day"] for r in _stored(engine, store.rollup_dirty)] == [DAY]


def test_changing_business_hours_recomputes_instead_of_reading_stale_rows(engine: sa.Engine) -> None:
    store.save_calls(engine, _history())
    usual = load_rollups(engine, PARAMS, start=FIRST, end=LAST)
    # Sunday 1 March (7 inbound), a 20:00 voicemail on 4 weekdays, the 23:30 call, the Saturday call.
    assert usual["after_hours_calls"].sum() == 13
    late = MetricParams(business_hours={d: [(time(8), time(21))] for d in ("mon", "tue", "wed", "thu", "fri")})
    assert settings_key(late) != settings_key(PARAMS)
    longer = load_rollups(engine, late, start=FIRST, end=LAST)
    pd.testing.assert_frame_equal(longer, _from_calls(engine, late))
    assert longer["after_hours_calls"].sum() == 9  # 20:00 is open now; 23:30 and the weekend are not
    keys = {r["settings_key"] for r in _stored(engine, store.call_rollups)}
    assert keys == {settings_key(late)}


def test_changing_the_time_zone_moves_calls_to_their_new_local_day(engine: sa.Engine) -> None:
    store.save_calls(engine, _history())
    load_rollups(engine, PARAMS, start=FIRST, end=LAST)
    utc = MetricParams(timezone="UTC")
    pd.testing.assert_frame_equal(load_rollups(engine, utc, start=FIRST, end=LAST), _from_calls(engine, utc))


def test_settings_key_ignores_settings_no_rollup_column_depends_on() -> None:
    assert settings_key(MetricParams(voicemail_message_seconds=20)) == settings_key(PARAMS)
    assert settings_key(MetricParams(ring_cycle_seconds=6)) == settings_key(PARAMS)  # int or float alike
    assert settings_key(MetricParams(holidays=frozenset({DAY}))) != settings_key(PARAMS)
    assert settings_key(MetricParams(target_rings=2)) != settings_key(PARAMS)


def test_empty_range_gives_an_empty_frame_with_the_rollup_columns(engine: sa.Engine) -> None:
    empty = load_rollups(engine, PARAMS, start=FIRST, end=LAST)
    assert empty.empty and list(empty.columns) == list(ROLLUP_COLUMNS)
    assert summarize_rollup(empty)["offered"] == 0


def test_the_collector_refreshes_the_days_of_the_calls_it_stored(server, tmp_path: Path) -> None:
    from support.ami import play_through, running_collector, settings_for

    settings = settings_for(tmp_path, server.port)
    with running_collector(settings):  # wired as `callwatch collect` wires it: after_store refreshes rollups
        play_through(server, settings)
    engine = store.create_engine(settings.database_url)
    assert _stored(engine, store.rollup_dirty) == []
    params = MetricParams.from_settings(settings)
    expected = daily_rollup(prepare(load_calls(engine), params), params)
    assert int(expected[list(ROLLUP_COLUMNS[3:])].to_numpy().sum()) > 0
    stored = pd.DataFrame(_stored(engine, store.call_rollups))
    for column in ROLLUP_COLUMNS[3:]:
        assert stored[column].sum() == pytest.approx(expected[column].sum()), column
