"""Tests for the sans-IO stream decoders in aiodock._streams.frames."""

from __future__ import annotations

import itertools
import json
import struct
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodock._streams import frames as _frames
from aiodock._streams.frames import (
    Frame,
    JSONStreamDecoder,
    LineSplitter,
    MultiplexDecoder,
    RawDecoder,
    StreamType,
    encode_frame,
)
from aiodock.errors import StreamError, TruncatedStreamError

OUT = StreamType.STDOUT
ERR = StreamType.STDERR
IN = StreamType.STDIN


# --- helpers ------------------------------------------------------------------------


def decode_chunks(chunks: Iterable[bytes], *, coalesce: bool = True) -> list[Frame]:
    decoder = MultiplexDecoder(coalesce=coalesce)
    frames: list[Frame] = []
    for chunk in chunks:
        frames.extend(decoder.feed(chunk))
    frames.extend(decoder.eof())
    return frames


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def runs(frames: Iterable[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Merge adjacent same-stream pieces and drop empty ones: the meaning of a stream."""
    merged: list[tuple[int, bytes]] = []
    for stream, data in frames:
        if not data:
            continue
        if merged and merged[-1][0] == stream:
            merged[-1] = (stream, merged[-1][1] + data)
        else:
            merged.append((int(stream), data))
    return merged


def encode_all(frames: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(encode_frame(s, d) for s, d in frames)


SAMPLE = [(1, b"hello\n"), (2, b"oops"), (2, b""), (1, b"x"), (0, b"in"), (1, b"world\n")]


# --- encode_frame / basic shape -------------------------------------------------------


def test_encode_frame_layout() -> None:
    assert encode_frame(1, b"abc") == b"\x01\x00\x00\x00\x00\x00\x00\x03abc"
    assert encode_frame(2, b"") == b"\x02\x00\x00\x00\x00\x00\x00\x00"
    assert encode_frame(3, b"e") == b"\x03\x00\x00\x00\x00\x00\x00\x01e"
    assert encode_frame(StreamType.STDERR, bytearray(b"z"))[8:] == b"z"  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 4, 255])
def test_encode_frame_rejects_bad_stream(bad: int) -> None:
    with pytest.raises(ValueError, match="stream type"):
        encode_frame(bad, b"x")


def test_frame_is_a_tuple_of_stream_and_bytes() -> None:
    (frame,) = MultiplexDecoder().feed(encode_frame(2, b"err"))
    assert frame == Frame(ERR, b"err")
    assert frame.stream is StreamType.STDERR
    assert type(frame) is Frame
    assert type(frame.data) is bytes
    stream, data = frame
    assert (stream, data) == (ERR, b"err")


def test_stream_type_values() -> None:
    assert [int(s) for s in (IN, OUT, ERR)] == [0, 1, 2]


# --- multiplex: whole input -------------------------------------------------------------


def test_whole_stream_uncoalesced_keeps_every_nonempty_frame() -> None:
    frames = decode_chunks([encode_all(SAMPLE)], coalesce=False)
    assert frames == [Frame(StreamType(s), d) for s, d in SAMPLE if d]


def test_whole_stream_coalesced_merges_same_stream_neighbours() -> None:
    frames = decode_chunks([encode_all(SAMPLE)])
    # (2,"oops"),(2,""),... -> one stderr frame; (1,"x") is not next to (1,"hello").
    assert frames == [
        Frame(OUT, b"hello\n"),
        Frame(ERR, b"oops"),
        Frame(OUT, b"x"),
        Frame(IN, b"in"),
        Frame(OUT, b"world\n"),
    ]


def test_coalesce_joins_a_long_same_stream_run_into_one_frame() -> None:
    data = encode_all((1, b"%d," % i) for i in range(1000))
    frames = MultiplexDecoder().feed(data)
    assert frames == [Frame(OUT, b"".join(b"%d," % i for i in range(1000)))]


def test_zero_size_frames_yield_nothing() -> None:
    data = encode_all([(1, b""), (2, b""), (1, b""), (0, b"")])
    for coalesce in (True, False):
        assert decode_chunks([data], coalesce=coalesce) == []
        assert decode_chunks([data[i : i + 1] for i in range(len(data))], coalesce=coalesce) == []


def test_zero_size_frame_between_same_stream_frames() -> None:
    data = encode_all([(1, b"a"), (2, b""), (1, b"b")])
    assert decode_chunks([data]) == [Frame(OUT, b"ab")]
    assert decode_chunks([data], coalesce=False) == [Frame(OUT, b"a"), Frame(OUT, b"b")]


def test_empty_feed_is_harmless() -> None:
    decoder = MultiplexDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(encode_frame(1, b"a")[:3]) == []
    assert decoder.feed(b"") == []
    assert decoder.feed(encode_frame(1, b"a")[3:]) == [Frame(OUT, b"a")]
    assert decoder.eof() == []


def test_accepts_bytearray_and_memoryview_chunks() -> None:
    data = encode_all(SAMPLE)
    decoder = MultiplexDecoder(coalesce=False)
    frames = decoder.feed(bytearray(data[:5]))  # type: ignore[arg-type]
    frames += decoder.feed(memoryview(data)[5:17])  # type: ignore[arg-type]
    frames += decoder.feed(bytearray(data[17:]))  # type: ignore[arg-type]
    assert frames == [Frame(StreamType(s), d) for s, d in SAMPLE if d]
    assert all(type(f.data) is bytes for f in frames)


def test_all_256_byte_values_round_trip() -> None:
    payload = bytes(range(256)) * 4
    data = encode_all([(1, payload), (2, payload[::-1]), (1, b"\x00" * 9)])
    for cut in range(len(data) + 1):
        frames = decode_chunks([data[:cut], data[cut:]], coalesce=False)
        assert frames == [Frame(OUT, payload), Frame(ERR, payload[::-1]), Frame(OUT, b"\x00" * 9)]


# --- multiplex: every split point ---------------------------------------------------------


@pytest.mark.parametrize("coalesce", [True, False])
def test_every_single_split_point(coalesce: bool) -> None:
    data = encode_all(SAMPLE)
    expected = runs(SAMPLE)
    whole = decode_chunks([data], coalesce=coalesce)
    for cut in range(len(data) + 1):
        frames = decode_chunks([data[:cut], data[cut:]], coalesce=coalesce)
        assert runs(frames) == expected, cut
        if not coalesce:
            assert frames == whole, cut


@pytest.mark.parametrize("coalesce", [True, False])
def test_every_pair_of_split_points(coalesce: bool) -> None:
    data = encode_all([(1, b"ab"), (2, b""), (2, b"cde"), (1, b"f")])
    expected = runs([(1, b"ab"), (2, b"cde"), (1, b"f")])
    for i in range(len(data) + 1):
        for j in range(i, len(data) + 1):
            frames = decode_chunks([data[:i], data[i:j], data[j:]], coalesce=coalesce)
            assert runs(frames) == expected, (i, j)


@pytest.mark.parametrize("coalesce", [True, False])
def test_one_byte_chunks(coalesce: bool) -> None:
    data = encode_all(SAMPLE)
    frames = decode_chunks([data[i : i + 1] for i in range(len(data))], coalesce=coalesce)
    assert runs(frames) == runs(SAMPLE)
    if not coalesce:
        assert frames == [Frame(StreamType(s), d) for s, d in SAMPLE if d]


def test_uncoalesced_split_payload_is_one_frame() -> None:
    payload = bytes(range(256)) * 100
    data = encode_frame(2, payload)
    decoder = MultiplexDecoder(coalesce=False)
    got: list[Frame] = []
    for i in range(0, len(data), 1000):
        got += decoder.feed(data[i : i + 1000])
    assert got == [Frame(ERR, payload)]


def test_coalesced_large_payload_is_streamed_as_it_arrives() -> None:
    payload = bytes(range(256)) * 100
    data = encode_frame(1, payload)
    decoder = MultiplexDecoder()
    first = decoder.feed(data[:1008])
    assert first == [Frame(OUT, payload[:1000])]
    rest = decoder.feed(data[1008:])
    assert rest == [Frame(OUT, payload[1000:])]
    assert decoder.eof() == []


def test_continued_payload_joins_the_following_same_stream_frames() -> None:
    data = encode_all([(1, b"abcd"), (1, b"ef"), (2, b"g")])
    decoder = MultiplexDecoder()
    assert decoder.feed(data[:10]) == [Frame(OUT, b"ab")]
    assert decoder.feed(data[10:]) == [Frame(OUT, b"cdef"), Frame(ERR, b"g")]


frame_lists = st.lists(
    st.tuples(st.sampled_from([0, 1, 2]), st.binary(max_size=40)),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(frames=frame_lists, data=st.data(), coalesce=st.booleans())
def test_any_chunking_gives_the_same_bytes_per_stream(
    frames: list[tuple[int, bytes]], data: st.DataObject, coalesce: bool
) -> None:
    encoded = encode_all(frames)
    cuts = data.draw(st.lists(st.integers(0, len(encoded)), max_size=12))
    chunks = split_at(encoded, cuts)
    got = decode_chunks(chunks, coalesce=coalesce)
    assert runs(got) == runs(frames)
    assert all(f.data for f in got)
    if not coalesce:
        assert got == [Frame(StreamType(s), d) for s, d in frames if d]
    for stream in (0, 1, 2):
        assert b"".join(f.data for f in got if f.stream == stream) == b"".join(
            d for s, d in frames if s == stream
        )


# --- multiplex: errors ------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    before=frame_lists,
    message=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=30),
    after=frame_lists,
    data=st.data(),
    coalesce=st.booleans(),
)
def test_error_frame_anywhere_in_any_chunking(
    before: list[tuple[int, bytes]],
    message: str,
    after: list[tuple[int, bytes]],
    data: st.DataObject,
    coalesce: bool,
) -> None:
    encoded = encode_all(before) + encode_frame(3, message.encode()) + encode_all(after)
    cuts = data.draw(st.lists(st.integers(0, len(encoded)), max_size=8))
    decoder = MultiplexDecoder(coalesce=coalesce)
    got: list[Frame] = []
    with pytest.raises(StreamError) as info:
        for chunk in split_at(encoded, cuts):
            got += decoder.feed(chunk)
        decoder.eof()
    expected = message.strip() or "the daemon reported an error in the stream without a message"
    assert info.value.message == expected
    assert not isinstance(info.value, TruncatedStreamError)
    assert runs(got) == runs(before)


def test_long_error_text_is_capped() -> None:
    decoder = MultiplexDecoder()
    text = b"E" * 200_000
    data = encode_frame(3, text) + encode_frame(1, b"late")
    with pytest.raises(StreamError) as info:
        for i in range(0, len(data), 4096):
            decoder.feed(data[i : i + 4096])
    assert info.value.message == "E" * (64 * 1024)


def test_type_3_frame_raises_with_the_daemon_message() -> None:
    data = encode_frame(3, b"  error from daemon in stream: bad thing\n")
    with pytest.raises(StreamError) as info:
        MultiplexDecoder().feed(data)
    assert str(info.value) == "error from daemon in stream: bad thing"
    assert info.value.message == "error from daemon in stream: bad thing"
    assert not isinstance(info.value, TruncatedStreamError)


def test_type_3_message_with_invalid_utf8_is_replaced_not_dropped() -> None:
    with pytest.raises(StreamError, match="bad \ufffd byte"):
        MultiplexDecoder().feed(encode_frame(3, b"bad \xff byte"))


@pytest.mark.parametrize("coalesce", [True, False])
def test_type_3_split_across_chunks_at_every_point(coalesce: bool) -> None:
    data = encode_frame(1, b"before") + encode_frame(3, b"daemon says no")
    for cut in range(len(data) + 1):
        decoder = MultiplexDecoder(coalesce=coalesce)
        got: list[Frame] = []
        with pytest.raises(StreamError, match=r"^daemon says no$"):
            got += decoder.feed(data[:cut])
            got += decoder.feed(data[cut:])
            decoder.eof()
        # The stdout bytes ahead of the error are delivered before it is raised.
        assert b"".join(f.data for f in got) == b"before", cut


def test_frames_before_an_error_are_returned_then_the_error_is_raised() -> None:
    decoder = MultiplexDecoder()
    data = encode_frame(1, b"ok") + encode_frame(3, b"boom") + encode_frame(1, b"never")
    assert decoder.error is None
    assert decoder.feed(data) == [Frame(OUT, b"ok")]
    assert isinstance(decoder.error, StreamError)
    assert decoder.error.message == "boom"
    with pytest.raises(StreamError, match="boom"):
        decoder.feed(b"")
    # The decoder stays failed.
    with pytest.raises(StreamError, match="boom"):
        decoder.eof()


def test_pending_error_is_raised_by_eof() -> None:
    decoder = MultiplexDecoder()
    assert decoder.feed(encode_frame(2, b"e") + encode_frame(3, b"boom")) == [Frame(ERR, b"e")]
    with pytest.raises(StreamError, match="boom"):
        decoder.eof()


def test_empty_type_3_frame_still_raises() -> None:
    with pytest.raises(StreamError, match="without a message"):
        MultiplexDecoder().feed(encode_frame(3, b""))


@pytest.mark.parametrize("coalesce", [True, False])
@pytest.mark.parametrize("stream_type", [4, 0x7F, 0xFF])
def test_unknown_stream_type_is_a_protocol_violation(coalesce: bool, stream_type: int) -> None:
    data = encode_frame(1, b"abc") + bytes([stream_type, 0, 0, 0, 0, 0, 0, 1]) + b"x"
    decoder = MultiplexDecoder(coalesce=coalesce)
    assert decoder.feed(data) == [Frame(OUT, b"abc")]
    with pytest.raises(StreamError) as info:
        decoder.eof()
    msg = str(info.value)
    assert "not a multiplexed stream" in msg
    assert f"stream type byte {stream_type}" in msg
    assert "byte offset 11" in msg


@pytest.mark.parametrize("pad", [1, 2, 3])
def test_nonzero_padding_is_a_protocol_violation(pad: int) -> None:
    header = bytearray(encode_frame(2, b"x"))
    header[pad] = 7
    prefix = encode_frame(2, b"12345")
    with pytest.raises(StreamError) as info:
        MultiplexDecoder().feed(bytes(header))
    assert f"padding byte 7 at byte offset {pad}" in str(info.value)
    decoder = MultiplexDecoder()
    assert decoder.feed(prefix) == [Frame(ERR, b"12345")]
    with pytest.raises(StreamError, match=f"byte offset {len(prefix) + pad}"):
        decoder.feed(bytes(header))


def test_tty_text_read_as_multiplexed_says_so() -> None:
    decoder = MultiplexDecoder()
    with pytest.raises(StreamError, match="TTY") as info:
        decoder.feed(b"hello world, this is plain terminal output\r\n")
    assert "byte offset 0" in str(info.value)
    assert not isinstance(info.value, TruncatedStreamError)


def test_bad_header_split_across_chunks_is_still_detected() -> None:
    decoder = MultiplexDecoder()
    assert decoder.feed(encode_frame(1, b"ok") + b"\x01\x00") == [Frame(OUT, b"ok")]
    with pytest.raises(StreamError, match="padding byte 9 at byte offset 12"):
        decoder.feed(b"\x09\x00\x00\x00\x00\x01z")


@pytest.mark.parametrize("coalesce", [True, False])
@pytest.mark.parametrize("keep", range(1, 8))
def test_truncated_header_at_eof(coalesce: bool, keep: int) -> None:
    good = encode_frame(1, b"done")
    decoder = MultiplexDecoder(coalesce=coalesce)
    got = decoder.feed(good + encode_frame(2, b"abc")[:keep])
    assert got == [Frame(OUT, b"done")]
    with pytest.raises(TruncatedStreamError) as info:
        decoder.eof()
    msg = str(info.value)
    assert f"expected 8 header bytes, got {keep}" in msg
    assert f"byte offset {len(good)}" in msg


@pytest.mark.parametrize("coalesce", [True, False])
@pytest.mark.parametrize("keep", [0, 1, 5, 9])
def test_truncated_payload_at_eof(coalesce: bool, keep: int) -> None:
    payload = b"0123456789"
    data = encode_frame(2, payload)[: 8 + keep]
    decoder = MultiplexDecoder(coalesce=coalesce)
    got: list[Frame] = []
    # Feed in two pieces to cover the state carried between chunks as well.
    got += decoder.feed(data[:4])
    got += decoder.feed(data[4:])
    with pytest.raises(TruncatedStreamError) as info:
        decoder.eof()
    msg = str(info.value)
    assert f"header announced 10 payload bytes, got {keep}" in msg
    assert "stderr frame at byte offset 0" in msg
    # Coalescing mode hands over the received bytes; frame mode keeps whole frames only.
    assert b"".join(f.data for f in got) == (payload[:keep] if coalesce else b"")


def test_truncated_error_frame_at_eof_keeps_the_partial_message() -> None:
    decoder = MultiplexDecoder()
    decoder.feed(encode_frame(3, b"daemon went away")[:14])
    with pytest.raises(TruncatedStreamError, match=r"daemon error frame.*'daemon'"):
        decoder.eof()


def test_truncated_error_is_both_stream_and_connection_error() -> None:
    decoder = MultiplexDecoder()
    decoder.feed(b"\x01\x00")
    with pytest.raises(ConnectionError):
        decoder.eof()


def test_clean_eof_after_complete_frames() -> None:
    decoder = MultiplexDecoder()
    decoder.feed(encode_all(SAMPLE))
    assert decoder.eof() == []


def test_huge_announced_frame_is_not_buffered_when_coalescing() -> None:
    decoder = MultiplexDecoder()
    header = struct.pack(">II", 1 << 24, 0xFFFFFFFF)
    assert decoder.feed(header + b"a" * 10) == [Frame(OUT, b"a" * 10)]
    for _ in range(5):
        assert decoder.feed(b"b" * 1000) == [Frame(OUT, b"b" * 1000)]
    with pytest.raises(TruncatedStreamError, match=f"announced {0xFFFFFFFF} payload bytes"):
        decoder.eof()


# --- raw ----------------------------------------------------------------------------------------


def test_raw_decoder_passes_bytes_through_as_stdout() -> None:
    decoder = RawDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\x01\x00\x00\x00\xff") == [Frame(OUT, b"\x01\x00\x00\x00\xff")]
    (frame,) = decoder.feed(bytearray(b"x"))  # type: ignore[arg-type]
    assert type(frame.data) is bytes
    assert decoder.eof() == []


# --- JSON stream --------------------------------------------------------------------------------


@pytest.fixture(params=["orjson", "stdlib"])
def json_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "stdlib":
        monkeypatch.setattr(_frames, "_orjson", None)
    else:
        pytest.importorskip("orjson")
        assert _frames._orjson is not None
    return str(request.param)


def json_chunks(chunks: Iterable[bytes], **kwargs: Any) -> list[Any]:
    decoder = JSONStreamDecoder(**kwargs)
    out: list[Any] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.eof())
    return out


EVENTS = [
    {"status": "start", "id": "abc", "time": 1700000000, "timeNano": 1700000000123456789},
    {"Type": "container", "Action": "die", "Actor": {"Attributes": {"exitCode": "0"}}},
    {"text": 'ünïcødé ✓ \u2028 \\n "quoted" {not a brace}', "list": [1, 2.5, None, True]},
    {"big": 2**70, "neg": -(2**63), "empty": {}, "arr": []},
]


def test_ndjson_split_at_every_byte(json_backend: str) -> None:
    data = b"".join(json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in EVENTS)
    assert json_chunks([data]) == EVENTS
    for cut in range(len(data) + 1):
        assert json_chunks([data[:cut], data[cut:]]) == EVENTS, cut
    assert json_chunks([data[i : i + 1] for i in range(len(data))]) == EVENTS


def test_ndjson_items_come_out_as_soon_as_their_line_ends(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a": 1}\n{"b"') == [{"a": 1}]
    assert decoder.feed(b": 2") == []
    assert decoder.feed(b"}\r\n") == [{"b": 2}]
    assert decoder.eof() == []


def test_concatenated_objects_without_separator(json_backend: str) -> None:
    assert json_chunks([b'{"a":1}{"b":2}']) == [{"a": 1}, {"b": 2}]
    assert json_chunks([b'{"a":1}{"b":2}\n']) == [{"a": 1}, {"b": 2}]
    assert json_chunks([b'[1]{"x":"}{"}"y"']) == [[1], {"x": "}{"}, "y"]


def test_concatenated_objects_are_returned_without_waiting_for_a_newline(
    json_backend: str,
) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"read":"t1"}') == [{"read": "t1"}]
    assert decoder.feed(b'{"read":"t2"}{"re') == [{"read": "t2"}]
    assert decoder.feed(b'ad":"t3"}') == [{"read": "t3"}]
    assert decoder.eof() == []


def test_concatenated_split_at_every_byte(json_backend: str) -> None:
    data = b"".join(json.dumps(e, separators=(",", ":")).encode() for e in EVENTS)
    for cut in range(len(data) + 1):
        assert json_chunks([data[:cut], data[cut:]]) == EVENTS, cut


def test_whitespace_crlf_and_blank_lines(json_backend: str) -> None:
    data = b'\r\n  {"a":1}  \r\n\r\n\n\t{"b":2} {"c":3}\n\n   \n[4]\r\n \t '
    expected = [{"a": 1}, {"b": 2}, {"c": 3}, [4]]
    assert json_chunks([data]) == expected
    for cut in range(len(data) + 1):
        assert json_chunks([data[:cut], data[cut:]]) == expected, cut


def test_only_whitespace_is_an_empty_stream(json_backend: str) -> None:
    assert json_chunks([b"\n \r\n\t", b"  "]) == []
    assert json_chunks([]) == []


def test_last_document_without_newline_is_returned(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}\n{"b":2}') == [{"a": 1}, {"b": 2}]
    assert decoder.eof() == []


def test_top_level_number_at_the_end_waits_for_eof(json_backend: str) -> None:
    # "12" might continue as "123": a number at the very end is only final at eof.
    decoder = JSONStreamDecoder()
    out = decoder.feed(b'{"a":1} 12')
    assert 12 not in out
    out += decoder.feed(b"3")
    out += decoder.eof()
    assert out == [{"a": 1}, 123]


def test_multibyte_character_split_between_chunks(json_backend: str) -> None:
    data = '{"s":"é✓"}'.encode()
    for cut in range(len(data) + 1):
        assert json_chunks([data[:cut], data[cut:]]) == [{"s": "é✓"}], cut


@pytest.mark.parametrize(
    "tail",
    [
        b'{"a":',
        b'{"a":1',
        b'{"a":"x',
        b"[1,2",
        b'{"a":{"b":1}',
        b"tru",
        b"[nul",
        b'{"a":-',
        b'{"a":1.',
        b'{"a":2e',
        b'{"a":2E+',
        b'"top-level string',
        b'{"a":"\\',
        b'{"a":"\xc3',
    ],
)
def test_partial_document_at_eof_raises(json_backend: str, tail: bytes) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"ok":true}\n' + tail) == [{"ok": True}]
    with pytest.raises(TruncatedStreamError) as info:
        decoder.eof()
    assert "byte offset 12" in str(info.value)
    assert repr(tail.decode("utf-8", "ignore"))[1:-1] in str(info.value)


def test_partial_document_after_concatenated_ones_at_eof(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}{"b":{"c":2}') == [{"a": 1}]
    with pytest.raises(TruncatedStreamError, match="byte offset 7"):
        decoder.eof()


@pytest.mark.parametrize(
    "line",
    [b"{nope}", b"{'single':1}", b'{"a":1,}', b"\xff\xfe{}", b"nul", b'"unterminated'],
)
def test_malformed_line_raises_stream_error(json_backend: str, line: bytes) -> None:
    decoder = JSONStreamDecoder()
    with pytest.raises(StreamError, match="malformed JSON") as info:
        decoder.feed(line + b"\n")
    assert not isinstance(info.value, TruncatedStreamError)


def test_documents_before_malformed_text_come_first(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1} garbage\n') == [{"a": 1}]
    with pytest.raises(StreamError, match=r"malformed JSON.*'garbage'"):
        decoder.eof()


def test_malformed_error_names_offset_and_bytes(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    data = b'{"a":1}\n{"b":2}{oops: 3}\n{"c":3}\n'
    assert decoder.feed(data) == [{"a": 1}, {"b": 2}]
    assert decoder.error is not None
    with pytest.raises(StreamError) as info:
        decoder.feed(b"")
    assert info.value is decoder.error
    msg = str(info.value)
    assert "byte offset 15" in msg
    assert "{oops: 3}" in msg
    # Stays failed.
    with pytest.raises(StreamError):
        decoder.eof()


def test_malformed_snippet_is_truncated(json_backend: str) -> None:
    with pytest.raises(StreamError) as info:
        JSONStreamDecoder().feed(b"{bad" + b"x" * 5000 + b"\n")
    assert len(str(info.value)) < 400
    assert str(info.value).endswith("...")


def test_malformed_without_newline_is_caught_at_eof(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}{bad}') == [{"a": 1}]
    with pytest.raises(StreamError, match="malformed JSON") as info:
        decoder.eof()
    assert not isinstance(info.value, TruncatedStreamError)


@pytest.mark.parametrize(
    "tail",
    [b"[1,]", b"[x", b'{"a":1 2', b"nulx", b"-a", b'{"a":"\xff"}', b'{"a":1.x', b'{"a":"x"e'],
)
def test_malformed_tail_at_eof_is_not_called_truncated(json_backend: str, tail: bytes) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"ok":1}\n' + tail) == [{"ok": 1}]
    with pytest.raises(StreamError, match="malformed JSON") as info:
        decoder.eof()
    assert not isinstance(info.value, TruncatedStreamError)


@pytest.mark.parametrize("depth", [2000, 100_000])
def test_deep_nesting_never_leaks_recursion_error(json_backend: str, depth: int) -> None:
    # Depending on the parser and Python version this parses or is rejected;
    # either way only StreamError may come out.
    decoder = JSONStreamDecoder()
    try:
        out = decoder.feed(b"[" * depth + b"]" * depth + b"\n")
    except StreamError:
        return
    assert len(out) == 1
    assert isinstance(out[0], list)


def test_max_document_size_guard(json_backend: str) -> None:
    decoder = JSONStreamDecoder(max_document_size=1000)
    assert decoder.feed(b'{"a":"' + b"x" * 500) == []
    with pytest.raises(StreamError, match="more than 1000 bytes"):
        decoder.feed(b"y" * 600)
    # A document under the limit in many pieces is fine.
    decoder = JSONStreamDecoder(max_document_size=1000)
    doc = json.dumps({"k": "v" * 900}).encode()
    out: list[Any] = []
    for i in range(0, len(doc), 7):
        out += decoder.feed(doc[i : i + 7])
    out += decoder.eof()
    assert out == [{"k": "v" * 900}]


def test_big_document_in_small_chunks_is_parsed_once(
    json_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real_scan = JSONStreamDecoder._scan

    def counting_scan(self: JSONStreamDecoder, *args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        return real_scan(self, *args, **kwargs)

    monkeypatch.setattr(JSONStreamDecoder, "_scan", counting_scan)
    doc = json.dumps({"layers": [{"id": i, "sub": {"n": i}} for i in range(40_000)]}).encode()
    assert len(doc) > 1_000_000
    decoder = JSONStreamDecoder()
    out: list[Any] = []
    for i in range(0, len(doc), 4096):
        out += decoder.feed(doc[i : i + 4096])
    out += decoder.eof()
    assert out == [json.loads(doc)]
    # Eager re-scans for the first 64 KiB, then only each time the tail doubles:
    # far fewer scans than the ~300 chunks.
    assert calls < 40


@settings(max_examples=200, deadline=None)
@given(
    docs=st.lists(
        # Go's encoder only writes integers of int64/uint64 range; orjson reads any
        # integer beyond that as a float, so the property holds within that range.
        st.dictionaries(
            st.text(max_size=5),
            st.one_of(st.integers(min_value=-(2**63), max_value=2**64 - 1), st.text(max_size=8)),
        ),
        max_size=8,
    ),
    seps=st.lists(st.sampled_from(["", "\n", "\r\n", " ", "\n\n", "\t"]), min_size=9, max_size=9),
    data=st.data(),
    use_orjson=st.booleans(),
)
def test_json_any_chunking_and_separators(
    docs: list[dict[str, Any]],
    seps: list[str],
    data: st.DataObject,
    use_orjson: bool,
) -> None:
    text = "".join(json.dumps(d, ensure_ascii=False) + seps[i] for i, d in enumerate(docs))
    encoded = text.encode()
    cuts = data.draw(st.lists(st.integers(0, len(encoded)), max_size=10))
    saved = _frames._orjson
    if not use_orjson:
        _frames._orjson = None
    try:
        assert json_chunks(split_at(encoded, cuts)) == docs
    finally:
        _frames._orjson = saved


def test_stdlib_fallback_is_really_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_frames, "_orjson", None)
    called = []
    real_loads = json.loads

    def spy(s: Any, **kwargs: Any) -> Any:
        called.append(s)
        return real_loads(s, **kwargs)

    monkeypatch.setattr(json, "loads", spy)
    assert JSONStreamDecoder().feed(b'{"a":1}\n') == [{"a": 1}]
    assert called == [b'{"a":1}']


# --- line splitting ------------------------------------------------------------------------------


def split_lines(frames: Iterable[Frame], **kwargs: Any) -> list[Frame]:
    splitter = LineSplitter(**kwargs)
    out: list[Frame] = []
    for frame in frames:
        out.extend(splitter.feed(frame))
    out.extend(splitter.flush())
    return out


def test_lines_split_across_frames() -> None:
    frames = [Frame(OUT, b"he"), Frame(OUT, b"llo\nwor"), Frame(OUT, b"ld\n\nlast")]
    assert split_lines(frames) == [
        Frame(OUT, b"hello\n"),
        Frame(OUT, b"world\n"),
        Frame(OUT, b"\n"),
        Frame(OUT, b"last"),
    ]


def test_lines_are_returned_as_soon_as_complete() -> None:
    splitter = LineSplitter()
    assert splitter.feed(Frame(OUT, b"a\nb")) == [Frame(OUT, b"a\n")]
    assert splitter.feed(Frame(OUT, b"")) == []
    assert splitter.feed(Frame(OUT, b"c")) == []
    assert splitter.feed(Frame(OUT, b"\n")) == [Frame(OUT, b"bc\n")]
    assert splitter.flush() == []


def test_interleaved_partial_lines_stay_separate() -> None:
    frames = [
        Frame(OUT, b"out-1 "),
        Frame(ERR, b"err-1 "),
        Frame(OUT, b"continues\nout-2 "),
        Frame(ERR, b"continues\n"),
        Frame(ERR, b"err-2 partial"),
        Frame(OUT, b"partial"),
    ]
    assert split_lines(frames) == [
        Frame(OUT, b"out-1 continues\n"),
        Frame(ERR, b"err-1 continues\n"),
        # Leftovers come out in the order their lines started.
        Frame(OUT, b"out-2 partial"),
        Frame(ERR, b"err-2 partial"),
    ]


def test_only_newline_splits_lines() -> None:
    frames = [Frame(OUT, b"a\rb\r\nc\x0bd\x0ce\x1cf\x85g\xe2\x80\xa8h\n")]
    assert split_lines(frames) == [
        Frame(OUT, b"a\rb\r\n"),
        Frame(OUT, b"c\x0bd\x0ce\x1cf\x85g\xe2\x80\xa8h\n"),
    ]


def test_flush_resets_the_splitter() -> None:
    splitter = LineSplitter()
    splitter.feed(Frame(ERR, b"tail"))
    assert splitter.flush() == [Frame(ERR, b"tail")]
    assert splitter.flush() == []
    assert splitter.feed(Frame(ERR, b"x\n")) == [Frame(ERR, b"x\n")]


def test_max_line_length_releases_long_partial_lines() -> None:
    splitter = LineSplitter(max_line_length=5)
    assert splitter.feed(Frame(OUT, b"abc")) == []
    assert splitter.feed(Frame(OUT, b"def")) == [Frame(OUT, b"abcdef")]
    assert splitter.feed(Frame(OUT, b"1\n" + b"z" * 9)) == [
        Frame(OUT, b"1\n"),
        Frame(OUT, b"z" * 9),
    ]
    assert splitter.flush() == []


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(
        st.tuples(st.sampled_from([OUT, ERR]), st.binary(max_size=12).map(lambda b: b + b"\n"))
        | st.tuples(st.sampled_from([OUT, ERR]), st.sampled_from([b"a", b"\n", b"bc\nd", b""])),
        max_size=30,
    )
)
def test_lines_per_stream_equal_the_stream_split_on_newlines(
    pieces: list[tuple[StreamType, bytes]],
) -> None:
    out = split_lines(Frame(s, d) for s, d in pieces)
    for stream in (OUT, ERR):
        whole = b"".join(d for s, d in pieces if s == stream)
        lines = [f.data for f in out if f.stream == stream]
        assert b"".join(lines) == whole
        assert all(line.endswith(b"\n") for line in lines[:-1])
        assert all(line.count(b"\n") == (1 if line.endswith(b"\n") else 0) for line in lines)


# --- collection path: frames carrying views of the chunk ------------------------------------


def collect_views(chunks: Iterable[bytes]) -> tuple[list[tuple[int, bytes]], int]:
    """Decode with ``emit_views``, copying each payload before the next feed (as demux does);
    return the runs and how many items were views."""
    decoder = MultiplexDecoder()
    decoder.emit_views()
    got: list[tuple[int, bytes]] = []
    views = 0
    for chunk in [*(c for c in chunks if c), None]:
        items = decoder.feed(chunk) if chunk is not None else decoder.eof()
        for stream, data in items:
            views += isinstance(data, memoryview)
            got.append((stream, bytes(data)))
    return runs(got), views


def test_views_give_the_same_bytes_at_every_split_point() -> None:
    data = encode_all(SAMPLE)
    expected = runs(SAMPLE)
    for i in range(len(data) + 1):
        for j in range(i, len(data) + 1):
            got, _ = collect_views([data[:i], data[i:j], data[j:]])
            assert got == expected, (i, j)


def test_views_are_not_copies() -> None:
    data = encode_all([(1, b"a" * 100), (1, b"b" * 50), (2, b"c" * 10), (1, b"d")])
    got, views = collect_views([data])
    assert got == [(1, b"a" * 100 + b"b" * 50), (2, b"c" * 10), (1, b"d")]
    assert views == 4  # the two stdout payloads come out as two views, not one joined copy


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.binary(max_size=40)), max_size=12),
    st.lists(st.integers(min_value=0, max_value=600), max_size=6),
)
def test_views_match_the_copying_decoder(frames: list[tuple[int, bytes]], cuts: list[int]) -> None:
    data = encode_all(frames)
    chunks = split_at(data, [c for c in cuts if c <= len(data)])
    got, _ = collect_views(chunks)
    assert got == runs(decode_chunks(chunks)) == runs(frames)


def test_views_still_raise_the_daemon_error_after_the_good_frames() -> None:
    data = encode_all([(1, b"ok")]) + encode_frame(3, b"boom")
    decoder = MultiplexDecoder()
    decoder.emit_views()
    assert [bytes(d) for _, d in decoder.feed(data)] == [b"ok"]
    with pytest.raises(StreamError, match="boom"):
        decoder.eof()


# --- pinned by mutation testing (nox -s mutate) ------------------------------------------


def header(word: bytes, size: int) -> bytes:
    return word + struct.pack(">I", size)


def test_encode_frame_size_limit() -> None:
    class Sized:
        def __init__(self, size: int) -> None:
            self.size = size

        def __len__(self) -> int:
            return self.size

        def __bytes__(self) -> bytes:
            return b""

    # The size field is a uint32: 4 GiB - 1 is the largest payload a frame can carry.
    assert encode_frame(1, Sized(0xFFFFFFFF)) == b"\x01\x00\x00\x00\xff\xff\xff\xff"  # type: ignore[arg-type]
    with pytest.raises(ValueError) as info:
        encode_frame(1, Sized(0x100000000))  # type: ignore[arg-type]
    assert str(info.value) == "frame payload of 4294967296 bytes exceeds the 4 GiB frame limit"


def test_empty_error_frame_message() -> None:
    decoder = MultiplexDecoder()
    with pytest.raises(StreamError) as info:
        decoder.feed(encode_frame(3, b" \n"))
    assert str(info.value) == "the daemon reported an error in the stream without a message"


@pytest.mark.parametrize("coalesce", [True, False])
def test_failed_decoder_keeps_failing_with_the_same_error(coalesce: bool) -> None:
    decoder = MultiplexDecoder(coalesce=coalesce)
    assert decoder.feed(encode_frame(1, b"abc")[:5]) == []
    with pytest.raises(TruncatedStreamError) as first:
        decoder.eof()
    assert decoder.error is first.value
    with pytest.raises(TruncatedStreamError) as again:
        decoder.eof()
    assert again.value is first.value
    with pytest.raises(TruncatedStreamError):
        decoder.feed(encode_frame(1, b"x"))


def test_padding_error_on_a_type_3_header_is_not_a_stream_type_error() -> None:
    decoder = MultiplexDecoder()
    with pytest.raises(StreamError) as info:
        decoder.feed(b"\x03\x00\x07\x00\x00\x00\x00\x01x")
    assert "non-zero padding byte 7 at byte offset 2" in str(info.value)


def test_bad_header_message_shows_16_bytes_from_the_header() -> None:
    data = encode_frame(1, b"ok") + b"\x09" + bytes(range(1, 20))
    decoder = MultiplexDecoder()
    assert decoder.feed(data) == [Frame(OUT, b"ok")]
    assert str(decoder.error) == (
        "protocol violation: not a multiplexed stream: stream type byte 9 at byte offset 10 "
        "(expected 0, 1, 2 or 3); bytes there: "
        + repr(b"\x09" + bytes(range(1, 16)))
        + " (is the container using a TTY?)"
    )


def test_padding_byte_one_is_an_error_even_first_in_a_chunk() -> None:
    # A header word of 1 (type 0, last padding byte 1) is invalid wherever it appears.
    for coalesce in (True, False):
        decoder = MultiplexDecoder(coalesce=coalesce)
        with pytest.raises(StreamError, match="non-zero padding byte 1 at byte offset 3"):
            decoder.feed(header(b"\x00\x00\x00\x01", 1) + b"x")


def test_error_offsets_count_every_chunk_fed() -> None:
    bad = b"\x05" + b"\x00" * 7
    # Coalesced, a payload continued over three chunks, then a bad header.
    decoder = MultiplexDecoder()
    decoder.feed(header(b"\x01\x00\x00\x00", 4) + b"ab")
    decoder.feed(b"c")
    decoder.feed(b"d" + encode_frame(2, b"e"))
    with pytest.raises(StreamError, match="at byte offset 21 "):
        decoder.feed(bad)
    # Not coalesced: the same over a payload left incomplete by one chunk.
    decoder = MultiplexDecoder(coalesce=False)
    decoder.feed(header(b"\x01\x00\x00\x00", 6) + b"ab")
    decoder.feed(b"cd")
    decoder.feed(b"ef" + encode_frame(2, b"e"))
    with pytest.raises(StreamError, match="at byte offset 23 "):
        decoder.feed(bad)


def test_long_error_frame_keeps_64_kib_of_text() -> None:
    text = b"E" * (64 * 1024 - 1) + b"Y" + b"z" * 100
    # Whole in one chunk, and cut so that one byte of room is left after the first chunk.
    for chunks in (
        [encode_frame(3, text)],
        [encode_frame(3, text)[: 8 + 64 * 1024 - 1], text[-101:]],
    ):
        decoder = MultiplexDecoder()
        with pytest.raises(StreamError) as info:
            for chunk in chunks:
                decoder.feed(chunk)
        assert str(info.value) == (b"E" * (64 * 1024 - 1) + b"Y").decode()


def test_coalesced_frames_are_bytes_when_streams_alternate() -> None:
    frames = decode_chunks([encode_frame(1, b"a") + encode_frame(2, b"b") + encode_frame(1, b"c")])
    assert frames == [(OUT, b"a"), (ERR, b"b"), (OUT, b"c")]
    assert all(type(frame.data) is bytes for frame in frames)


def test_views_mode_emits_no_empty_frame_for_a_header_at_the_chunk_end() -> None:
    decoder = MultiplexDecoder()
    decoder.emit_views()
    chunk = encode_frame(1, b"a") + encode_frame(1, b"b") + header(b"\x01\x00\x00\x00", 2)
    frames = decoder.feed(chunk)
    assert [bytes(frame.data) for frame in frames] == [b"a", b"b"]
    assert [bytes(frame.data) for frame in decoder.feed(b"cd")] == [b"cd"]


# JSON stream: what feed() hands out at once, where errors are, and the decoder.error state.


def test_feed_hands_out_a_document_as_soon_as_it_is_complete(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":"x"') == []  # ends with '"': tried, not complete
    assert decoder.feed(b"}") == [{"a": "x"}]
    assert decoder.feed(b'{"b":1} ') == [{"b": 1}]  # trailing whitespace
    assert decoder.feed(b'1 {"c":1}') == [1, {"c": 1}]  # a number that cannot go on
    assert decoder.feed(b"12") == []
    assert decoder.feed(b"\n") == [12]
    assert decoder.eof() == []
    assert decoder.error is None
    assert decoder.eof() == []  # eof twice is harmless


def test_number_split_at_its_exponent_waits_for_the_rest(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1} 1e') == [{"a": 1}]
    assert decoder.feed(b"5\n") == [100000.0]
    assert decoder.error is None


@pytest.mark.parametrize("tail", [b"12.", b"12e", b"12E-", b"-0."])
def test_number_cut_at_eof_is_truncated_not_emitted(json_backend: str, tail: bytes) -> None:
    # Like Go's json.Decoder (unexpected EOF): "12." is a number cut short, not 12 + junk.
    decoder = JSONStreamDecoder()
    assert decoder.feed(b"[1]\n" + tail) == [[1]]
    with pytest.raises(TruncatedStreamError) as info:
        decoder.eof()
    assert str(info.value) == (
        f"JSON stream ended inside a document at byte offset 4: got {len(tail)} bytes "
        f"{tail.decode()!r} without the end of the document"
    )


def test_document_exactly_max_size_is_accepted(json_backend: str) -> None:
    assert JSONStreamDecoder(max_document_size=7).feed(b'{"a":1}') == [{"a": 1}]


def test_big_tail_completed_at_twice_its_length_is_parsed_at_once(json_backend: str) -> None:
    size = 70_000  # past the eager limit: re-scanned only once it has doubled
    first = b'{"a":"' + b"x" * (size - 7) + b'"'
    second = b',"b":"' + b"y" * (size - 8) + b'"}'
    decoder = JSONStreamDecoder()
    assert decoder.feed(first) == []
    (doc,) = decoder.feed(second)
    assert doc == {"a": "x" * (size - 7), "b": "y" * (size - 8)}


def test_tail_of_exactly_the_eager_limit_is_parsed_at_once(json_backend: str) -> None:
    doc = b'{"a":"' + b"x" * (64 * 1024 - 8) + b'"}'
    assert len(doc) == 64 * 1024
    decoder = JSONStreamDecoder()
    assert decoder.feed(doc[:-1]) == []
    assert decoder.feed(doc[-1:]) == [{"a": "x" * (64 * 1024 - 8)}]


def test_error_offsets_after_documents_parsed_in_every_way(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"x":0}\n') == [{"x": 0}]  # a complete line: offset 8
    assert decoder.feed(b'{"a":1}') == [{"a": 1}]  # a complete tail: offset 15
    assert decoder.feed(b'{"b":2} {"c":"') == [{"b": 2}]  # part of a tail: offset 23
    assert decoder.feed(b'x"}\n{bad}\n') == [{"c": "x"}]
    assert str(decoder.error) == (
        "malformed JSON in stream at byte offset 33: "
        "Expecting property name enclosed in double quotes: '{bad}'"
    )
    with pytest.raises(StreamError):
        decoder.feed(b"{}\n")


def test_malformed_line_snippet_is_that_line_only(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}\n{bad}\n{"b":2}\n') == [{"a": 1}]
    assert str(decoder.error).endswith(
        "at byte offset 8: Expecting property name enclosed in double quotes: '{bad}'"
    )


def test_snippet_is_cut_after_200_characters(json_backend: str) -> None:
    for size, cut in ((200, False), (201, True)):
        line = b"!" + b"x" * (size - 1)
        decoder = JSONStreamDecoder()
        with pytest.raises(StreamError) as info:
            decoder.feed(line + b"\n")
        shown = repr(line[:200].decode()) + ("..." if cut else "")
        assert str(info.value).endswith(": " + shown)


def test_deep_nesting_is_reported_as_too_deep(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    with pytest.raises(StreamError) as info:
        decoder.feed(b"[" * 100_000 + b"\n")
    assert "at byte offset 0: nested too deeply: '[[[" in str(info.value)
    decoder = JSONStreamDecoder()
    decoder.feed(b"[" * 100_000)
    with pytest.raises(StreamError) as at_eof:
        decoder.eof()
    assert not isinstance(at_eof.value, TruncatedStreamError)
    assert "nested too deeply" in str(at_eof.value)


def test_invalid_utf8_at_the_end_of_the_stream(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}\n{"b":2}\xff') == [{"a": 1}]
    assert decoder.eof() == [{"b": 2}]  # the documents before the bad bytes come first
    error = decoder.error
    assert isinstance(error, StreamError) and not isinstance(error, TruncatedStreamError)
    assert str(error) == (
        "malformed JSON in stream at byte offset 15: invalid UTF-8 in '{\"b\":2}\ufffd'"
    )
    with pytest.raises(StreamError) as again:
        decoder.eof()
    assert again.value is error


def test_character_cut_at_the_end_of_the_stream_is_truncated(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}\n{"b":2} \xc3') == [{"a": 1}]
    assert decoder.eof() == [{"b": 2}]
    assert isinstance(decoder.error, TruncatedStreamError)
    assert str(decoder.error) == (
        "JSON stream ended inside a document at byte offset 16: got 1 bytes '\ufffd' "
        "without the end of the document"
    )


def test_document_cut_at_eof_names_its_offset(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}\n{"b":2} {"c":') == [{"a": 1}]
    assert decoder.eof() == [{"b": 2}]
    assert str(decoder.error) == (
        "JSON stream ended inside a document at byte offset 16: got 5 bytes '{\"c\":' "
        "without the end of the document"
    )


def test_line_of_exactly_the_maximum_length_waits_for_its_newline() -> None:
    splitter = LineSplitter(max_line_length=4)
    assert splitter.feed(Frame(OUT, b"abcd")) == []
    assert splitter.feed(Frame(OUT, b"\nxy\nabcd")) == [Frame(OUT, b"abcd\n"), Frame(OUT, b"xy\n")]
    assert splitter.flush() == [Frame(OUT, b"abcd")]


def test_offsets_add_up_over_several_lines_chunks(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}\n') == [{"a": 1}]
    assert decoder.feed(b'{"b":2}\n') == [{"b": 2}]
    with pytest.raises(StreamError, match="at byte offset 16: "):
        decoder.feed(b"{bad}\n")


def test_tail_parsed_whole_at_eof_is_no_error(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b" 12 ") == []  # a number may go on until the body ends
    assert decoder.eof() == [12]
    assert decoder.error is None


def test_number_cut_at_eof_after_another_document(json_backend: str) -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b"[2] 12.") == []
    assert decoder.eof() == [[2]]
    assert isinstance(decoder.error, TruncatedStreamError)
    assert "at byte offset 4: got 3 bytes '12.'" in str(decoder.error)


def test_junk_after_a_document_at_eof_is_malformed_not_truncated(json_backend: str) -> None:
    # Go's json.Decoder: "invalid character '.' looking for beginning of value".
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a":1}.') == []
    assert decoder.eof() == [{"a": 1}]
    assert type(decoder.error) is StreamError
    assert str(decoder.error) == "malformed JSON in stream at byte offset 7: Expecting value: '.'"


def test_number_then_another_at_eof_are_two_documents(json_backend: str) -> None:
    # Go's json.Decoder reads "12-3" as 12 then -3: a '-' cannot continue 12.
    decoder = JSONStreamDecoder()
    assert decoder.feed(b"12-3") == []
    assert decoder.eof() == [12, -3]
    assert decoder.error is None


def test_number_then_a_dot_on_a_complete_line_is_malformed(json_backend: str) -> None:
    # The newline says the body went on: nothing was cut short.
    decoder = JSONStreamDecoder()
    decoder.feed(b"12.\n")
    assert type(decoder.error) is StreamError
