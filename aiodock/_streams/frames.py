"""Sans-IO decoders for the byte streams the Docker daemon sends.

Nothing in here touches the network: every decoder takes chunks of bytes as
they arrive (``feed``) and hands back the items that are complete so far; at
the end of the body the caller calls ``eof``, which returns whatever could
only be finished by knowing the body is over, or raises when the body stopped
in the middle of something.

* :class:`MultiplexDecoder` splits the framed stdout/stderr stream of logs,
  attach and exec when the container has no TTY.
* :class:`RawDecoder` wraps the unframed stream of a TTY container.
* :class:`JSONStreamDecoder` parses newline-delimited or concatenated JSON
  documents (events, stats, progress messages).
* :class:`LineSplitter` reassembles lines per output stream.

Error policy shared by the decoders that can fail: when a chunk holds good
items followed by an error, ``feed`` returns the good items and the error is
raised by the next call to ``feed`` or ``eof`` (and is visible at once as the
decoder's ``error`` attribute). Once a decoder has failed, every later call
raises the same error again.
"""

from __future__ import annotations

import enum
import json
import re
import struct
from types import ModuleType
from typing import Any, NamedTuple, Protocol, TypeVar

from ..errors import StreamError, TruncatedStreamError

_orjson: ModuleType | None
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

__all__ = [
    "Decoder",
    "Frame",
    "JSONStreamDecoder",
    "LineSplitter",
    "MultiplexDecoder",
    "RawDecoder",
    "StreamType",
    "encode_frame",
]

_T = TypeVar("_T")


class Decoder(Protocol[_T]):
    """What every decoder in this module looks like to the streaming layer."""

    def feed(self, data: bytes) -> list[_T]:
        """Consume one chunk of the body; return the items it completed."""
        ...

    def eof(self) -> list[_T]:
        """Signal the end of the body; return the last items or raise if cut short."""
        ...


class StreamType(enum.IntEnum):
    """Which standard stream a chunk of container output belongs to."""

    STDIN = 0
    STDOUT = 1
    STDERR = 2


class Frame(NamedTuple):
    """A piece of container output: the stream it was written to and its raw bytes."""

    stream: StreamType
    data: bytes


# --- multiplexed stream -------------------------------------------------------

_HEADER = struct.Struct(">II")
_HEADER_SIZE = 8
_ERROR_TYPE = 3
# The first header word is ``type << 24`` when the three padding bytes are zero,
# so one dict lookup both validates the padding and maps the type.
_WORD_TO_STREAM: dict[int, StreamType] = {int(s) << 24: s for s in StreamType}
_ERROR_WORD = _ERROR_TYPE << 24
# ``Frame(a, b)`` goes through a Python-level ``__new__``; building the tuple
# directly is about three times faster, which matters at millions of frames.
_new_frame = tuple.__new__
# The daemon's own error text is short; keep at most this much of it.
_MAX_ERROR_TEXT = 64 * 1024


def encode_frame(stream: int, data: bytes) -> bytes:
    """Encode one frame of the multiplexed stream (header plus payload).

    ``stream`` is 0, 1, 2 or 3 (3 is the daemon's in-band error frame).
    """
    if not 0 <= stream <= _ERROR_TYPE:
        raise ValueError(f"stream type must be 0..3, got {stream}")
    if len(data) > 0xFFFFFFFF:
        raise ValueError(f"frame payload of {len(data)} bytes exceeds the 4 GiB frame limit")
    return _HEADER.pack(stream << 24, len(data)) + bytes(data)


def _stream_name(word: int) -> str:
    stream = _WORD_TO_STREAM.get(word)
    return stream.name.lower() if stream is not None else "error"


class _StickyError:
    """The part of a decoder that keeps the error it failed with.

    Once failed, a decoder raises that error from every later ``feed`` and ``eof``.
    """

    __slots__ = ("_error",)

    _error: StreamError | None

    @property
    def error(self) -> StreamError | None:
        """The error this decoder failed with, if any.

        Set as soon as it is found, even while :meth:`feed` still returns the
        items that came before it; a reader can check it after using those
        items instead of waiting for more data to make :meth:`feed` raise.
        """
        return self._error


