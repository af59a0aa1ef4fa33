"""Staff by name in a real headless Chromium: the Staffing, Calls and staff-member pages.

Screenshots land in tests/output/ (staff-*.png) so a person can check the names read well.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from support.browser_support import chrome, log_in, need_chromium, served, wait_for, whole_page_shot
from support.clock import practice_today
from support.dashboard import call, practice_day, seeded_engine, settings_for

pytestmark = pytest.mark.browser
need_chromium()
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

TODAY = practice_today()


def _history() -> list:
    """Ten practice days: 201 answers (named in callwatch.yaml), and 203 whom only the PBX names."""
    calls = []
    for back in range(14, -1, -1):
        day = TODAY - timedelta(days=back)
        if day.weekday() < 5:
            calls.extend(practice_day(day))
            calls.append(call(f"{day}-d1", "15:00", "answered", 4, day=day, caller="+16175550120",
                              answered_by="203", answered_by_name="Dana"))
    return calls


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("staff-browser")
    settings = settings_for(tmp, staff={"201": "Ann Lee"})
    with served(settings, seeded_engine(settings, _history())) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    """Logged in, in a window of 1400 x 1000 for whole-page screenshots."""
    driver = chrome("--window-size=1400,1000")
    try:
        log_in(driver, site)
        yield driver
    finally:
        driver.quit()


def shot(driver: Any, name: str) -> None:
    whole_page_shot(driver, f"staff-{name}")


def test_staffing_shows_names_with_the_extension_beside(browser: Any, site: str) -> None:
    browser.get(site + "/staffing")
    table = wait_for(lambda: browser.find_element(By.ID, "staffing-staff-table"), what="the who-answers table")
    names = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "tbody td:first-child")]
    assert "Ann Lee 201" in names and "Dana 203" in names, names
    small = table.find_element(By.CSS_SELECTOR, "tbody td:first-child .ext")
    assert small.text in ("201", "203")
    axis = wait_for(lambda: browser.find_element(By.ID, "staffing-staff").get_attribute("textContent"),
                    what="the chart's staff axis")
    wait_for(lambda: "Dana (203)" in browser.find_element(By.ID, "staffing-staff").get_attribute("textContent"),
             what="names on the chart's axis")
    axis = browser.find_element(By.ID, "staffing-staff").get_attribute("textContent")
    assert "Ann Lee (201)" in axis
    shot(browser, "staffing")


def test_calls_page_shows_who_answered_by_name(browser: Any, site: str) -> None:
    browser.get(site + "/calls")
    wait_for(lambda: "Ann Lee" in browser.find_element(By.ID, "calls-table").text, what="names in the calls table")
    text = browser.find_element(By.ID, "calls-table").text
    assert "Dana" in text and "exact" in text
    shot(browser, "calls")
    field = browser.find_element(By.ID, "calls-staff")
    field.send_keys("ann lee\n")
    wait_for(lambda: "answered by ann lee" in browser.find_element(By.ID, "calls-summary").text,
             what="the calls of one person")
    assert "Dana" not in browser.find_element(By.ID, "calls-table").text


def test_a_staff_member_against_the_office(browser: Any, site: str) -> None:
    browser.get(site + "/staff?staff=203")
    table = wait_for(lambda: browser.find_element(By.ID, "staff-compare"), what="the comparison table")
    assert "Dana" in table.text and "whole office" in table.text
    rows = {r.find_element(By.TAG_NAME, "td").text: r.text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert "4.0 s" in rows["median speed of answer"]  # Dana always picks up after 4 s
    assert rows["answered within 3 rings (18 s)"].split()[-4] == "100.0"
    shot(browser, "member")
