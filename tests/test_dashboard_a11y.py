"""Every page passes axe-core with no serious or critical violation, works by
keyboard (skip link, chart toolbars out of the tab order) and on a phone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.browser_support import axe_serious, log_in, need_chromium, served, set_size, shot, wait_for
from support.clock import practice_today
from support.dashboard import practice_day, seeded_engine, settings_for

from callwatch.store import alert_log

pytestmark = pytest.mark.browser
need_chromium()
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

TODAY = practice_today()
# Each page and an element that is there once its content has drawn.
PAGES = {
    "/live": "#alert-log-table",
    "/live?wall=1": "#alert-box",
    "/trends": "#trends-rates .main-svg",
    "/staffing": "#staffing-heatmap .main-svg",
    "/follow-ups": "#fu-table",
    "/calls": "#calls-table table",
    "/training": ".training-headline",
    "/group": "#group-table",
    "/staff?staff=201": "#staff-compare",
}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("a11y")
    settings = settings_for(tmp, trainings=[{"date": (TODAY - timedelta(days=14)).isoformat(), "title": "Phones"}],
                            alerts={"chime": True})
    calls = [c for back in range(35, -1, -1) for c in practice_day(TODAY - timedelta(days=back))]
    engine = seeded_engine(settings, calls)
    # An open alert (the board's alert box, the chime's enable-sound button) and a cleared one (the week's list).
    now = datetime.now(UTC)
    cleared = alert_log.fire_alert(engine, settings.site, "queue_wait", "1 caller is waiting.", now - timedelta(days=1))
    alert_log.clear_alert(engine, cleared, now - timedelta(hours=23))
    alert_log.fire_alert(engine, settings.site, "missed_calls", "3 calls were not answered in 15 minutes.", now)
    with served(settings, engine) as url:
        yield url


def test_no_serious_or_critical_axe_violation_on_any_page(browser: Any, dashboard: str) -> None:
    log_in(browser, dashboard)
    set_size(browser, "1366x768")
    found: dict[str, list[dict[str, Any]]] = {}
    for path, ready in PAGES.items():
        browser.get(dashboard + path)
        wait_for(lambda ready=ready: browser.find_elements(By.CSS_SELECTOR, ready), what=f"{path} drawn")
        found[path] = axe_serious(browser)
    browser.delete_all_cookies()
    browser.get(dashboard + "/login")
    found["/login"] = axe_serious(browser)
    summary = {path: [(v["id"], v["impact"], v["nodes"]) for v in found_] for path, found_ in found.items() if found_}
    print("axe serious/critical per page:", {p: len(v) for p, v in found.items()})
    assert summary == {}, json.dumps(summary)


def test_page_has_a_language_and_a_skip_link_to_the_content(browser: Any, dashboard: str) -> None:
    log_in(browser, dashboard, "/trends")
    set_size(browser, "1366x768")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#trends-rates .main-svg"), what="the charts")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    first = browser.switch_to.active_element
    assert first.text == "Skip to content" and first.is_displayed()
    first.send_keys(Keys.ENTER)
    assert browser.execute_script("return document.activeElement.id") == "content"


def test_chart_toolbars_are_not_in_the_tab_order(browser: Any, dashboard: str) -> None:
    log_in(browser, dashboard, "/trends")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#trends-rates .modebar-btn"), what="the chart toolbar")
    tabbable = browser.execute_script(
        "return [...document.querySelectorAll('.modebar-btn')].filter(b => b.tabIndex >= 0).length")
    assert tabbable == 0


def test_menu_reaches_every_page_on_a_phone(browser: Any, dashboard: str) -> None:
    log_in(browser, dashboard, "/trends")
    set_size(browser, "390x844")
    browser.get(dashboard + "/trends")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#trends-rates .main-svg"), what="the charts")
    menu = browser.find_element(By.ID, "nav-toggle")
    menu.click()
    shot(browser, "a11y-menu-390x844")
    width = browser.execute_script("return window.innerWidth")
    for name in ("live", "trends", "staffing", "follow-ups", "training", "calls", "group"):
        link = browser.find_element(By.ID, f"nav-{name}")
        assert link.is_displayed(), name
        box = link.rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
    sign_out = browser.find_element(By.LINK_TEXT, "Sign out")
    assert sign_out.is_displayed() and sign_out.rect["x"] + sign_out.rect["width"] <= width
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width + 1
    set_size(browser, "1366x768")
