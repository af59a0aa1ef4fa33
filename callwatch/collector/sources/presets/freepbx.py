"""FreePBX "CDR Reports" CSV download: the asteriskcdrdb `cdr` table, one row per CDR.

These are Asterisk CDRs, so they go through the same reconstruction as
Master.csv (collector/reconstruct/cdr.py), not a one-row-per-call mapper:
rows are grouped by linkedid and the first answer wins. The table keeps only
`calldate` (the start) with `duration` and `billsec`, so end = start + duration
and answer = end - billsec: ring time is derived, in whole seconds.
"""

from __future__ import annotations

from datetime import timedelta

from callwatch.collector.sources import clip
from callwatch.collector.sources.master_csv import DISPOSITIONS, UNIQUEID, CdrRow, epoch_of_uniqueid
from callwatch.collector.sources.presets.base import Preset, PresetContext, Row, parse_time

# The CSV header of the CDR Reports download, in FreePBX's order (its cdr module's cdr_export_csv).
COLUMNS = (
    "calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
    "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "did",
    "cnum", "cnam", "outbound_cnum", "outbound_cnam", "dst_cnam", "recordingfile", "linkedid",
    "peeraccount", "sequence",
)


def _whole(row: Row, name: str) -> int:
    try:
        value = int(row.get(name))
    except ValueError:
        raise ValueError(f"{name} {clip(row.get(name), 20)!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{name} {value} is negative")
    return value


def cdr_row(row: Row, ctx: PresetContext) -> CdrRow:
    """One FreePBX cdr row as the CdrRow the Asterisk reconstruction reads."""
    disposition = row.get("disposition")
    if disposition not in DISPOSITIONS:
        raise ValueError(f"unknown disposition {clip(disposition, 40)!r}")
    if not row.get("channel"):
        raise ValueError("empty channel")
    start = parse_time(row.get("calldate"), ctx.zone, ("%Y-%m-%d %H:%M:%S",), "calldate")
    epoch = epoch_of_uniqueid(row.get("uniqueid"))
    if epoch is not None and abs(epoch - start.timestamp()) > 3600:
        # A local calldate read in the wrong zone shows against the uniqueid's epoch.
        raise ValueError(f"calldate {row.get('calldate')} is far from the uniqueid's time; check the time zone")
    duration, billsec = _whole(row, "duration"), _whole(row, "billsec")
    end = start + timedelta(seconds=duration)
    answer = end - timedelta(seconds=billsec) if disposition == "ANSWERED" else None
    uniqueid = row.get("uniqueid") if UNIQUEID.match(row.get("uniqueid")) else ""
    return CdrRow(row.line, row.offset, row.get("src"), row.get("dst"), row.get("dcontext"), row.get("clid"),
                  row.get("channel"), row.get("dstchannel"), row.get("lastapp"), row.get("lastdata"), start,
                  answer, end, duration, billsec, disposition, uniqueid, row.get("linkedid"),
                  did=row.get("did"), cnum=row.get("cnum"), peeraccount=row.get("peeraccount"),
                  sequence=int(row.get("sequence")) if row.get("sequence").isdigit() else None)


FREEPBX = Preset(
    name="freepbx-cdr",
    vendor="FreePBX",
    export='"CDR Reports" CSV download (asteriskcdrdb cdr table)',
    docs=(
        "https://github.com/FreePBX/cdr/blob/release/16.0/functions.inc.php",
        "https://github.com/FreePBX/cdr/blob/release/16.0/page.cdr.php",
        "https://docs.asterisk.org/Asterisk_20_Documentation/API_Documentation/AMI_Events/Cdr/",
    ),
    ring_time="derived",
    staff_name_column="dst_cnam",
    columns={c: (c,) for c in COLUMNS},
    required=("calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
              "duration", "billsec", "disposition", "uniqueid", "linkedid"),
    meaning={
        "calldate": "start of the CDR (the PBX's local time = the practice's time zone)",
        "duration": "end = calldate + duration",
        "billsec": "answer = end - billsec for ANSWERED rows; ring time derived, whole seconds",
        "linkedid": "rows sharing it are one call (Asterisk CDR reconstruction)",
        "src": "caller",
        "dcontext": "inbound when in inbound_contexts",
        "dstchannel": "answered_by (the extension of the first leg that answered)",
        "lastapp": "Dial/Queue legs ring; VoiceMail means voicemail",
        "disposition": "per leg: ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION",
        "dst_cnam": "the staff name of the dialled extension",
    },
    fmt="asterisk-cdr",
)
