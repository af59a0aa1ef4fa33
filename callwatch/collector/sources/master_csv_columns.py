"""A whole Master.csv read column-wise (pyarrow.csv), for the fast import of large files.

The row-by-row reader (master_csv.MasterCsvParser) stays the reference: it
reads every file that is not plainly well formed, and it is the one that names
a bad row's file, line and field. This reader only takes files where reading
column-wise provably gives the very same `CdrRow`s: UTF-8 without NUL or CR,
every line ends with a newline, no empty line, one known width for all rows,
quotes only where the csv module (strict) reads them the same way pyarrow
does, and every value valid (dispositions, whole numbers, ISO times, answer
within start..end). Anything else returns None and the caller reads the file
row by row, so rejects and their messages come from the reference reader.

Local times (`cdr_gmt` off) are converted per distinct text; a file with a time
that is ambiguous or skipped at a DST change (the row reader resolves those
with what else the row says) is read row by row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from callwatch.collector.sources.master_csv import DISPOSITIONS, KNOWN_WIDTHS, UNIQUEID, CdrRow

_NL, _QUOTE, _COMMA = 10, 34, 44
# csv.reader refuses a field longer than this (a Reject): such a file goes row by row.
_FIELD_LIMIT = csv.field_size_limit()
_PIECE = 16 << 20


@dataclass(slots=True)
class MasterColumns:
    """Every row of the file, in file order, and the keys rows are grouped by."""

    rows: list[CdrRow]
    size: int  # bytes read (the whole file)
    # Per row, for grouping without the row objects (collector/reconstruct/cdr_bulk.py): the end in epoch
    # microseconds, and CdrGrouper.keys as numbers: the base channel, the dialled base channel, the
    # uniqueid, the linkedid (-1: none; one number space, so equal numbers are equal keys).
    end_us: np.ndarray
    keys: np.ndarray  # shape (rows, 4)


def read_master_columns(source: bytes | BinaryIO, *, gmt: bool, zone: tzinfo) -> MasterColumns | None:
    """The rows of a Master.csv (its bytes, or a file read from its start), or None when the file must be
    read row by row. Read from a file, its bytes are let go once parsed (a quarter of the peak memory)."""
    data = source if isinstance(source, bytes) else source.read()
    del source
    if not data or not data.endswith(b"\n") or b"\r" in data or b"\x00" in data:
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == _NL)
    starts = np.concatenate(([0], newlines[:-1] + 1))
    lengths = newlines - starts
    # An empty line is skipped by the row reader (and counted): keep line numbers simple.
    if lengths.min() < 1 or lengths.max() >= _FIELD_LIMIT:
        return None
    # In pieces of whole lines: the masks and positions of a whole file would cost gigabytes.
    cut = 0
    while cut < len(raw):
        stop = int(newlines[min(int(np.searchsorted(newlines, cut + _PIECE)), len(newlines) - 1)]) + 1
        if not _quotes_read_alike(raw[cut:stop]):
            return None
        cut = stop
    table = _parse(data)
    size = len(data)
    del data, raw
    if table is None or table.num_rows != len(starts) or table.num_columns not in KNOWN_WIDTHS:
        return None
    try:
        read = _rows(table, starts, gmt, zone)
    except pa.ArrowException:
        return None  # e.g. a column too large for one array: row by row, then
    if read is None:
        return None
    rows, end_us, uniqueid, linkedid = read
    try:
        keys = _keys(table, uniqueid, linkedid)
    except pa.ArrowException:
        return None
    return MasterColumns(rows, size, end_us, keys)


def _quotes_read_alike(piece: np.ndarray) -> bool:
    """Every quote of these whole lines is where the strict csv module and pyarrow read it alike.

    The two differ only on text after a closing quote (csv refuses the row,
    pyarrow reads on) and on a quote inside an unquoted field. Whether a quote
    is met inside a quoted field is the parity of the quotes before it; no line
    may end inside one. Met outside, a quote opens a field (after a comma or at
    a line start) or is the second of a doubled quote (after a quote); met
    inside, it is the first of a doubled quote (before a quote) or closes the
    field (before a comma or the line end). Anything else goes row by row.
    """
    is_quote = piece == _QUOTE
    parity = np.cumsum(is_quote, dtype=np.uint8) & 1  # wraps at 256: the parity survives
    if np.any(parity[piece == _NL]):
        return False  # a quoted field spans lines, or a stray quote: the row reader decides
    at = np.flatnonzero(is_quote)
    if len(at) == 0:
        return True
    prev = piece[np.maximum(at - 1, 0)]
    if at[0] == 0:
        prev[0] = _NL
    nxt = piece[at + 1]  # whole lines: a newline follows the last quote
    outside = parity[at] == 1  # the parity after the quote; odd: it was even (outside) before
    ok_outside = (prev == _COMMA) | (prev == _NL) | (prev == _QUOTE)
    ok_inside = (nxt == _QUOTE) | (nxt == _COMMA) | (nxt == _NL)
    return bool(np.all(np.where(outside, ok_outside, ok_inside)))


def _parse(data: bytes) -> pa.Table | None:
    bad = False

    def invalid(_row: Any) -> str:
        nonlocal bad
        bad = True
        return "skip"

    # The width is not known before reading: read the first line to name the columns, all as strings.
    width = len(next(csv.reader([data[: data.index(b"\n")].decode("utf-8", errors="replace")])))
    names = [f"f{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False,
                                             invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    return None if bad else table


def _strings(table: pa.Table, i: int) -> list[str]:
    """A column as Python strings; repeated values share one object (as dictionary entries)."""
    encoded = pc.dictionary_encode(table.column(i).combine_chunks())
    words = np.array(encoded.dictionary.to_pylist(), dtype=object)
    strings: list[str] = words[encoded.indices.to_numpy(zero_copy_only=False)].tolist()
    return strings


def _whole_numbers(table: pa.Table, i: int) -> list[int] | None:
    column = table.column(i).combine_chunks()
    if not pc.all(pc.match_substring_regex(column, r"^[0-9]{1,18}$")).as_py():
        return None
    numbers: list[int] = pc.cast(column, pa.int64()).to_numpy().tolist()
    return numbers


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# What cdr_csv writes: the one form read here without datetime.fromisoformat (one C call per distinct time).
_PLAIN_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _plain_utc(texts: pa.Array) -> tuple[list[datetime | None], np.ndarray] | None:
    """Distinct GMT times, all `YYYY-MM-DD HH:MM:SS` naming a real second of 1970..9999, as what
    datetime.fromisoformat(text).replace(tzinfo=UTC) gives; None when one is not (the caller parses them)."""
    if len(texts) == 0 or not pc.all(pc.match_substring_regex(texts, _PLAIN_TIME)).as_py():
        return None

    def part(start: int, stop: int) -> np.ndarray:
        return pc.cast(pc.utf8_slice_codeunits(texts, start, stop), pa.int64()).to_numpy()

    year, month, day = part(0, 4), part(5, 7), part(8, 10)
    hour, minute, second = part(11, 13), part(14, 16), part(17, 19)
    if np.any((month < 1) | (month > 12)) or np.any((year < 1970) | (year > 9998)):
        return None
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    last_day = _DAYS[month - 1] + ((month == 2) & leap)
    if np.any((day < 1) | (day > last_day) | (hour > 23) | (minute > 59) | (second > 59)):
        return None
    # Valid fields: strptime reads them as they are (it would roll an invalid day over, hence the checks).
    epoch = pc.cast(pc.strptime(texts, format="%Y-%m-%d %H:%M:%S", unit="s"), pa.int64()).to_numpy()
    at = datetime.fromtimestamp
    return [at(s, UTC) for s in epoch.tolist()], epoch * 1_000_000


def _times(
    table: pa.Table, gmt: bool, zone: tzinfo
) -> list[tuple[list[datetime | None], np.ndarray]] | None:
    """start, answer and end as UTC datetimes (each distinct text converted once, as MasterCsvParser.time does)
    and as epoch microseconds for the checks; None when a value is not an ISO time without an offset, is
    missing (only answer may be empty), or is a local time at a DST change (the row reader picks its
    reading with the row's other times)."""
    n = table.num_rows
    # One dictionary for the three columns: a row's times are mostly another row's too.
    encoded = pc.dictionary_encode(pa.concat_arrays([table.column(i).combine_chunks() for i in (9, 10, 11)]))
    dictionary = encoded.dictionary
    index = encoded.indices.to_numpy(zero_copy_only=False)
    empty = pc.index(dictionary, "").as_py()  # -1: no empty value
    if empty >= 0 and (np.any(index[:n] == empty) or np.any(index[2 * n :] == empty)):
        return None  # no start or no end: a reject
    known = _plain_utc(pc.filter(dictionary, pc.not_equal(dictionary, ""))) if gmt else None
    values: list[datetime | None]
    if known is not None:
        values, micros = list(known[0]), known[1]
        if empty >= 0:
            values.insert(empty, None)
            micros = np.insert(micros, empty, 0)
    else:
        parsed = _parsed_times(dictionary.to_pylist(), gmt, zone)
        if parsed is None:
            return None
        values, micros = parsed
    every: list[datetime | None] = np.array(values, dtype=object)[index].tolist()
    us = micros[index]
    return [(every[k * n : (k + 1) * n], us[k * n : (k + 1) * n]) for k in range(3)]


def _parsed_times(texts: list[str], gmt: bool, zone: tzinfo) -> tuple[list[datetime | None], np.ndarray] | None:
    values: list[datetime | None] = []
    micros = np.empty(len(texts), dtype=np.int64)
    for k, text in enumerate(texts):
        if text == "":  # an answer never given (_times refuses an empty start or end)
            values.append(None)
            micros[k] = 0
            continue
        try:
            naive = datetime.fromisoformat(text)
        except ValueError:
            return None
        if naive.tzinfo is not None:
            return None  # an offset in the text: the row reader converts it
        if gmt:
            value = naive.replace(tzinfo=UTC)
        else:
            value = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
            if value != naive.replace(tzinfo=zone, fold=1).astimezone(UTC):
                return None
        values.append(value)
        micros[k] = (value - _EPOCH) // _US
    return values, micros


def _ids(table: pa.Table, width: int) -> tuple[list[str], list[str]]:
    """uniqueid and linkedid by width, as MasterCsvParser.row picks them."""
    n = table.num_rows
    empty = [""] * n
    if width == 16:
        return empty, empty
    if width == 18:
        return table.column(16).to_pylist(), empty
    linkedid = table.column(width - 2).to_pylist() if width >= 19 else empty
    if width == 19:
        return empty, linkedid
    candidates = table.column(16).to_pylist()
    # 17 columns: uniqueid or userfield; 20/21: uniqueid and/or userfield. Only a uniqueid looks like epoch.seq.
    match = UNIQUEID.match
    return [u if match(u) else "" for u in candidates], linkedid


def _keys(table: pa.Table, uniqueid: list[str], linkedid: list[str]) -> np.ndarray:
    """CdrGrouper.keys of every row as numbers: c:base(channel), c:base(dstchannel), u:uniqueid, l:linkedid."""
    n = table.num_rows
    # channels.base_channel: a last ";1" or ";2" after at least one character is cut.
    bases = pa.concat_arrays([pc.replace_substring_regex(table.column(i).combine_chunks(), r"^(.+);[12]$", r"\1")
                              for i in (5, 6)])
    channel_ids = pc.dictionary_encode(bases).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    keys = np.full((n, 4), -1, dtype=np.int64)
    keys[:, 0] = channel_ids[:n]
    has_dst = pc.greater(pc.utf8_length(table.column(6)), 0).to_numpy(zero_copy_only=False)
    keys[has_dst, 1] = channel_ids[n:][has_dst]
    offset = int(channel_ids.max()) + 1 if n else 0
    for col, texts in ((2, uniqueid), (3, linkedid)):
        values = pa.array(texts, type=pa.string())
        ids = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False).astype(np.int64) + offset
        present = pc.greater(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False)
        keys[present, col] = ids[present]
        offset = int(ids.max()) + 1 if n else offset
    return keys


