"""The Calls page's "Why these values?" in a real headless Chromium: click a call, read its explanation, masked.

The screenshot lands in tests/output/dashboard-calls-explain.png for a person to read.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.dashboard import PASSWORD, USER, settings_for
from support.ground_truth import SET_D
from support.imports import open_engine
from werkzeug.serving import make_server

from callwatch.cli.dashboard import explainer
from callwatch.collector.importer import import_file
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
OPTIONS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--no-first-run",
           "--window-size=1400,1000"]
CALL = "1796099417.104"  # set D: IVR -> queue frontdesk, answered by 204 (Dana)


def _wait(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
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


def test_clicking_a_call_shows_why_it_has_its_values(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, timezone="America/Chicago", cdr_gmt=False)
    engine = open_engine(settings)
    for name in ("cel-custom.csv", "Master.csv", "queue_log"):
        import_file(engine, settings, SET_D / name)
    app = create_app(settings, engine=engine, explain=explainer(settings))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for option in OPTIONS:
        options.add_argument(option)
    driver = webdriver.Chrome(options=options)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        driver.get(url + "/login")
        driver.find_element(By.ID, "username").send_keys(USER)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login-button").click()
        _wait(lambda: "/login" not in driver.current_url, "the page after login")
        driver.get(url + "/calls?start=2026-11-30&end=2026-11-30")
        cell = _wait(lambda: [c for c in driver.find_elements(By.CSS_SELECTOR, "td[data-dash-column='call_id']")
                              if c.text == CALL], "the call in the table")[0]
        assert "Click a call in the table" in driver.find_element(By.ID, "calls-explain").text
        cell.click()
        text = _wait(lambda: driver.find_element(By.ID, "calls-explain-text").text, "the explanation")
        assert "stored from source cel:" in text
        assert "from BRIDGE_ENTER line 527" in text and "from CONNECT line 3: Dana took the call" in text
        assert "which source won each stored field (richest first: cel, cdr-csv, queue-log):" in text
        assert "••••••0115" in text and "3125550115" not in driver.page_source
        OUTPUT.mkdir(exist_ok=True)
        driver.execute_script("document.getElementById('calls-explain').scrollIntoView()")
        driver.save_screenshot(str(OUTPUT / "dashboard-calls-explain.png"))
    finally:
        driver.quit()
        server.shutdown()
        thread.join(10)
