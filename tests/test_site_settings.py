"""Each office's own settings: a `sites:` section, stored per office, used by every page and report.

Two offices share one store: "east" in New York, open weekdays 8-17 (the
dashboard's own file), and "west" in London, open weekdays 9-17:30 and
Saturday mornings, whose settings only its collector's file holds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from callwatch import store
from callwatch.cli.common import open_collector_store
from callwatch.config import ConfigError, load_settings
from callwatch.config.settings import Settings
from callwatch.dashboard.app import create_app
from callwatch.metrics.group import compare_sites
from callwatch.metrics.loader import load_trainings, settings_for_site
from callwatch.model import Call
from callwatch.report.build import build_report
from callwatch.report.periods import Period

SATURDAY, TUESDAY = date(2026, 3, 7), date(2026, 3, 10)
LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
WEST_HOURS = {d: [{"open": "09:00", "close": "17:30"}] for d in ("mon", "tue", "wed", "thu", "fri")}
WEST_HOURS["sat"] = [{"open": "09:00", "close": "13:00"}]


def _call(site: str, call_id: str, day: date, clock: time, zone: ZoneInfo) -> Call:
    arrived = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
    ring = arrived + timedelta(seconds=2)
    answered = ring + timedelta(seconds=6)
    return Call(call_id=call_id, site=site, direction="inbound", caller="+441632960001", arrived_at=arrived,
                ring_started_at=ring, answered_at=answered, ended_at=answered + timedelta(seconds=60),
                outcome="answered", source="csv")


@pytest.fixture
def shared(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    west = Settings.model_validate({"site": "west", "database_url": url, "timezone": "Europe/London",
                                    "business_hours": WEST_HOURS, "target_rings": 4,
                                    "trainings": [{"date": "2026-03-02", "title": "West greeting"}]})
    own, engine = open_collector_store(west)  # west's collector publishes its settings
    assert own.timezone == "Europe/London"
    store.save_calls(engine, [
        _call("west", "w-sat", SATURDAY, time(10, 30), LONDON),  # open on Saturday morning in London
        _call("west", "w-eve", TUESDAY, time(18, 30), LONDON),  # 13:30 in New York, but west has closed
        _call("east", "e-sat", SATURDAY, time(10, 30), NEW_YORK),  # east is closed on Saturdays
        _call("east", "e-tue", TUESDAY, time(10, 0), NEW_YORK),
    ])
    return Settings.model_validate({"site": "east", "database_url": url, "timezone": "America/New_York"})


def _split(prepared, site: str) -> tuple[list[str], list[str]]:
    rows = prepared[prepared["site"] == site]
    return sorted(rows.loc[rows["counted"], "call_id"]), sorted(rows.loc[rows["after_hours"], "call_id"])


def test_every_dashboard_view_judges_each_office_by_its_own_hours(shared: Settings) -> None:
    app = create_app(shared)
    from callwatch.dashboard import data

    with app.server.test_request_context("/"):
        ctx = data.context()
        assert data.params_for(ctx, "west").timezone == "Europe/London"
        everyone = data.prepared_calls(ctx, data.Range(SATURDAY, TUESDAY))
        assert _split(everyone, "west") == (["w-sat"], ["w-eve"])
        assert _split(everyone, "east") == (["e-tue"], ["e-sat"])
        alone = data.prepared_calls(ctx, data.Range(SATURDAY, TUESDAY, "west"))
        assert _split(alone, "west") == (["w-sat"], ["w-eve"])
        # Group page numbers (metrics.group over the same prepared calls).
        group = compare_sites(everyone, ctx.params, SATURDAY - timedelta(days=5), TUESDAY + timedelta(days=1))
        assert group.set_index("site")["offered"].to_dict() == {"east": 1, "west": 1}
        # Trends over a long range come from rollups, computed under each office's settings.
        for site in ("west", "east"):
            long = data.trend(ctx, data.Range(SATURDAY - timedelta(days=120), TUESDAY, site), "week")
            assert long is not None and not long.exact_speed
            assert (long.totals["offered"], long.closed_calls) == (1, 1)
        both = data.trend(ctx, data.Range(SATURDAY - timedelta(days=120), TUESDAY), "week")
        assert both is not None and (both.totals["offered"], both.closed_calls) == (2, 2)


def test_each_office_report_uses_its_own_zone_and_hours(shared: Settings) -> None:
    engine = store.create_engine(shared.database_url)
    week = Period(date(2026, 3, 2), date(2026, 3, 8))
    now = datetime(2026, 3, 16, tzinfo=UTC)
    west = build_report(engine, shared, week, site="west", now=now)
    assert west.timezone == "Europe/London"
    assert west.summary["offered"] == 1  # the Saturday call, in west's opening hours
    assert SATURDAY in set(west.daily["date"])
    assert "4 rings" in west.params_note
    east = build_report(engine, shared, week, site="east", now=now)
    assert east.timezone == "America/New_York" and east.summary["offered"] == 0
    assert [t.session.title for t in west.trainings] == ["West greeting"]
    assert east.trainings == ()


def test_stored_settings_carry_trainings_with_their_office(shared: Settings) -> None:
    engine = store.create_engine(shared.database_url)
    [west] = load_trainings(engine, shared, "west")
    assert (west.title, west.site) == ("West greeting", "west")
    assert load_trainings(engine, shared, "east") == []
    assert settings_for_site(engine, shared, "east").timezone == "America/New_York"


def test_sites_section_overrides_the_top_level(tmp_path: Path) -> None:
    path = tmp_path / "callwatch.yaml"
    path.write_text(yaml.safe_dump({
        "site": "east", "timezone": "America/New_York", "target_rings": 3,
        "trainings": [{"date": "2026-01-05", "title": "All staff"},
                      {"date": "2026-01-12", "title": "East only", "site": "east"}],
        "report": {"goals": {"answer_rate": 0.9}},
        "sites": {"west": {"timezone": "Europe/London", "business_hours": WEST_HOURS,
                           "trainings": [{"date": "2026-02-02", "title": "West greeting"}],
                           "goals": {"answer_rate": 0.85}}},
    }), encoding="utf-8")
    settings = load_settings(path, env={})
    assert settings.site_names == ["east", "west"]
    west = settings.for_site("west")
    assert (west.site, west.timezone, west.target_rings) == ("west", "Europe/London", 3)
    assert west.business_hours["sat"][0].open == time(9, 0)
    assert [(t.title, t.site) for t in west.trainings] == [("All staff", None), ("West greeting", "west")]
    assert west.report.goals["answer_rate"] == 0.85
    east = settings.for_site("east")
    assert [(t.title, t.site) for t in east.trainings] == [("All staff", None), ("East only", "east")]
    assert east.report.goals["answer_rate"] == 0.9


def test_a_bad_site_section_names_file_key_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "callwatch.yaml"
    path.write_text("sites:\n  west:\n    timezone: Mars/Olympus\n    colour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    text = "\n".join(caught.value.problems)
    assert f"{path}: sites.west.timezone" in text and "Mars/Olympus" in text
    assert f"{path}: sites.west.colour" in text
