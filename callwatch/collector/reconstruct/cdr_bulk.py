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
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from callwatch.collector.reconstruct.cdr import MAX_BUFFERED_ROWS, SETTLE, ResumePoint, RowGroup, Span
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


def grouped_rows(
    rows: list[CdrRow], eof: int, settle: timedelta = SETTLE, max_rows: int = MAX_BUFFERED_ROWS
) -> tuple[list[list[CdrRow]], int] | None:
    """The groups CdrGrouper gives for `rows` fed in order and then finished at `eof`, in the order it gives
    them, and the resume offset finish() returns; None when CdrGrouper itself must do it."""
    keys_of = _keys(rows)
    if keys_of is None:
        return None
    owner: dict[int, int] = {}
    groups: OrderedDict[int, RowGroup[int, int]] = OrderedDict()
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
                group.absorb(other)
                for k in other.keys:
                    owner[k] = gid
            group.rows.append(i)
            group.span.last = row.offset
            if end > group.last_end:
                group.last_end = end
        else:
            gid = next_id
            next_id += 1
            group = RowGroup([i], set(), Span(row.offset, row.offset), end)
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


@dataclass(slots=True)
class BulkGroups:
    """The calls of a whole file as CdrGrouper would give them, found with array operations.

    `groups` are in the order CdrGrouper gives them, each with its rows in file
    order; `streaming_order(i)` is group i's rows in the order CdrGrouper merges
    them (what call_from_rows sees; cdr_shapes.simple_inbound_call does not
    depend on the order, so only the groups it declines need it).
    """

    rows: list[CdrRow]
    keys: np.ndarray
    members: list[np.ndarray]  # row indices of each group, in file order
    new_gid: np.ndarray  # the group id CdrGrouper gives a row that starts a group (-1: it joins one)
    resume: int

    @property
    def groups(self) -> list[list[CdrRow]]:
        rows = self.rows
        return [[rows[i] for i in m] for m in self.members]

    def group(self, i: int) -> list[CdrRow]:
        rows = self.rows
        return [rows[j] for j in self.members[i].tolist()]

    def streaming_order(self, i: int) -> list[CdrRow]:
        """CdrGrouper.add's merges replayed on one group's rows, with CdrGrouper's own group ids (the
        order a merge takes two other groups in depends on them)."""
        owner: dict[int, int] = {}
        merged: dict[int, tuple[list[int], set[int]]] = {}
        for j in self.members[i].tolist():
            keys = _row_keys(self.keys[j])
            found = [owner[k] for k in keys if k in owner]
            if found:
                gid = min(found)
                rows, own_keys = merged[gid]
                for other_id in {g for g in found if g != gid}:
                    other_rows, other_keys = merged.pop(other_id)
                    rows.extend(other_rows)
                    own_keys |= other_keys
                    for k in other_keys:
                        owner[k] = gid
                rows.append(j)
            else:
                gid = int(self.new_gid[j])
                rows, own_keys = [j], set()
                merged[gid] = (rows, own_keys)
            for k in keys:
                if k not in own_keys:
                    own_keys.add(k)
                    owner[k] = gid
        (order, _), = merged.values()
        return [self.rows[j] for j in order]


def _row_keys(keys: np.ndarray) -> list[int]:
    """One row's CdrGrouper.keys, in its order: the linkedid alone, else channel, dialled channel, uniqueid."""
    if keys[3] >= 0:
        return [int(keys[3])]
    return [int(k) for k in keys[:3] if k >= 0]


