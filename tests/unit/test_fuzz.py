"""Property-based fuzzing of everything that parses outside input.

Each parser gets arbitrary (and adversarially shaped) input and must return, or
raise only its documented error, within a work budget linear in its input (lines
counted, not seconds timed). Where the parser is fed in pieces, any split of the
input must give the same outcome as the whole.

Already fuzzed elsewhere, not repeated here:
- multiplexed frames, valid input in any chunking: tests/unit/test_frames.py
  ``test_any_chunking_gives_the_same_bytes_per_stream`` and
  ``test_error_frame_anywhere_in_any_chunking``;
- JSON stream, valid input with any separators and chunking:
  ``test_json_any_chunking_and_separators``; line splitting:
  ``test_lines_per_stream_equal_the_stream_split_on_newlines``;
- image references: tests/unit/test_reference.py
  ``test_parse_never_raises_anything_else``;
- filters: tests/unit/test_filters.py
  ``test_never_raises_anything_but_invalid_argument``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import re
import struct
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from aiodock._http import transport as _transport
from aiodock._http.request import encode_query, quote_path
from aiodock._http.transport import parse_host
from aiodock._streams import frames as _frames
from aiodock._streams.frames import (
    Frame,
    JSONStreamDecoder,
    MultiplexDecoder,
    RawDecoder,
    encode_frame,
)
from aiodock._streams.progress import error_parts
from aiodock._tar import dockerignore as _dockerignore
from aiodock._tar.archive import parse_path_stat
from aiodock._tar.dockerignore import PatternMatcher, clean_path, parse_dockerignore
from aiodock.errors import (
    DockerConnectionError,
    InvalidArgument,
    ResponseValidationError,
    StreamError,
)
from aiodock.models.containers import PathStat

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _split(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted({c for c in cuts if 0 <= c <= len(data)}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# "Never hangs, never blows up" is checked by counting work, not by a clock: the lines
# of aiodock's parser modules that a call executes. The count is the same on any
# machine and under any load, and a loop that never ends is stopped at the budget
# instead of hanging the run. Budgets are generous (several times what the parsers
# need, see _LINES_PER_UNIT) but linear in the input, so a quadratic rescan fails.
_PARSERS = frozenset(
    mod.__file__ for mod in (_frames, _dockerignore, _transport) if mod.__file__ is not None
)
_LINES_FIXED = 3_000
_LINES_PER_UNIT = 400


class _TooMuchWork(BaseException):
    """Raised inside the parser by the tracer; a BaseException so no ``except`` eats it."""


def _bounded(fn: Callable[[], Any], units: int) -> Any:
    """``fn()``, failing if it runs more than a budget linear in ``units`` of input."""
    budget = _LINES_FIXED + _LINES_PER_UNIT * units
    executed = 0

    def count(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal executed
        if event == "line":
            executed += 1
            if executed > budget:
                raise _TooMuchWork
        return count

    def enter(frame: FrameType, event: str, arg: Any) -> Any:
        return count if frame.f_code.co_filename in _PARSERS else None

    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        return fn()
    except _TooMuchWork:
        pytest.fail(f"more than {budget} parser lines for {units} units of input")
    finally:
        sys.settrace(previous)


# --- multiplexed stream: arbitrary bytes -------------------------------------------------


def _header(kind: int, pad: int, size: int) -> bytes:
    return struct.pack(">B3sI", kind, bytes([pad, 0, 0]), size)


_wire_pieces = st.one_of(
    # well-formed frames, including the daemon's error frame
    st.builds(encode_frame, st.sampled_from([0, 1, 2, 3]), st.binary(max_size=24)),
    # headers with any type, padding and size (possibly never honoured)
    st.builds(
        _header,
        st.integers(0, 255),
        st.sampled_from([0, 0, 0, 1, 255]),
        st.one_of(st.integers(0, 40), st.just(0xFFFFFFFF), st.integers(0, 2**32 - 1)),
    ),
    # raw garbage
    st.binary(max_size=24),
)
_wire = st.lists(_wire_pieces, max_size=12).map(b"".join)


def _offsets(message: str) -> list[str]:
    return re.findall(r"byte offset (\d+)", message)


def _multiplex_outcome(chunks: list[bytes], coalesce: bool) -> tuple[list[Any], Any]:
    """The output as runs of (stream, bytes) in order, and the error if any."""
    decoder = MultiplexDecoder(coalesce=coalesce)
    got: list[Any] = []

    def add(frames: list[Frame]) -> None:
        for stream, data in frames:
            assert isinstance(data, bytes) and data
            if got and got[-1][0] == stream:
                got[-1][1] += data
            else:
                got.append([int(stream), bytearray(data)])

    error: StreamError | None = None
    try:
        for chunk in chunks:
            add(decoder.feed(chunk))
        add(decoder.eof())
    except StreamError as exc:  # the only error the decoder documents
        error = exc
    if error is not None:
        # Once failed, a decoder keeps failing the same way.
        with pytest.raises(StreamError) as again:
            decoder.feed(b"\x01\x00\x00\x00\x00\x00\x00\x01x")
        assert again.value is error
        assert decoder.error is error
    # The message quotes the bytes at hand, which depend on the chunking; the kind
    # of error and the offset it names must not.
    described = None if error is None else (type(error), _offsets(str(error)))
    return [(stream, bytes(data)) for stream, data in got], described


@FUZZ
@given(data=_wire, cuts=st.lists(st.integers(0, 400), max_size=10), coalesce=st.booleans())
@example(data=_header(1, 0, 0xFFFFFFFF) + b"x" * 10, cuts=[3, 9], coalesce=False)
@example(data=b"\x03\x00\x00\x00\x00\x00\x00\x05err", cuts=[1], coalesce=True)
def test_multiplex_any_bytes_any_chunking_same_outcome_only_stream_errors(
    data: bytes, cuts: list[int], coalesce: bool
) -> None:
    size = len(data) + 1
    whole = _bounded(lambda: _multiplex_outcome([data], coalesce), size)
    pieces = _bounded(lambda: _multiplex_outcome(_split(data, cuts), coalesce), size)
    assert pieces == whole
    one_by_one = _bounded(
        lambda: _multiplex_outcome([data[i : i + 1] for i in range(len(data))], coalesce), size
    )
    assert one_by_one == whole


@FUZZ
@given(data=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=8))
def test_raw_tty_decoder_passes_every_byte_through(data: bytes, cuts: list[int]) -> None:
    decoder = RawDecoder()
    out = b""
    for chunk in _split(data, cuts):
        out += b"".join(f.data for f in decoder.feed(chunk))
    out += b"".join(f.data for f in decoder.eof())
    assert out == data


# --- JSON stream: arbitrary bytes --------------------------------------------------------

_json_text = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_json_pieces = st.one_of(
    _json_text.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    st.text(alphabet='{}[]":,0123456789.eE+-truefalsn \n\r\t\\é', max_size=16).map(str.encode),
    st.sampled_from([b"\n", b"\r\n", b" ", b"\xff", b"\xe2\x82", b"\x00", b"NaN", b"1e999"]),
    st.binary(max_size=12),
)
_json_wire = st.lists(_json_pieces, max_size=10).map(b"".join)


def _canon(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    return value


def _json_outcome(chunks: list[bytes]) -> tuple[list[Any], Any]:
    decoder = JSONStreamDecoder(max_document_size=4096)
    docs: list[Any] = []
    error: StreamError | None = None
    try:
        for chunk in chunks:
            docs += decoder.feed(chunk)
        docs += decoder.eof()
    except StreamError as exc:
        error = exc
    # A decoder hands out the documents before an error first and keeps the error
    # in ``decoder.error`` (what AsyncStream raises once those are used).
    error = error or decoder.error
    if error is not None:
        with pytest.raises(StreamError) as again:
            decoder.feed(b"{}\n")
        assert again.value is error
    return _canon(docs), None if error is None else type(error)


@FUZZ
@given(
    data=_json_wire,
    cuts=st.lists(st.integers(0, 300), max_size=10),
    use_orjson=st.booleans(),
)
@example(data=b'{"a":1}{"b":2}\n[1,2]\n\xff\n', cuts=[3, 15], use_orjson=True)
@example(data=b'{"a":1}{"b":2}\n[1,2]\n\xff\n', cuts=[3, 15], use_orjson=False)
@example(data=b'{"a": "\xe2\x82\xac"}', cuts=[9], use_orjson=True)
@example(data=b"[" * 5000, cuts=[2500], use_orjson=False)
def test_json_stream_any_bytes_any_chunking_same_outcome_only_stream_errors(
    data: bytes, cuts: list[int], use_orjson: bool
) -> None:
    saved = _frames._orjson
    if not use_orjson:
        _frames._orjson = None
    try:
        whole = _bounded(lambda: _json_outcome([data]), len(data) + 1)
        pieces = _bounded(lambda: _json_outcome(_split(data, cuts)), len(data) + 1)
    finally:
        _frames._orjson = saved
    assert pieces == whole


@pytest.mark.parametrize("tail", [b"x", b'{"b":', b"\xff"])
def test_json_documents_before_an_error_at_eof_are_delivered(tail: bytes) -> None:
    decoder = JSONStreamDecoder()
    docs = decoder.feed(b'{"a":1}' + tail)  # no newline: everything waits for eof()
    docs += decoder.eof()  # the good document first, the error right after it
    assert docs == [{"a": 1}]
    assert isinstance(decoder.error, StreamError)
    with pytest.raises(StreamError):
        decoder.eof()


def test_json_number_split_after_its_exponent_marker() -> None:
    decoder = JSONStreamDecoder()
    docs = decoder.feed(b"1e")
    docs += decoder.feed(b"5")
    docs += decoder.eof()
    assert docs == [1e5]


def _reports_error(message: Any) -> bool:
    """The documented rule: a mapping whose ``errorDetail`` or ``error`` is set."""
    return isinstance(message, dict) and bool(message.get("errorDetail") or message.get("error"))


@FUZZ
@given(_json_text)
@example(0)
@example("")
@example({"message": "x"})
def test_progress_error_check_reports_exactly_the_error_messages(value: Any) -> None:
    for message in (
        value,
        {"errorDetail": value},
        {"error": value},
        {"errorDetail": {"message": value, "code": value}},
        {"status": "Downloading", "progressDetail": {"current": 1}, "id": value},
    ):
        reported = error_parts(message)
        if reported is None:
            assert not _reports_error(message), message
        else:
            assert _reports_error(message), message
            text, code = reported
            assert isinstance(text, str) and text
            assert code is None or isinstance(code, int)
    if value:  # a truthy message is quoted as it is; an int (not a bool) is the code
        wanted = value if isinstance(value, int) and not isinstance(value, bool) else None
        assert error_parts({"errorDetail": {"message": value, "code": value}}) == (
            str(value),
            wanted,
        )


# --- host addresses ------------------------------------------------------------------------

_host_alphabet = "abcz019:/@[]%?#.-_ \t\r\n\x00é"
_hosts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=_host_alphabet, max_size=40),
    st.builds(
        lambda scheme, rest: scheme + rest,
        st.sampled_from(
            ["unix://", "tcp://", "http://", "https://", "ssh://", "npipe://", "TCP://", ""]
        ),
        st.text(alphabet=_host_alphabet, max_size=30),
    ),
)


@FUZZ
@given(host=_hosts, tls=st.booleans())
@example(host="tcp://[::1", tls=False)
@example(host="tcp://h:-1", tls=False)
@example(host="ssh://user@", tls=False)
@example(host="tcp://[::1]:2376/path/", tls=True)
@example(host="unix://\x00", tls=False)
def test_parse_host_returns_an_endpoint_or_raises_invalid_argument(host: str, tls: bool) -> None:
    try:
        endpoint = _bounded(lambda: parse_host(host, tls=tls), len(host) + 1)
    except InvalidArgument as exc:
        assert exc.parameter == "host"
        return
    assert endpoint.kind in ("unix", "tcp", "ssh")
    URL(endpoint.base_url + "/_ping", encoded=True)  # what the client builds requests from
    assert not any(c in endpoint.base_url for c in "\r\n\x00 ")
    if endpoint.kind == "unix":
        assert endpoint.socket_path
    else:
        assert endpoint.hostname
        assert endpoint.port is None or 0 <= endpoint.port <= 65535
    if endpoint.kind == "tcp":
        assert endpoint.tls == (tls or host.strip().lower().startswith("https://"))
        assert endpoint.base_url.startswith("https://" if endpoint.tls else "http://")


@pytest.mark.parametrize("host", ["tcp://[::1", "tcp://[abc]:2375", "ssh://]x[y", "tcp://a\u2100b"])
def test_parse_host_urlsplit_errors_are_invalid_argument(host: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_host(host)


@pytest.mark.parametrize(
    "host", ["tcp://a..b:2375", "tcp://\x80:2375", "%\u00af", "tcp://" + "a" * 64 + ":1"]
)
def test_parse_host_refuses_names_no_request_can_use(host: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_host(host)


@given(
    # Host names: labels of letters, digits and inner hyphens, one dot apart (an
    # empty label, "a..b", is refused: see the test above).
    name=st.from_regex(
        r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){0,2}",
        fullmatch=True,
    ),
    port=st.integers(1, 65535),
    tls=st.booleans(),
)
def test_parse_host_keeps_host_and_port(name: str, port: int, tls: bool) -> None:
    endpoint = parse_host(f"tcp://{name}:{port}", tls=tls)
    assert (endpoint.hostname, endpoint.port) == (name, port)
    assert endpoint.base_url == f"{'https' if tls else 'http'}://{name}:{port}"


# --- path segments and query strings -----------------------------------------------------

_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")


@FUZZ
@given(st.one_of(st.text(max_size=30), st.text(alphabet="./?#%\r\n \x00:@&=+;", max_size=12)))
@example("..")
@example(".")
@example("...")
@example("%2e%2E")
def test_quote_path_always_gives_one_opaque_segment(value: str) -> None:
    try:
        quoted = quote_path(value)
    except InvalidArgument as exc:
        assert value == "" or "\x00" in value
        assert exc.parameter == "id"
        return
    assert set(quoted) <= _UNRESERVED
    assert quoted.strip(".") != ""  # never "." or ".." once URL normalisation runs
    assert unquote(quoted) == value
    # yarl does not re-interpret the segment: the path keeps exactly three segments
    url = URL("http://docker/containers/" + quoted + "/json", encoded=True)
    assert url.raw_path == "/containers/" + quoted + "/json"


@FUZZ
@given(
    st.dictionaries(
        st.text(alphabet="abcdefxyz_", min_size=1, max_size=8),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=12),
            st.lists(st.text(max_size=5), max_size=3),
            st.dictionaries(
                st.text(max_size=4), st.lists(st.text(max_size=4), max_size=2), max_size=2
            ),
        ),
        max_size=5,
    )
)
def test_query_values_never_break_out_of_their_parameter(params: dict[str, Any]) -> None:
    query = encode_query(params)
    assert not any(c in query for c in "#\r\n \x00")
    pairs = [p.split("=", 1) for p in query.split("&")] if query else []
    assert [k for k, _ in pairs] == [k for k, v in params.items() if v is not None]
    assert all(set(v) <= _UNRESERVED for _, v in pairs)


# --- .dockerignore ---------------------------------------------------------------------------

_pattern_alphabet = "ab*?[]^!\\/.- "
_patterns = st.lists(st.text(alphabet=_pattern_alphabet, max_size=12), max_size=6)
_paths = st.text(alphabet="ab/.-*?[]\\ ", max_size=24)


@FUZZ
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
@example("\ufeff# comment\n!\n  \n/../x\n")
@example(b"\xff\xfe\n*\n")
def test_dockerignore_file_parsing_never_raises(content: str | bytes) -> None:
    patterns = _bounded(lambda: parse_dockerignore(content), len(content) + 1)
    assert all(isinstance(p, str) for p in patterns)
    assert all(p == "" or not p.startswith("/") or p == "/" for p in patterns)


@FUZZ
@given(patterns=_patterns, paths=st.lists(_paths, max_size=6))
@example(patterns=["[", "!"], paths=["a"])
@example(patterns=["[]a]", "[^]"], paths=["]"])
@example(patterns=["**/**/**/a"], paths=["b/" * 10 + "a"])
@example(patterns=["a\\"], paths=["a\\"])
def test_dockerignore_matching_raises_only_invalid_argument_and_never_hangs(
    patterns: list[str], paths: list[str]
) -> None:
    size = 1 + sum(len(p) + 1 for p in patterns)  # matching: linear in pattern x path
    try:
        matcher = _bounded(lambda: PatternMatcher(patterns), size)
    except InvalidArgument as exc:
        assert exc.parameter == "dockerignore"
        return
    for path in paths:
        work = size * (len(path) + 1)
        result = _bounded(lambda p=path: matcher.matches(p), work)  # type: ignore[misc]
        assert isinstance(result, bool)
        _bounded(lambda p=path: matcher.may_include_below(clean_path(p)), work)  # type: ignore[misc]


_segment = st.text(alphabet="abc.-_", min_size=1, max_size=5).filter(lambda s: s not in (".", ".."))


@FUZZ
@given(parts=st.lists(_segment, min_size=1, max_size=4), below=st.lists(_segment, max_size=3))
def test_dockerignore_a_literal_pattern_excludes_the_path_and_everything_below(
    parts: list[str], below: list[str]
) -> None:
    literal = "/".join(parts)
    path = "/".join([*parts, *below])
    assert PatternMatcher([literal]).matches(path)
    assert not PatternMatcher([literal, "!" + literal]).matches(literal)


@pytest.mark.parametrize(
    ("pattern", "path"),
    [("*a" * 12 + "*b", "a" * 40), ("**/" * 12 + "c", "/".join("x" * 40))],
)
def test_dockerignore_many_wildcards_do_not_backtrack(pattern: str, path: str) -> None:
    # A context scan calls this for every file: a slow pattern stalls every build. A
    # backtracking matcher needs exponentially many steps here; the budget is linear.
    assert not _bounded(lambda: PatternMatcher([pattern]).matches(path), len(pattern) * len(path))


# --- header values the daemon sends ----------------------------------------------------------


_path_stats = st.fixed_dictionaries(
    {
        "name": st.text(max_size=12),
        "size": st.integers(0, 2**63 - 1),
        "mode": st.integers(0, 2**32 - 1),
        "mtime": st.text(max_size=30),
        "linkTarget": st.text(max_size=12),
    },
    optional={"extra": _json_text},  # a newer daemon's field is ignored
)


def _header_value(document: Any) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


@FUZZ
@given(_path_stats)
def test_path_stat_header_gives_the_fields_it_holds(wire: dict[str, Any]) -> None:
    stat = parse_path_stat(_header_value(wire))
    assert (stat.name, stat.size, stat.mode, stat.mtime, stat.link_target) == (
        wire["name"],
        wire["size"],
        wire["mode"],
        wire["mtime"],
        wire["linkTarget"],
    )


@FUZZ
@given(
    st.one_of(
        st.none(),
        st.text(max_size=80),
        st.binary(max_size=60).map(lambda b: b.hex()),
        _json_text.map(_header_value),  # valid base64 JSON of any shape
    )
)
@example("e30=")  # {}
@example("W10=")  # []
@example("bnVsbA==")  # null
@example(_header_value({"name": 5}))
@example(_header_value({"size": "a"}))
@example(_header_value({"mode": [1]}))
def test_path_stat_header_parses_or_raises_a_docker_error(value: str | None) -> None:
    try:
        stat = parse_path_stat(value)
    except DockerConnectionError:  # no header, not base64, not JSON or not an object
        document = _decoded_object(value)
        assert document is None
    except ResponseValidationError as exc:  # an object whose fields do not fit
        assert _decoded_object(value) is not None
        assert exc.model == "PathStat"
    else:
        document = _decoded_object(value)
        assert document is not None
        name = document.get("name")
        if name is None or isinstance(name, str):  # absent or null: the default
            assert stat.name == (name or "")


def _decoded_object(value: str | None) -> dict[str, Any] | None:
    """The JSON object in a header value, independently of parse_path_stat; else None."""
    if not value:
        return None
    try:
        document = json.loads(base64.b64decode(value.strip()))
    except (ValueError, binascii.Error):
        return None
    return document if isinstance(document, dict) else None


def test_path_stat_header_known_examples() -> None:
    assert parse_path_stat("e30=") == PathStat()  # {}
    stat = parse_path_stat(
        _header_value({"name": "f", "size": 3, "mode": 0o644, "mtime": "m", "linkTarget": ""})
    )
    assert (stat.name, stat.size, stat.mode) == ("f", 3, 0o644)
    with pytest.raises(DockerConnectionError, match="no X-Docker-Container-Path-Stat"):
        parse_path_stat(None)
    with pytest.raises(DockerConnectionError, match="not a JSON object"):
        parse_path_stat("W10=")  # []
    with pytest.raises(ResponseValidationError, match="PathStat"):
        parse_path_stat(_header_value({"size": "a"}))
