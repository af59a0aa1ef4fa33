"""Write a realistic, deterministic sample of a small practice's Asterisk logs.

    python -m callwatch.sample.generate [--days 28] [--start 2026-10-05] [--calls-per-day 55]

Four weeks of a dental practice in New York, in the exact formats of
tests/data/asterisk-set-a (cdr_csv Master.csv with uniqueid and userfield, GMT;
queue_log), with the same dialplan: DID 5550100 rings the front desk (101)
24 s then voicemail; 5550200 rings 101 and 102 together; 5550300 plays a 6 s
greeting first; 5550400 is the `frontdesk` queue (Alice 201, Bob 202, 15 s
rounds, 40 s then voicemail). Calls follow business hours with a lunch dip;
some go to voicemail or are abandoned; staff call some of them back. Ring
times improve after the 2026-10-14 phone-etiquette training of the example
config. `bench/import_master_csv.py` uses the same writer for a big file.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/New_York")
HERE = Path(__file__).parent
TRAINING = date(2026, 10, 14)
# Relative call volume by local hour: mornings busiest, a dip at lunch.
HOURLY = {8: 1.5, 9: 1.7, 10: 1.3, 11: 1.1, 12: 0.55, 13: 1.0, 14: 1.1, 15: 1.0, 16: 0.8}
ROUTES = (("5550100", 0.45), ("5550200", 0.2), ("5550300", 0.12), ("5550400", 0.23))
DIAL_TIMEOUT = 24
QUEUE_MAX = 40
QUEUE_ROUND = 15
GREETING = 6
MEMBERS = (("201", "Alice"), ("202", "Bob"))


@dataclass
class Row:
    src: str
    dst: str
    dcontext: str
    clid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None
    end: datetime
    uniqueid: str
    disposition: str = ""

    def csv(self) -> str:
        fmt = "%Y-%m-%d %H:%M:%S"
        duration = int((self.end - self.start).total_seconds())
        billsec = int((self.end - self.answer).total_seconds()) if self.answer else 0
        disposition = self.disposition or ("ANSWERED" if self.answer else "NO ANSWER")
        answer = f'"{self.answer.strftime(fmt)}"' if self.answer else ""
        text = [self.src, self.dst, self.dcontext, self.clid.replace('"', '""'), self.channel, self.dstchannel,
                self.lastapp, self.lastdata]
        quoted = ",".join(f'"{t}"' for t in ["", *text])
        return (f'{quoted},"{self.start.strftime(fmt)}",{answer},"{self.end.strftime(fmt)}",{duration},{billsec},'
                f'"{disposition}","DOCUMENTATION","{self.uniqueid}",""\n')


@dataclass
class Pbx:
    """Hands out channel names and uniqueids the way Asterisk does, and collects what it logs."""

    rng: random.Random
    seq: int = 0
    chan: int = 0
    rows: list[tuple[datetime, int, Row]] = field(default_factory=list)
    queue_log: list[tuple[datetime, int, str]] = field(default_factory=list)

    def uniqueid(self, at: datetime) -> str:
        self.seq += 1
        return f"{int(at.timestamp())}.{self.seq}"

    def local_pair(self, prefix: str, at: datetime) -> tuple[str, str, str]:
        """Base name of a Local channel pair and the uniqueids of its ;1 and ;2 halves."""
        self.chan += 1
        return f"{prefix}-{self.chan:08x}", self.uniqueid(at), self.uniqueid(at)

    def log(self, rows: list[Row]) -> None:
        # cdr_csv writes a channel's rows when that channel hangs up.
        hangup: dict[str, datetime] = {}
        for r in rows:
            hangup[r.channel] = max(hangup.get(r.channel, r.end), r.end)
        for r in rows:
            self.rows.append((hangup[r.channel], len(self.rows), r))

    def queue_event(self, at: datetime, text: str) -> None:
        self.queue_log.append((at, len(self.queue_log), f"{int(at.timestamp())}|{text}\n"))


def _s(at: datetime, seconds: float) -> datetime:
    return at + timedelta(seconds=round(seconds))


def inbound_call(pbx: Pbx, t0: datetime, caller: str, did: str, answer_after: float | None, patience: float,
                 who: str, vm_seconds: float, talk: float) -> str:
    """One inbound call through the set-A dialplan; returns its outcome."""
    clid = f'"PATIENT" <{caller}>'
    base, uid1, uid2 = pbx.local_pair("Local/caller@pstn", t0)
    ch1 = base + ";1"
    rows: list[Row] = []
    if did == "5550400":
        outcome, end = _queue(pbx, rows, t0, caller, clid, ch1, uid1, answer_after, patience, vm_seconds, talk)
    else:
        outcome, end = _dial(pbx, rows, t0, caller, clid, did, ch1, uid1, answer_after, patience, who, vm_seconds,
                             talk)
    rows.append(Row(caller, "caller", "pstn", clid, base + ";2", "", "Milliwatt", "", t0, t0, end, uid2))
    pbx.log(rows)
    return outcome


def _dial(pbx: Pbx, rows: list[Row], t0: datetime, caller: str, clid: str, did: str, ch1: str, uid1: str,
          answer_after: float | None, patience: float, who: str, vm_seconds: float, talk: float
          ) -> tuple[str, datetime]:
    pre = GREETING if did == "5550300" else 0
    if patience < pre:
        end = _s(t0, patience)
        rows.append(Row(caller, did, "from-trunk", clid, ch1, "", "Wait", str(GREETING), t0, t0, end, uid1))
        return "abandoned", end
    exts = ["101", "102"] if did == "5550200" else ["101"]
    ring_at = _s(t0, pre)
    lastdata = "&".join(f"Local/{e}@staff/n" for e in exts) + f",{DIAL_TIMEOUT}"
    ring, answered = _ring(answer_after, patience - pre, DIAL_TIMEOUT)
    stop = _s(ring_at, ring)
    end = _s(stop, talk) if answered else stop
    vm = not answered and ring >= DIAL_TIMEOUT
    for ext in exts:
        base, _, s2 = pbx.local_pair(f"Local/{ext}@staff", ring_at)
        picked = answered and ext == who
        leg_end = end if picked else stop
        rows.append(Row(caller, ext, "staff", clid, base + ";2", "", "Milliwatt" if picked else "Wait",
                        "" if picked else "600", ring_at, stop if picked else None, leg_end, s2,
                        "FAILED" if vm else ""))
        rows.append(Row(caller, did, "from-trunk", clid, ch1, base + ";1", "Dial", lastdata, t0, t0, leg_end, uid1,
                        "ANSWERED" if picked else "NO ANSWER"))
    if vm:
        end = _s(stop, vm_seconds)
        rows.append(Row(caller, did, "from-trunk", clid, ch1, "", "VoiceMail", "100@default,su", stop, stop, end, uid1))
        return "voicemail", end
    return ("answered" if answered else "abandoned"), end


def _ring(answer_after: float | None, patience: float, limit: int) -> tuple[float, bool]:
    """Whole seconds of ringing, as the logs show them, and whether someone answered.

    A caller who would hang up in the last second before the limit is sent to
    voicemail instead: logs with one-second resolution cannot tell the two apart.
    """
    if answer_after is not None and round(answer_after) <= min(patience, limit):
        return float(max(1, round(answer_after))), True
    if patience >= limit - 1:
        return float(limit), False
    return float(round(patience)), False


def _queue(pbx: Pbx, rows: list[Row], t0: datetime, caller: str, clid: str, ch1: str, uid1: str,
           answer_after: float | None, patience: float, vm_seconds: float, talk: float) -> tuple[str, datetime]:
    q = f"{uid1}|frontdesk"
    pbx.queue_event(t0, f"{q}|NONE|ENTERQUEUE||{caller}|1")
    ring, answered = _ring(answer_after, patience, QUEUE_MAX)
    if answered and ring % (QUEUE_ROUND + 1) == 0:
        ring += 1  # nobody can pick up in the second between two rounds of ringing
    stop = _s(t0, ring)
    member = pbx.rng.choice(MEMBERS)
    end = _s(stop, talk) if answered else stop
    round_start = 0
    while round_start < ring or round_start == 0:
        at = _s(t0, round_start)
        round_end = min(round_start + QUEUE_ROUND, ring)
        last = round_end >= ring
        for ext, name in MEMBERS:
            picked = answered and last and ext == member[0]
            base, s1, s2 = pbx.local_pair(f"Local/{ext}@staff", at)
            leg_end = end if picked else _s(t0, round_end)
            rows.append(Row(caller, ext, "staff", clid, base + ";2", "", "Milliwatt" if picked else "Wait",
                            "" if picked else "600", at, _s(t0, ring) if picked else None, leg_end, s2,
                            "" if picked or (last and not answered and ring < QUEUE_MAX) else "FAILED"))
            rows.append(Row(caller, "5550400", "from-trunk", clid, ch1, base + ";1", "Queue",
                            f"frontdesk,r,,,{QUEUE_MAX}", t0, t0, leg_end, uid1,
                            "ANSWERED" if picked else "NO ANSWER"))
            ms = int((round_end - round_start) * 1000)
            if not last:
                pbx.queue_event(_s(t0, round_end), f"{q}|{name}|RINGNOANSWER|{ms}")
            elif not answered and ring < QUEUE_MAX:
                pbx.queue_event(stop, f"{q}|{name}|RINGCANCELED|{ms}")
            if picked:
                pbx.queue_event(stop, f"{q}|{name}|CONNECT|{int(ring)}|{s1}|{int(round_end - round_start)}")
        if last:
            break
        round_start += QUEUE_ROUND + 1
    if answered:
        ender = "COMPLETECALLER" if pbx.rng.random() < 0.5 else "COMPLETEAGENT"
        pbx.queue_event(end, f"{q}|{member[1]}|{ender}|{int(ring)}|{int(talk)}|1")
        return "answered", end
    if ring < QUEUE_MAX:
        pbx.queue_event(stop, f"{q}|NONE|ABANDON|1|1|{int(ring)}")
        return "abandoned", end
    pbx.queue_event(stop, f"{q}|NONE|EXITWITHTIMEOUT|1|1|{QUEUE_MAX}")
    end = _s(stop, vm_seconds)
    rows.append(Row(caller, "5550400", "from-trunk", clid, ch1, "", "VoiceMail", "100@default,su", stop, stop, end,
                    uid1))
    return "voicemail", end


def outbound_call(pbx: Pbx, t0: datetime, ext: str, number: str, talk: float) -> None:
    clid = f'"Staff {ext}" <{ext}>'
    dialled = "9" + number
    off, o1, o2 = pbx.local_pair(f"Local/{ext}@offhook", t0)
    far, _, f2 = pbx.local_pair(f"Local/{dialled}@pstn", t0)
    answered = pbx.rng.random() < 0.7
    ring = pbx.rng.uniform(3, 12) if answered else 30
    end = _s(t0, ring + (talk if answered else 0))
    far_answer = _s(t0, ring) if answered else None
    pbx.log([
        Row(ext, dialled, "pstn", clid, far + ";2", "", "Milliwatt", "", t0, far_answer, end, f2),
        Row(ext, ext, "offhook", clid, off + ";2", "", "Milliwatt", "", t0, t0, end, o2),
        Row(ext, dialled, "from-internal", clid, off + ";1", far + ";1", "Dial", f"Local/{dialled}@pstn/n,30", t0, t0,
            end, o1, "ANSWERED" if answered else "NO ANSWER"),
    ])


def day_of_calls(pbx: Pbx, day: date, per_day: float, patients: list[str]) -> Iterator[tuple[datetime, str]]:
    """Arrivals (UTC) and callers for one day: business hours on weekdays, a trickle otherwise."""
    rng = pbx.rng
    hours = HOURLY if day.weekday() < 5 else {}
    scale = per_day / sum(HOURLY.values())
    arrivals = []
    for hour in range(24):
        rate = hours.get(hour, 0) * scale or (0.25 if 7 <= hour < 20 else 0.03)
        for _ in range(_poisson(rng, rate)):
            local = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE) + timedelta(seconds=rng.uniform(0, 3600))
            arrivals.append(local.astimezone(UTC).replace(microsecond=0))
    for at in sorted(arrivals):
        yield at, rng.choice(patients) if rng.random() < 0.8 else f"617555{rng.randrange(10000):04d}"


def _poisson(rng: random.Random, rate: float) -> int:
    count, t = 0, rng.expovariate(1.0)
    while t < rate:
        count += 1
        t += rng.expovariate(1.0)
    return count


def simulate(start: date, days: int, per_day: float, seed: int, master: TextIO, queue_log: TextIO) -> dict[str, int]:
    rng = random.Random(seed)
    patients = [f"{rng.choice(['617', '857', '781', '339'])}555{rng.randrange(10000):04d}" for _ in range(900)]
    counts: dict[str, int] = {"rows": 0}
    for offset in range(days):
        pbx = Pbx(rng, seq=counts.get("seq", 0), chan=counts.get("chan", 0))
        day = start + timedelta(days=offset)
        trained = day >= TRAINING
        callbacks: list[tuple[datetime, str]] = []
        for t0, caller in day_of_calls(pbx, day, per_day, patients):
            local_hour = t0.astimezone(ZONE).hour
            open_now = day.weekday() < 5 and 8 <= local_hour < 17
            lunch = local_hour == 12
            busy = 0.35 if lunch else 0.12
            answer_after = None
            if open_now and rng.random() > busy:
                answer_after = max(1.0, rng.lognormvariate(1.9 if trained else 2.25, 0.55) + (6 if lunch else 0))
            patience = 2 + rng.expovariate(1 / (90 if open_now else 40))
            did = rng.choices([r for r, _ in ROUTES], [w for _, w in ROUTES])[0]
            who = rng.choice(["101", "102"]) if did == "5550200" else "101"
            vm_seconds = rng.uniform(10, 45) if rng.random() < 0.6 else rng.uniform(1, 6)
            outcome = inbound_call(pbx, t0, caller, did, answer_after, patience, who, vm_seconds, rng.uniform(30, 240))
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome != "answered" and open_now and rng.random() < 0.55:
                callbacks.append((t0 + timedelta(minutes=rng.uniform(5, 180)), caller))
        for at, number in callbacks:
            outbound_call(pbx, at, "101", number, rng.uniform(20, 180))
            counts["outbound"] = counts.get("outbound", 0) + 1
        for _, _, row in sorted(pbx.rows, key=lambda x: (x[0], x[1])):
            master.write(row.csv())
        counts["rows"] += len(pbx.rows)
        queue_log.writelines(text for _, _, text in sorted(pbx.queue_log))
        counts["seq"], counts["chan"] = pbx.seq, pbx.chan
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 10, 5))
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--calls-per-day", type=float, default=55)
    parser.add_argument("--seed", type=int, default=20261005)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "Master.csv").open("w") as master, (args.out / "queue_log").open("w") as qlog:
        counts = simulate(args.start, args.days, args.calls_per_day, args.seed, master, qlog)
    print(", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("seq", "chan")))


if __name__ == "__main__":
    main()
