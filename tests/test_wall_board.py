"""The wall board (/live?wall=1) as a front-desk lead sees it on a TV across the room,
in a real headless Chromium against the real server; screenshots in tests/output/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.browser_support import (
    OUTPUT,
    class_in_page,
    log_in,
    need_chromium,
    page_height,
    served,
    set_size,
    shot,
    text_in_page,
    wait_for,
)
from support.clock import practice_today
from support.dashboard import call, practice_day, seeded_engine, settings_for
from werkzeug.serving import make_server

from callwatch import store
from callwatch.dashboard.app import create_app

pytestmark = pytest.mark.browser
need_chromium()
from selenium.webdriver.common.by import By  # noqa: E402

TODAY = practice_today()


def _other_office_calls() -> list[Any]:
    """A second office sharing the database: 12 answered calls today, which must not leak into main-office."""
    return [call(f"north-{i}", f"{9 + i % 8:02d}:{i:02d}", "answered", 4, day=TODAY, site="north")
            for i in range(12)]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("wall")
    settings = settings_for(tmp)
    calls = [c for back in range(3, -1, -1) for c in practice_day(TODAY - timedelta(days=back))]
    engine = seeded_engine(settings, calls + _other_office_calls())
    with served(settings, engine) as url:
        yield {"url": url, "engine": engine, "settings": settings}


def _live(engine: Any, calls: list[tuple[str, str, float, str | None]], site: str = "main-office") -> None:
    """The collector's view: (call_id, state, seconds since ringing began, queue), heartbeat fresh."""
    now = datetime.now(UTC)
    store.upsert_rows(engine, store.heartbeat, [{
        "site": site, "last_event_at": now, "connected": True, "updated_at": now, "detail": ""}], keys=("site",))
    with engine.begin() as conn:
        conn.execute(store.live_calls.delete())
    store.upsert_rows(engine, store.live_calls, [{
        "site": site, "call_id": call_id, "caller": f"+1617555{i:04d}", "state": state,
        "ring_started_at": now - timedelta(seconds=age), "arrived_at": now - timedelta(seconds=age + 2),
        "location": "Reception" if state == "ringing" else None, "queue": queue, "updated_at": now,
    } for i, (call_id, state, age, queue) in enumerate(calls)], keys=("site", "call_id"))


def _beat(engine: Any) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(store.heartbeat.update().values(updated_at=now, last_event_at=now))


def _state(browser: Any) -> str:
    return text_in_page(browser, "#wall-state")


def _rect(browser: Any, element_id: str) -> dict[str, float]:
    """An element's box, measured in one step in the page (see text_in_page)."""
    rect: dict[str, float] = browser.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        " return {x: r.x + window.scrollX, y: r.y + window.scrollY, width: r.width, height: r.height};",
        element_id)
    return rect


def test_board_fits_one_screen_at_tv_and_desk_sizes_and_reads_from_across_the_room(
        browser: Any, board: dict[str, Any]) -> None:
    # A busy moment: six calls ringing and three in the queue, more than the board has room for.
    _live(board["engine"], [(f"r{i}", "ringing", 2 + i, None) for i in range(6)]
          + [(f"q{i}", "queued", 3 + i, "reception") for i in range(3)])
    log_in(browser, board["url"], "/live?wall=1")
    heights = {}
    for size in ("1920x1080", "1366x768", "390x844"):
        set_size(browser, size)
        browser.get(board["url"] + "/live?wall=1")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#live-ringing .ring-card"), what="ring cards")
        _beat(board["engine"])
        heights[size] = page_height(browser)
        shot(browser, f"wall-{size}")
        if size == "390x844":
            continue
        viewport = int(size.split("x")[1])
        assert heights[size] <= viewport, (size, heights[size])
        # Everything the lead needs is on the screen itself, not below it.
        for element_id in ("wall-state", "tile-ringing", "tile-waiting", "tile-answered", "tile-within",
                           "tile-callback", "live-ringing", "live-queued"):
            box = _rect(browser, element_id)
            assert box["y"] + min(box["height"], 40) <= viewport, (size, element_id, box)
        tile_px = browser.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('#tile-ringing .value')).fontSize)")
        label_px = browser.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('#tile-ringing .label')).fontSize)")
        assert tile_px >= 60 and label_px >= 20, (size, tile_px, label_px)
        assert "+ 2 more ringing" in text_in_page(browser, "#live-ringing")
    print("wall board page heights:", heights)
    assert not browser.find_element(By.CLASS_NAME, "topbar").is_displayed()
    assert text_in_page(browser, "#tile-ringing").startswith("6")
    assert text_in_page(browser, "#tile-waiting").startswith("3")
    assert "main-office" in text_in_page(browser, "h1")
    set_size(browser, "1366x768")