def bulk_groups(
    rows: list[CdrRow], end_us: np.ndarray, keys: np.ndarray, eof: int,
    settle: timedelta = SETTLE, max_rows: int = MAX_BUFFERED_ROWS,
) -> BulkGroups | None:
    """CdrGrouper's groups of a whole file with array operations, or None when CdrGrouper could have
    grouped otherwise (a reused uniqueid, a call cut by the settle horizon or the buffer bound): then
    grouped_rows replays it row by row.

    The groups are the connected rows (rows sharing a key). CdrGrouper gives
    the same groups when none of them is closed before its last row: its rows
    are held while their call's earliest end is within `settle` of the latest
    end seen, and the buffer never exceeds `max_rows`. It closes groups oldest
    first, so their order is the order of their first rows.
    """
    n = len(rows)
    if n == 0:
        return None
    linked = keys[:, 3] >= 0
    # CdrGrouper's reused-uniqueid rule can only apply to a uniqueid on two different channels.
    has_uid = (keys[:, 2] >= 0) & ~linked
    pairs = np.unique(np.stack((keys[has_uid, 2], keys[has_uid, 0]), axis=1), axis=0)
    if len(pairs) and np.any(pairs[1:, 0] == pairs[:-1, 0]):
        return None
    # Rows and keys as one graph: rows sharing a key are one group.
    row_of = np.repeat(np.arange(n), 4).reshape(n, 4)
    used = keys >= 0
    used[linked, :3] = False
    key_nodes = keys[used]
    uniq_keys, key_index = np.unique(key_nodes, return_inverse=True)
    graph = coo_matrix((np.ones(len(key_nodes), dtype=np.int8), (row_of[used], n + key_index)),
                       shape=(n + len(uniq_keys), n + len(uniq_keys)))
    _count, labels = connected_components(graph, directed=False)
    labels = labels[:n]
    # Groups in the order of their first rows (CdrGrouper's ids are in creation order).
    _, first_row, rank = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first_row, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    group_of = position[rank]  # each row's group, numbered in CdrGrouper's order
    members_sorted = np.argsort(group_of, kind="stable")  # rows by group, file order within
    sizes = np.bincount(group_of)
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    ends = end_us[members_sorted]
    starts_at = bounds[:-1]
    last_row = members_sorted[bounds[1:] - 1]
    first = members_sorted[starts_at]
    min_end = np.minimum.reduceat(ends, starts_at)
    max_end = np.maximum.reduceat(ends, starts_at)
    latest = np.maximum.accumulate(end_us)
    settle_us = settle // timedelta(microseconds=1)
    # No part of a group expires before its last row: its earliest end stays within the horizon.
    before_last = latest[np.maximum(last_row - 1, 0)]
    if np.any((last_row > first) & (min_end < before_last - settle_us)):
        return None
    # When each group closes: once complete and behind the horizon, and only after every older group.
    expires = np.maximum(np.searchsorted(latest, max_end + settle_us, side="right"), last_row)
    closes = np.maximum.accumulate(expires)  # n: still open at the end of the file
    closed_rows = np.bincount(np.minimum(closes, n), weights=sizes, minlength=n + 1)[:n]
    if np.any(np.arange(1, n + 1) - np.cumsum(closed_rows) > max_rows):
        return None  # CdrGrouper would have closed a group early to stay within its buffer
    offsets = np.array([r.offset for r in rows], dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    resume = _resume_offset(offsets[first], offsets[last_row], first, closes, max_end,
                            int(latest[-1]) - settle_us, n, eof)
    new_gid = np.full(n, -1, dtype=np.int64)
    starts_group = _starts_group(keys, used, n)
    new_gid[starts_group] = np.arange(int(starts_group.sum()))
    members = np.split(members_sorted, bounds[1:-1])
    return BulkGroups(rows, keys, members, new_gid, resume)


def _starts_group(keys: np.ndarray, used: np.ndarray, n: int) -> np.ndarray:
    """Rows none of whose keys an earlier row had: CdrGrouper makes a new group for each, numbered in order."""
    rows_of = np.repeat(np.arange(n), 4).reshape(n, 4)[used]
    _, first_at, inverse = np.unique(keys[used], return_index=True, return_inverse=True)
    first_row = rows_of[first_at][inverse]  # for each key of each row: the first row that had it
    seen_before = np.zeros(n, dtype=bool)
    seen_before[rows_of[first_row < rows_of]] = True
    return ~seen_before


def _resume_offset(first_offset: np.ndarray, last_offset: np.ndarray, first_row: np.ndarray, closes: np.ndarray,
                   max_end: np.ndarray, horizon: int, n: int, eof: int) -> int:
    """ResumePoint as CdrGrouper feeds it: each group's span as it closes, with the first offset of the
    group then oldest (if already begun); at the end the spans of groups still open, then the rest."""
    resume = ResumePoint()
    count = len(first_offset)
    closes_list = closes.tolist()
    first_list = first_offset.tolist()
    last_list = last_offset.tolist()
    begun = first_row.tolist()
    k = 0
    while k < count and closes_list[k] < n:
        nxt = k + 1
        live = first_list[nxt] if nxt < count and begun[nxt] <= closes_list[k] else None
        resume.done(Span(first_list[k], last_list[k]), live)
        k += 1
    still_open = [Span(first_list[j], last_list[j]) for j in range(k, count) if max_end[j] >= horizon]
    for j in range(k, count):
        resume.done(Span(first_list[j], last_list[j]), first_list[j + 1] if j + 1 < count else None)
    return resume.offset(still_open, eof)
