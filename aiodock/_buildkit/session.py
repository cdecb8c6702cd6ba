"""A gRPC server on the upgraded ``POST /session`` connection.

After ``101 Switching Protocols`` the daemon speaks HTTP/2 as the *client*
and calls the methods the session exposed. This module runs the server side
with the sans-IO ``h2`` state machine over the hijacked connection: one
reader task feeds received bytes to ``h2``, each call runs in its own task
with a :class:`Call` to receive and send length-prefixed gRPC messages, and
outgoing data waits for HTTP/2 flow-control credit, so a large context is
never buffered beyond a window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from .._streams.streaming import HijackedStream

__all__ = ["Call", "GrpcError", "GrpcServer", "Handler"]

_log = logging.getLogger("aiodock.buildkit")

# gRPC status codes used here.
OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
NOT_FOUND = 5
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14

_HEALTH_SERVING = b"\x08\x01"  # grpc.health.v1.HealthCheckResponse{status: SERVING}
#: Bytes written at once: more pending than this is written before the sender goes on.
_COALESCE = 256 * 1024
#: How long smaller output may wait to be written with what follows. Each write
#: wakes the daemon; one per loop turn (a few per file) made many-small-file
#: contexts 2-3x slower than the docker CLI, whose gRPC writer batches as well.
_FLUSH_DELAY = 0.002
#: Received bytes a call may hold before its handler reads them: beyond this the
#: HTTP/2 window is not reopened, so a daemon sending files back waits for the disk.
_RECV_QUEUE = 512 * 1024


class GrpcError(Exception):
    """End a call with a gRPC status; ``message`` goes to the daemon, so it holds no secret."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _CallClosed(Exception):
    """The daemon reset the stream or the connection went away."""


class Call:
    """One gRPC call: its method, metadata, and the two message streams."""

    def __init__(
        self, server: GrpcServer, stream_id: int, method: str, metadata: dict[str, list[str]]
    ):
        self._server = server
        self.stream_id = stream_id
        self.method = method
        #: Request metadata (header name -> values), e.g. ``dir-name`` for DiffCopy.
        self.metadata = metadata
        self._buffer = bytearray()
        self._messages: asyncio.Queue[bytes | None] = asyncio.Queue()
        # Bytes received but not yet read by the handler, and the flow-control
        # credit held back until it reads them.
        self._queued = 0
        self._unacked = 0
        self._ended = False
        self._reset = False
        self._headers_sent = False
        self._send_lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None

    def header(self, name: str, default: str = "") -> str:
        values = self.metadata.get(name)
        return values[0] if values else default

    def _feed(self, data: bytes) -> None:
        self._queued += len(data)
        buf = self._buffer
        buf += data
        while len(buf) >= 5:
            size = int.from_bytes(buf[1:5], "big")
            if len(buf) < 5 + size:
                break
            if buf[0]:
                raise GrpcError(UNIMPLEMENTED, "compressed messages are not supported")
            self._messages.put_nowait(bytes(buf[5 : 5 + size]))
            del buf[: 5 + size]

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._messages.put_nowait(None)

    async def recv(self) -> bytes | None:
        """The next request message; ``None`` once the daemon closed its side."""
        if self._reset:
            raise _CallClosed
        message = await self._messages.get()
        if message is None:
            self._messages.put_nowait(None)  # later calls see the end too
            if self._reset:
                raise _CallClosed
            return None
        self._read(message)
        return message

    def recv_nowait(self) -> bytes | None:
        """The next message if one is already here, else ``None`` (never waits)."""
        if self._reset or self._messages.empty():
            return None
        message = self._messages.get_nowait()
        if message is None:
            self._messages.put_nowait(None)
            return None
        self._read(message)
        return message

    def _read(self, message: bytes) -> None:
        self._queued -= len(message) + 5
        if self._unacked and self._queued < _RECV_QUEUE:
            credit, self._unacked = self._unacked, 0
            self._server._acknowledge(self.stream_id, credit)

    def _hold_credit(self) -> bool:
        """Whether to hold back the window: complete messages wait unread, too many bytes."""
        return self._queued >= _RECV_QUEUE and not self._messages.empty()

    async def send(self, message: bytes) -> None:
        """Send one response message (waits for flow-control credit)."""
        await self.send_many((message,))

    async def send_many(self, messages: Iterable[bytes]) -> None:
        """Send response messages in order, packed into as few HTTP/2 frames as fit
        (a STAT per file costs one frame, not one each)."""
        frames = bytearray()
        for message in messages:
            frames += b"\x00"
            frames += len(message).to_bytes(4, "big")
            frames += message
        if not frames:
            return
        async with self._send_lock:
            if self._reset:
                raise _CallClosed
            if not self._headers_sent:
                self._headers_sent = True
                self._server._send_headers(self.stream_id)
            await self._server._send_data(self.stream_id, frames, self)


