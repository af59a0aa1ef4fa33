"""Random and damaged lines thrown at each parser: no crash, every bad line rejected with a reason, good kept."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.data import MASTER_CSV, QUEUE_LOG
from support.imports import open_engine
from support.settings import make_settings

from callwatch import store
from callwatch.collector.importer import import_file
from callwatch.collector.sources import LineCursor, Reject
from callwatch.collector.sources.generic_csv import GenericCsvParser
from callwatch.collector.sources.master_csv import CdrRow, MasterCsvParser
from callwatch.collector.sources.queue_log import QueueEvent, events
from callwatch.config.settings import CsvColumnMap

CDR_LINES = MASTER_CSV.read_text().splitlines()
QUEUE_LINES = QUEUE_LOG.read_text().splitlines()
CSV_HEADER = "Start,From,Result,Ring"
CSV_LINES = [f"2026-11-24 09:{m:02d}:00,617555{m:04d},{r},{m % 30}" for m, r in
             enumerate(["answered", "voicemail", "abandoned", "missed"] * 5)]

text_line = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n"), max_size=300)
many_commas = st.lists(st.text(st.characters(exclude_categories=("Cs",), exclude_characters='\n"'), max_size=12),
                       min_size=1, max_size=25).map(",".join)
many_pipes = st.lists(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n|"), max_size=12),
                      min_size=1, max_size=9).map("|".join)


@st.composite
def mutated(draw: st.DrawFn, good: list[str], sep: str) -> str:
    """A real line with one field replaced, dropped or doubled: the damage real logs have."""
    fields = draw(st.sampled_from(good)).split(sep)
    i = draw(st.integers(0, len(fields) - 1))
    action = draw(st.sampled_from(["replace", "drop", "double", "truncate"]))
    if action == "replace":
        fields[i] = draw(text_line.filter(lambda t: sep not in t))
    elif action == "drop":
        del fields[i]
    elif action == "double":
        fields.insert(i, fields[i])
    else:
        return sep.join(fields)[: draw(st.integers(0, 40))]
    return sep.join(fields)


def mixed(good: list[str], sep: str, garbage: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[bool, str]]]:
    return st.lists(
        st.one_of(
            st.sampled_from(good).map(lambda line: (True, line)),
            st.one_of(text_line, garbage, mutated(good, sep)).map(lambda line: (False, line)),
        ),
        max_size=40,
    )


def _blob(lines: list[tuple[bool, str]], header: str = "") -> bytes:
    return (header + "".join(line + "\n" for _, line in lines)).encode()


def _check(lines: list[tuple[bool, str]], outputs: list[object], parsed: type, first_line: int = 1) -> None:
    by_line = {}
    for out in outputs:
        line = out.line  # type: ignore[attr-defined]
        assert line not in by_line, "one line gave two results"
        by_line[line] = out
        # A quoted field with line breaks (RFC 4180) makes one row of several lines.
        for more in range(1, getattr(out, "text", "").count("\n") + 1):
            assert line + more not in by_line, "one line gave two results"
            by_line[line + more] = out
        if isinstance(out, Reject):
            assert out.reason
        else:
            assert isinstance(out, parsed)
    for number, (good, text) in enumerate(lines, start=first_line):
        if not text.strip():
            assert number not in by_line
            continue
        assert number in by_line, f"line {number} neither parsed nor rejected"
        if good:
            assert isinstance(by_line[number], parsed), by_line[number]


@settings(max_examples=200, deadline=None)
@given(mixed(CDR_LINES, ",", many_commas), st.booleans())
def test_master_csv_parser_never_crashes(lines: list[tuple[bool, str]], gmt: bool) -> None:
    parser = MasterCsvParser(gmt=gmt, zone=ZoneInfo("America/New_York"))
    _check(lines, list(parser.rows(io.BytesIO(_blob(lines)), LineCursor())), CdrRow)


@settings(max_examples=200, deadline=None)
@given(mixed(QUEUE_LINES, "|", many_pipes))
def test_queue_log_parser_never_crashes(lines: list[tuple[bool, str]]) -> None:
    _check(lines, list(events(io.BytesIO(_blob(lines)), LineCursor())), QueueEvent)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mixed(CSV_LINES, ",", many_commas))
def test_generic_csv_parser_never_crashes(tmp_path: Path, lines: list[tuple[bool, str]]) -> None:
    column_map = CsvColumnMap(columns={"arrived_at": "Start", "caller": "From", "outcome": "Result",
                                       "ring_seconds": "Ring"})
    parser = GenericCsvParser("t", column_map, make_settings(tmp_path))
    outputs = [o if isinstance(o, Reject) else _Parsed(o[0], lines, CSV_HEADER) for o in
               parser.calls(io.BytesIO(_blob(lines, CSV_HEADER + "\n")), LineCursor())]
    _check(lines, outputs, _Parsed, first_line=2)


class _Parsed:
    """A parsed generic row, with the line number its byte offset falls on."""

    def __init__(self, offset: int, lines: list[tuple[bool, str]], header: str) -> None:
        position, self.line = len((header + "\n").encode()), 2
        for _, text in lines:
            if position >= offset:
                break
            position += len((text + "\n").encode())
            self.line += 1


garbage_only = st.lists(st.one_of(text_line, many_commas, many_pipes), max_size=15)


@settings(max_examples=25, deadline=None)
@given(garbage_only, st.randoms(use_true_random=False))
def test_import_keeps_every_call_whatever_garbage_is_mixed_in(garbage: list[str], rnd: object) -> None:
    for good, expected_calls in ((CDR_LINES, 29), (QUEUE_LINES, 4)):
        lines = [(True, line) for line in good] + [(False, line) for line in garbage]
        rnd.shuffle(lines)  # type: ignore[attr-defined]
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "log"
            log.write_bytes(_blob(lines))
            cfg = make_settings(Path(tmp))
            engine = open_engine(cfg)
            summary = import_file(engine, cfg, log, source="cdr-csv" if good is CDR_LINES else "queue-log")
            assert summary.rejected == sum(1 for is_good, line in lines if not is_good and line.strip())
            assert len(store.select_calls(engine)) == expected_calls
            engine.dispose()
