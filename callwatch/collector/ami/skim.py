"""A journal line's few headers read straight from its bytes, without decoding JSON or splitting headers.

Two thirds of what a PBX sends (DeviceStateChange, Newstate, VarSet of variables
callwatch does not read, bridge events, ...) only move the tracker's clocks, so
`callwatch replay` reads just their Event (and VarSet's Variable), Linkedid and
Timestamp here, and decodes every other line in full.

Exactness first: a header is taken from the bytes only when that is provably
what protocol.parse would give after json.loads: the `Key:` found starts a line
(it follows the start of the text or a `\\n` escape that is no escaped
backslash), no earlier line can strip to the same key (the first of a repeated
key wins), and the value is ASCII and ends at a line break (`\\r\\n`, `\\n`) or the
text's end. Anything else returns None and the line is decoded as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

_TAIL = b'"}'
BLOCK_BYTES = 1 << 22

# (event, variable) -> whether the tracker reads more of that message than its Linkedid and time.
Reads = Callable[[str | None, str | None], bool]


def lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(start offset, line without its newline) for each line of a journal file, read in large blocks."""
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
            for line in data[: cut - 1].split(b"\n"):
                yield offset, line
                offset += len(line) + 1
    if rest:
        yield offset, rest


# What Asterisk writes first in every event with timestampevents=yes: the journal time, then the
# Event, Privilege and Timestamp lines. Anchored at the line's start, so no earlier line can repeat a key.
_OPENING = re.compile(rb'\{"t":(\d+\.\d+),"m":"Event: (\w+)\\r\\nPrivilege: [^\\"]*\\r\\nTimestamp: (\d+\.\d+)\\r\\n')


def skim(line: bytes, reads: Reads) -> tuple[str | None, float] | None:
    """(Linkedid or None, event time) of a message the tracker does not read; None: decode this line in full."""
    opening = _OPENING.match(line)
    if opening is None or not line.endswith(_TAIL):
        return None
    event = opening[2].decode()
    m = line[opening.end() - 4 : -2]  # from the line break before the fourth line
    if b'"' in m or b"\\u" in m:
        return None  # a raw quote: not a line Journal wrote; \u escapes could spell a key
    try:
        if reads(event, _header(m, b"Variable") if event == "VarSet" else None):
            return None
        return _header(m, b"Linkedid"), float(opening[3])
    except _Unsure:
        return None


class _Unsure(Exception):
    """The bytes alone cannot tell what protocol.parse would read (rare: the line is decoded instead)."""


def _header(m: bytes, key: bytes) -> str | None:
    """The first `key:` line's value after the opening, stripped, or None when there is none."""
    first = m.find(key)
    if first < 0:
        return None
    if first < 2 or m[first - 2 : first] != b"\\n" or (first >= 3 and m[first - 3] == 0x5C):
        raise _Unsure  # inside a value, or after an escape or a space
    start = first + len(key)
    if m[start : start + 1] != b":":
        raise _Unsure  # "key " or "keyX": maybe another key, maybe this one with a space
    end = m.find(b"\\", start)
    if end < 0:
        value = m[start + 1 :]
    elif m[end + 1 : end + 2] == b"n" or m[end + 1 : end + 4] == b"r\\n":
        value = m[start + 1 : end]
    else:
        raise _Unsure  # an escape inside the value
    if not value.isascii():
        raise _Unsure  # str.strip() strips more than bytes.strip() outside ASCII
    return value.decode().strip()
