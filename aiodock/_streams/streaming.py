"""Streaming responses: :class:`AsyncStream` and hijacked attach/exec connections.

The rule for every stream aiodock returns:

- Every stream is lazy: nothing is sent until it is awaited, iterated or
  entered (``async with``); ``await stream.open()`` sends the request and
  returns the stream, raising HTTP errors before any item is produced.
- Operations (pull, push, build, load, import, plugin pull/push/upgrade; see
  :mod:`aiodock._streams.progress`): the stream is a report on work the daemon does.
  ``await op`` runs the work to its end and returns its typed result;
  ``async for`` streams the progress, and awaiting afterwards returns the
  result. Dropping a started operation before its end cancels the work, so it
  warns (``ResourceWarning``); ``aclose()`` cancels it on purpose.
- Data streams (logs, attach, events, stats, ``save``, ``export``,
  archives): the stream is the result. ``await stream`` sends the request and
  returns the stream to iterate; ``collect()``/``read()``/``demux()`` read it
  whole. Leaving one early (``break``) is normal: ``async with`` or
  ``aclose()`` releases the connection at once, and a stream dropped
  unclosed releases it when it is collected.

An ``AsyncStream`` is lazy: awaiting it (or entering ``async with``, or the
first ``async for`` step) sends the request and raises HTTP errors before any
item is produced. Bytes from the connection go through a sans-IO decoder from
``frames`` and then an optional per-item converter. The connection is
released on every exit path: end of body, error, timeout, cancellation,
``break`` (via ``aclose``/``async with``, or when the stream is collected).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

import aiohttp
import attrs

from .._http.failures import TRANSPORT_ERRORS, transport_error
from .._http.rawconn import RawConnection
from .._http.timeouts import wait_for
from .._http.transport import stop_process
from ..errors import (
    DockerConnectionError,
    DockerError,
    ResponseValidationError,
    UsageError,
)
from .frames import Decoder, Frame, LineSplitter, MultiplexDecoder, RawDecoder, StreamType

__all__ = ["AsyncStream", "FrameStream", "HijackedStream", "Output"]

T = TypeVar("T")
S = TypeVar("S", bound="AsyncStream[Any]")

# Streams opening and closing (with the bytes read) at DEBUG; never a body.
_log = logging.getLogger("aiodock.stream")
_DEBUG = logging.DEBUG


class BytesDecoder:
    """Pass chunks through unchanged (tar archives, image exports)."""

    __slots__ = ()

    def feed(self, data: bytes) -> list[Any]:
        return [data]

    def eof(self) -> list[Any]:
        return []


@attrs.frozen
class Output:
    """Everything a container or exec wrote, split by stream.

    ``stdout`` and ``stderr`` are ``bytearray``: the output is appended to them
    as it arrives, so it is held in memory once (an immutable ``bytes`` would
    need a second copy at the end). They compare equal to ``bytes`` and have
    the same methods; ``bytes(output.stdout)`` makes an immutable copy.
    """

    stdout: bytearray = attrs.field(factory=bytearray)
    stderr: bytearray = attrs.field(factory=bytearray)


def _emit_views(decoder: object) -> None:
    # Collecting copies each payload straight out of the received chunk.
    emit = getattr(decoder, "emit_views", None)
    if emit is not None:
        emit()


async def _collect_output(frames: AsyncIterator[Frame]) -> Output:
    """Read ``frames`` to the end, each payload appended to its stream's ``bytearray``."""
    out = bytearray()
    err = bytearray()
    async for stream, data in frames:
        if stream == StreamType.STDERR:
            err += data
        else:
            out += data
    return Output(out, err)


Opener = Callable[[], Awaitable[aiohttp.ClientResponse]]