class MultiplexDecoder(_StickyError):
    """Decode Docker's multiplexed stdout/stderr stream into :class:`Frame` items.

    Each wire frame is an 8-byte header ``[type, 0, 0, 0, size (big-endian
    uint32)]`` followed by ``size`` payload bytes. Headers and payloads may be
    split across chunks at any byte. Frames with an empty payload are legal
    and produce no item (nor do they split a run of coalesced frames).

    With ``coalesce=True`` (the default) frame boundaries are not preserved:
    within one :meth:`feed` call, consecutive frames of the same stream are
    joined into a single :class:`Frame`, and the received part of a frame
    whose payload continues in the next chunk is returned right away instead
    of being buffered. Order across streams is always kept, and the bytes of
    each stream are delivered exactly. Memory use stays bounded by the chunk
    size whatever size the daemon announces.

    With ``coalesce=False`` every non-empty wire frame becomes exactly one
    :class:`Frame`; a frame's payload is buffered until it is complete.

    A type-3 frame is an error reported by the daemon and raises
    :class:`~aiodock.errors.StreamError` with its text. Any other unknown type
    or non-zero padding means the body is not a multiplexed stream (typically
    a TTY container read as if it had none) and raises
    :class:`~aiodock.errors.StreamError` naming the byte offset. :meth:`eof`
    raises :class:`~aiodock.errors.TruncatedStreamError` when the body ended
    inside a header or a payload.
    """

    __slots__ = (
        "_coalesce",
        "_error_text",
        "_header",
        "_offset",
        "_pending",
        "_remaining",
        "_size",
        "_views",
        "_word",
    )

    def __init__(self, *, coalesce: bool = True) -> None:
        self._coalesce = coalesce
        # Frames carry memoryviews of the received chunk (see ``emit_views``).
        self._views = False
        # Stream offset of the first byte of the next chunk to be fed.
        self._offset = 0
        # Start of a header cut off at the end of the previous chunk.
        self._header = b""
        # State of a frame whose payload continues in the next chunk.
        self._word = 0
        self._size = 0
        self._remaining = 0
        self._pending: list[bytes] = []  # payload so far (coalesce=False only)
        self._error_text = bytearray()  # payload so far of a type-3 frame
        self._error: StreamError | None = None

    def feed(self, data: bytes) -> list[Frame]:
        """Consume one chunk; return the frames it completed (see the class doc)."""
        if self._error is not None:
            raise self._error
        if not data:
            return []
        if self._header:
            data = self._header + data
            self._offset -= len(self._header)
            self._header = b""
        elif type(data) is not bytes:
            data = bytes(data)
        n = len(data)
        out: list[Frame] = []
        pos = 0
        if self._remaining:
            if self._coalesce and self._word != _ERROR_WORD:
                # Keep the continued payload in the same run as what follows it.
                self._decode_coalesced(data, 0, out)
                self._offset += n
                return self._finish(out)
            pos = self._continue_payload(data, out)
            if self._remaining or self._error is not None:
                self._offset += n
                return self._finish(out)
        if self._coalesce:
            self._decode_coalesced(data, pos, out)
        else:
            self._decode_frames(data, pos, out)
        self._offset += n
        return self._finish(out)

    def eof(self) -> list[Frame]:
        """Signal the end of the body; raise if it stopped inside a frame."""
        if self._error is not None:
            raise self._error
        if self._header:
            self._fail(
                TruncatedStreamError(
                    f"multiplexed stream ended inside a frame header at byte offset "
                    f"{self._offset - len(self._header)}: expected {_HEADER_SIZE} header "
                    f"bytes, got {len(self._header)}"
                )
            )
        if self._remaining:
            got = self._size - self._remaining
            start = self._offset - got - _HEADER_SIZE
            if self._word == _ERROR_WORD:
                text = _error_text(self._error_text)
                detail = f" (daemon error so far: {text!r})" if text else ""
                msg = (
                    f"multiplexed stream ended inside a daemon error frame at byte offset "
                    f"{start}: header announced {self._size} payload bytes, got {got}{detail}"
                )
            else:
                msg = (
                    f"multiplexed stream ended inside a {_stream_name(self._word)} frame at "
                    f"byte offset {start}: header announced {self._size} payload bytes, "
                    f"got {got}"
                )
            self._fail(TruncatedStreamError(msg))
        return []

    def emit_views(self) -> None:
        """From now on, coalesced frames carry ``memoryview`` slices of the fed chunk.

        For a consumer that copies each payload before the next :meth:`feed`
        (``demux()`` appending to one buffer per stream): the payload is then
        copied once instead of twice, and a run of same-stream frames may come
        out as several consecutive frames of that stream. Bytes and their order
        are unchanged.
        """
        self._views = True

    # -- internals ---------------------------------------------------------------

    def _finish(self, out: list[Frame]) -> list[Frame]:
        if self._error is not None and not out:
            raise self._error
        return out

    def _fail(self, exc: StreamError) -> None:
        self._error = exc
        raise exc

    def _continue_payload(self, data: bytes, out: list[Frame]) -> int:
        """Consume the rest of a payload started in an earlier chunk; return the new position."""
        take = min(self._remaining, len(data))
        self._remaining -= take
        word = self._word
        if word == _ERROR_WORD:
            room = _MAX_ERROR_TEXT - len(self._error_text)
            if room > 0:
                self._error_text += data[: min(take, room)]
            if not self._remaining:
                self._error = StreamError(_error_text(self._error_text))
            return take
        self._pending.append(data[:take])
        if not self._remaining:
            out.append(Frame(_WORD_TO_STREAM[word], b"".join(self._pending)))
            self._pending = []
        return take

    def _bad_header(self, data: bytes, pos: int, word: int, size: int) -> None:
        """Record the error for header ``word`` at ``pos``, or start reading an error frame."""
        if word == _ERROR_WORD:
            end = pos + _HEADER_SIZE + size
            if end <= len(data):
                payload = data[pos + _HEADER_SIZE : min(end, pos + _HEADER_SIZE + _MAX_ERROR_TEXT)]
                self._error = StreamError(_error_text(payload))
            else:
                self._error_text = bytearray(data[pos + _HEADER_SIZE : end][:_MAX_ERROR_TEXT])
                self._word = word
                self._size = size
                self._remaining = end - len(data)
            return
        offset = self._offset + pos
        stream_type = word >> 24
        if stream_type > _ERROR_TYPE:
            what = f"stream type byte {stream_type} at byte offset {offset} (expected 0, 1, 2 or 3)"
        else:
            bad = next(i for i in range(1, 4) if data[pos + i])
            what = f"non-zero padding byte {data[pos + bad]} at byte offset {offset + bad}"
        head = data[pos : pos + 16]
        self._error = StreamError(
            f"protocol violation: not a multiplexed stream: {what}; "
            f"bytes there: {head!r} (is the container using a TTY?)"
        )

    def _decode_coalesced(self, data: bytes, pos: int, out: list[Frame]) -> None:
        # The hot loop. A run of same-stream payloads is held as slices of a
        # memoryview of the chunk (``first`` while it has one piece, the common
        # case when streams alternate, ``parts`` once it has more) and copied
        # once, when the stream changes or the chunk ends.
        unpack = _HEADER.unpack_from
        streams = _WORD_TO_STREAM
        join = b"".join
        append = out.append
        new = _new_frame
        view = memoryview(data)
        views = self._views
        n = len(data)
        run_word = -1
        run_stream = StreamType.STDOUT
        first: memoryview | None = None
        parts: list[memoryview] | None = None
        add = None
        if self._remaining:
            # The first bytes finish a payload started in an earlier chunk.
            pos = min(self._remaining, n)
            self._remaining -= pos
            run_word = self._word
            run_stream = streams[run_word]
            if self._remaining:
                append(new(Frame, (run_stream, data)))
                return
            first = view[:pos]
        try:
            while True:
                word, size = unpack(data, pos)
                start = pos + _HEADER_SIZE
                end = start + size
                if word == run_word and end <= n:
                    if add is not None:
                        add(view[start:end])
                    elif first is not None:
                        parts = [first, view[start:end]]
                        add = parts.append
                    else:
                        first = view[start:end]
                    pos = end
                    continue
                if word != run_word:
                    stream = streams.get(word)
                    if stream is not None and not size:
                        pos = end  # an empty frame does not interrupt the run
                        continue
                    if parts is not None:
                        if views:
                            out.extend([new(Frame, (run_stream, p)) for p in parts])
                        else:
                            append(new(Frame, (run_stream, join(parts))))
                        parts = add = None
                    elif first:
                        append(new(Frame, (run_stream, first if views else first.tobytes())))
                    first = None
                    if stream is None:
                        self._bad_header(data, pos, word, size)
                        return
                    run_word = word
                    run_stream = stream
                    if end <= n:
                        first = view[start:end]
                        pos = end
                        continue
                # The payload continues in the next chunk: emit what is here.
                if start < n:
                    piece = view[start:]
                    if parts is not None:
                        parts.append(piece)
                    elif first is not None:
                        parts = [first, piece]
                    else:
                        first = piece
                self._word = word
                self._size = size
                self._remaining = end - n
                pos = n
                break
        except struct.error:
            pass  # fewer than 8 bytes left: a header cut by the end of the chunk
        if parts is not None:
            if views:
                out.extend([new(Frame, (run_stream, p)) for p in parts])
            else:
                append(new(Frame, (run_stream, join(parts))))
        elif first:
            append(new(Frame, (run_stream, first if views else first.tobytes())))
        if pos < n:
            self._header = data[pos:]

    def _decode_frames(self, data: bytes, pos: int, out: list[Frame]) -> None:
        unpack = _HEADER.unpack_from
        streams = _WORD_TO_STREAM
        append = out.append
        new = _new_frame
        n = len(data)
        while pos + _HEADER_SIZE <= n:
            word, size = unpack(data, pos)
            stream = streams.get(word)
            if stream is None:
                self._bad_header(data, pos, word, size)
                return
            start = pos + _HEADER_SIZE
            end = start + size
            if end > n:
                self._pending = [data[start:]]
                self._word = word
                self._size = size
                self._remaining = end - n
                return
            if size:
                append(new(Frame, (stream, data[start:end])))
            pos = end
        if pos < n:
            self._header = data[pos:]


