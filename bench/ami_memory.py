"""Does the collector's memory stay flat over a long life? RSS before/after 1,000,000 calls.

A stream of calls is generated on the fly (20 overlapping at any time; each
with its root channel, a Local ;1/;2 leg pair ringing a phone, and an answer,
a voicemail or an abandon) and pushed as bytes through the same path the
service uses: framing, decoding, parsing and the call tracker. The journal and
the store are left out (they are on disk, not in memory). Prints RSS after a
warm-up of 10,000 calls and after all of them; flat means the difference is
noise, not a per-call leak.
Run: .venv/bin/python bench/ami_memory.py [CALLS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from callwatch.collector.ami.protocol import Framer, decode, event_time, parse
from callwatch.collector.ami.tracker import AmiTracker
from callwatch.config import Settings

OVERLAP = 20
BATCH = 1000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ev(**fields: str) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"


def call_events(n: int, t0: float) -> list[tuple[float, str]]:
    """One call's messages with their times; ids unique per call."""
    lid = f"{1_700_000_000 + n // 1000}.{n}"
    leg1, leg2 = f"{lid}1", f"{lid}2"
    root = f"PJSIP/trunk-{n:08x}"
    local = f"Local/101@from-internal-{n:08x}"
    caller = f"617555{n % 10000:04d}"
    common = {"Linkedid": lid, "Context": "from-trunk", "Exten": "5550100", "CallerIDNum": caller}
    kind = n % 4  # answered, answered, voicemail, abandoned
    out = [
        (t0, _ev(Event="Newchannel", Channel=root, Uniqueid=lid, **common)),
        (t0 + 0.01, _ev(Event="Newchannel", Channel=f"{local};1", Uniqueid=leg1, **common)),
        (t0 + 0.01, _ev(Event="Newchannel", Channel=f"{local};2", Uniqueid=leg2, **common)),
        (
            t0 + 0.02,
            _ev(Event="DialBegin", Channel=root, Uniqueid=lid, DestChannel=f"{local};1", DestUniqueid=leg1, **common),
        ),
    ]
    ring = 2 + n % 13
    status = "ANSWER" if kind < 2 else ("NOANSWER" if kind == 2 else "CANCEL")
    dial_end = _ev(
        Event="DialEnd",
        Channel=root,
        Uniqueid=lid,
        DestChannel=f"{local};1",
        DestUniqueid=leg1,
        DialStatus=status,
        **common,
    )
    out.append((t0 + ring, dial_end))
    out.append((t0 + ring, _ev(Event="Hangup", Channel=f"{local};2", Uniqueid=leg2, **common)))
    out.append((t0 + ring, _ev(Event="Hangup", Channel=f"{local};1", Uniqueid=leg1, **common)))
    if kind == 2:
        out.append((t0 + ring, _ev(Event="Newexten", Channel=root, Uniqueid=lid, Application="VoiceMail", **common)))
    out.append((t0 + ring + 20, _ev(Event="Hangup", Channel=root, Uniqueid=lid, **common)))
    return out


def stream(calls: int):
    """Bytes of BATCH calls at a time, OVERLAP calls in flight, in time order."""
    pending: list[tuple[float, str]] = []
    for start in range(0, calls, BATCH):
        for n in range(start, min(calls, start + BATCH)):
            pending.extend(call_events(n, 1_700_000_000.0 + n * (30.0 / OVERLAP)))
        pending.sort(key=lambda x: x[0])
        horizon = 1_700_000_000.0 + min(calls, start + BATCH) * (30.0 / OVERLAP)
        ready = [text for t, text in pending if t < horizon]
        pending = [(t, text) for t, text in pending if t >= horizon]
        yield "".join(ready).encode()
    yield "".join(text for _t, text in sorted(pending, key=lambda x: x[0])).encode()


def main(calls: int) -> None:
    tracker = AmiTracker(Settings())
    framer = Framer(expect_banner=False)
    before = rss_mb()
    finished = 0
    warm = None
    peak_in_flight = 0
    t0 = time.perf_counter()
    for chunk in stream(calls):
        for raw in framer.feed(chunk):
            if isinstance(raw, bytes):
                msg = parse(decode(raw))
                finished += len(tracker.feed(msg, event_time(msg, 0.0)))
        peak_in_flight = max(peak_in_flight, len(tracker.calls))
        if warm is None and finished >= 10_000:
            warm = rss_mb()
    took = time.perf_counter() - t0
    after = rss_mb()
    print(f"calls finished: {finished:,} of {calls:,} in {took:.0f} s ({finished / took:,.0f} calls/s)")
    print(f"calls in flight at the end: {len(tracker.calls)}, most at once: {peak_in_flight}")
    print(f"RSS before: {before:.1f} MB, after 10,000 calls: {warm or float('nan'):.1f} MB, after all: {after:.1f} MB")
    print(f"growth after warm-up: {after - (warm or before):+.1f} MB over {finished - 10_000:,} calls")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
