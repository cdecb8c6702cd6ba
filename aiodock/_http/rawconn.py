"""A raw byte connection for hijacked (upgraded) attach/exec/session streams.

``asyncio.StreamReader`` copies every received chunk into one bytearray and
copies it out again on each read, shifting what remains: at exec or attach
speeds that was a third of the client's CPU. ``RawConnection`` keeps the
chunks the transport delivered and hands them over as they are; only the
HTTP response head, a few hundred bytes, is ever joined.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable

__all__ = ["RawConnection"]

# Reading pauses above this many unread bytes and resumes below half of it.
_READ_LIMIT = 2**20


class RawConnection(asyncio.Protocol):
    """Both directions of one connection; create it through a loop's ``create_*_connection``."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._unread = 0
        self.received = 0  # bytes received in all (for the stream's closing log record)
        self._eof = False
        self._exception: BaseException | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -- protocol callbacks --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._unread += len(data)
        self.received += len(data)
        self._wake_reader()
        if self._unread > _READ_LIMIT and not self._reading_paused and self._transport:
            self._reading_paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        # Keep the write side open (the daemon closed its output; stdin may go on),
        # except over TLS, where asyncio cannot keep a half-closed connection.
        return self._transport is not None and self._transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if exc is not None and self._exception is None:
            self._exception = exc
        self._wake_reader()
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_exception(exc or ConnectionResetError("connection lost"))
        self._drain_waiters.clear()
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._drain_waiters.clear()

    # -- reading -------------------------------------------------------------------

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait_for_data(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._read_waiter = waiter
        try:
            await waiter
        finally:
            self._read_waiter = None

    def set_exception(self, exc: BaseException) -> None:
        """Make the current and every later read raise ``exc``."""
        self._exception = exc
        self._wake_reader()

    async def read_chunk(self) -> bytes:
        """The next received bytes, as delivered; ``b""`` at end of stream."""
        while True:
            if self._exception is not None:
                raise self._exception
            if self._chunks:
                chunk = self._chunks.popleft()
                self._unread -= len(chunk)
                if self._reading_paused and self._unread <= _READ_LIMIT // 2 and self._transport:
                    self._reading_paused = False
                    self._transport.resume_reading()
                return chunk
            if self._eof:
                return b""
            await self._wait_for_data()

    async def _read_buffered(self, take: Callable[[bytes], int | None]) -> bytes:
        """Join the unread bytes until ``take(buffer)`` says how many to return."""
        while True:
            if self._exception is not None:
                raise self._exception
            buffer = b"".join(self._chunks)
            count = take(buffer)
            if count is not None:
                self._chunks.clear()
                if len(buffer) > count:
                    self._chunks.append(buffer[count:])
                self._unread = len(buffer) - count
                return buffer[:count]
            if self._eof:
                raise asyncio.IncompleteReadError(buffer, None)
            await self._wait_for_data()

    async def read_until(self, separator: bytes, limit: int = 2**16) -> bytes:
        """Bytes up to and including ``separator``; at most ``limit`` bytes are searched."""

        def take(buffer: bytes) -> int | None:
            found = buffer.find(separator, 0, limit)
            if found >= 0:
                return found + len(separator)
            if len(buffer) >= limit:
                raise asyncio.LimitOverrunError(f"no {separator!r} in {limit} bytes", limit)
            return None

        return await self._read_buffered(take)

    async def read_exactly(self, count: int) -> bytes:
        """Exactly ``count`` bytes (``IncompleteReadError`` if the stream ends first)."""
        return await self._read_buffered(lambda buffer: count if len(buffer) >= count else None)

    # -- writing -------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._transport is None:
            raise ConnectionResetError("not connected")
        self._transport.write(data)

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its limit."""
        if self._transport is None or self._transport.is_closing():
            # Let the transport report a lost connection first, as StreamWriter does.
            await asyncio.sleep(0)
            if self._closed.done():
                raise ConnectionResetError("connection lost")
        if not self._writing_paused:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def can_write_eof(self) -> bool:
        return self._transport is not None and self._transport.can_write_eof()

    def write_eof(self) -> None:
        if self._transport is None:
            raise ConnectionResetError("not connected")
        self._transport.write_eof()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)