class AsyncStream(Generic[T]):
    """An async iterator over the items of one streaming response.

    ``await stream`` (or ``await stream.open()``) sends the request (raising
    HTTP errors) and returns the stream; ``async for item in stream``
    iterates; ``async with stream`` guarantees the connection is released
    however the block ends. Operations (:class:`~aiodock.ProgressStream` and
    its subclasses) differ: ``await`` runs them to their end and returns
    their result (the rule is in this module's docstring).

    Streams are made by the namespace methods; these arguments are for aiodock's own use.

    Args:
        open: a coroutine function that sends the request and returns the response.
        decoder: the incremental decoder of the body (``feed(bytes)`` and ``eof()``
            return the decoded items).
        convert: turns each decoded item into what the stream yields (a model);
            ``None`` yields them as they are.
        what: how errors name the call, e.g. ``"GET /containers/x/logs"``.
        where: the daemon's address, for messages.
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_convert",
        "_decoder",
        "_done",
        "_items",
        "_open",
        "_opened_at",
        "_pos",
        "_response",
        "_what",
        "_where",
    )

    def __init__(
        self,
        open: Opener,
        decoder: Decoder[Any],
        convert: Callable[[Any], T] | None = None,
        *,
        what: str = "stream",
        where: str = "",
    ) -> None:
        self._open = open
        self._decoder = decoder
        self._convert = convert
        self._what = what
        self._response: aiohttp.ClientResponse | None = None
        self._items: list[Any] = []
        self._pos = 0
        self._done = False
        self._closed = False
        self._where = where  # the daemon's address, for messages
        self._opened_at: float | None = None  # set only while DEBUG logging

    # -- lifecycle -----------------------------------------------------------

    async def _start(self: S) -> S:
        if self._closed:
            raise UsageError(f"{self._what}: the stream was closed")
        if self._response is None:
            self._response = await self._open()
            if _log.isEnabledFor(_DEBUG):
                self._opened_at = asyncio.get_running_loop().time()
                _log.debug("%s -> %d: stream open", self._what, self._response.status)
        return self

    def _log_end(self, response: aiohttp.ClientResponse, how: str) -> None:
        """The closing DEBUG record (only for a stream opened while DEBUG was on)."""
        opened_at, self._opened_at = self._opened_at, None
        if opened_at is not None:
            _log.debug(
                "%s: stream %s after %d bytes in %.3f s",
                self._what,
                how,
                response.content.total_bytes,
                asyncio.get_running_loop().time() - opened_at,
            )

    def _where_what(self) -> str:
        return f"{self._what} on {self._where}" if self._where else self._what

    def __await__(self: S) -> Generator[Any, None, S]:
        return self._start().__await__()

    async def open(self: S) -> S:
        """Send the request (raising HTTP errors) and return the stream, ready to iterate."""
        return await self._start()

    async def __aenter__(self: S) -> S:
        return await self._start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the connection; safe to call more than once."""
        self._release()

    def _release(self) -> None:
        self._closed = True
        self._done = True
        response, self._response = self._response, None
        if response is not None:
            if self._opened_at is not None:
                self._log_end(response, "closed")
            # An unfinished body cannot go back to the pool: close the connection.
            response.close()

    async def _abort(self, exc: Exception) -> None:
        """Wake a reader blocked on this stream with ``exc`` and drop the connection."""
        response = self._response
        if response is not None:
            # aiohttp does not wake a pending read when the connection is closed under it.
            response.content.set_exception(exc)
        self._release()

    def __del__(self) -> None:
        # A stream abandoned after ``break`` must not hold its connection.
        if self._response is not None:
            self._response.close()

    @property
    def response(self) -> aiohttp.ClientResponse | None:
        """The underlying response once started (headers, status)."""
        return self._response

    # -- iteration -----------------------------------------------------------

    def __aiter__(self: S) -> S:
        return self

    async def __anext__(self) -> T:
        items = self._items
        if self._pos < len(items):
            item = items[self._pos]
            self._pos += 1
            return item  # type: ignore[no-any-return]
        return await self._refill()

    async def _refill(self) -> T:
        while True:
            # A decoder that met an in-band error hands out the items before it
            # first; raise as soon as those are used, not at the next read.
            error = getattr(self._decoder, "error", None)
            if error is not None:
                self._release()
                raise error
            if self._done:
                raise StopAsyncIteration
            response = self._response
            if response is None:
                await self._start()
                response = self._response
                if response is None:  # closed while opening
                    raise UsageError(f"{self._what}: the stream was closed")
            try:
                chunk = await response.content.readany()
                raw = self._decoder.feed(chunk) if chunk else self._decoder.eof()
            except DockerError:
                self._release()
                raise
            except TRANSPORT_ERRORS as exc:
                self._release()
                raise transport_error(exc, self._where_what()) from exc
            except BaseException:
                self._release()
                raise
            if not chunk:
                # Body finished: hand the connection back to the pool.
                self._response = None
                self._done = True
                if self._opened_at is not None:
                    self._log_end(response, "ended by the daemon")
                response.release()
            if raw:
                convert = self._convert
                if convert is not None:
                    try:
                        raw = [convert(x) for x in raw]
                    except DockerError:
                        self._release()
                        raise
                    except Exception as exc:
                        # An item that does not fit its model: a client or daemon bug,
                        # not a network fault.
                        self._release()
                        method, _, path = self._what.partition(" ")
                        returns = getattr(convert, "__annotations__", {}).get("return")
                        model = getattr(returns, "__name__", returns) or "the stream's item type"
                        raise ResponseValidationError(method, path, model, exc) from exc
                    except BaseException:
                        self._release()
                        raise
                self._items = raw
                self._pos = 1
                return raw[0]  # type: ignore[no-any-return]

    async def collect(self) -> list[T]:
        """Read the stream to its end and return every item."""
        async with self:
            return [item async for item in self]