def test_state_is_said_in_words_and_shapes_and_cards_not_by_colour_alone(
        browser: Any, board: dict[str, Any]) -> None:
    engine = board["engine"]
    _live(engine, [])
    log_in(browser, board["url"], "/live?wall=1")
    browser.get(board["url"] + "/live?wall=1")
    wait_for(lambda: _state(browser), what="the board")
    # Written once the board runs, so each card is mid-band (5 s either side) when it first shows:
    # ring 2 (6-12 s), the last ring inside the 3-ring target (12-18 s), and past it; a queue caller at 27 s.
    _live(engine, [("ok", "ringing", 7, None), ("last", "ringing", 13, None), ("late", "ringing", 19, None),
                   ("q", "queued", 27, "reception")])
    ids = ("ringing-main-office-ok", "ringing-main-office-last", "ringing-main-office-late", "queued-main-office-q")
    # All four cards and the state line read in one step, the moment they are all drawn (redrawn every second).
    cards = wait_for(lambda: (lambda t: t if all(t) else None)(browser.execute_script(
        "return arguments[0].map(id => { const e = document.getElementById(id); return e ? e.innerText : ''; })"
        ".concat([document.getElementById('wall-state').innerText]);", list(ids))), timeout=20, what="the ring cards")
    ok, last, late, queued, state = cards
    assert ok.startswith("● ringing"), ok
    assert "◆ LAST RING" in last, last
    assert "▲ PAST TARGET" in late and "ring 4" in late, late
    assert "▲ WAITING TOO LONG" in queued, queued
    assert "CALLS WAITING NOW" in state and "▲" in state, state
    # In greyscale the three tones still differ: their backgrounds differ in lightness, not only in hue.
    lightness = browser.execute_script("""
        const lum = id => { const c = getComputedStyle(document.getElementById(id)).backgroundColor
            .match(/\\d+/g).map(Number).map(v => v / 255)
            .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
            return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
        return ["ringing-main-office-ok", "ringing-main-office-last", "ringing-main-office-late"].map(lum);""")
    ok, last, red = lightness
    assert (ok + 0.05) / (red + 0.05) > 3 and (last + 0.05) / (red + 0.05) > 3, lightness
    shot(browser, "wall-state-alert-1366x768")
    # Everybody answered, today's rates under the goals: the board says it is falling behind.
    _live(engine, [])
    wait_for(lambda: "FALLING BEHIND" in _state(browser), timeout=20, what="falling behind")
    assert "▼" in _state(browser) and "answered" in _state(browser)
    shot(browser, "wall-state-behind-1366x768")


