"""AMI wire format: the banner line, then messages of `Key: Value` lines ended by a blank line.

Framing happens on bytes and decoding on whole messages, so a multi-byte
character split across two TCP reads arrives intact (panoramisk decodes each
read separately and loses it). Anything malformed is reported, never raised:
a PBX that sends garbage must not stop the collector.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Real AMI messages are a few hundred bytes; a CoreShowChannel with many
# variables stays under a few KB. Anything far beyond is garbage or an attack.
MAX_MESSAGE_BYTES = 64 * 1024

_TERMINATOR = re.compile(rb"\r?\n\r?\n")

Message = dict[str, str]


@dataclass(slots=True)
class Skipped:
    """Bytes the framer threw away, and why (for the log and the counters)."""

    reason: str
    size: int


class Framer:
    """Cuts a byte stream into raw AMI messages.

    Feed it whatever `recv` returned; it yields complete messages (bytes,
    without the blank line) and `Skipped` records for oversized junk. The
    first line after connecting is the banner, which has no blank line after
    it; `expect_banner` makes the framer hand it over on its own.
    """

    def __init__(self, *, expect_banner: bool = True, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._buf = bytearray()
        self._expect_banner = expect_banner
        self._max = max_bytes
        self._discarding = False  # inside an oversized message: drop until its end
        self._sep: bytes | None = None  # b"\r\n\r\n" (always, from Asterisk) or b"\n\n"
        self.banner: str | None = None

    def feed(self, data: bytes) -> Iterator[bytes | Skipped]:
        self._buf += data
        if self._expect_banner:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > self._max:
                    self._expect_banner = False
                    yield Skipped("no banner line", len(self._buf))
                    self._buf.clear()
                return
            self.banner = self._buf[:end].rstrip(b"\r").decode("utf-8", "replace")
            del self._buf[: end + 1]
            self._expect_banner = False
        start = 0
        buf = self._buf
        while True:
            if self._sep is None:
                # Asterisk ends lines with CRLF; learn the stream's style once, then use a plain find.
                match = _TERMINATOR.search(buf, start)
                if match is None:
                    break
                self._sep = match.group()
                end, next_start = match.span()
            else:
                end = buf.find(self._sep, start)
                if end < 0:
                    break
                next_start = end + len(self._sep)
            if self._discarding:
                self._discarding = False
                yield Skipped("oversized message (tail)", end - start)
            elif end - start > self._max:
                yield Skipped("oversized message", end - start)
            elif end > start:
                yield bytes(buf[start:end])
            start = next_start
        del buf[:start]
        if len(buf) > self._max:
            # No end in sight: keep memory flat by dropping what we have and
            # everything up to the next blank line.
            yield Skipped("oversized message (no end yet)", len(buf))
            # Keep the last 3 bytes: they may be the first half of "\r\n\r\n".
            del buf[:-3]
            self._discarding = True

    @property
    def pending(self) -> int:
        return len(self._buf)


def decode(raw: bytes) -> str:
    """Bytes to text; invalid UTF-8 becomes U+FFFD instead of an exception."""
    return raw.decode("utf-8", "replace")


def parse(text: str) -> Message:
    """`Key: Value` lines to a dict; the first of a repeated key wins.

    Lines without a colon (a truncated line, noise) are ignored. Repeated keys
    only occur for channel variables, which callwatch does not need.
    """
    message: Message = {}
    for line in text.split("\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key and key not in message:
            message[key] = value.strip()
    return message


def action(name: str, action_id: str, **fields: str) -> bytes:
    """Encode one action; values must not contain line breaks (they would inject headers)."""
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in fields.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"AMI field {key} contains a line break")
        lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def event_time(message: Message, received_at: float) -> float:
    """The PBX's own `Timestamp` (timestampevents=yes), else when we received it."""
    stamp = message.get("Timestamp")
    if stamp:
        try:
            return float(stamp)
        except ValueError:
            pass
    return received_at