class FrameStream(AsyncStream[Frame]):
    """A stream of :class:`~aiodock.Frame` (logs, attach, exec output)."""

    __slots__ = ()

    async def lines(self, *, max_line_length: int = 1 << 20) -> AsyncIterator[Frame]:
        """Yield one frame per line (``\\n`` kept), stdout and stderr kept apart.

        Args:
            max_line_length: the longest line, in bytes, kept whole; a longer one
                comes out in pieces of that size rather than being buffered without bound.
        """
        splitter = LineSplitter(max_line_length=max_line_length)
        async with self:
            async for frame in self:
                for line in splitter.feed(frame):
                    yield line
            for line in splitter.flush():
                yield line

    async def demux(self) -> Output:
        """Read to the end and return stdout and stderr separately.

        The output is held once, in two ``bytearray`` (see :class:`Output`).
        """
        _emit_views(self._decoder)
        async with self:
            output = await _collect_output(self)
            self._items = []
        return output

    async def read(self) -> bytearray:
        """Read to the end and return all output, streams interleaved in order.

        A ``bytearray`` filled as the output arrives, so it is held once.
        """
        buffer = bytearray()
        _emit_views(self._decoder)
        async with self:
            async for frame in self:
                buffer += frame[1]
            self._items = []
        return buffer


# --- hijacked connections -------------------------------------------------------


