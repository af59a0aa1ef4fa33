"""Run every benchmark in turn (`make bench`), full size or `--quick`.

Each script prints its own ratios against a reference measured in the same
run; this only sequences them so they never compete for the two cores.
Full size means the issue's 1,000,000 rows/calls and takes well over an hour;
`--quick` uses a tenth or less to check that every bench still runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script, full-size arguments, quick arguments
BENCHES: list[tuple[str, list[str], list[str]]] = [
    ("import_master_csv.py", [], ["100000"]),
    ("import_vs_duckdb.py", [], ["100000"]),
    ("bench_metrics.py", [], ["100000"]),
    ("metrics_vs_duckdb.py", [], ["--scale", "0.1", "--repeat", "1"]),
    ("ami_throughput.py", [], ["10"]),
    ("ami_memory.py", [], ["50000"]),
    ("dashboard_callbacks.py", [], ["100000"]),
    ("dashboard_load.py", [], ["--screens", "10", "--seconds", "20"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benches run")
    parser.add_argument("only", nargs="*", help="run only these scripts (e.g. ami_memory.py)")
    args = parser.parse_args()
    failed = []
    for script, full, quick in BENCHES:
        if args.only and script not in args.only:
            continue
        command = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"\n=== {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(script)
        print(f"=== {script}: {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
