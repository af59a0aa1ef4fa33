"""Writes freepbx-cdr.csv: set A's Master.csv as FreePBX's "CDR Reports" download would hold it.

The cdr table keeps calldate (local time), duration and billsec but no answer or
end time, and adds did, cnum, cnam, dst_cnam and the linkedid columns; set A has
no linkedid, so those stay empty. Run from the repository root.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
MASTER = HERE.parent / "asterisk-set-a" / "Master.csv"
# The header FreePBX's CDR module writes (functions.inc.php, cdr_export_csv), in its order.
COLUMNS = (
    "calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
    "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "did",
    "cnum", "cnam", "outbound_cnum", "outbound_cnam", "dst_cnam", "recordingfile", "linkedid",
    "peeraccount", "sequence",
)
NAMES = {"101": "Anna Lee", "102": "Ben Ortiz", "103": "Cara Diaz"}
ZONE = ZoneInfo("America/New_York")


def main() -> None:
    with MASTER.open(newline="") as fh, (HERE / "freepbx-cdr.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for seq, f in enumerate(csv.reader(fh)):
            start = datetime.fromisoformat(f[9]).replace(tzinfo=UTC).astimezone(ZONE)
            dialled = f[6].split("/")[1].split("@")[0] if f[6].startswith("Local/") else ""
            writer.writerow([
                start.strftime("%Y-%m-%d %H:%M:%S"), f[4], f[1], f[2], f[3], f[5], f[6], f[7], f[8],
                f[12], f[13], f[14], f[15], f[0], f[16], f[17], f[2] if f[3] == "from-trunk" else "",
                f[1], "PATIENT", "", "", NAMES.get(dialled, ""), "", "", "", seq,
            ])


if __name__ == "__main__":
    main()
