"""dashboard.cache.TTLCache: the per-app cache the live page shares between screens."""

from __future__ import annotations

import threading

from callwatch.dashboard.cache import TTLCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_value_is_shared_until_it_expires() -> None:
    clock, calls = FakeClock(), []
    cache = TTLCache(clock)

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("a", 1.0, compute) == 1
    clock.now = 0.9
    assert cache.get("a", 1.0, compute) == 1
    assert cache.get("b", 1.0, compute) == 2  # another key is another answer
    clock.now = 1.0
    assert cache.get("a", 1.0, compute) == 3


def test_waiters_on_one_key_share_one_computation() -> None:
    cache, started, release, calls = TTLCache(), threading.Event(), threading.Event(), []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(10)
        return "answer"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get("k", 60, slow)))
    first.start()
    started.wait(10)
    others = [threading.Thread(target=lambda: results.append(cache.get("k", 60, slow))) for _ in range(5)]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(10)
    assert results == ["answer"] * 6
    assert len(calls) == 1


def test_stale_value_is_served_while_one_request_recomputes() -> None:
    clock = FakeClock()
    cache, started, release = TTLCache(clock), threading.Event(), threading.Event()
    assert cache.get("k", 1.0, lambda: "old") == "old"
    clock.now = 1.5  # expired, but within the stale allowance

    def slow() -> str:
        started.set()
        release.wait(10)
        return "new"

    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(cache.get("k", 1.0, slow, stale=2.0)))
    worker.start()
    started.wait(10)
    assert cache.get("k", 1.0, lambda: "never", stale=2.0) == "old"
    release.set()
    worker.join(10)
    assert results == ["new"]
    assert cache.get("k", 1.0, lambda: "never", stale=2.0) == "new"
