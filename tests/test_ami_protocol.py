"""AMI framing and parsing: whatever the socket brings, whole messages out, garbage reported, never raised."""

from __future__ import annotations

from callwatch.collector.ami.protocol import Framer, Skipped, action, decode, event_time, parse


def _feed_all(framer: Framer, *chunks: bytes) -> list[bytes | Skipped]:
    out: list[bytes | Skipped] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out


def test_banner_then_messages_split_anywhere():
    stream = (
        b"Asterisk Call Manager/13.0.0\r\nResponse: Success\r\nMessage: ok\r\n\r\nEvent: Hangup\r\nCause: 16\r\n\r\n"
    )
    for cut in range(1, len(stream)):
        framer = Framer()
        got = _feed_all(framer, stream[:cut], stream[cut:])
        assert framer.banner == "Asterisk Call Manager/13.0.0"
        assert got == [b"Response: Success\r\nMessage: ok", b"Event: Hangup\r\nCause: 16"], cut


def test_multibyte_character_split_across_reads_survives():
    framer = Framer(expect_banner=False)
    got = _feed_all(framer, b"Event: Newchannel\r\nCallerIDName: Jos\xc3", b"\xa9\r\n\r\n")
    assert parse(decode(got[0]))["CallerIDName"] == "José"


def test_invalid_utf8_is_replaced_not_raised():
    assert parse(decode(b"Event: UserEvent\r\nData: \xff\xfeok"))["Data"] == "\ufffd\ufffdok"


def test_megabyte_header_line_is_skipped_and_memory_stays_small():
    framer = Framer(expect_banner=False)
    got = []
    got.extend(framer.feed(b"X-Junk: "))
    for _ in range(16):
        got.extend(framer.feed(b"A" * 65536))
        assert framer.pending <= 70_000
    got.extend(framer.feed(b"\r\n\r\nEvent: Hangup\r\nUniqueid: 1.2\r\n\r\n"))
    assert any(isinstance(g, Skipped) for g in got)
    assert got[-1] == b"Event: Hangup\r\nUniqueid: 1.2"


def test_bare_newlines_and_lines_without_colon():
    framer = Framer(expect_banner=False)
    got = _feed_all(framer, b"Event: Newstate\nnonsense line\nChannel: PJSIP/101-1\n\n")
    assert parse(decode(got[0])) == {"Event": "Newstate", "Channel": "PJSIP/101-1"}


def test_first_of_repeated_header_wins():
    assert parse("Event: VarSet\r\nVariable: A\r\nVariable: B")["Variable"] == "A"


def test_action_refuses_header_injection():
    assert action("Ping", "cw-1") == b"Action: Ping\r\nActionID: cw-1\r\n\r\n"
    try:
        action("Login", "cw-2", Username="x\r\nAction: Originate")
    except ValueError:
        pass
    else:
        raise AssertionError("line break in a field must be refused")


def test_event_time_prefers_timestamp_header():
    assert event_time({"Timestamp": "1795553420.5"}, 1.0) == 1795553420.5
    assert event_time({}, 7.0) == 7.0
    assert event_time({"Timestamp": "garbage"}, 7.0) == 7.0
