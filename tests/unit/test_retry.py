"""Retry on a dead keep-alive connection: idempotent requests once, POST never.

The daemon (or a proxy in front of it) may close an idle keep-alive connection at
the moment the client reuses it; the request then dies without an answer. aiohttp
(3.9+) already resends a request whose method is idempotent (GET, HEAD, PUT,
DELETE, OPTIONS, TRACE) exactly once on a fresh connection when the first attempt
fails with a disconnect, and never resends anything else; aiodock relies on that
and adds no retry of its own (a POST may have started a container: sending it again
could start a second one). These tests pin that behaviour through ``DockerClient``
with a raw server whose every move is scripted, so an aiohttp upgrade that changes
it is caught here.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from aiodock import DockerClient
from aiodock._http.request import Request
from aiodock.errors import DockerConnectionError

pytestmark = pytest.mark.filterwarnings("error")


@dataclass
class Seen:
    """One request as the server received it."""

    connection: int
    method: str
    target: str
    body: bytes


@dataclass
class DroppingServer:
    """Answers requests, except that it drops the ones selected by ``drop``.

    ``drop`` is ``"reused"`` (drop every request that is not the first on its
    connection: a keep-alive connection the server gave up on) or ``"all"``.
    Dropping means reading the request and closing the connection without a word.
    """

    drop: str = "reused"
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        served = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                self.seen.append(Seen(number, method, target, body))
                if self.drop == "all" or (self.drop == "reused" and served > 0):
                    return  # close without answering
                served += 1
                payload = b'{"ok":true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nAPI-Version: 1.41\r\n\r\n%s" % (len(payload), payload)
                )
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def dropping_server(drop: str) -> AsyncIterator[tuple[DroppingServer, str]]:
    state = DroppingServer(drop=drop)
    with tempfile.TemporaryDirectory(prefix="aiodock-retry-") as tmp:
        path = str(Path(tmp) / "docker.sock")
        server = await asyncio.start_unix_server(state.handle, path)
        try:
            yield state, f"unix://{path}"
        finally:
            server.close()
            await server.wait_closed()


def _targets(state: DroppingServer, method: str) -> list[str]:
    return [s.target for s in state.seen if s.method == method]


async def test_get_on_a_dropped_keepalive_connection_is_resent_once_and_succeeds() -> None:
    async with (
        dropping_server("reused") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        assert await client.request("GET", "/first") == {"ok": True}
        # The pooled connection is reused; the server drops the request on it.
        assert await client.request("GET", "/again") == {"ok": True}
    assert _targets(state, "GET") == ["/v1.41/first", "/v1.41/again", "/v1.41/again"]
    assert [s.connection for s in state.seen] == [1, 1, 2]


async def test_get_is_retried_exactly_once_then_fails_with_connection_error() -> None:
    async with (
        dropping_server("all") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        with pytest.raises(DockerConnectionError) as info:
            await client.request("GET", "/info")
    assert _targets(state, "GET") == ["/v1.41/info", "/v1.41/info"]
    assert state.connections == 2
    assert "GET /info" in str(info.value)
    assert isinstance(info.value.__cause__, aiohttp.ServerDisconnectedError)


@pytest.mark.parametrize("method", ["HEAD", "DELETE"])
async def test_other_idempotent_methods_are_retried_exactly_once(method: str) -> None:
    async with (
        dropping_server("all") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        with pytest.raises(DockerConnectionError):
            await client._status(Request(method, "/containers/abc"))
    assert _targets(state, method) == ["/v1.41/containers/abc"] * 2


async def test_put_is_resent_with_its_whole_body() -> None:
    async with (
        dropping_server("reused") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        await client.request("GET", "/first")
        body = bytes(range(256)) * 64
        await client._status(Request("PUT", "/containers/abc/archive", data=body))
    puts = [s for s in state.seen if s.method == "PUT"]
    assert len(puts) == 2
    assert all(s.body == body for s in puts)


async def test_post_on_a_dropped_keepalive_connection_is_never_resent() -> None:
    async with (
        dropping_server("reused") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        await client.request("GET", "/first")
        with pytest.raises(DockerConnectionError) as info:
            await client.request("POST", "/containers/abc/start")
        assert "POST /containers/abc/start" in str(info.value)
        # The client is still usable afterwards (a fresh connection).
        assert await client.request("GET", "/after") == {"ok": True}
    assert _targets(state, "POST") == ["/v1.41/containers/abc/start"]


async def test_post_with_json_body_is_sent_once_when_every_attempt_is_dropped() -> None:
    async with (
        dropping_server("all") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        with pytest.raises(DockerConnectionError):
            await client.request("POST", "/containers/create", json={"Image": "busybox"})
    assert _targets(state, "POST") == ["/v1.41/containers/create"]
    assert state.seen[0].body == b'{"Image":"busybox"}'


async def test_streams_resend_their_get_once_on_a_dropped_connection() -> None:
    from aiodock._streams.frames import JSONStreamDecoder

    async with (
        dropping_server("reused") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        await client.request("GET", "/first")
        items = await client._stream(Request("GET", "/events"), JSONStreamDecoder()).collect()
    assert items == [{"ok": True}]
    assert _targets(state, "GET") == ["/v1.41/first", "/v1.41/events", "/v1.41/events"]


async def test_a_post_stream_is_never_resent() -> None:
    from aiodock._streams.frames import JSONStreamDecoder

    async with (
        dropping_server("reused") as (state, host),
        DockerClient(host, api_version="1.41") as client,
    ):
        await client.request("GET", "/first")
        with pytest.raises(DockerConnectionError):
            await client._stream(Request("POST", "/images/create"), JSONStreamDecoder()).collect()
    assert _targets(state, "POST") == ["/v1.41/images/create"]