def _rows(
    table: pa.Table, starts: np.ndarray, gmt: bool, zone: tzinfo
) -> tuple[list[CdrRow], np.ndarray, list[str], list[str]] | None:
    width = table.num_columns
    disposition = table.column(14).combine_chunks()
    if not pc.all(pc.is_in(disposition, value_set=pa.array(sorted(DISPOSITIONS)))).as_py():
        return None  # unknown, or with blanks around it: the row reader strips and names it
    if not pc.all(pc.greater(pc.utf8_length(table.column(5)), 0)).as_py():
        return None  # an empty channel: a reject
    duration = _whole_numbers(table, 12)
    billsec = _whole_numbers(table, 13)
    times = _times(table, gmt, zone)
    if duration is None or billsec is None or times is None:
        return None
    start, answer, end = times
    has_answer = pc.greater(pc.utf8_length(table.column(10)), 0).to_numpy(zero_copy_only=False)
    s, a, e = start[1], answer[1], end[1]
    if np.any(e < s) or np.any(has_answer & ((a < s) | (a > e))):
        return None
    uniqueid, linkedid = _ids(table, width)
    n = table.num_rows
    lines = range(1, n + 1)
    offsets = starts.tolist()
    cols = [_strings(table, i) for i in range(1, 9)]
    rows = list(map(CdrRow, lines, offsets, *cols, start[0], answer[0], end[0], duration, billsec,
                    _strings(table, 14), uniqueid, linkedid))
    return rows, e, uniqueid, linkedid
