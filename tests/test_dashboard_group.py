"""Group page: every office of the shared database for one week, with best/worst and change since last week."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import plotly
import pytest
from support.dashboard import login, settings_for

from callwatch import store
from callwatch.dashboard.app import create_app
from callwatch.metrics.frame import prepare
from callwatch.metrics.group import compare_sites
from callwatch.metrics.params import MetricParams
from callwatch.sample import history

FIRST, LAST = date(2026, 1, 5), date(2026, 3, 2)
WEEK = date(2026, 2, 16)  # a Monday


@pytest.fixture(scope="module")
def frame():
    offices = history.make_offices(3, FIRST, LAST, seed=4, calls_per_day=60)
    return history.generate_frame(offices, FIRST, LAST, seed=4)


@pytest.fixture
def app(tmp_path: Path, frame):
    settings = settings_for(tmp_path)
    engine = store.create_engine(settings.database_url)
    store.init_db(engine)
    store.save_calls(engine, history.iter_calls(frame))
    return create_app(settings, engine=engine)


def _text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def test_group_page_lists_every_office_with_the_metrics_numbers(app, frame) -> None:
    from callwatch.dashboard.pages import group  # pages register once an app exists

    with app.server.test_request_context("/group"):
        page = _text(group.layout(week="2026-02-18"))  # any day picks its Monday-to-Sunday week
    expected = compare_sites(prepare(frame, MetricParams()), MetricParams(), WEEK, WEEK + timedelta(days=7))
    assert "week of Mon 16 Feb 2026" in page
    for row in expected.itertuples():
        assert f"group-row-{row.site}" in page
        assert f"{100 * row.answer_rate:.1f} %" in page
        assert f"{100 * row.answer_rate_change:+.1f} pts" in page
    best = expected.loc[expected["best"], "site"].iloc[0]
    worst = expected.loc[expected["worst"], "site"].iloc[0]
    assert page.count('best"') == 1 and page.count('worst"') == 1 and best in page and worst in page
    assert "/group?week=2026-02-09" in page and "/group?week=2026-02-23" in page


def test_week_without_calls_says_so(app) -> None:
    from callwatch.dashboard.pages import group

    with app.server.test_request_context("/group"):
        page = _text(group.layout(week="2030-06-03"))
    assert "No calls in this range" in page


def test_group_page_needs_a_login(app) -> None:
    client = app.server.test_client()
    response = client.get("/group", headers={"Accept": "text/html"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login(client, next_path="/group")
    assert client.get("/group", headers={"Accept": "text/html"}).status_code == 200


@pytest.mark.browser
def test_group_page_in_a_real_browser(app, frame) -> None:
    """Log in, open the Group page from the navigation, step to the previous week."""
    from support.browser_support import chrome, log_in, need_chromium, serving, shot, wait_for

    need_chromium()
    pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By

    driver = chrome("--window-size=1400,1100")
    try:
        with serving(app) as url:
            log_in(driver, url, "/group?week=2026-02-16")
            wait_for(lambda: driver.find_element(By.ID, "group-table"), timeout=30, what="the group table")
            assert driver.find_element(By.ID, "nav-group").text == "Group"
            rows = driver.find_elements(By.CSS_SELECTOR, "#group-table tbody tr")
            assert len(rows) == 3
            assert sum(r.text.endswith("best") for r in rows) == 1
            assert sum(r.text.endswith("worst") for r in rows) == 1
            shot(driver, "dashboard-group")
            driver.find_element(By.ID, "group-prev").click()
            wait_for(lambda: "week of Mon 09 Feb 2026" in driver.find_element(By.TAG_NAME, "h1").text, timeout=30,
                     what="the previous week")
    finally:
        driver.quit()
