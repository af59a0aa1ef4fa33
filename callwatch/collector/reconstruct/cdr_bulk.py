"""Grouping a whole file's CDR rows at once: the same groups, row order and resume offset as `CdrGrouper`.

`CdrGrouper` takes rows one at a time (a tailed log grows); a file read whole
(sources.master_csv_columns) is grouped here with its keys turned into small
integers first and the grouper's steps inlined. The steps are CdrGrouper.add,
_expire, _pop and finish, one for one: the same group ids (so merged groups
join in the same order, and their rows keep the order call_from_rows sees),
the same settle horizon and buffer bound, the same ResumePoint. The one rule
left out is the reused-uniqueid check; `grouped_rows` returns None when it
could apply (a uniqueid on two different channels) and the caller then uses
CdrGrouper itself. tests/test_import_columns.py compares the two.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from callwatch.collector.reconstruct.cdr import MAX_BUFFERED_ROWS, SETTLE, ResumePoint, Span
from callwatch.collector.reconstruct.channels import base_channel
from callwatch.collector.sources.master_csv import CdrRow


def _keys(rows: list[CdrRow]) -> list[list[int]] | None:
    """CdrGrouper.keys of each row as integers (one number per distinct key text), or None when a uniqueid
    names rows of two different channels (CdrGrouper's reused-uniqueid rule could then split them)."""
    ids: dict[str, int] = {}
    seen_on: dict[str, str] = {}
    out: list[list[int]] = []
    for row in rows:
        if row.linkedid:
            out.append([ids.setdefault("l:" + row.linkedid, len(ids))])
            continue
        channel = base_channel(row.channel)
        keys = [ids.setdefault("c:" + channel, len(ids))]
        if row.dstchannel:
            keys.append(ids.setdefault("c:" + base_channel(row.dstchannel), len(ids)))
        if row.uniqueid:
            if seen_on.setdefault(row.uniqueid, channel) != channel:
                return None
            keys.append(ids.setdefault("u:" + row.uniqueid, len(ids)))
        out.append(keys)
    return out


class _Group:
    __slots__ = ("keys", "last_end", "rows", "span")

    def __init__(self, rows: list[int], span: Span, last_end: datetime) -> None:
        self.rows = rows
        self.keys: set[int] = set()
        self.span = span
        self.last_end = last_end


def grouped_rows(
    rows: list[CdrRow], eof: int, settle: timedelta = SETTLE, max_rows: int = MAX_BUFFERED_ROWS
) -> tuple[list[list[CdrRow]], int] | None:
    """The groups CdrGrouper gives for `rows` fed in order and then finished at `eof`, in the order it gives
    them, and the resume offset finish() returns; None when CdrGrouper itself must do it."""
    keys_of = _keys(rows)
    if keys_of is None:
        return None
    owner: dict[int, int] = {}
    groups: OrderedDict[int, _Group] = OrderedDict()
    resume = ResumePoint()
    done: list[list[int]] = []
    latest_end: datetime | None = None
    horizon: datetime | None = None
    buffered = 0
    next_id = 0

    def pop(gid: int) -> None:
        nonlocal buffered
        group = groups.pop(gid)
        for k in group.keys:
            if owner.get(k) == gid:
                del owner[k]
        buffered -= len(group.rows)
        live_first = next(iter(groups.values())).span.first if groups else None
        resume.done(group.span, live_first)
        done.append(group.rows)

    for i, row in enumerate(rows):
        keys = keys_of[i]
        found = [owner[k] for k in keys if k in owner]
        end = row.end
        if found:
            gid = min(found)
            group = groups[gid]
            for other_id in {g for g in found if g != gid}:
                other = groups.pop(other_id)
                group.rows.extend(other.rows)
                group.keys |= other.keys
                group.span.first = min(group.span.first, other.span.first)
                group.span.last = max(group.span.last, other.span.last)
                group.last_end = max(group.last_end, other.last_end)
                for k in other.keys:
                    owner[k] = gid
            group.rows.append(i)
            group.span.last = row.offset
            if end > group.last_end:
                group.last_end = end
        else:
            gid = next_id
            next_id += 1
            group = _Group([i], Span(row.offset, row.offset), end)
            groups[gid] = group
        for k in keys:
            if k not in group.keys:
                group.keys.add(k)
                owner[k] = gid
        buffered += 1
        if latest_end is None or end > latest_end:
            latest_end = end
            horizon = end - settle
        while groups:
            front_id, front = next(iter(groups.items()))
            if (horizon is None or front.last_end >= horizon) and buffered <= max_rows:
                break
            pop(front_id)

    # CdrGrouper.finish: the spans still open, then every buffered group.
    last_horizon = latest_end - settle if latest_end else None
    open_spans = [Span(g.span.first, g.span.last) for g in groups.values()
                  if last_horizon is None or g.last_end >= last_horizon]
    for gid in list(groups):
        pop(gid)
    return [[rows[i] for i in group] for group in done], resume.offset(open_spans, eof)
