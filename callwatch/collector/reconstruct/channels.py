"""What an Asterisk channel name and a CDR row say about a party, and what reconstruction needs from the settings.

Channel names are `TECH/resource-SEQUENCE` (`PJSIP/201-0000002a`) or, for Local
channels, `Local/EXTEN@CONTEXT-SEQUENCE;1` and `;2`: two halves of one leg, the
`;2` half running EXTEN@CONTEXT, the `;1` half held by whoever created it
(https://docs.asterisk.org/Configuration/Channel-Drivers/Local-Channel/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from callwatch.collector.sources.master_csv import CdrRow
from callwatch.config.settings import Settings

EXTENSION = re.compile(r"^[^/]+/([^@;/]+?)(?:@|-[0-9a-f]+(?:;\d)?$|;|$)")
LOCAL_NAME = re.compile(r"^Local/([^@]+)@(.+)-[0-9a-f]+;[12]$", re.IGNORECASE)
# The number is the last <...> of the caller ID; a name may hold markup such as "<b>".
NUMBER_IN_CLID = re.compile(r"<([^<>]*)>\s*$")
LOOKS_LIKE_NUMBER = re.compile(r"^[\d+*#()\-. ]+$")
INTERNAL_NUMBER = re.compile(r"^\d{2,5}$")
# FreePBX follow-me dials `Local/FMPR-201@...` / `Local/FMGL-201@...`; `201#` rings the extension itself.
FREEPBX_WRAPPERS = re.compile(r"^(?:FMPR-|FMGL-)|#$")
UNIQUEID_PARTS = re.compile(r"^(?:.*-)?(\d+)\.(\d+)$")


@dataclass(slots=True)
class CallContext:
    """What reconstruction needs from the settings."""

    site: str
    inbound_contexts: frozenset[str]
    inbound_dids: frozenset[str]
    voicemail_extensions: frozenset[str]
    voicemail_message_seconds: float
    # Channel-name glob patterns of trunks (`PJSIP/trunk-*`): a call that starts on one is inbound.
    inbound_channels: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> CallContext:
        return cls(
            site=settings.site,
            inbound_contexts=frozenset(settings.inbound_contexts),
            inbound_dids=frozenset(settings.inbound_dids),
            voicemail_extensions=frozenset(settings.voicemail_extensions),
            voicemail_message_seconds=settings.voicemail_message_seconds,
            inbound_channels=tuple(settings.inbound_channels),
        )


# Regex work on a channel name or uniqueid, asked several times for each row of a call while it is
# rebuilt: cached, with room for every channel of the calls being grouped (base_channel is cheaper than a cache).
_CACHED = lru_cache(maxsize=1 << 16)


def base_channel(channel: str) -> str:
    """Both halves of a Local channel pair (`...;1` and `...;2`) name one leg."""
    if len(channel) > 2 and channel[-2] == ";" and channel[-1] in "12":
        return channel[:-2]
    return channel


@_CACHED
def extension_of(channel: str) -> str | None:
    """`Local/101@staff-000000d4;1`, `PJSIP/101-0000002a` and `Local/FMPR-101@from-internal-…;1` are 101."""
    match = EXTENSION.match(channel)
    if not match:
        return None
    return FREEPBX_WRAPPERS.sub("", match.group(1))


@_CACHED
def local_target(channel: str) -> tuple[str, str] | None:
    """(exten, context) a Local channel was created for, from its name."""
    match = LOCAL_NAME.match(channel)
    return (match.group(1), match.group(2)) if match else None


def caller_number(src: str, clid: str) -> str:
    if src:
        return src
    match = NUMBER_IN_CLID.search(clid)
    if match:
        return match.group(1)
    # A caller ID without <number> is a bare number, or a name: never store a name as the number.
    return clid if LOOKS_LIKE_NUMBER.match(clid) else ""


@_CACHED
def uniqueid_order(uniqueid: str) -> tuple[int, int] | None:
    """Asterisk uniqueids are `[system-]EPOCH.SEQUENCE`: smaller means the channel was created first."""
    match = UNIQUEID_PARTS.match(uniqueid)
    return (int(match.group(1)), int(match.group(2))) if match else None


def matches_channel(channel: str, patterns: tuple[str, ...]) -> str | None:
    """The first `inbound_channels` pattern the channel (or its Local pair's base) matches."""
    for pattern in patterns:
        if fnmatchcase(channel, pattern) or fnmatchcase(base_channel(channel), pattern):
            return pattern
    return None


def is_extension(number: str) -> bool:
    return bool(INTERNAL_NUMBER.match(number))


def where(row: CdrRow) -> str:
    """How an explanation names a row: its line in the file or table."""
    return f"line {row.line}"


def ring_limit(app: str, data: str) -> float | None:
    """The ring limit a dialplan application was given: Dial(targets,TIMEOUT) or
    Queue(name,opts,url,announce,TIMEOUT); None for another application or no number."""
    index = {"dial": 1, "queue": 4}.get(app.lower())
    args = data.split(",")
    if index is None or len(args) <= index:
        return None
    try:
        return float(args[index])
    except ValueError:
        return None
