"""What the tracker needs of a journal line, read straight from its bytes: no JSON decode, no full header split.

Two thirds of what a PBX sends (DeviceStateChange, Newstate, VarSet of variables
callwatch does not read, bridge events, ...) only move the tracker's clocks:
of those `callwatch replay` reads just the Event, Linkedid and time. Of the
events the tracker does read, it pulls only the headers the tracker declares
for that event (AmiTracker.headers) with one precompiled regex per event. The
resync answers, and any line that is not plain, are decoded in full as before.

Exactness first: bytes are read only when the result is provably what
protocol.parse gives after json.loads. The line must be a plain message: the
opening Journal writes for an Asterisk event (journal time, Event, Privilege,
optionally Timestamp), ASCII, no raw quote or control byte, every backslash
part of a `\r\n` escape, no space before a colon or at a line's start. Then a
key is exactly what starts a line up to its colon, a value runs to the next
backslash, and the first of a repeated key wins. Anything else returns None
and the line is decoded in full. The journal is read in 4 MB blocks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

_TAIL = b'"}'
BLOCK_BYTES = 1 << 22

# (event, variable) -> whether the tracker reads more of that message than its Linkedid and time.
Reads = Callable[[str | None, str | None], bool]


def blocks(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    """(start offset of the first line, lines without their newline) for each large block of a journal file."""
    offset = 0
    rest = b""
    with open(path, "rb") as f:
        while data := f.read(BLOCK_BYTES):
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                continue
            rest = data[cut:]
            yield offset, data[: cut - 1].split(b"\n")
            offset += cut
    if rest:
        yield offset, [rest]


def lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(start offset, line without its newline) for each line of a journal file, read in large blocks."""
    for offset, block in blocks(path):
        for line in block:
            yield offset, line
            offset += len(line) + 1


# What Asterisk writes first in every event, as Journal encodes it: the journal time (a JSON number),
# the Event and Privilege lines, then with timestampevents=yes the Timestamp line. Anchored at the start.
_OPENING = re.compile(
    rb'\{"t":((?:0|[1-9]\d*)\.\d+),"m":"Event: (\w+)\\r\\nPrivilege: [^\\"]*\\r\\n(?:Timestamp: (\d+\.\d+)\\r\\n)?'
)
# Bytes JSON never leaves raw in a string (a line holding one is unreadable), the quote (a raw one
# would end the string early) and the backslash (every escape but \r\n is left to the full decode).
_NOT_PLAIN = bytes(range(0x20)) + b'"\\'
_CRLF = b"\\r\\n"
_SKIP = "skip"  # the tracker only counts this event
_FULL = "full"  # the tracker reads more than a table can say (the resync answers): decode it in full

# None: decode the line in full; (None, Linkedid, time): the tracker only counts it (tick);
# (headers, None, time): feed the tracker these headers, all it reads of this event.
Skimmed = tuple[dict[str, str] | None, str | None, float] | None


class Skimmer:
    """Reads from a journal line's bytes what the tracker needs of it, or says the line must be decoded.

    `reads(event, variable)` says whether the tracker reads more of an event than its Linkedid and
    time, `headers(event)` which headers it reads (None: the whole message), and `variables` which
    VarSet variables it reads; AmiTracker's reads, headers and variables_read are meant here.
    """

    def __init__(
        self, reads: Reads, headers: Callable[[str], frozenset[str] | None], variables: frozenset[str]
    ) -> None:
        self._reads = reads
        self._headers = headers
        # A VarSet of a variable read has the variable's name in its bytes; any other only moves clocks.
        self._variable = re.compile(b"|".join(re.escape(v.encode()) for v in sorted(variables)) or b"(?!)")
        self._kinds: dict[bytes, str | re.Pattern[str]] = {}

    def _kind(self, event: bytes) -> str | re.Pattern[str]:
        name = event.decode()
        if name != "VarSet" and not self._reads(name, None):
            kind: str | re.Pattern[str] = _SKIP
        else:
            wanted = self._headers(name)
            if wanted is None:
                kind = _FULL
            else:
                # Event comes from the opening line (the first Event line wins in protocol.parse).
                keys = "|".join(sorted(re.escape(k) for k in wanted - {"Event"}))
                kind = re.compile(r"\\r\\n(" + keys + r"):([^\\]*)")
        self._kinds[event] = kind
        return kind

    def read(self, line: bytes) -> Skimmed:
        """What the tracker needs of this line (see Skimmed), exactly what protocol.parse after
        json.loads would give it; None when the bytes alone cannot tell."""
        opening = _OPENING.match(line)
        if opening is None or line[-2:] != _TAIL:
            return None
        journal_t, event, stamp = opening.groups()
        kind = self._kinds.get(event)
        if kind is None:
            kind = self._kind(event)
        if kind is _FULL:
            return None
        body = line[opening.end() - 4 : -2]  # from the line break before the fourth line
        # A plain message: ASCII (str.strip strips more than spaces beyond it), no raw quote or control
        # byte, every backslash part of a \r\n escape (one pass: what translate deletes is exactly the
        # escapes' backslashes). Then its text is the bytes, and a value ends at the next backslash.
        if not body.isascii() or len(body) - len(body.translate(None, _NOT_PLAIN)) != 2 * body.count(_CRLF):
            return None
        if stamp is not None:
            t = float(stamp)  # protocol.event_time: the PBX's Timestamp
        elif b"Timestamp" not in body:
            t = float(journal_t)  # no Timestamp line at all: the time the journal recorded
        else:
            return None  # a Timestamp line further down: the full decode decides
        if kind is _SKIP or (event == b"VarSet" and not self._variable.search(body)):
            try:
                return None, _linkedid(body), t
            except _Unsure:
                return None
        if b" :" in body or b"\\n " in body:
            return None  # a key with a space before or after it: the table's regex would miss it
        assert not isinstance(kind, str)
        # findall lists the key lines in order: reversed, the first of a repeated key is the one kept.
        headers = {key: value.strip() for key, value in reversed(kind.findall(body.decode()))}
        headers["Event"] = event.decode()
        return headers, None, t


class _Unsure(Exception):
    """The bytes alone cannot tell what protocol.parse would read (rare: the line is decoded instead)."""


def _linkedid(body: bytes) -> str | None:
    """The first Linkedid line's value in a plain message's body, stripped; None when it has none.

    Any line whose key strips to Linkedid holds the word. An occurrence after a byte other than a
    space (DestLinkedid, a value) is part of something else; one that starts a line is the key when
    a colon follows. After a space it might be a spaced key: unsure.
    """
    at = body.find(b"Linkedid")
    while at >= 0:
        if body[at - 4 : at] == _CRLF:
            after = body[at + 8 : at + 9]
            if after == b":":
                end = body.find(b"\\", at + 9)
                return (body[at + 9 : end] if end >= 0 else body[at + 9 :]).strip().decode()
            if after == b" ":
                raise _Unsure  # "Linkedid :" is the key too
        elif body[at - 1 : at] == b" ":
            raise _Unsure
        at = body.find(b"Linkedid", at + 8)
    return None