Handler = Callable[[Call], Awaitable[None]]


class GrpcServer:
    """Serve ``handlers`` (method path -> coroutine function) on a hijacked h2c connection."""

    def __init__(self, stream: HijackedStream, handlers: Mapping[str, Handler]) -> None:
        self._stream = stream
        self._handlers = dict(handlers)
        self._handlers.setdefault("/grpc.health.v1.Health/Check", _health_check)
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self._h2 = h2.connection.H2Connection(config=config)
        self._calls: dict[int, Call] = {}
        self._credit_waiters: list[asyncio.Future[None]] = []
        self._closed = False
        # Output is coalesced: written _FLUSH_DELAY after the first pending byte, or
        # at once when _COALESCE bytes are pending.
        self._unflushed = 0
        self._flush_handle: asyncio.Handle | None = None
        #: The first error a handler raised that is not a gRPC status (for the build's error).
        self.error: BaseException | None = None

    async def serve(self) -> None:
        """Run until the daemon closes the connection; cancel to stop."""
        self._h2.initiate_connection()
        try:
            await self._flush()
            async for frame in self._stream:
                try:
                    events = self._h2.receive_data(frame.data)
                except h2.exceptions.ProtocolError as exc:
                    _log.debug("session: HTTP/2 protocol error: %s", exc)
                    await self._flush()
                    break
                for event in events:
                    self._dispatch(event)
                self._flush_later()
        finally:
            self._closed = True
            if self._flush_handle is not None:
                self._flush_handle.cancel()
                self._flush_handle = None
            await self._stop_calls()

    async def _stop_calls(self) -> None:
        for waiter in self._credit_waiters:
            if not waiter.done():
                waiter.set_exception(_CallClosed())
        self._credit_waiters.clear()
        tasks = []
        for call in self._calls.values():
            call._reset = True
            call._end()
            if call.task is not None and not call.task.done():
                call.task.cancel()
                tasks.append(call.task)
        self._calls.clear()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    # -- events ------------------------------------------------------------------

    def _dispatch(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self._start_call(event.stream_id, event.headers or [])
        elif isinstance(event, h2.events.DataReceived):
            call = self._calls.get(event.stream_id)
            if call is not None and event.data:
                try:
                    call._feed(event.data)
                except GrpcError as exc:
                    self._finish(call, exc.code, exc.message)
            length = event.flow_controlled_length
            if length:
                if call is not None and call._hold_credit():
                    call._unacked += length
                else:
                    self._h2.acknowledge_received_data(length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            call = self._calls.get(event.stream_id)
            if call is not None:
                call._end()
        elif isinstance(event, h2.events.StreamReset):
            call = self._calls.pop(event.stream_id, None)
            if call is not None:
                call._reset = True
                call._end()
                if call.task is not None:
                    call.task.cancel()
            self._wake_senders()
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self._wake_senders()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._closed = True
            self._wake_senders()

    def _start_call(self, stream_id: int, headers: Any) -> None:
        method = ""
        metadata: dict[str, list[str]] = {}
        for name, value in headers:
            name = name.decode() if isinstance(name, bytes) else name
            value = value.decode() if isinstance(value, bytes) else value
            if name == ":path":
                method = value
            elif not name.startswith(":"):
                metadata.setdefault(name, []).append(value)
        call = Call(self, stream_id, method, metadata)
        self._calls[stream_id] = call
        handler = self._handlers.get(method)
        if handler is None:
            _log.debug("session: %s is not served", method)
            self._finish(call, UNIMPLEMENTED, f"{method} is not implemented by aiodock")
            return
        call.task = asyncio.get_running_loop().create_task(self._run(call, handler))

    async def _run(self, call: Call, handler: Handler) -> None:
        code, message = OK, ""
        try:
            await handler(call)
        except GrpcError as exc:
            code, message = exc.code, exc.message
        except _CallClosed:
            return
        except asyncio.CancelledError:
            if call._reset or self._closed:
                return
            raise
        except Exception as exc:
            # Our own bug or an I/O error while serving: tell the daemon, keep the cause.
            if self.error is None:
                self.error = exc
            _log.debug("session: %s failed: %s", call.method, type(exc).__name__)
            code, message = UNKNOWN, f"aiodock: {type(exc).__name__} while serving {call.method}"
        if not self._closed and not call._reset:
            self._finish(call, code, message)
            with contextlib.suppress(Exception):
                await self._flush()

    def _finish(self, call: Call, code: int, message: str) -> None:
        """Send the trailers (a trailers-only response when nothing was sent yet)."""
        if self._calls.pop(call.stream_id, None) is None:
            return
        trailers = [("grpc-status", str(code))]
        if message:
            trailers.append(("grpc-message", _percent_encode(message)))
        try:
            if not call._headers_sent:
                call._headers_sent = True
                head = [(":status", "200"), ("content-type", "application/grpc"), *trailers]
                self._h2.send_headers(call.stream_id, head, end_stream=True)
            else:
                self._h2.send_headers(call.stream_id, trailers, end_stream=True)
        except h2.exceptions.H2Error:
            pass  # the stream was closed meanwhile

    # -- sending -----------------------------------------------------------------

    def _send_headers(self, stream_id: int) -> None:
        self._h2.send_headers(stream_id, [(":status", "200"), ("content-type", "application/grpc")])

    async def _send_data(self, stream_id: int, data: bytearray, call: Call) -> None:
        view = memoryview(data)
        while view:
            if self._closed or call._reset:
                raise _CallClosed
            try:
                credit = min(
                    self._h2.local_flow_control_window(stream_id),
                    self._h2.max_outbound_frame_size,
                    len(view),
                )
            except h2.exceptions.StreamClosedError:
                raise _CallClosed from None
            if credit <= 0:
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._credit_waiters.append(waiter)
                await self._flush()
                await waiter
                continue
            self._h2.send_data(stream_id, bytes(view[:credit]))
            view = view[credit:]
            self._unflushed += credit
            if self._unflushed >= _COALESCE:
                await self._flush()
            else:
                self._flush_later()

    def _acknowledge(self, stream_id: int, credit: int) -> None:
        """Reopen the window a call held back (sent on the next loop turn, unless a
        delayed write is already due)."""
        if self._closed:
            return
        try:
            self._h2.acknowledge_received_data(credit, stream_id)
        except h2.exceptions.H2Error:
            return  # the stream ended meanwhile
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self._flush_soon)

    def _flush_later(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(
                _FLUSH_DELAY, self._flush_soon
            )

    def _flush_soon(self) -> None:
        self._flush_handle = None
        self._unflushed = 0
        data = self._h2.data_to_send()
        if data and not self._stream._closed:
            try:
                self._stream._conn.write(data)
            except Exception:
                self._closed = True
                self._wake_senders()

    def _wake_senders(self) -> None:
        waiters, self._credit_waiters = self._credit_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _flush(self) -> None:
        self._unflushed = 0
        data = self._h2.data_to_send()
        if data and not self._stream._closed:
            try:
                await self._stream.write(data)
            except Exception as exc:
                self._closed = True
                self._wake_senders()
                raise _CallClosed from exc


async def _health_check(call: Call) -> None:
    await call.recv()
    await call.send(_HEALTH_SERVING)


def _percent_encode(message: str) -> str:
    # grpc-message is percent-encoded outside printable ASCII.
    out = []
    for byte in message.encode("utf-8"):
        if 0x20 <= byte <= 0x7E and byte != 0x25:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)