def _error_text(payload: bytes | bytearray) -> str:
    text = bytes(payload).decode("utf-8", "replace").strip()
    return text or "the daemon reported an error in the stream without a message"


class RawDecoder:
    """Decoder for the unframed stream of a TTY container: every chunk is stdout."""

    __slots__ = ()

    def feed(self, data: bytes) -> list[Frame]:
        """Return the chunk as one stdout :class:`Frame` (nothing for an empty chunk)."""
        if not data:
            return []
        return [Frame(StreamType.STDOUT, bytes(data))]

    def eof(self) -> list[Frame]:
        """Nothing is ever buffered, so there is nothing to finish."""
        return []


# --- JSON streams ---------------------------------------------------------------

_raw_decode = json.JSONDecoder().raw_decode
_NON_WHITESPACE = re.compile(r"[^ \t\r\n]")
# Bytes a complete document can end with (before trailing whitespace). Digits
# are left out on purpose: a number at the end of the data may continue.
_DOC_ENDINGS = frozenset(b'}]"el')
_WHITESPACE_BYTES = frozenset(b" \t\r\n")
_SNIPPET = 200
# An unterminated tail up to this size is re-scanned on every chunk that may
# complete it; beyond, only each time it has doubled (see ``_try_tail``).
_EAGER_TAIL = 64 * 1024


