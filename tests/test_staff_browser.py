"""Staff by name in a real headless Chromium: the Staffing, Calls and staff-member pages.

Screenshots land in tests/output/ (staff-*.png) so a person can check the names read well.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.clock import practice_today
from support.dashboard import PASSWORD, USER, call, practice_day, seeded_engine, settings_for
from werkzeug.serving import make_server

from callwatch.dashboard.app import create_app

pytestmark = pytest.mark.browser
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoSuchElementException, WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("needs Debian's chromium and chromium-driver (scripts/install-system-deps.sh)",
                allow_module_level=True)

OUTPUT = Path(__file__).parent / "output"
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
    app = create_app(settings, engine=seeded_engine(settings, _history()))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for option in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(option)
    driver = webdriver.Chrome(options=options)
    driver.set_page_load_timeout(30)
    OUTPUT.mkdir(exist_ok=True)
    driver.get(site + "/live")
    driver.find_element(By.ID, "username").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    try:
        wait_for(lambda: driver.current_url.endswith("/live"), what="the live page after login")
        yield driver
    finally:
        driver.quit()


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (NoSuchElementException, WebDriverException):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def shot(driver: Any, name: str) -> None:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, min(max(height, 1000), 3000))
    driver.save_screenshot(str(OUTPUT / f"staff-{name}.png"))
    driver.set_window_size(1400, 1000)


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
