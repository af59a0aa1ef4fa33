"""A real TCP server speaking AMI, replaying a captured event stream; independent of callwatch.

It behaves like one Asterisk: a banner, Login (accepted or refused), Ping,
CoreShowChannels and QueueStatus answered from the replay position, Logoff, and
the captured events played on a virtual clock `speed` times faster than the
capture. Faults on demand: drop connections, go silent (half-open), pause the
events while answering pings (a quiet night), restart, refuse logins, inject
garbage bytes. While no client is logged in the replay waits (`hold=True`, so a
test can expect every call) or carries on and the events are lost (`hold=False`,
like a real PBX).
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CRLF2 = b"\r\n\r\n"


@dataclass
class Captured:
    t: float  # receive time in the capture (epoch seconds)
    raw: bytes  # the message as captured, without its blank line
    headers: dict[str, str] = field(default_factory=dict)


def load_capture(folder: Path) -> list[Captured]:
    """ami-events.txt cut into messages, timed by ami-events.recv.tsv (which omits the login answer)."""
    data = (folder / "ami-events.txt").read_bytes()
    first_line_end = data.index(b"\r\n") + 2
    raws = [m for m in data[first_line_end:].split(CRLF2) if m.strip()]
    times = [float(line.split("\t", 1)[0]) for line in (folder / "ami-events.recv.tsv").read_text().splitlines()]
    raws, times = raws[1:], times[1:]  # drop our own login answer and the banner
    assert len(raws) == len(times), (len(raws), len(times))
    out = []
    for t, raw in zip(times, raws, strict=True):
        headers: dict[str, str] = {}
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(": ")
            headers.setdefault(key, value)
        out.append(Captured(t, raw, headers))
    return out


def _restamp(raw: bytes, now: float) -> bytes:
    return re.sub(rb"(?m)^Timestamp: [0-9.]+", b"Timestamp: %.6f" % now, raw)


def _msg(**fields: str) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n"


class AmiTestServer:
    def __init__(
        self,
        events: list[Captured],
        *,
        speed: float = 20.0,
        username: str = "callwatch",
        secret: str = "s3cret",
        hold: bool = True,
        port: int = 0,
        split_seed: int | None = 7,
        stamp_now: bool = False,
        pause_at: int | None = None,
    ) -> None:
        # stamp_now: rewrite each event's Timestamp to the moment it is sent, as a live PBX
        # would, so a screen watching the replay sees calls ringing now rather than on the
        # capture's day.
        self.stamp_now = stamp_now
        self.events, self.speed, self.username, self.secret, self.hold = events, speed, username, secret, hold
        self.position = 0  # index of the next event to play
        self.vclock = events[0].t if events else 0.0
        self.logins = 0
        self.refuse = 0  # refuse this many logins
        self.silent = False  # send nothing at all, answer nothing (half-open link)
        self.paused = False  # no events, but pings answered (healthy and quiet)
        # Pause by itself once this many events are sent: a test that wants the PBX quiet at a chosen
        # moment (a call ringing) cannot pause from outside in time on a busy machine.
        self.pause_at = pause_at
        self._lock = threading.RLock()
        self._client: socket.socket | None = None
        self._stop = threading.Event()
        self._rng = random.Random(split_seed) if split_seed is not None else None
        self._listener: socket.socket | None = None
        self._port = port
        self._threads: list[threading.Thread] = []

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> AmiTestServer:
        self._listen()
        player = threading.Thread(target=self._play, name="ami-play", daemon=True)
        player.start()
        self._threads.append(player)
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self._port))
        listener.listen(8)
        self._port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="ami-accept", daemon=True).start()

    @property
    def port(self) -> int:
        return self._port

    def close(self) -> None:
        self._stop.set()
        self._close_listener()
        self.drop_clients()

    def _close_listener(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the accept() blocked in another thread.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None

    # -- faults -------------------------------------------------------------------------------

    def drop_clients(self) -> None:
        with self._lock:
            if self._client is not None:
                try:
                    self._client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self._client.close()  # linger 0: a reset, like a crashed PBX
                except OSError:
                    pass
                self._client = None

    def restart(self, down_seconds: float = 1.0) -> None:
        """Asterisk restarting: listener and sessions gone, back on the same port later."""
        self._close_listener()
        self.drop_clients()
        time.sleep(down_seconds)
        self._listen()

    def inject(self, data: bytes) -> None:
        """Bytes sent to the client between two events, as they are."""
        with self._lock:
            if self._client is not None:
                self._client.sendall(data)

    def wait_position(self, n: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.position < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay stuck at {self.position} < {n}")
            time.sleep(0.02)

    def wait_done(self, timeout: float = 120.0) -> None:
        self.wait_position(len(self.events), timeout)

    @property
    def connected(self) -> bool:
        return self._client is not None

    # -- the replay ---------------------------------------------------------------------------

    def _play(self) -> None:
        last = time.monotonic()
        for i, ev in enumerate(self.events):
            while True:
                if self._stop.is_set():
                    return
                now = time.monotonic()
                running = not self.paused and not self.silent and (self._client is not None or not self.hold)
                if running:
                    # The clock never runs ahead of the next event: a slow sender delays, never reorders.
                    self.vclock = min(self.vclock + (now - last) * self.speed, ev.t)
                last = now
                if running and self.vclock >= ev.t:
                    break
                time.sleep(0.002)
            raw = _restamp(ev.raw, time.time()) if self.stamp_now else ev.raw
            with self._lock:
                if self._client is not None:
                    self._send_split(self._client, raw + CRLF2)
                self.position = i + 1
                if self.position == self.pause_at:
                    self.paused = True

    def _send_split(self, sock: socket.socket, data: bytes) -> None:
        """Send in two pieces now and then, so framing across reads is exercised."""
        try:
            if self._rng is not None and self._rng.random() < 0.2 and len(data) > 2:
                cut = self._rng.randrange(1, len(data) - 1)
                sock.sendall(data[:cut])
                time.sleep(0.0005)
                sock.sendall(data[cut:])
            else:
                sock.sendall(data)
        except OSError:
            if self._client is sock:
                self._client = None

    # -- sessions -----------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), name="ami-session", daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        buf = b""
        try:
            conn.sendall(b"Asterisk Call Manager/13.0.0\r\n")
            while not self._stop.is_set():
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
                while CRLF2 in buf:
                    raw, buf = buf.split(CRLF2, 1)
                    fields = dict(line.partition(": ")[::2] for line in raw.decode().split("\r\n"))
                    if self.silent:
                        continue
                    if not self._action(conn, fields):
                        return
        except OSError:
            pass
        finally:
            with self._lock:
                if self._client is conn:
                    self._client = None
            with contextlib.suppress(OSError):
                conn.close()

    def _action(self, conn: socket.socket, f: dict[str, str]) -> bool:
        name, aid = f.get("Action", "").lower(), f.get("ActionID", "")
        with self._lock:
            if name == "login":
                if self.refuse > 0 or f.get("Username") != self.username or f.get("Secret") != self.secret:
                    self.refuse = max(0, self.refuse - 1)
                    conn.sendall(_msg(Response="Error", ActionID=aid, Message="Authentication failed"))
                    return True
                self.logins += 1
                conn.sendall(_msg(Response="Success", ActionID=aid, Message="Authentication accepted"))
                if self._client is not None and self._client is not conn:
                    self.drop_clients()
                self._client = conn
            elif conn is not self._client:
                conn.sendall(_msg(Response="Error", ActionID=aid, Message="Permission denied"))
            elif name == "ping":
                conn.sendall(_msg(Response="Success", ActionID=aid, Ping="Pong", Timestamp=f"{time.time():.6f}"))
            elif name == "coreshowchannels":
                self._core_show_channels(conn, aid)
            elif name == "queuestatus":
                self._queue_status(conn, aid)
            elif name == "logoff":
                conn.sendall(_msg(Response="Goodbye", ActionID=aid, Message="Thanks for all the fish."))
                self._client = None
                return False
            else:
                conn.sendall(_msg(Response="Error", ActionID=aid, Message="Invalid/unknown command"))
        return True

    def _played(self) -> list[dict[str, str]]:
        return [e.headers for e in self.events[: self.position]]

    def _core_show_channels(self, conn: socket.socket, aid: str) -> None:
        """The channels alive at the replay position, as Asterisk would list them."""
        channels: dict[str, dict[str, str]] = {}
        born: dict[str, float] = {}
        for h in self._played():
            uid, ev = h.get("Uniqueid", ""), h.get("Event")
            if ev == "Newchannel":
                channels[uid] = {"Application": "", "ApplicationData": "", "BridgeId": ""}
                born[uid] = float(h.get("Timestamp", self.vclock))
            if uid not in channels:
                continue
            ch = channels[uid]
            for key in ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "Context"):
                if key in h:
                    ch[key] = h[key]
            ch.update(Exten=h.get("Exten", ch.get("Exten", "")), Uniqueid=uid, Linkedid=h.get("Linkedid", uid))
            if ev == "Newexten":
                ch.update(Application=h.get("Application", ""), ApplicationData=h.get("AppData", ""))
            elif ev == "BridgeEnter":
                ch["BridgeId"] = h.get("BridgeUniqueid", "")
            elif ev == "BridgeLeave":
                ch["BridgeId"] = ""
            elif ev == "Hangup":
                del channels[uid]
        conn.sendall(_msg(Response="Success", ActionID=aid, EventList="start", Message="Channels will follow"))
        for uid, ch in channels.items():
            secs = int(self.vclock - born[uid])
            duration = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
            conn.sendall(
                _msg(Event="CoreShowChannel", ActionID=aid, Timestamp=f"{self.vclock:.6f}", **ch, Duration=duration)
            )
        conn.sendall(
            _msg(
                Event="CoreShowChannelsComplete",
                ActionID=aid,
                Timestamp=f"{self.vclock:.6f}",
                EventList="Complete",
                ListItems=str(len(channels)),
            )
        )

    def _queue_status(self, conn: socket.socket, aid: str) -> None:
        waiting: dict[str, tuple[dict[str, str], float]] = {}
        for h in self._played():
            if h.get("Event") == "QueueCallerJoin":
                waiting[h["Uniqueid"]] = (h, float(h.get("Timestamp", self.vclock)))
            elif h.get("Event") == "QueueCallerLeave":
                waiting.pop(h.get("Uniqueid", ""), None)
        conn.sendall(_msg(Response="Success", ActionID=aid, EventList="start", Message="Queue status will follow"))
        for uid, (h, joined) in waiting.items():
            conn.sendall(
                _msg(
                    Event="QueueEntry",
                    ActionID=aid,
                    Timestamp=f"{self.vclock:.6f}",
                    Queue=h.get("Queue", ""),
                    Position=h.get("Position", "1"),
                    Channel=h.get("Channel", ""),
                    Uniqueid=uid,
                    Linkedid=h.get("Linkedid", uid),
                    CallerIDNum=h.get("CallerIDNum", ""),
                    Wait=str(int(self.vclock - joined)),
                )
            )
        conn.sendall(_msg(Event="QueueStatusComplete", ActionID=aid, EventList="Complete"))
