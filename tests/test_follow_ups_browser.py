"""The Follow-ups page with 5,000 callers waiting, in a real Chromium: one page of
the most urgent callers, paged, and "Mark handled" shown at once.

Timings are measured in the browser (performance.now()) and printed (the goal is
under 1 s; about 0.4-1.6 s and 0.1-0.4 s were seen on a loaded 2-core machine).
They are not asserted: a timed test fails on a busy machine, not on a slow page.
The assertion is only that nothing freezes, as 0.1.0 did for 50-60 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.browser_support import log_in, need_chromium, served, set_size, shot, wait_for
from support.clock import TZ
from support.dashboard import USER, call, seeded_engine, settings_for

from callwatch import store

pytestmark = pytest.mark.browser
need_chromium()
from selenium.webdriver.common.by import By  # noqa: E402

WAITING = 5000
# A guard against the list freezing the browser again (0.1.0: 50 s to appear, 62.6 s for Mark handled).
FREEZE_S = 10.0
NOW = datetime.now(UTC)


def _missed_callers() -> list[Any]:
    """5,000 distinct callers, each one unanswered call over the last 12 days (none called back)."""
    calls = []
    for i in range(WAITING):
        local = (NOW - timedelta(minutes=5 + i * 3)).astimezone(TZ)  # back over about 10 days, today's first
        outcome = ("voicemail", "abandoned", "missed")[i % 3]
        calls.append(call(f"w{i}", f"{local:%H:%M}", outcome, 20, caller=f"+1617{i:07d}", day=local.date()))
    return calls


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("followups")
    settings = settings_for(tmp)
    engine = seeded_engine(settings, _missed_callers())
    with served(settings, engine) as url:
        yield {"url": url, "engine": engine}


_READY_JS = """
const done = arguments[arguments.length - 1];
const ready = () => document.querySelectorAll('#fu-table tbody tr').length > 0
    && document.getElementById('fu-count').textContent.includes('waiting');
if (ready()) { done(performance.now()); return; }
new MutationObserver((_, obs) => { if (ready()) { obs.disconnect(); done(performance.now()); } })
    .observe(document.body, {childList: true, subtree: true, characterData: true});
"""

_HANDLE_JS = """
const done = arguments[arguments.length - 1];
const button = document.querySelector('#fu-table tbody tr button.handle');
const before = document.getElementById('fu-count').textContent;
const t0 = performance.now();
new MutationObserver((_, obs) => {
    if (document.getElementById('fu-count').textContent !== before) {
        obs.disconnect(); done([performance.now() - t0, before, document.getElementById('fu-count').textContent]);
    }
}).observe(document.getElementById('fu-count'), {childList: true, subtree: true, characterData: true});
button.click();
"""


def test_five_thousand_waiting_callers_page_and_mark_handled_without_freezing(
    browser: Any, page: dict[str, Any]
) -> None:
    browser.set_script_timeout(60)
    log_in(browser, page["url"], "/follow-ups")
    set_size(browser, "1366x768")
    loads = []
    for _ in range(3):  # the first load computes the list; the others share it (30 s), as screens do
        browser.get(page["url"] + "/follow-ups")
        loads.append(browser.execute_async_script(_READY_JS) / 1000)
    rows = browser.find_elements(By.CSS_SELECTOR, "#fu-table tbody tr")
    assert len(rows) == 25
    assert "5,000 caller(s) waiting" in browser.find_element(By.ID, "fu-count").text
    # Most urgent first: today's callers (due today) head the list, the overdue come after.
    first = rows[0].find_elements(By.TAG_NAME, "td")[0].text
    assert first in ("◆ due today", "● later"), first
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#fu-table thead th")]
    assert all(headers) and "caller" in headers
    # The page stays responsive: a click on Next is answered at once.
    shot(browser, "follow-ups-5000-1366x768")
    handled = []
    for _ in range(3):
        took, before, after = browser.execute_async_script(_HANDLE_JS)
        handled.append(took / 1000)
        assert before != after
    assert "4,997 caller(s) waiting" in browser.find_element(By.ID, "fu-count").text
    with page["engine"].connect() as conn:
        assert [r.handled_by for r in conn.execute(store.follow_up_handled.select())] == [USER] * 3
    print(f"follow-ups with {WAITING} waiting: page usable after {[round(x, 2) for x in loads]} s "
          f"(from navigation start); mark handled visible after {[round(x, 2) for x in handled]} s")
    assert max(loads) < FREEZE_S, loads
    assert max(handled) < FREEZE_S, handled


def test_overdue_filter_paging_and_a_logged_look_at_one_number(browser: Any, page: dict[str, Any]) -> None:
    log_in(browser, page["url"], "/follow-ups")
    browser.get(page["url"] + "/follow-ups?show=overdue")
    wait_for(lambda: "showing the" in browser.find_element(By.ID, "fu-count").text, what="the overdue list")
    rows = browser.find_elements(By.CSS_SELECTOR, "#fu-table tbody tr")
    cells = [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows]
    assert cells and set(cells) == {"▲ overdue"}
    text = browser.find_element(By.ID, "fu-page-text").text
    browser.find_element(By.ID, "fu-next").click()
    wait_for(lambda: browser.find_element(By.ID, "fu-page-text").text.startswith("page 2 of"), what="page 2")
    assert text.startswith("page 1 of")
    assert "show=overdue" in browser.current_url
    masked = browser.find_element(By.CSS_SELECTOR, "#fu-table tbody tr td:nth-child(3)").text
    assert masked.startswith("•") and "+1617" not in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "#fu-table tbody tr button.reveal").click()
    link = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "#fu-table tbody tr td:nth-child(3) a"),
                    what="the full number")
    assert link.text.startswith("+1617") and link.get_attribute("href") == "tel:" + link.text
    assert link.text[-4:] == masked[-4:]
    with page["engine"].connect() as conn:
        looks = conn.execute(store.caller_reveals.select()).mappings().all()
    assert len(looks) == 1 and looks[0]["revealed_by"] == USER and looks[0]["purpose"] == "call back"
    # Only that caller's number was sent to the browser.
    assert browser.page_source.count("+1617") <= 2
