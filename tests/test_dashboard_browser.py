"""The dashboard in a real headless Chromium against the real server (werkzeug, in a thread).

Screenshots land in tests/output/ so a person can check each page reads well.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.browser_support import (
    chrome,
    class_in_page,
    log_in,
    need_chromium,
    served,
    text_in_page,
    wait_for,
    whole_page_shot,
)
from support.clock import practice_today
from support.dashboard import USER, practice_day, seeded_engine, settings_for

from callwatch import store

pytestmark = pytest.mark.browser
need_chromium()
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

TODAY = practice_today()
TRAINING_DAY = TODAY - timedelta(days=14)


def _history() -> list:
    """Six weeks of practice days (weekdays), so trends have points on both sides of the training."""
    calls = []
    for back in range(42, -1, -1):
        day = TODAY - timedelta(days=back)
        if day.weekday() < 5:
            calls.extend(practice_day(day))
    return calls


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("dashboard")
    settings = settings_for(tmp, trainings=[{"date": TRAINING_DAY.isoformat(), "title": "Phone manner"}])
    engine = seeded_engine(settings, _history())
    with served(settings, engine) as url:
        yield {"url": url, "engine": engine, "settings": settings, "tmp": tmp}


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    """A window of 1400 x 1000 for whole-page screenshots, and a folder for the CSV download."""
    driver = chrome("--window-size=1400,1000")
    downloads = site["tmp"] / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: Any, name: str) -> None:
    whole_page_shot(driver, f"dashboard-{name}")


def fetch_status(driver: Any, url: str, method: str = "GET") -> int:
    script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {method: arguments[1], headers: {"Content-Type": "application/json"},
                             body: arguments[1] === "POST" ? "{}" : undefined, redirect: "manual"})
            .then(r => done(r.status)).catch(e => done(String(e)));
    """
    return driver.execute_async_script(script, url, method)


def test_refused_without_a_login(browser: Any, site: dict[str, Any]) -> None:
    url = site["url"]
    browser.get(url + "/trends")
    browser.delete_all_cookies()
    for path in ("/live", "/trends", "/staffing", "/follow-ups", "/calls", "/training"):
        browser.get(url + path)
        assert "/login" in browser.current_url, path
        assert browser.find_elements(By.ID, "login-button")
    assert "6175550" not in browser.page_source
    shot(browser, "login")
    assert fetch_status(browser, url + "/_dash-update-component", "POST") == 401
    assert fetch_status(browser, url + "/_dash-layout") == 401
    assert fetch_status(browser, url + "/download/calls.csv") == 401


def _write_live(engine: Any, ring_started: datetime, heartbeat_age: float = 0.0) -> None:
    now = datetime.now(UTC)
    store.upsert_rows(engine, store.heartbeat, [{
        "site": "main-office", "last_event_at": now, "connected": True,
        "updated_at": now - timedelta(seconds=heartbeat_age), "detail": ""}], keys=("site",))
    store.upsert_rows(engine, store.live_calls, [{
        "site": "main-office", "call_id": "live-1", "caller": "+16175550199", "state": "ringing",
        "ring_started_at": ring_started, "arrived_at": ring_started - timedelta(seconds=3), "location": "Reception",
        "queue": None, "updated_at": now}], keys=("site", "call_id"))


