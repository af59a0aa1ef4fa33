"""Shared pieces of the browser tests: a headless Chromium, a dashboard served in a
thread, waiting, screenshots at the three screen sizes, and axe-core.

axe-core comes from the npm registry into tests/axe/node_modules
(scripts/install-system-deps.sh); the tests inject that file into the page, so
nothing is downloaded while they run.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from callwatch.config.settings import Settings
from support.dashboard import PASSWORD, USER

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
OUTPUT = Path(__file__).resolve().parent.parent / "output"
AXE = Path(__file__).resolve().parent.parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
OPTIONS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--no-first-run",
           "--hide-scrollbars"]
# Wall TV, front-desk PC, phone.
SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768), "390x844": (390, 844)}


def need_chromium() -> None:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/install-system-deps.sh)",
                    allow_module_level=True)


def chrome(*extra: str) -> Any:
    """A headless Chromium with OPTIONS and `extra` (say a --window-size a module's screenshots want)."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for option in (*OPTIONS, *extra):
        options.add_argument(option)
    driver = webdriver.Chrome(options=options)
    driver.set_page_load_timeout(30)
    OUTPUT.mkdir(exist_ok=True)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for a module's tests (listed in conftest.py); a module that needs a window size or a
    download folder of its own defines its own `browser`."""
    need_chromium()
    driver = chrome()
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def served(settings: Settings, engine: Any = None, **app_options: Any) -> Iterator[str]:
    """The dashboard for `settings` on a free port, its base URL while the block runs."""
    # Imported here, not at the top: conftest.py lists `browser` from this module, and Dash is slow to
    # import for the many test files that never serve a page.
    from callwatch.dashboard.app import create_app

    with serving(create_app(settings, engine=engine, **app_options)) as url:
        yield url


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """A Dash `app` already made, served on a free port; its base URL while the block runs."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    from selenium.common.exceptions import NoSuchElementException, WebDriverException

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
        time.sleep(0.1)


def log_in(driver: Any, url: str, path: str = "/live") -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + path)
    if "/login" not in driver.current_url:
        return
    driver.find_element(By.ID, "username").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    wait_for(lambda: "/login" not in driver.current_url, what="the page after login")


def text_in_page(driver: Any, css: str) -> str:
    """The innerText of the first element matching `css` ('' when there is none), read inside the page in
    one step: a page that redraws every second can replace an element between finding and reading it."""
    return str(driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css))


def set_size(driver: Any, size: str) -> None:
    """The viewport (not the window) at one of SIZES, so heights compare with the screen's."""
    width, height = SIZES[size]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def page_height(driver: Any) -> int:
    return int(driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)"))


def shot(driver: Any, name: str) -> None:
    driver.save_screenshot(str(OUTPUT / f"{name}.png"))


def class_in_page(driver: Any, css: str) -> str:
    """The class attribute of the first element matching `css` ('' when there is none), read in the page
    in one step (see text_in_page)."""
    return str(driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.className : '';", css))


def whole_page_shot(driver: Any, name: str, width: int = 1400, height: int = 1000) -> None:
    """A screenshot of the whole page (the window stretched to it, up to 3000 px), then the window back at
    width x height: for a module whose browser has that --window-size."""
    page = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(width, min(max(page, height), 3000))
    shot(driver, name)
    driver.set_window_size(width, height)


def axe_serious(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page (rule, impact, nodes)."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (scripts/install-system-deps.sh puts it in tests/axe/)")
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]}).then(r => done(JSON.stringify(r.violations)))
            .catch(e => done(JSON.stringify([{id: "axe-error", impact: "critical", help: String(e), nodes: []}])));
    """)
    violations = json.loads(result)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v.get("help", ""),
         "nodes": [n.get("target") for n in v.get("nodes", [])][:5]}
        for v in violations if v.get("impact") in ("serious", "critical")
    ]
