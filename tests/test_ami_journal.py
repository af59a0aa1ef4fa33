"""The journal: append, survive a line cut short by a crash, rotate, checkpoint."""

from __future__ import annotations

from callwatch.collector.ami.journal import (
    Journal,
    Record,
    journal_files,
    read_checkpoint,
    read_records,
    write_checkpoint,
)


def test_records_come_back_with_their_offsets(tmp_path):
    journal = Journal(tmp_path / "j.log")
    spans = journal.append_many(
        [Record(t=1.5, message="Event: Hangup\r\nCallerIDName: José"), Record(t=2.0, control="connected")]
    )
    journal.flush()
    got = list(read_records(journal.path))
    assert [(s, e) for s, e, _ in got] == spans
    assert got[0][2] == Record(t=1.5, message="Event: Hangup\r\nCallerIDName: José")
    assert got[1][2].control == "connected"
    assert next(read_records(journal.path, spans[1][0]))[2].control == "connected"


def test_a_line_cut_short_by_a_crash_is_skipped_and_writing_resumes_on_a_new_line(tmp_path):
    path = tmp_path / "j.log"
    journal = Journal(path)
    journal.append(Record(t=1.0, message="Event: A"))
    journal.close()
    with open(path, "ab") as f:
        f.write(b'{"t":2.0,"m":"Event: B')  # the process died mid-write
    journal = Journal(path)
    journal.append(Record(t=3.0, message="Event: C"))
    journal.close()
    assert [r.message for _s, _e, r in read_records(path)] == ["Event: A", "Event: C"]


def test_rotation_keeps_every_file_in_order(tmp_path):
    path = tmp_path / "j.log"
    journal = Journal(path)
    journal.append(Record(t=1.0, message="Event: A"))
    assert journal.rotate_if_large(max_bytes=1)
    journal.append(Record(t=2.0, message="Event: B"))
    journal.close()
    write_checkpoint(path, 1, 0)  # the checkpoint file is not a journal file
    files = journal_files(path)
    assert files[-1] == path and len(files) == 2
    assert [r.message for f in files for _s, _e, r in read_records(f)] == ["Event: A", "Event: B"]


def test_checkpoint_round_trip_and_missing(tmp_path):
    path = tmp_path / "j.log"
    assert read_checkpoint(path) is None
    write_checkpoint(path, 42, 1234)
    assert read_checkpoint(path) == (42, 1234)
