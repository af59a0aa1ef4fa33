"""A small thread-safe time-to-live cache, one per dashboard app.

Every front-desk screen of one office asks the live page the same question
every 2 s; with 50 screens that is 25 identical computations a second. The
cache lets one request compute an answer and every other request for the same
key inside the time-to-live share it. Concurrent misses on one key wait for
the first computation instead of repeating it (a per-key lock), so a burst of
screens costs one database read, not fifty.

It lives on the app's DashboardContext (Flask `server.extensions`), never in a
module global: gunicorn workers are separate processes anyway, and tests build
several apps in one process that must not see each other's data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# Expired entries are dropped when the cache grows past this many keys
# (sites x pages is small; the bound only guards against odd query strings).
_PURGE_AT = 256


class TTLCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, ttl: float, compute: Callable[[], T], *, stale: float = 0.0) -> T:
        """The value cached under `key` if younger than `ttl` seconds, else compute() (once for all waiters).

        With `stale` > 0, while one request recomputes an expired value, the
        others get the previous one if it is younger than ttl + stale rather
        than queue behind the computation.
        """
        hit = self._fresh(key, ttl)
        if hit is not None:
            return hit[1]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        if stale > 0 and not key_lock.acquire(blocking=False):
            old = self._fresh(key, ttl + stale)
            if old is not None:
                return old[1]
            key_lock.acquire()
        elif stale <= 0:
            key_lock.acquire()
        try:
            hit = self._fresh(key, ttl)  # another request may have filled it while we waited
            if hit is not None:
                return hit[1]
            value = compute()
            with self._lock:
                self._entries[key] = (self._clock(), value)
                if len(self._entries) > _PURGE_AT:
                    self._purge(ttl + stale)
            return value
        finally:
            key_lock.release()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fresh(self, key: Hashable, ttl: float) -> tuple[float, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and self._clock() - entry[0] < ttl:
            return entry
        return None

    def _purge(self, ttl: float) -> None:
        now = self._clock()
        for key in [k for k, (at, _) in self._entries.items() if now - at >= ttl]:
            del self._entries[key]
            lock = self._key_locks.get(key)
            if lock is not None and not lock.locked():
                del self._key_locks[key]