@contextmanager
def _beating(engine: Any) -> Iterator[None]:
    """The collector's heartbeat each second, as the real service beats while a call rings: without it the
    page rightly says the collector is silent after 10 s, which a busy machine reaches mid-test."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(1.0):
            with engine.begin() as conn:
                conn.execute(store.heartbeat.update().values(updated_at=datetime.now(UTC)))

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def test_ringing_call_ticks_turns_last_ring_then_past_target_and_clears_when_answered(
        browser: Any, site: dict[str, Any]) -> None:
    log_in(browser, site["url"])
    engine = site["engine"]
    card_css = "#ringing-main-office-live-1"

    def card() -> str:  # the card is redrawn every second: read in the page, never from a found element
        return text_in_page(browser, card_css)

    def tone() -> str:
        return class_in_page(browser, card_css)

    with _beating(engine):
        _write_live(engine, datetime.now(UTC) - timedelta(seconds=9))  # ring 2 of 6 s; target 3 rings = 18 s
        text = wait_for(card, what="the ringing card")
        assert "•••••••0199" in text and "6175550199" not in browser.page_source
        assert "Reception" in text
        # Waits, not timings: the ring count follows the wall clock, which a busy machine does not slow.
        wait_for(lambda: "amber" in tone(), timeout=30, what="amber on the last ring in target")
        assert "LAST RING" in card()
        shot(browser, "live-ringing-amber")
        wait_for(lambda: "red" in tone(), timeout=30, what="red past the target")
        text = card()
        assert "PAST TARGET" in text and any(f"ring {n}" in text for n in range(4, 12))
        shot(browser, "live-ringing-red")
        with engine.begin() as conn:  # answered: the collector deletes the row (and keeps beating each second)
            conn.execute(store.live_calls.delete())
        wait_for(lambda: not card(), timeout=20, what="card gone")
        assert "No calls ringing." in text_in_page(browser, "#live-ringing")
        assert "offered" in text_in_page(browser, "#identity-line")


def test_stale_collector_shows_a_banner(browser: Any, site: dict[str, Any]) -> None:
    log_in(browser, site["url"])
    engine = site["engine"]
    _write_live(engine, datetime.now(UTC), heartbeat_age=600)
    banner = wait_for(lambda: browser.find_element(By.ID, "heartbeat-banner"), what="the stale banner")
    assert "no word from the collector" in banner.text
    with engine.begin() as conn:
        conn.execute(store.live_calls.delete())
        conn.execute(store.heartbeat.delete())


def test_wall_board_hides_navigation_and_uses_big_type(browser: Any, site: dict[str, Any]) -> None:
    log_in(browser, site["url"])
    browser.get(site["url"] + "/live?wall=1")
    wait_for(lambda: browser.find_element(By.ID, "tile-answered"), what="today's numbers")
    assert not browser.find_element(By.CLASS_NAME, "topbar").is_displayed()
    size = browser.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('#tile-answered .value')).fontSize)")
    assert size >= 48
    shot(browser, "live-wall")


def test_trends_mark_the_training_date(browser: Any, site: dict[str, Any]) -> None:
    log_in(browser, site["url"])
    browser.get(site["url"] + "/trends")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#trends-rates .main-svg"), what="the rates chart")
    labels = wait_for(lambda: [e for e in browser.find_elements(By.CSS_SELECTOR, "#trends-rates .annotation-text")
                               if "Training: Phone manner" in e.text], what="the training label")
    assert labels
    assert browser.find_elements(By.CSS_SELECTOR, "#trends-rates .shapelayer path")
    assert "target: 3 rings = 18 s" in browser.find_element(By.ID, "trends-speed").text
    assert "= " in browser.find_element(By.ID, "identity-line").text
    shot(browser, "trends")


def test_calls_csv_download_is_masked_and_injection_safe(browser: Any, site: dict[str, Any]) -> None:
    log_in(browser, site["url"])
    day = _last_weekday()
    browser.get(f"{site['url']}/calls?start={day}&end={day}")
    link = wait_for(lambda: [a for a in browser.find_elements(By.ID, "calls-download")
                             if "/download/calls.csv" in (a.get_attribute("href") or "")], what="download link")[0]
    wait_for(lambda: "7 calls" in browser.find_element(By.ID, "calls-summary").text, what="the table summary")
    shot(browser, "calls")
    link.click()
    folder = site["tmp"] / "downloads"
    done = wait_for(lambda: [p for p in folder.glob("*.csv")], what="the CSV file")[0]
    rows = list(csv.reader(io.StringIO(done.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["arrived", "site", "caller"] and len(rows) == 8
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert all(row[2].startswith("•") for row in rows[1:])
    assert "6175550" not in done.read_text(encoding="utf-8")


def test_staffing_follow_ups_and_training_read_for_a_newcomer(browser: Any, site: dict[str, Any]) -> None:
    log_in(browser, site["url"])
    browser.get_log("browser")  # drain: the refused requests of the no-login test are logged as errors
    url = site["url"]
    browser.get(url + "/staffing")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#staffing-heatmap .main-svg"), what="the heatmap")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#staffing-staff .main-svg"), what="the staff chart")
    shot(browser, "staffing")
    browser.get(url + "/follow-ups")
    table = wait_for(lambda: browser.find_element(By.ID, "fu-table"), what="the awaiting list")
    before = len(table.find_elements(By.CSS_SELECTOR, "tbody tr"))
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#fu-figure .main-svg"), what="the follow-up chart")
    shot(browser, "follow-ups")
    table.find_element(By.CSS_SELECTOR, "button.handle").click()
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#fu-table tbody tr")) == before - 1,
             what="the handled caller to leave the list")
    with site["engine"].connect() as conn:
        handled = conn.execute(store.follow_up_handled.select()).mappings().all()
    assert [h["handled_by"] for h in handled] == [USER]
    browser.get(url + "/training")
    card = wait_for(lambda: browser.find_element(By.CLASS_NAME, "training-headline"), what="the training verdict")
    assert card.text
    shot(browser, "training")
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
    assert severe == []


def _last_weekday() -> date:
    day = TODAY - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def test_real_collector_replay_shows_calls_ringing_then_answered(browser: Any, tmp_path: Path) -> None:
    """The live page fed by the real `callwatch collect` service and the test AMI server's replay."""
    from support.ami import EVENTS, first_ringing_position, running_collector
    from support.ami import settings_for as ami_settings
    from support.amiserver import AmiTestServer

    # Paused by the server itself once a call rings, so the card is there to read however slow the machine.
    pause_at = first_ringing_position(ami_settings(tmp_path, 5038))  # the tracker alone never connects
    ami = AmiTestServer(EVENTS, speed=6, stamp_now=True, pause_at=pause_at).start()
    collector_settings = ami_settings(tmp_path, ami.port)
    settings = settings_for(tmp_path, database_url=collector_settings.database_url)
    try:
        with served(settings) as url:
            browser.delete_all_cookies()
            log_in(browser, url)
            with running_collector(collector_settings):
                wait_for(lambda: ami.paused, timeout=120, what="the replay to reach the ringing call")
                card = wait_for(lambda: text_in_page(browser, "#live-ringing .ring-card"), timeout=60,
                                what="a call ringing during the replay")
                assert "caller •" in card
                shot(browser, "live-collector-ringing")
                ami.paused = False
                ami.wait_done(timeout=120)
                wait_for(lambda: "No calls ringing." in text_in_page(browser, "#live-ringing"), timeout=60,
                         what="the ringing cards to clear once answered or ended")
                assert not browser.find_elements(By.ID, "heartbeat-banner")  # the collector is connected
                shot(browser, "live-collector-after")
            # Restamped as they were sent, the replayed calls are today's.
            day = datetime.now(UTC).astimezone(settings.tz).date()
            browser.get(f"{url}/calls?start={day}&end={day}")
            wait_for(lambda: "answered" in browser.find_element(By.ID, "calls-table").text, timeout=20,
                     what="the replayed calls in the Calls table")
            assert "6175550" not in browser.page_source
    finally:
        ami.close()
