"""Asterisk Channel Event Logging (CEL): `cel_custom` CSV files and `cel` database tables.

CEL writes one row per channel event (CHAN_START, ANSWER, BRIDGE_ENTER,
PICKUP, BLINDTRANSFER, LINKEDID_END, ...), so it knows what CDR rows cannot:
when each callee channel began ringing, who picked up, where a call was
transferred. cel_custom files have no header; their columns are whatever the
mapping in cel_custom.conf says. Known layouts (by column count):

- 20: the legacy `[mappings]` line of callwatch's docs and of our recordings:
  eventtype, eventtime, CALLERID(name/num/ANI/RDNIS/DNID), exten, context,
  channame, appname, appdata, amaflags, accountcode, uniqueid, linkedid,
  BRIDGEPEER, userfield, userdeftype, eventextra;
- 21: Asterisk's sample legacy mapping (the same with "My Literal" second);
- 24: Asterisk's sample advanced mapping (`fields = EventType,EventEnum,...`).

Any other mapping: list its fields in the settings (`cel_fields`, the
advanced mapping's names). Field names and the sample mappings:
https://github.com/asterisk/asterisk/blob/master/configs/samples/cel_custom.conf.sample
Event names: https://docs.asterisk.org/Asterisk_22_Documentation/API_Documentation/AMI_Events/CEL/
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, BinaryIO

from callwatch.collector.sources import LineCursor, Reject, SourceError, clip
from callwatch.collector.sources.master_csv import local_to_utc, split_csv_lines

EVENT_TYPES = frozenset({
    "CHAN_START", "CHAN_END", "ANSWER", "HANGUP", "APP_START", "APP_END", "PARK_START", "PARK_END",
    "USER_DEFINED", "BRIDGE_ENTER", "BRIDGE_EXIT", "BRIDGE_START", "BRIDGE_END", "BRIDGE_UPDATE",
    "BLINDTRANSFER", "ATTENDEDTRANSFER", "PICKUP", "FORWARD", "LINKEDID_END", "LOCAL_OPTIMIZE",
    "LOCAL_OPTIMIZE_BEGIN", "STREAM_BEGIN", "STREAM_END", "DTMF", "CONF_START", "CONF_END", "CONF_ENTER",
    "CONF_EXIT", "3WAY_START", "3WAY_END", "TRANSFER", "HOOKFLASH",
})

# Our names for the fields a call needs, and the names they go by in mappings and tables
# (advanced cel_custom field names, legacy variables, cel_odbc/cel_pgsql/FreePBX columns).
ALIASES: dict[str, str] = {
    "eventtype": "eventtype", "eventtime": "eventtime",
    "cidname": "cid_name", "cid_name": "cid_name", "callerid(name)": "cid_name",
    "cidnum": "cid_num", "cid_num": "cid_num", "callerid(num)": "cid_num",
    "cidani": "cid_ani", "cid_ani": "cid_ani", "callerid(ani)": "cid_ani",
    "ciddnid": "cid_dnid", "cid_dnid": "cid_dnid", "callerid(dnid)": "cid_dnid",
    "exten": "exten", "context": "context", "channame": "channel",
    "appname": "appname", "appdata": "appdata", "uniqueid": "uniqueid", "linkedid": "linkedid",
    "peer": "peer", "bridgepeer": "peer", "extra": "extra", "eventextra": "extra",
}
LEGACY_20 = ("eventtype", "eventtime", "cidname", "cidnum", "cidani", "cidrdnis", "ciddnid", "exten", "context",
             "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid", "linkedid", "peer",
             "userfield", "userdeftype", "eventextra")
LEGACY_SAMPLE_21 = (LEGACY_20[0], "-", *LEGACY_20[1:])
ADVANCED_SAMPLE_24 = ("eventtype", "eventenum", "-", "eventtime", "usereventname", "cidname", "cidnum", "exten",
                      "context", "channame", "appname", "appdata", "amaflags", "acctcode", "uniqueid",
                      "userfield", "cidani", "cidrdnis", "ciddnid", "peer", "linkedid", "peeracct", "extra",
                      "tenantid")
KNOWN_LAYOUTS: dict[int, tuple[str, ...]] = {len(x): x for x in (LEGACY_20, LEGACY_SAMPLE_21, ADVANCED_SAMPLE_24)}
NEEDED = ("eventtype", "eventtime", "channel", "uniqueid", "linkedid")


@dataclass(slots=True)
class CelEvent:
    line: int
    offset: int
    eventtype: str
    time: datetime
    cid_name: str
    cid_num: str
    cid_ani: str
    cid_dnid: str
    exten: str
    context: str
    channel: str
    appname: str
    appdata: str
    uniqueid: str
    linkedid: str
    peer: str
    extra: str

    def extra_field(self, name: str) -> str:
        """One key of the JSON `eventextra` (dialstatus, pickup_channel, extension, ...), "" if absent."""
        if not self.extra.startswith("{"):
            return ""
        try:
            value = json.loads(self.extra).get(name, "")
        except (ValueError, AttributeError):
            # FreePBX's cel.eventextra is VARCHAR(255): a long JSON arrives cut short; take what is whole.
            found = re.search(r'"' + re.escape(name) + r'"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+))', self.extra)
            return (found.group(1) or found.group(2) or "") if found else ""
        return "" if value is None else str(value)


def layout_for(fields: Sequence[str]) -> dict[str, int]:
    """Column index of each field callwatch reads; SourceError when a needed one is missing."""
    index: dict[str, int] = {}
    for i, name in enumerate(fields):
        ours = ALIASES.get(name.strip().lower())
        if ours is not None and ours not in index:
            index[ours] = i
    missing = [n for n in NEEDED if n not in index]
    if missing:
        raise SourceError(f"the CEL layout has no {', '.join(missing)} field (fields: {', '.join(fields)})")
    return index


def parse_event_time(value: object, *, gmt: bool, zone: tzinfo) -> datetime:
    """Epoch seconds (cel.conf without dateformat) are UTC; a formatted time is the PBX's local time unless gmt."""
    if isinstance(value, datetime):
        naive = value
    else:
        text = str(value).strip()
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except ValueError:
            pass
        try:
            naive = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"eventtime {clip(text, 40)!r} is neither epoch seconds nor YYYY-MM-DD HH:MM:SS") from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=UTC) if gmt else local_to_utc(naive, zone)


