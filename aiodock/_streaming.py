"""Streaming responses: :class:`AsyncStream` and hijacked attach/exec connections.

An ``AsyncStream`` is lazy: awaiting it (or entering ``async with``, or the
first ``async for`` step) sends the request and raises HTTP errors before any
item is produced. Bytes from the connection go through a sans-IO decoder from
``_frames`` and then an optional per-item converter. The connection is
released on every exit path: end of body, error, timeout, cancellation,
``break`` (via ``aclose``/``async with``, or when the stream is collected).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

import aiohttp
import attrs

from ._frames import Decoder, Frame, LineSplitter, MultiplexDecoder, RawDecoder, StreamType
from ._rawconn import RawConnection
from ._timeout import wait_for
from ._transport import stop_process
from .errors import DockerConnectionError, DockerError, DockerTimeoutError, UsageError

__all__ = ["AsyncStream", "FrameStream", "HijackedStream", "Output"]

T = TypeVar("T")
S = TypeVar("S", bound="AsyncStream[Any]")


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


def transport_error(exc: BaseException, what: str) -> Exception:
    """Map an aiohttp/OS failure to aiodock's tree (callers ``raise ... from exc``)."""
    if isinstance(exc, asyncio.TimeoutError):
        return DockerTimeoutError(f"{what}: timed out ({type(exc).__name__})")
    detail = str(exc) or type(exc).__name__
    return DockerConnectionError(f"{what}: {detail}")


_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)

Opener = Callable[[], Awaitable[aiohttp.ClientResponse]]


class AsyncStream(Generic[T]):
    """An async iterator over the items of one streaming response.

    ``await stream`` sends the request (raising HTTP errors) and returns the
    stream; ``async for item in stream`` iterates; ``async with stream``
    guarantees the connection is released however the block ends.
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_convert",
        "_decoder",
        "_done",
        "_items",
        "_open",
        "_pos",
        "_response",
        "_what",
    )

    def __init__(
        self,
        open: Opener,
        decoder: Decoder[Any],
        convert: Callable[[Any], T] | None = None,
        *,
        what: str = "stream",
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

    # -- lifecycle -----------------------------------------------------------

    async def _start(self: S) -> S:
        if self._closed:
            raise UsageError(f"{self._what}: the stream was closed")
        if self._response is None:
            self._response = await self._open()
        return self

    def __await__(self: S) -> Generator[Any, None, S]:
        return self._start().__await__()

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
            if self._response is None:
                await self._start()
            assert self._response is not None
            try:
                chunk = await self._response.content.readany()
                raw = self._decoder.feed(chunk) if chunk else self._decoder.eof()
            except DockerError:
                self._release()
                raise
            except _TRANSPORT_ERRORS as exc:
                self._release()
                raise transport_error(exc, self._what) from exc
            except BaseException:
                self._release()
                raise
            if not chunk:
                # Body finished: hand the connection back to the pool.
                response, self._response = self._response, None
                self._done = True
                response.release()
            if raw:
                convert = self._convert
                if convert is not None:
                    try:
                        raw = [convert(x) for x in raw]
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

        A line longer than ``max_line_length`` bytes comes out in pieces of
        that size rather than being buffered without bound.
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
        out = bytearray()
        err = bytearray()
        _emit_views(self._decoder)
        async with self:
            async for stream, data in self:
                if stream == StreamType.STDERR:
                    err += data
                else:
                    out += data
            self._items = []
        return Output(out, err)

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
    half-closes the write side so the process sees end of input.
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
        """Send bytes to the process's stdin."""
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
        assert self._check_daemon is not None
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
        out = bytearray()
        err = bytearray()
        _emit_views(self._decoder)
        async for stream, data in self:
            if stream == StreamType.STDERR:
                err += data
            else:
                out += data
        self._items = []
        await self.aclose()
        return Output(out, err)

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
        length = headers.get("content-length")
        if length is not None and length.isdigit():
            body = await conn.read_exactly(min(int(length), 2**20))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _read_chunked(conn)
    return status, headers, body


async def _read_chunked(conn: RawConnection) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await conn.read_until(b"\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return b"".join(parts)
        parts.append(await conn.read_exactly(size))
        await conn.read_exactly(2)
