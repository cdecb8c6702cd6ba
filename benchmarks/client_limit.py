"""The limit: a minimal hand-written asyncio HTTP/1.1 client over the unix socket.

No library between the socket and the caller: an ``asyncio.Protocol`` per
connection, a keep-alive pool of idle connections, a response parser that
handles ``Content-Length``, ``chunked`` and read-until-close bodies, and
orjson for JSON. Body bytes of streamed responses go straight from the
received chunk to the consumer as ``memoryview`` slices. It checks the status
line and nothing else: what any Python client spends beyond this is its own
overhead. Results are plain dicts, like the bare aiohttp reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson

from ._common import SOCKET, Collect, Digest, InlineDemux

NAME = "limit"
BASE = "/v1.41"

Sink = Callable[[memoryview], None]

# Parser states.
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILER, _CLOSE, _DONE = range(8)


class HTTPError(Exception):
    pass


class _Conn(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reusable = False
        self.lost = False
        self._state = _DONE
        self._pending = b""  # an unfinished head or chunk-size line
        self._left = 0
        self._body: list[bytes] = []
        self._sink: Sink | None = None
        self._future: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.reusable = False
        if self._state == _CLOSE:
            self._finish()
        elif self._future is not None and not self._future.done():
            self._future.set_exception(exc or ConnectionError("connection closed mid-response"))

    def start(self, head: bytes, sink: Sink | None) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self._state = _HEAD
        self._pending = b""
        self._body = []
        self._sink = sink
        self._future = asyncio.get_running_loop().create_future()
        self.transport.write(head)
        return self._future

    def _finish(self) -> None:
        self._state = _DONE
        future = self._future
        if future is not None and not future.done():
            future.set_result((self._status, b"".join(self._body)))

    def _deliver(self, piece: memoryview) -> None:
        if self._sink is not None:
            self._sink(piece)
        else:
            self._body.append(bytes(piece))

    def data_received(self, data: bytes) -> None:
        if self._pending:
            data = self._pending + data
            self._pending = b""
        view = memoryview(data)
        pos, n = 0, len(data)
        while pos < n:
            state = self._state
            if state in (_CHUNK_DATA, _LENGTH):
                take = min(self._left, n - pos)
                self._deliver(view[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    if state == _LENGTH:
                        self._finish()
                    else:
                        self._state = _CHUNK_CRLF
            elif state == _CHUNK_CRLF:
                if n - pos < 2:
                    self._pending = data[pos:]
                    return
                pos += 2
                self._state = _CHUNK_SIZE
            elif state == _CHUNK_SIZE:
                end = data.find(b"\r\n", pos)
                if end < 0:
                    self._pending = data[pos:]
                    return
                size = int(data[pos:end].split(b";", 1)[0], 16)
                pos = end + 2
                if size:
                    self._left = size
                    self._state = _CHUNK_DATA
                else:
                    self._state = _TRAILER
            elif state == _TRAILER:
                end = data.find(b"\r\n", pos)
                if end < 0:
                    self._pending = data[pos:]
                    return
                blank = end == pos
                pos = end + 2
                if blank:
                    self._finish()
            elif state == _CLOSE:
                self._deliver(view[pos:])
                return
            elif state == _HEAD:
                end = data.find(b"\r\n\r\n", pos)
                if end < 0:
                    self._pending = data[pos:]
                    return
                self._head(data[pos:end])
                pos = end + 4
            else:  # _DONE: nothing expected
                return

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        self._status = int(lines[0].split(b" ", 2)[1])
        length = -1
        chunked = False
        keep_alive = True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep_alive = b"close" not in value.lower()
        self.reusable = keep_alive
        if chunked:
            self._state = _CHUNK_SIZE
        elif length > 0:
            self._left = length
            self._state = _LENGTH
        elif length == 0 or self._status in (204, 304):
            self._finish()
        else:
            self.reusable = False
            self._state = _CLOSE


class Client:
    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency
        self._idle: list[_Conn] = []
        self._all: list[_Conn] = []

    async def __aenter__(self) -> Client:
        self.loop = asyncio.get_running_loop()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for conn in self._all:
            if conn.transport is not None:
                conn.transport.close()

    async def _acquire(self) -> _Conn:
        while self._idle:
            conn = self._idle.pop()
            if not conn.lost:
                return conn
        _, conn = await self.loop.create_unix_connection(_Conn, SOCKET)
        self._all.append(conn)
        return conn

    def _release(self, conn: _Conn) -> None:
        if conn.reusable and not conn.lost:
            self._idle.append(conn)
        else:
            if conn.transport is not None:
                conn.transport.close()
            if conn in self._all:
                self._all.remove(conn)

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        sink: Sink | None = None,
        conn_out: list[_Conn] | None = None,
    ) -> bytes:
        conn = await self._acquire()
        if body is None:
            head = f"{method} {path} HTTP/1.1\r\nHost: docker\r\n\r\n".encode()
        else:
            payload = orjson.dumps(body)
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: docker\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            ).encode() + payload
        if conn_out is not None:
            conn_out.append(conn)
        try:
            status, data = await conn.start(head, sink)
        except BaseException:
            conn.reusable = False
            self._release(conn)
            raise
        self._release(conn)
        if status >= 400:
            raise HTTPError(f"{method} {path}: {status} {data[:200]!r}")
        return data

    async def json(self, method: str, path: str, body: Any = None) -> Any:
        return orjson.loads(await self.request(method, path, body))

    # -- the scenarios ----------------------------------------------------------------

    async def ping(self) -> None:
        await self.request("GET", "/_ping")

    async def inspect(self, cid: str) -> Any:
        return await self.json("GET", f"{BASE}/containers/{cid}/json")

    async def list(self, label: str) -> list[Any]:
        query = urlencode({"all": "1", "filters": orjson.dumps({"label": [label]}).decode()})
        result: list[Any] = await self.json("GET", f"{BASE}/containers/json?{query}")
        return result

    async def logs(self, cid: str) -> dict[str, Any]:
        digest = Digest()
        demux = InlineDemux(digest)
        feed = demux.feed
        await self.request(
            "GET", f"{BASE}/containers/{cid}/logs?stdout=1&stderr=1", sink=lambda v: feed(v)
        )
        demux.check_eof()
        return {**digest.result(), "requests": 1}

    async def logs_collect(self, cid: str) -> tuple[bytearray, bytearray]:
        """The whole output held once: payloads appended to one bytearray per stream."""
        out, err = bytearray(), bytearray()
        collector = Collect(out, err)
        await self.request(
            "GET", f"{BASE}/containers/{cid}/logs?stdout=1&stderr=1", sink=collector.feed
        )
        return out, err

    async def logs_raw(self, cid: str) -> dict[str, Any]:
        sha = hashlib.sha256()
        total = 0

        def sink(piece: memoryview) -> None:
            nonlocal total
            sha.update(piece)
            total += len(piece)

        await self.request("GET", f"{BASE}/containers/{cid}/logs?stdout=1&stderr=1", sink=sink)
        return {"raw_bytes": total, "raw_sha256": sha.hexdigest()}

    async def events(
        self, prefix: str, count: int, ready: Callable[[], None], deadline: float
    ) -> list[int]:
        latencies: list[int] = []
        done = self.loop.create_future()
        tail = bytearray()

        def sink(piece: memoryview) -> None:
            tail.extend(piece)
            cut = tail.rfind(b"\n")
            if cut < 0:
                return
            lines = bytes(tail[:cut]).split(b"\n")
            del tail[: cut + 1]
            for line in lines:
                event = orjson.loads(line)
                now = time.time_ns()
                if event["Actor"]["ID"].startswith(prefix):
                    latencies.append(now - event["timeNano"])
            if len(latencies) >= count and not done.done():
                done.set_result(None)

        query = urlencode({"filters": orjson.dumps({"type": ["volume"]}).decode()})
        conns: list[_Conn] = []
        task = asyncio.ensure_future(
            self.request("GET", f"{BASE}/events?{query}", sink=sink, conn_out=conns)
        )
        while not conns or conns[0]._status == 0:  # noqa: ASYNC110 - status set by the protocol
            await asyncio.sleep(0.001)
        ready()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done, max(0.0, deadline - time.monotonic()))
        conns[0].reusable = False
        if conns[0].transport is not None:
            conns[0].transport.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await task
        return latencies

    async def _exec_create(self, cid: str, cmd: list[str]) -> str:
        body = {"AttachStdout": True, "AttachStderr": True, "Cmd": cmd}
        created = await self.json("POST", f"{BASE}/containers/{cid}/exec", body)
        return str(created["Id"])

    async def _exec_code(self, exec_id: str) -> Any:
        while True:
            info = await self.json("GET", f"{BASE}/exec/{exec_id}/json")
            if not info["Running"]:
                return info["ExitCode"]

    async def exec(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        exec_id = await self._exec_create(cid, cmd)
        digest = Digest()
        demux = InlineDemux(digest)
        feed = demux.feed
        await self.request(
            "POST",
            f"{BASE}/exec/{exec_id}/start",
            {"Detach": False, "Tty": False},
            sink=lambda v: feed(v),
        )
        demux.check_eof()
        return {**digest.result(), "exit_code": await self._exec_code(exec_id)}

    async def exec_raw(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        exec_id = await self._exec_create(cid, cmd)
        sha = hashlib.sha256()
        total = 0

        def sink(piece: memoryview) -> None:
            nonlocal total
            sha.update(piece)
            total += len(piece)

        await self.request(
            "POST", f"{BASE}/exec/{exec_id}/start", {"Detach": False, "Tty": False}, sink=sink
        )
        return {
            "raw_bytes": total,
            "raw_sha256": sha.hexdigest(),
            "exit_code": await self._exec_code(exec_id),
        }