def _snippet(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if len(text) > _SNIPPET:
        return repr(text[:_SNIPPET]) + "..."
    return repr(text)


class JSONStreamDecoder(_StickyError):
    """Decode a stream of JSON documents, returning the parsed values.

    Accepts newline-delimited JSON (events, progress messages; ``\\n`` or
    ``\\r\\n``, blank lines ignored) and JSON documents concatenated with or
    without whitespace between them (stats). A document may be split across
    chunks anywhere. Docker never puts a raw newline inside a document, so a
    newline always ends the documents before it: malformed JSON is reported
    as soon as its line is complete.

    Lines are parsed with orjson when it is installed, and with the standard
    library otherwise; a line holding several documents is split with
    :meth:`json.JSONDecoder.raw_decode`.

    Raises :class:`~aiodock.errors.StreamError` on malformed JSON and when
    more than ``max_document_size`` bytes arrive without a document ending;
    :meth:`eof` raises :class:`~aiodock.errors.TruncatedStreamError` when the
    body ends inside a document.
    """

    __slots__ = ("_max", "_next_attempt", "_offset", "_tail")

    def __init__(self, *, max_document_size: int = 64 * 1024 * 1024) -> None:
        self._max = max_document_size
        self._tail = bytearray()  # bytes after the last newline, not parsed yet
        self._offset = 0  # stream offset of the first byte of ``_tail``
        # A big unterminated tail is only re-scanned once it has grown past this
        # length, so a huge document arriving in small chunks is not parsed
        # over and over.
        self._next_attempt = 0
        self._error: StreamError | None = None

    def feed(self, data: bytes) -> list[Any]:
        """Consume one chunk; return the documents it completed."""
        if self._error is not None:
            raise self._error
        out: list[Any] = []
        try:
            self._feed(data, out)
        except StreamError as exc:
            self._error = exc
            if not out:
                raise
        return out

    def eof(self) -> list[Any]:
        """Signal the end of the body; return the last documents, raise if one is cut short."""
        if self._error is not None:
            raise self._error
        out: list[Any] = []
        try:
            if self._tail.strip():
                text = bytes(self._tail)
                used = self._scan(text, self._offset, out, _EOF)
                if used < len(text):  # only a multi-byte character cut short is left
                    raise TruncatedStreamError(
                        f"JSON stream ended inside a document at byte offset "
                        f"{self._offset + used}: got {len(text) - used} bytes "
                        f"{_snippet(text[used:])} without the end of the document"
                    )
            self._tail = bytearray()
        except StreamError as exc:
            self._error = exc
            if not out:
                raise
            # Like feed: hand out the documents before the error first.
        return out

    def _feed(self, data: bytes, out: list[Any]) -> None:
        cut = data.rfind(b"\n")
        if cut < 0:
            self._tail += data
            self._try_tail(out)
            return
        block = bytes(self._tail) + data[:cut] if self._tail else bytes(data[:cut])
        block_offset = self._offset
        self._tail = bytearray(data[cut + 1 :])
        self._offset += len(block) + 1
        self._next_attempt = 0
        self._parse_lines(block, block_offset, out)
        if self._tail:
            self._try_tail(out)

    def _parse_lines(self, block: bytes, offset: int, out: list[Any]) -> None:
        orjson = _orjson
        loads = orjson.loads if orjson is not None else json.loads
        lines = block.split(b"\n")
        try:
            # Fast path: one document per line, no blank lines.
            out.extend(list(map(loads, lines)))
            return
        except (ValueError, RecursionError):
            pass
        append = out.append
        for i, line in enumerate(lines):
            try:
                append(loads(line))
            except (ValueError, RecursionError):
                if not line.strip():
                    continue
                line_offset = offset + sum(len(x) + 1 for x in lines[:i])
                self._scan(line, line_offset, out, _COMPLETE)

    def _try_tail(self, out: list[Any]) -> None:
        """Parse documents at the start of the unterminated tail if it looks complete."""
        tail = self._tail
        if len(tail) > self._max:
            raise StreamError(
                f"JSON stream sent more than {self._max} bytes without ending a document "
                f"(starting at byte offset {self._offset}: {_snippet(bytes(tail[:_SNIPPET]))})"
            )
        if len(tail) < self._next_attempt and len(tail) > _EAGER_TAIL:
            return
        last = len(tail) - 1
        while last >= 0 and tail[last] in _WHITESPACE_BYTES:
            last -= 1
        if last < 0 or tail[last] not in _DOC_ENDINGS:
            return
        text = bytes(tail)
        orjson = _orjson
        if orjson is not None:
            try:
                out.append(orjson.loads(text))
            except ValueError:
                pass
            else:
                self._offset += len(text)
                self._tail = bytearray()
                self._next_attempt = 0
                return
        rest = self._scan(text, self._offset, out, _PARTIAL)
        if rest:
            del self._tail[:rest]
            self._offset += rest
        self._next_attempt = 2 * len(self._tail)

    def _scan(self, raw: bytes, offset: int, out: list[Any], mode: int) -> int:
        """Parse the documents in ``raw`` one after another into ``out``.

        ``mode`` says what a document that fails to parse means: with
        ``_PARTIAL`` more bytes may follow, so parsing just stops there; with
        ``_COMPLETE`` (a finished line) it is malformed JSON; with ``_EOF`` it
        is a truncated document if the bytes could be the start of one, and
        malformed JSON otherwise. Returns how many bytes of ``raw`` were used.
        """
        bad_utf8: StreamError | None = None
        try:
            text = raw.decode("utf-8")
            decoded = len(raw)
        except UnicodeDecodeError as exc:
            cut_char = exc.reason == "unexpected end of data"
            if mode == _COMPLETE or (mode == _EOF and not cut_char):
                # Raised after the documents before the bad bytes are parsed.
                bad_utf8 = StreamError(
                    f"malformed JSON in stream at byte offset {offset + exc.start}: "
                    f"invalid UTF-8 in {_snippet(raw)}"
                )
            # Possibly a multi-byte character cut by the chunk boundary: parse
            # what decodes cleanly and leave the rest for later.
            decoded = exc.start
            text = raw[:decoded].decode("utf-8")
        n = len(text)
        idx = _skip_whitespace(text, 0)
        while idx < n:
            try:
                obj, end = _raw_decode(text, idx)
            except (json.JSONDecodeError, RecursionError) as exc:
                consumed = len(text[:idx].encode("utf-8"))
                if bad_utf8 is not None:  # the document runs into the bad bytes
                    raise bad_utf8 from exc
                if mode == _PARTIAL:
                    return consumed
                if mode == _EOF and _looks_truncated(text, idx, exc):
                    raise _cut_short(raw, offset, text, idx) from exc
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                raise StreamError(
                    f"malformed JSON in stream at byte offset {offset + consumed}: "
                    f"{reason}: {_snippet(text[idx:])}"
                ) from exc
            if mode == _PARTIAL and _may_continue_number(obj, text, end):
                # "1e" + "5" is one number: a bare number ending the data so far waits.
                return len(text[:idx].encode("utf-8"))
            # "12." at the end of the body is a number cut short, not 12 then junk.
            if (
                mode == _EOF
                and _may_continue_number(obj, text, end)
                and _UNFINISHED_NUMBER.fullmatch(text, end)
            ):
                raise _cut_short(raw, offset, text, idx)
            out.append(obj)
            idx = _skip_whitespace(text, end)
        if bad_utf8 is not None:
            raise bad_utf8
        return decoded


def _cut_short(raw: bytes, offset: int, text: str, idx: int) -> TruncatedStreamError:
    """The error for a body that ended inside the document starting at ``text[idx:]``."""
    consumed = len(text[:idx].encode("utf-8"))
    return TruncatedStreamError(
        f"JSON stream ended inside a document at byte offset {offset + consumed}: "
        f"got {len(raw) - consumed} bytes {_snippet(text[idx:])} without the end of the document"
    )


def _may_continue_number(obj: Any, text: str, end: int) -> bool:
    """Whether a top-level number parsed up to ``end`` could go on in later bytes."""
    if not isinstance(obj, (int, float)) or isinstance(obj, bool):
        return False
    rest = text[end:]
    return not rest or bool(_UNFINISHED_NUMBER_TAIL.match(rest))


_PARTIAL = 0
_COMPLETE = 1
_EOF = 2
# What is left at the end of a number, or of true/false/null, when the data
# stops early (the parser stops at the first byte it cannot use).
_UNFINISHED_LITERAL = re.compile(r"-|t|tr|tru|f|fa|fal|fals|n|nu|nul")
_UNFINISHED_NUMBER = re.compile(r"\.|[eE][+-]?")
_UNFINISHED_NUMBER_TAIL = re.compile(r"[0-9.eE+-]")


def _looks_truncated(text: str, start: int, exc: Exception) -> bool:
    """Whether a document that failed at ``start`` could be cut short rather than malformed."""
    if not isinstance(exc, json.JSONDecodeError):
        return False
    pos = exc.pos
    if pos >= len(text) or exc.msg.startswith("Unterminated string"):
        return True
    rest = text[pos:]
    if _UNFINISHED_LITERAL.fullmatch(rest):
        return True
    return pos > start and text[pos - 1].isdigit() and bool(_UNFINISHED_NUMBER.fullmatch(rest))


def _skip_whitespace(text: str, idx: int) -> int:
    match = _NON_WHITESPACE.search(text, idx)
    return match.start() if match is not None else len(text)


# --- lines ------------------------------------------------------------------------


class LineSplitter:
    """Reassemble complete lines from frames, separately for each output stream.

    :meth:`feed` returns one :class:`Frame` per completed line, keeping its
    trailing ``b"\\n"``; a partial line waits for the rest of its own stream,
    so stdout and stderr lines never mix. Only ``b"\\n"`` ends a line.
    :meth:`flush` returns the partial lines left at the end of the stream.

    With ``max_line_length`` set, a partial line that grows beyond that many
    bytes is returned as it is (without a newline) instead of being buffered
    further.
    """

    __slots__ = ("_max", "_pending")

    def __init__(self, *, max_line_length: int | None = None) -> None:
        self._max = max_line_length
        # Partial line per stream; insertion order is the order the lines started.
        self._pending: dict[StreamType, bytearray] = {}

    def feed(self, frame: Frame) -> list[Frame]:
        """Consume one frame; return the lines it completed."""
        stream, data = frame
        pending = self._pending
        cut = data.rfind(b"\n")
        if cut < 0:
            if not data:
                return []
            partial = pending.get(stream)
            if partial is None:
                partial = pending[stream] = bytearray(data)
            else:
                partial += data
            if self._max is not None and len(partial) > self._max:
                del pending[stream]
                return [Frame(stream, bytes(partial))]
            return []
        head = data[: cut + 1]
        partial = pending.pop(stream, None)
        if partial is not None:
            partial += head
            head = bytes(partial)
        lines = head.split(b"\n")
        lines.pop()  # empty: ``head`` ends with a newline
        out = [Frame(stream, line + b"\n") for line in lines]
        if cut + 1 < len(data):
            tail = data[cut + 1 :]
            if self._max is not None and len(tail) > self._max:
                out.append(Frame(stream, tail))
            else:
                pending[stream] = bytearray(tail)
        return out

    def flush(self) -> list[Frame]:
        """Return the unfinished lines (in the order they started) and forget them."""
        out = [Frame(stream, bytes(partial)) for stream, partial in self._pending.items()]
        self._pending = {}
        return out