class HijackedStream:
    """A bidirectional attach/exec connection after the HTTP upgrade.

    Iterate it for output frames; ``write`` sends stdin; ``close_stdin``
    half-closes the write side so the process sees end of input. Made by
    ``containers.attach``, ``exec.start`` and ``exec.spawn``; these arguments are
    for aiodock's own use.

    Args:
        conn: the upgraded connection.
        tty: whether output is one raw stream (TTY) or multiplexed frames.
        what: how errors name the call.
        process: the ``ssh`` process carrying the connection, for ``ssh://`` hosts.
        read_timeout: the inactivity limit of reads in seconds (``None``: none).
        check_daemon: a coroutine function that fails when the daemon is gone,
            called at end of output to tell a clean end from a dead daemon.
    """

    def __init__(
        self,
        conn: RawConnection,
        *,
        tty: bool,
        what: str,
        process: asyncio.subprocess.Process | None = None,
        read_timeout: float | None = None,
        check_daemon: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._conn = conn
        # A hijacked connection has no framing that marks its end: a daemon that dies
        # looks like the process closing its output. ``check_daemon`` tells them apart.
        self._check_daemon = check_daemon
        self._tty = tty
        self._what = what
        self._process = process
        self._read_timeout = read_timeout
        self._decoder: RawDecoder | MultiplexDecoder = RawDecoder() if tty else MultiplexDecoder()
        self._items: list[Frame] = []
        self._pos = 0
        self._done = False
        self._closed = False
        self._stdin_closed = False
        self._opened_at: float | None = None  # set by the client only while DEBUG logging

    @property
    def tty(self) -> bool:
        return self._tty

    async def __aenter__(self) -> HijackedStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> HijackedStream:
        return self

    async def write(self, data: bytes) -> None:
        """Send bytes to the process's stdin.

        Args:
            data: the bytes to write.
        """
        if self._closed or self._stdin_closed:
            raise UsageError(f"{self._what}: stdin is closed")
        try:
            self._conn.write(data)
            await self._conn.drain()
        except (OSError, ConnectionError) as exc:
            raise transport_error(exc, f"{self._what}: writing stdin") from exc

    async def close_stdin(self) -> None:
        """Half-close: the process reads end-of-file; output keeps flowing."""
        if self._stdin_closed or self._closed:
            return
        self._stdin_closed = True
        try:
            if self._conn.can_write_eof():
                self._conn.write_eof()
            else:
                raise UsageError(
                    f"{self._what}: this transport (TLS) cannot half-close; "
                    "close the stream instead"
                )
        except (OSError, ConnectionError) as exc:
            raise transport_error(exc, f"{self._what}: closing stdin") from exc

    async def __anext__(self) -> Frame:
        while True:
            if self._pos < len(self._items):
                item = self._items[self._pos]
                self._pos += 1
                return item
            error = getattr(self._decoder, "error", None)
            if error is not None:
                await self.aclose()
                raise error
            if self._done:
                raise StopAsyncIteration
            try:
                if self._read_timeout is None:
                    chunk = await self._conn.read_chunk()
                else:
                    chunk = await wait_for(self._conn.read_chunk(), self._read_timeout)
                if chunk:
                    self._items = self._decoder.feed(chunk)
                else:
                    self._done = True
                    self._items = self._decoder.eof()
                    if self._check_daemon is not None:
                        await self._confirm_end()
                self._pos = 0
            except DockerError:
                await self.aclose()
                raise
            except (OSError, asyncio.TimeoutError) as exc:
                await self.aclose()
                raise transport_error(exc, self._what) from exc
            except BaseException:
                await self.aclose()
                raise

    async def _confirm_end(self) -> None:
        if self._check_daemon is None:
            return
        try:
            await self._check_daemon()
        except DockerError as exc:
            raise DockerConnectionError(
                f"{self._what}: the connection ended and the daemon does not answer ({exc})"
            ) from exc

    async def demux(self) -> Output:
        """Read to the end and return stdout and stderr separately.

        The output is held once, in two ``bytearray`` (see :class:`Output`).
        """
        _emit_views(self._decoder)
        output = await _collect_output(self)
        self._items = []
        await self.aclose()
        return output

    async def _abort(self, exc: Exception) -> None:
        """Wake a reader blocked on this connection with ``exc`` and close it."""
        self._conn.set_exception(exc)
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._done = True
        self._conn.close()
        opened_at, self._opened_at = self._opened_at, None
        if opened_at is not None:
            _log.debug(
                "%s: hijacked connection closed after %d bytes in %.3f s",
                self._what,
                self._conn.received,
                time.perf_counter() - opened_at,
            )
        with contextlib.suppress(Exception):
            await self._conn.wait_closed()
        await stop_process(self._process)

    def __del__(self) -> None:
        if not self._closed:
            with contextlib.suppress(Exception):
                self._conn.close()


def _status_and_headers(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise DockerConnectionError(f"bad HTTP status line from daemon: {lines[0][:100]!r}")
    try:
        status = int(parts[1])
    except ValueError:
        raise DockerConnectionError(f"bad HTTP status line: {lines[0][:100]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return status, headers


async def read_response_head(conn: RawConnection, what: str) -> tuple[int, dict[str, str], bytes]:
    """Read an HTTP/1.1 status line and headers; return them and any body bytes for errors."""
    try:
        head = await conn.read_until(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise DockerConnectionError(f"{what}: connection closed before a response") from exc
    except asyncio.LimitOverrunError as exc:
        raise DockerConnectionError(f"{what}: response headers too large") from exc
    status, headers = _status_and_headers(head[:-4])
    body = b""
    if status >= 400:
        # The status is what matters: an error answer cut short still raises its
        # APIError, with the part of the daemon's message that arrived.
        length = headers.get("content-length")
        try:
            if length is not None and length.isdigit():
                body = await conn.read_exactly(min(int(length), 2**20))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                body = await _read_chunked(conn, what)
        except _CutOff as exc:
            body = exc.partial + CUT_OFF_NOTE
        except asyncio.IncompleteReadError as exc:
            body = exc.partial + CUT_OFF_NOTE
    return status, headers, body


#: Appended to an error answer's text when the connection ended inside it.
CUT_OFF_NOTE = b" [the daemon's answer was cut off]"


class _CutOff(Exception):
    def __init__(self, partial: bytes) -> None:
        self.partial = partial


async def _read_chunked(conn: RawConnection, what: str, limit: int = 2**20) -> bytes:
    """An error body in chunked encoding; at most ``limit`` bytes of it are kept."""
    parts: list[bytes] = []
    left = limit
    try:
        while left > 0:
            size_line = await conn.read_until(b"\n", limit=1024)
            try:
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise DockerConnectionError(
                    f"{what}: invalid chunk size {size_line[:40]!r}"
                ) from None
            if size == 0:
                break
            # An announced size is not trusted: take no more than the rest of the limit.
            try:
                parts.append(await conn.read_exactly(min(size, left)))
            except asyncio.IncompleteReadError as exc:
                raise _CutOff(b"".join(parts) + exc.partial) from None
            left -= len(parts[-1])
            if left > 0:
                await conn.read_exactly(2)
    except asyncio.IncompleteReadError:
        raise _CutOff(b"".join(parts)) from None
    except asyncio.LimitOverrunError:
        raise DockerConnectionError(f"{what}: invalid chunk size line (too long)") from None
    return b"".join(parts)