def test_on_target_when_nobody_waits_and_the_goals_are_met(browser: Any, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    good = [call(f"g{i}", f"{9 + i % 7:02d}:{i:02d}", "answered", 3, day=TODAY, caller=f"+1617555{i:04d}")
            for i in range(10)]
    engine = seeded_engine(settings, good)
    with served(settings, engine) as url:
        _live(engine, [])
        browser.delete_all_cookies()
        log_in(browser, url, "/live?wall=1")
        wait_for(lambda: "ON TARGET" in _state(browser), what="on target")
        assert "✓" in _state(browser)
        assert "No calls ringing." in text_in_page(browser, "#live-ringing")
        shot(browser, "wall-state-on-target-1366x768")


def test_silent_collector_shows_within_seconds_and_never_says_no_calls_ringing(
        browser: Any, board: dict[str, Any]) -> None:
    engine = board["engine"]
    _live(engine, [("r", "ringing", 3, None)])
    log_in(browser, board["url"], "/live?wall=1")
    browser.get(board["url"] + "/live?wall=1")
    wait_for(lambda: browser.find_elements(By.ID, "ringing-main-office-r"), what="a ringing call")
    silent_at = datetime.now(UTC)  # the collector's last heartbeat: it stops here
    with engine.begin() as conn:
        conn.execute(store.heartbeat.update().values(updated_at=silent_at))
    wait_for(lambda: "NO LIVE DATA" in _state(browser), timeout=20, what="the silent collector")
    seconds = (datetime.now(UTC) - silent_at).total_seconds()
    print(f"collector silence shown after {seconds:.1f} s")
    # heartbeat_stale_seconds is 10; the board polls each second. Within seconds, not minutes: the margin
    # is for a busy machine, whose slow browser is no part of what a front desk sees.
    assert seconds < 30
    assert "No calls ringing." not in text_in_page(browser, "#live-ringing")
    assert "unknown" in text_in_page(browser, "#live-ringing")
    assert browser.find_element(By.ID, "heartbeat-banner").is_displayed()
    shot(browser, "wall-collector-silent-1366x768")


def test_board_survives_a_server_restart_and_a_lost_session(browser: Any, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    engine = seeded_engine(settings, practice_day(TODAY))
    app = create_app(settings, engine=engine)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    browser.delete_all_cookies()
    log_in(browser, url, "/live?wall=1&site=main-office")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#wall-state .state"), what="the board")
    server.shutdown()
    server.server_close()
    thread.join(10)
    wait_for(lambda: "Lost contact with the dashboard server" in text_in_page(browser, "#conn-banner"),
             timeout=20, what="the lost-contact banner")
    assert "NO CONNECTION" in _state(browser)
    shot(browser, "wall-server-lost-1366x768")
    # The server comes back (a restart: a new process would read the same key file).
    server = make_server("127.0.0.1", port, create_app(settings, engine=engine).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        wait_for(lambda: "Reconnected" in text_in_page(browser, "#conn-banner"), timeout=20,
                 what="the board to reconnect by itself")
        assert "NO CONNECTION" not in _state(browser)
        # The sign-in is lost: the board says so and opens the sign-in page, which leads back to the board.
        browser.delete_all_cookies()
        wait_for(lambda: "Signed out" in text_in_page(browser, "#conn-banner"), timeout=25,
                 what="the signed-out message")
        shot(browser, "wall-signed-out-1366x768")
        wait_for(lambda: "/login" in browser.current_url, timeout=20, what="the sign-in page")
        log_in(browser, url, "/live?wall=1&site=main-office")
        wait_for(lambda: "wall=1" in browser.current_url and "site=main-office" in browser.current_url,
                 what="back on the same board")
    finally:
        server.shutdown()
        thread.join(10)


def test_live_page_shows_one_office_the_configured_one_by_default(browser: Any, board: dict[str, Any]) -> None:
    _live(board["engine"], [])
    log_in(browser, board["url"])
    browser.get(board["url"] + "/live")
    wait_for(lambda: text_in_page(browser, "#identity-line"), what="today's numbers")
    assert "main-office" in text_in_page(browser, "h1")
    # main-office today: 5 offered (practice_day); north's 12 answered calls are not pooled in.
    assert "= 5 offered" in text_in_page(browser, "#identity-line")
    shot(browser, "live-one-office-1366x768")
    browser.get(board["url"] + "/live?site=north")
    wait_for(lambda: "= 12 offered" in text_in_page(browser, "#identity-line"), what="north's numbers")
    assert "north" in text_in_page(browser, "h1")
    browser.get(board["url"] + "/live?site=all")
    wait_for(lambda: "= 17 offered" in text_in_page(browser, "#identity-line"), what="pooled on request")
    for size in ("1920x1080", "390x844"):
        set_size(browser, size)
        browser.get(board["url"] + "/live")
        wait_for(lambda: browser.find_element(By.ID, "identity-line"), what="today's numbers")
        shot(browser, f"live-one-office-{size}")
    set_size(browser, "1366x768")
    assert OUTPUT.exists()


def test_a_call_ringing_past_target_from_the_real_collector_turns_the_board_to_alert(
        browser: Any, tmp_path: Path) -> None:
    """The real `callwatch collect` service fed by the AMI replay server; the PBX pauses with a call ringing."""
    from support.ami import EVENTS, first_ringing_position, running_collector
    from support.ami import settings_for as ami_settings
    from support.amiserver import AmiTestServer

    # The PBX goes quiet (pings still answered) the moment a call starts ringing, so it keeps ringing;
    # pausing from here once the board shows the card came too late on a busy machine (already answered).
    pause_at = first_ringing_position(ami_settings(tmp_path, 5038))  # the tracker alone never connects
    ami = AmiTestServer(EVENTS, speed=6, stamp_now=True, pause_at=pause_at).start()
    collector_settings = ami_settings(tmp_path, ami.port)
    settings = settings_for(tmp_path, database_url=collector_settings.database_url)
    try:
        with served(settings) as url, running_collector(collector_settings):
            browser.delete_all_cookies()
            log_in(browser, url, f"/live?wall=1&site={collector_settings.site}")
            wait_for(lambda: ami.paused, timeout=120, what="the replay to reach the ringing call")
            wait_for(lambda: text_in_page(browser, "#live-ringing .ring-card"), timeout=60,
                     what="the ringing call on the board")
            assert "NO LIVE DATA" not in _state(browser)
            # A wait, not a timing: a busy machine delays the collector and the browser alike.
            wait_for(lambda: "CALLS WAITING NOW" in _state(browser), timeout=90,
                     what="the board's alert state once a call rings past 3 rings")
            assert "▲ PAST TARGET" in text_in_page(browser, "#live-ringing")
            assert page_height(browser) <= 768
            shot(browser, "wall-collector-alert-1366x768")
            ami.paused = False
            ami.wait_done(timeout=120)
            wait_for(lambda: "No calls ringing." in text_in_page(browser, "#live-ringing"), timeout=60,
                     what="the cards to clear once the calls end")
            assert "CALLS WAITING NOW" not in _state(browser)
    finally:
        ami.close()


def _alert_box(browser: Any) -> str:
    return text_in_page(browser, "#alert-box")


def test_an_open_alert_flashes_the_board_in_large_type_and_disappears_once_cleared(
        browser: Any, tmp_path: Path) -> None:
    from callwatch.store import alert_log

    settings = settings_for(tmp_path, alerts={"chime": True})
    engine = seeded_engine(settings, practice_day(TODAY))
    with served(settings, engine) as url:
        _live(engine, [])
        browser.delete_all_cookies()
        log_in(browser, url, "/live?wall=1")
        set_size(browser, "1920x1080")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#wall-state .state"), what="the board")
        # The chime is on: the board says sound needs a click, and a click turns it on (and the offer goes).
        wait_for(lambda: "Click to enable sound" in text_in_page(browser, "#alert-sound-on"),
                 what="the enable-sound button")
        # A real (trusted) click, as audio needs one; found afresh if the board redrew it meanwhile.
        wait_for(lambda: browser.find_element(By.ID, "alert-sound-on").click() or True, what="the click on it")
        wait_for(lambda: not browser.find_elements(By.ID, "alert-sound-on"), what="the offer to go once sound is on")
        assert browser.execute_script("return window.__cwAudio.state") == "running"
        assert not browser.find_elements(By.ID, "alert-box")
        sentence = "A call has rung 40 s at Reception, past the 18 s target. Please pick up."
        alert_id = alert_log.fire_alert(engine, "main-office", "ring_past_target", sentence, datetime.now(UTC))
        alert_log.fire_alert(engine, "north", "missed_calls", "3 calls were not answered.", datetime.now(UTC))
        # The sentence and both classes read in one step as the alert first shows (the flash lasts 12 s).
        text, state_class, box_class = wait_for(lambda: (lambda r: r if sentence in r[0] else None)(
            browser.execute_script("const t = id => { const e = document.getElementById(id);"
                                   " return e ? [e.innerText, e.className] : ['', '']; };"
                                   " return [t('alert-box')[0], t('wall-state-box')[1], t('alert-box')[1]];")),
            timeout=20, what="the alert's sentence on the board")
        assert "⚠ ALERT since" in text and "call ringing past target" in text
        assert "not answered" not in text  # another office's alert stays off this board
        # The state area and the alert flash (a class driving an inverting blink), and a chime was played.
        assert "flash" in state_class
        assert "flash" in box_class
        assert browser.execute_script("return window.__cwChimes") == 1
        words_px = browser.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('#alert-box .alert-words')).fontSize)")
        assert words_px >= 40, words_px  # readable from across the room at 1920x1080
        assert page_height(browser) <= 1080
        shot(browser, "wall-alert-flash-1920x1080")
        set_size(browser, "1366x768")  # the front-desk PC: the alert still fits, the cards give way
        wait_for(lambda: page_height(browser) <= 768, timeout=15, what="the board with an alert to fit 1366x768")
        assert _rect(browser, "alert-box")["y"] < 768 / 2
        shot(browser, "wall-alert-1366x768")
        # After the flash the sentence stays, steady.
        wait_for(lambda: "flash" not in class_in_page(browser, "#alert-box"),
                 timeout=20, what="the flash to stop")
        assert sentence in _alert_box(browser)
        alert_log.clear_alert(engine, alert_id, datetime.now(UTC))
        wait_for(lambda: not browser.find_elements(By.ID, "alert-box"), timeout=20, what="the cleared alert to go")
        assert sentence not in text_in_page(browser, "body")
        shot(browser, "wall-alert-cleared-1920x1080")
    set_size(browser, "1366x768")


def test_live_page_lists_the_weeks_alerts_newest_first_in_a_headed_table(browser: Any, tmp_path: Path) -> None:
    from callwatch.store import alert_log

    settings = settings_for(tmp_path)
    engine = seeded_engine(settings, practice_day(TODAY))
    now = datetime.now(UTC)
    first = alert_log.fire_alert(engine, "main-office", "queue_wait", "1 caller is waiting in reception.",
                                 now - timedelta(days=1))
    alert_log.record_notification(engine, first, None, "quiet hours: the practice is closed")
    alert_log.clear_alert(engine, first, now - timedelta(days=1) + timedelta(minutes=3))
    alert_log.fire_alert(engine, "main-office", "answer_rate_below_goal", "Today's answer rate is 70.0 %.", now)
    with served(settings, engine) as url:
        _live(engine, [])
        browser.delete_all_cookies()
        log_in(browser, url, "/live")
        table = wait_for(lambda: browser.find_element(By.ID, "alert-log-table"), what="the alert list")
        heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
        assert heads == ["fired", "condition", "what happened", "cleared", "notification"]
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert [r[1] for r in rows] == ["answer rate below goal", "callers waiting too long"]
        assert rows[0][3] == "▲ still open" and rows[1][4] == "quiet hours: the practice is closed"
        # The open one is also on top of the page, in words.
        assert "Today's answer rate is 70.0 %." in _alert_box(browser)
        browser.execute_script("document.getElementById('alert-log-table').scrollIntoView()")
        shot(browser, "live-alert-list-1366x768")
