"""The Calls page's "Why these values?" in a real headless Chromium: click a call, read its explanation, masked.

The screenshot lands in tests/output/dashboard-calls-explain.png for a person to read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser_support import chrome, log_in, need_chromium, served, shot, wait_for
from support.dashboard import settings_for
from support.ground_truth import SET_D
from support.imports import open_engine

from callwatch.cli.dashboard import explainer
from callwatch.collector.importer import import_file

pytestmark = pytest.mark.browser
need_chromium()
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

CALL = "1796099417.104"  # set D: IVR -> queue frontdesk, answered by 204 (Dana)


def test_clicking_a_call_shows_why_it_has_its_values(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, timezone="America/Chicago", cdr_gmt=False)
    engine = open_engine(settings)
    for name in ("cel-custom.csv", "Master.csv", "queue_log"):
        import_file(engine, settings, SET_D / name)
    driver = chrome("--window-size=1400,1000")
    try:
        with served(settings, engine, explain=explainer(settings)) as url:
            log_in(driver, url, "/login")
            driver.get(url + "/calls?start=2026-11-30&end=2026-11-30")
            cell = wait_for(lambda: [c for c in driver.find_elements(By.CSS_SELECTOR, "td[data-dash-column='call_id']")
                                     if c.text == CALL], what="the call in the table")[0]
            assert "Click a call in the table" in driver.find_element(By.ID, "calls-explain").text
            cell.click()
            text = wait_for(lambda: driver.find_element(By.ID, "calls-explain-text").text, what="the explanation")
            assert "stored from source cel:" in text
            assert "from BRIDGE_ENTER line 527" in text and "from CONNECT line 3: Dana took the call" in text
            assert "which source won each stored field (richest first: cel, cdr-csv, queue-log):" in text
            assert "••••••0115" in text and "3125550115" not in driver.page_source
            driver.execute_script("document.getElementById('calls-explain').scrollIntoView()")
            shot(driver, "dashboard-calls-explain")
    finally:
        driver.quit()
