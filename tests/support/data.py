"""The real Asterisk recording the tests replay (a copy under tests/data/) and its ground truth."""

from __future__ import annotations

import csv
from pathlib import Path

SET_A = Path(__file__).resolve().parent.parent / "data" / "asterisk-set-a"
MASTER_CSV = SET_A / "Master.csv"
QUEUE_LOG = SET_A / "queue_log"


def ground_truth() -> list[dict[str, str]]:
    """One row per scripted call of set A: what really happened (ground-truth.csv)."""
    with (SET_A / "ground-truth.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))