def event_from(values: Mapping[str, Any], line: int, *, gmt: bool, zone: tzinfo) -> CelEvent:
    """A CelEvent from our field names (a CSV row through its layout, or a table row); ValueError names the field."""
    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value)

    eventtype = text("eventtype").strip()
    if eventtype not in EVENT_TYPES:
        raise ValueError(f"unknown CEL event type {clip(eventtype, 40)!r}")
    if not text("channel"):
        raise ValueError("empty channame")
    time = parse_event_time(values.get("eventtime"), gmt=gmt, zone=zone)
    return CelEvent(line, line, eventtype, time, text("cid_name"), text("cid_num"), text("cid_ani"),
                    text("cid_dnid"), text("exten"), text("context"), text("channel"), text("appname"),
                    text("appdata"), text("uniqueid"), text("linkedid"), text("peer"), text("extra"))


class CelCsvParser:
    """Turns cel_custom lines into `CelEvent`s and `Reject`s; the layout comes from the width or `fields`."""

    def __init__(self, *, zone: tzinfo, fields: Sequence[str] = ()) -> None:
        self.zone = zone
        self.fields = tuple(fields)
        self._layouts: dict[int, dict[str, int]] = {}

    def layout(self, width: int) -> dict[str, int]:
        found = self._layouts.get(width)
        if found is None:
            names = self.fields if self.fields else KNOWN_LAYOUTS.get(width)
            if names is None or len(names) != width:
                known = sorted({*KNOWN_LAYOUTS, *([len(self.fields)] if self.fields else [])})
                raise ValueError(f"{width} columns; the CEL layouts known here have {known} "
                                 "(list your cel_custom.conf fields in the setting cel_fields)")
            found = self._layouts[width] = layout_for(names)
        return found

    def events(self, fh: BinaryIO, cursor: LineCursor) -> Iterator[CelEvent | Reject]:
        for line, offset, text, fields, error in split_csv_lines(fh, cursor):
            if fields is None:
                yield Reject(line, error, clip(text), offset)
                continue
            try:
                layout = self.layout(len(fields))
                event = event_from({k: fields[i] for k, i in layout.items()}, line, gmt=False, zone=self.zone)
            except (ValueError, SourceError) as exc:
                yield Reject(line, str(exc), clip(text), offset)
                continue
            event.offset = offset
            yield event


def looks_like_cel(fields: list[str], cel_fields: Sequence[str] = ()) -> bool:
    """For format detection: a cel_custom row of a known width whose event type is a CEL event name."""
    names = tuple(cel_fields) if cel_fields else KNOWN_LAYOUTS.get(len(fields))
    if names is None or len(names) != len(fields):
        return False
    try:
        layout = layout_for(names)
    except SourceError:
        return False
    return fields[layout["eventtype"]].strip() in EVENT_TYPES
