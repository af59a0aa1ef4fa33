"""A small AMI client built for a service that runs for months.

Why our own and not asterisk-ami 0.1.7 or panoramisk:
asterisk-ami's reader thread dies silently after `timeout` seconds of quiet, on
any listener exception or raising callback, and its AutoReconnect never notices;
panoramisk never checks Ping replies (a half-open socket goes unnoticed) and
loses multi-byte characters split across reads. The protocol itself is tiny,
so owning it costs ~250 lines and buys one behaviour we can test: banner,
Login, events, a Ping every `ping_interval` whose reply is checked, an idle
timeout on any byte, reconnect with capped exponential backoff, and a resync
(CoreShowChannels + QueueStatus) after every login.

The reader does nothing slow: it frames, decodes and hands batches to
`on_messages` (the service journals and enqueues them). Asterisk drops a client
that reads slower than its `writetimeout`, so storage never runs on this thread.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from callwatch.collector.ami import protocol
from callwatch.collector.ami.protocol import Message, Skipped

log = logging.getLogger(__name__)

# (receive time, raw text, parsed headers) for each event, in order.
Batch = list[tuple[float, str, Message]]
OnMessages = Callable[[Batch], None]
# ('connected' | 'disconnected' | 'resync', time, detail)
OnStatus = Callable[[str, float, str], None]


class LinkDown(Exception):
    """The session ended; the message says why, for the log and the heartbeat."""


class LoginRefused(LinkDown):
    pass


@dataclass
class ClientStats:
    sessions: int = 0
    messages: int = 0
    skipped: int = 0
    bad_utf8: int = 0
    last_error: str = ""
    counts: dict[str, int] = field(default_factory=dict)


class WarningLimit:
    """Repeated identical warnings (an endless line, every 64 KB) are logged a few times, then summed up.

    The first REPEATS of a kind are logged; after that one line per
    QUIET_SECONDS says how many more there were.
    """

    REPEATS = 3
    QUIET_SECONDS = 600.0

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self._seen: dict[str, tuple[int, float]] = {}  # kind -> (count, when last logged)

    def warn(self, message: str, *, key: str) -> bool:
        """Log `message` unless its kind was logged too often lately; True when it was logged."""
        count, last = self._seen.get(key, (0, 0.0))
        count += 1
        now = time.monotonic()
        if count <= self.REPEATS:
            self._seen[key] = (count, now)
            self.log.warning("%s", message)
            return True
        if now - last >= self.QUIET_SECONDS:
            self._seen[key] = (self.REPEATS, now)
            self.log.warning("%s (and %d more like it since)", message, count - self.REPEATS)
            return True
        self._seen[key] = (count, last)
        return False


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        on_messages: OnMessages,
        on_status: OnStatus,
        ping_interval: float = 10.0,
        idle_timeout: float = 30.0,
        reconnect_max: float = 60.0,
        resync_every: float = 900.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self.on_messages, self.on_status = on_messages, on_status
        self.ping_interval, self.idle_timeout = ping_interval, idle_timeout
        self.reconnect_max, self.resync_every = reconnect_max, resync_every
        self.connect_timeout = connect_timeout
        self.tick = min(0.25, ping_interval / 2, idle_timeout / 4)
        self.stats = ClientStats()
        self.warnings = WarningLimit(log)
        self.connected = False
        self._ids = itertools.count(1)
        self._sock: socket.socket | None = None

    # -- the supervisor: one session after another until told to stop -------------------------

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            began = time.monotonic()
            try:
                self._session(stop)
            except LoginRefused as exc:
                self._down(f"login refused: {exc}", level=logging.ERROR)
            except (LinkDown, OSError) as exc:
                self._down(str(exc) or type(exc).__name__)
            except Exception as exc:  # never let a bug in framing end the service
                log.exception("AMI session failed unexpectedly")
                self._down(f"internal error: {exc!r}")
            if stop.is_set():
                break
            if time.monotonic() - began > max(30.0, 4 * self.reconnect_max):
                backoff = 0.5  # the link was healthy for a while: retry quickly
            log.info("reconnecting to AMI %s:%s in %.1f s", self.host, self.port, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, self.reconnect_max)

    def _down(self, reason: str, level: int = logging.WARNING) -> None:
        self.stats.last_error = reason
        log.log(level, "AMI link to %s:%s down: %s", self.host, self.port, reason)
        # Reported after every failed attempt too, so the heartbeat says why we are not connected.
        self.connected = False
        self.on_status("disconnected", time.time(), reason)
        self._close()

    def _close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    # -- one session: connect, banner, login, resync, then events until something breaks ------

    def _session(self, stop: threading.Event) -> None:
        self.stats.sessions += 1
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        self._sock = sock
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.settimeout(self.tick)
        framer = protocol.Framer(expect_banner=True)
        self._last_byte = time.monotonic()
        login_id = f"cw-login-{next(self._ids)}"
        self._send(protocol.action("Login", login_id, Username=self.username, Secret=self._secret, Events="on"))
        deadline = time.monotonic() + max(self.idle_timeout, self.connect_timeout)
        while not self.connected:  # wait for the login answer; events before it are not ours
            if stop.is_set():
                return
            if time.monotonic() > deadline:
                raise LinkDown("no answer to Login")
            early: Batch = []
            for item in self._read(framer):
                msg = item[2]
                if self.connected:
                    if "Event" in msg:
                        early.append(item)  # events in the same read as the login answer are ours too
                elif msg.get("ActionID") == login_id:
                    if msg.get("Response") != "Success":
                        raise LoginRefused(msg.get("Message", "no reason given"))
                    self.connected = True
                    log.info("AMI connected to %s:%s (%s)", self.host, self.port, framer.banner or "no banner")
                    self.on_status("connected", time.time(), framer.banner or "")
            if early:
                self.stats.messages += len(early)
                self.on_messages(early)
        self._resync()
        self._pump(framer, stop)

    def _pump(self, framer: protocol.Framer, stop: threading.Event) -> None:
        next_ping = time.monotonic() + self.ping_interval
        next_resync = time.monotonic() + self.resync_every
        ping_sent: tuple[str, float] | None = None
        while not stop.is_set():
            batch: Batch = []
            for item in self._read(framer):
                msg = item[2]
                action_id = msg.get("ActionID", "")
                if "Event" in msg:
                    batch.append(item)
                elif ping_sent and action_id == ping_sent[0]:
                    ping_sent = None
                elif not action_id.startswith("cw-"):
                    self.stats.skipped += 1
                    log.warning("skipped a message that is neither an event nor our response: %.80r", item[1])
            if batch:
                self.stats.messages += len(batch)
                self.on_messages(batch)
            now = time.monotonic()
            if now - self._last_byte > self.idle_timeout:
                raise LinkDown(f"no data for {self.idle_timeout:g} s (half-open connection?)")
            if ping_sent and now - ping_sent[1] > self.idle_timeout:
                raise LinkDown(f"no reply to Ping within {self.idle_timeout:g} s")
            if now >= next_ping and ping_sent is None:
                ping_sent = (f"cw-ping-{next(self._ids)}", now)
                self._send(protocol.action("Ping", ping_sent[0]))
                next_ping = now + self.ping_interval
            if now >= next_resync:
                self._resync()
                next_resync = now + self.resync_every
        with contextlib.suppress(OSError):  # a polite goodbye; the PBX logs fewer warnings
            self._send(protocol.action("Logoff", f"cw-logoff-{next(self._ids)}"))
        self._down("stopped", level=logging.INFO)

    def _resync(self) -> None:
        """Ask what is in flight right now; the tracker reconciles its calls with the answer."""
        self.on_status("resync", time.time(), "")
        self._send(protocol.action("CoreShowChannels", f"cw-resync-{next(self._ids)}"))
        self._send(protocol.action("QueueStatus", f"cw-queues-{next(self._ids)}"))

    # -- bytes in and out ---------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise LinkDown("PBX not reading (send timed out)") from None

    def _read(self, framer: protocol.Framer) -> Batch:
        """Whatever complete messages one recv brings (maybe none after a quiet tick)."""
        assert self._sock is not None
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return []
        if not data:
            raise LinkDown("connection closed by the PBX")
        received = time.time()
        self._last_byte = time.monotonic()
        out: Batch = []
        for raw in framer.feed(data):
            if isinstance(raw, Skipped):
                self.stats.skipped += 1
                self.warnings.warn(f"skipped {raw.size} bytes from the PBX: {raw.reason}", key=raw.reason)
                continue
            text = protocol.decode(raw)
            if "\ufffd" in text:
                self.stats.bad_utf8 += 1
                self.warnings.warn(f"message with invalid UTF-8 from the PBX (bad bytes replaced): {text:.80}",
                                   key="bad utf-8")
            msg = protocol.parse(text)
            if "Event" not in msg and "Response" not in msg:
                self.stats.skipped += 1
                self.warnings.warn(f"skipped a message without Event or Response: {text:.80}", key="no event")
                continue
            out.append((received, text, msg))
        return out
