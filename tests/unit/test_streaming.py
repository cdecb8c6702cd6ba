"""AsyncStream behaviour: errors before iteration, release on every exit path."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from aiodock import DockerClient, FrameStream, StreamType
from aiodock._http.request import Request, Timeout
from aiodock._streams.frames import JSONStreamDecoder, MultiplexDecoder, encode_frame
from aiodock._streams.streaming import AsyncStream
from aiodock.errors import (
    ClientClosedError,
    DockerConnectionError,
    DockerTimeoutError,
    NotFound,
    StreamError,
    TruncatedStreamError,
    UsageError,
)
from tests._wait import eventually
from tests.unit._server import ping_app, serve


def _acquired(client: DockerClient) -> int:
    session = client._shared.session
    assert session is not None and session.connector is not None
    return len(session.connector._acquired)


def stream_app() -> web.Application:
    app = ping_app()

    async def frames(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(encode_frame(1, b"out1\n") + encode_frame(2, b"err1\n")[:5])
        await asyncio.sleep(0.01)
        await response.write(encode_frame(2, b"err1\n")[5:] + encode_frame(1, b"out2"))
        await response.write(encode_frame(1, b" tail\n"))
        return response

    async def forever(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        n = 0
        while True:
            await response.write(b'{"n": %d}\n' % n)
            n += 1
            await asyncio.sleep(0.01)

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b'{"n": 0}\n')
        await asyncio.sleep(30)
        return response

    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 100
        await response.prepare(request)
        await response.write(encode_frame(1, b"hello") + encode_frame(1, b"cut")[:6])
        assert request.transport is not None
        request.transport.close()
        return response

    async def cut_mid_frame(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(encode_frame(1, b"hello") + encode_frame(1, b"cut")[:6])
        await response.write_eof()
        return response

    async def daemon_error(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(encode_frame(1, b"ok\n") + encode_frame(3, b"log driver failed\n"))
        return response

    async def error_then_silence(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(encode_frame(1, b"ok\n") + encode_frame(3, b"driver gone\n"))
        await asyncio.sleep(30)
        return response

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"message": "No such container: x"}, status=404)

    app.router.add_get("/v1.41/frames", frames)
    app.router.add_get("/v1.41/forever", forever)
    app.router.add_get("/v1.41/stall", stall)
    app.router.add_get("/v1.41/truncated", truncated)
    app.router.add_get("/v1.41/cut", cut_mid_frame)
    app.router.add_get("/v1.41/daemon-error", daemon_error)
    app.router.add_get("/v1.41/missing", missing)
    app.router.add_get("/v1.41/error-then-silence", error_then_silence)
    return app


def frames(client: DockerClient, path: str) -> FrameStream:
    return client._stream(Request("GET", path), MultiplexDecoder(), stream_class=FrameStream)


def json_stream(
    client: DockerClient, path: str, timeout: Timeout | None = None
) -> AsyncStream[Any]:
    return client._stream(Request("GET", path, timeout=timeout), JSONStreamDecoder())


async def test_frames_split_across_chunks_are_reassembled() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        output = await frames(client, "/frames").demux()
        assert output.stdout == b"out1\nout2 tail\n"
        assert output.stderr == b"err1\n"
        lines = [(f.stream, f.data) async for f in frames(client, "/frames").lines()]
        assert lines == [
            (StreamType.STDOUT, b"out1\n"),
            (StreamType.STDERR, b"err1\n"),
            (StreamType.STDOUT, b"out2 tail\n"),
        ]
        assert await frames(client, "/frames").read() == b"out1\nerr1\nout2 tail\n"
        assert _acquired(client) == 0


async def test_await_raises_http_error_before_iteration() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        stream = frames(client, "/missing")
        with pytest.raises(NotFound, match="No such container"):
            await stream
        with pytest.raises(NotFound):
            async for _ in frames(client, "/missing"):
                pass


async def test_break_inside_async_with_releases_connection() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        async with json_stream(client, "/forever") as stream:
            async for item in stream:
                if item["n"] == 3:
                    break
            assert _acquired(client) == 1
        assert _acquired(client) == 0
        with pytest.raises(UsageError, match="closed"):
            await stream


async def test_abandoned_stream_releases_connection_when_collected() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        async for item in json_stream(client, "/forever"):
            if item["n"] == 2:
                break
        gc.collect()
        assert _acquired(client) == 0


async def test_cancellation_releases_connection() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        stream = json_stream(client, "/forever")
        flowing = asyncio.Event()

        async def consume() -> None:
            async for _ in stream:
                flowing.set()

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(flowing.wait(), 10)
        assert _acquired(client) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _acquired(client) == 0


async def test_many_cancelled_streams_leave_nothing_held() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        flowing: set[int] = set()

        async def consume(n: int) -> None:
            async with json_stream(client, "/forever") as stream:
                async for _ in stream:
                    flowing.add(n)

        tasks = [asyncio.ensure_future(consume(n)) for n in range(50)]
        await eventually(lambda: len(flowing) == 50)  # every stream is open and sending
        assert await client.system.ping()  # streams do not starve ordinary calls
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert _acquired(client) == 0


async def test_inactivity_timeout_fires_on_a_stalled_stream() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        stream = json_stream(client, "/stall", Timeout(inactivity=0.2))
        items = []
        with pytest.raises(DockerTimeoutError):
            async for item in stream:
                items.append(item)
        assert items == [{"n": 0}]
        assert _acquired(client) == 0


async def test_streams_have_no_total_timeout() -> None:
    async with serve(stream_app()) as host, DockerClient(host, timeout=0.2) as client:
        count = 0
        async with json_stream(client, "/forever") as stream:
            async for _ in stream:
                count += 1
                if count == 50:  # about 0.5 s, beyond the 0.2 s ordinary-call timeout
                    break
        assert count == 50


async def test_connection_dropped_mid_body_raises_connection_error() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        received = []
        with pytest.raises(DockerConnectionError):
            async for frame in frames(client, "/truncated"):
                received.append(frame.data)
        assert received == [b"hello"]


async def test_frame_cut_at_eof_raises_truncated() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        with pytest.raises(TruncatedStreamError):
            await frames(client, "/cut").read()


async def test_daemon_error_frame_raises_not_yielded() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        received = []
        with pytest.raises(StreamError, match="log driver failed"):
            async for frame in frames(client, "/daemon-error"):
                received.append(frame.data)
        assert b"log driver failed" not in b"".join(received)
        assert _acquired(client) == 0


async def test_collect_reads_to_the_end() -> None:
    app = ping_app()

    async def three(request: web.Request) -> web.Response:
        return web.Response(body=b'{"a":1}\n{"a":2}{"a":3}')

    app.router.add_get("/v1.41/three", three)
    async with serve(app) as host, DockerClient(host) as client:
        assert await json_stream(client, "/three").collect() == [{"a": 1}, {"a": 2}, {"a": 3}]
        converted: AsyncStream[int] = client._stream(
            Request("GET", "/three"), JSONStreamDecoder(), lambda d: d["a"] * 10
        )
        assert await converted.collect() == [10, 20, 30]
        assert _acquired(client) == 0


async def test_daemon_error_raises_without_waiting_for_more_data() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        received = []

        async def consume() -> None:
            async for frame in frames(client, "/error-then-silence"):
                received.append(frame.data)

        with pytest.raises(StreamError, match="driver gone"):
            await asyncio.wait_for(consume(), 5)
        assert received == [b"ok\n"]
        assert _acquired(client) == 0


async def test_lines_hands_out_a_line_that_never_ends() -> None:
    app = ping_app()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(encode_frame(1, b"x" * 3000))
        await asyncio.sleep(30)
        return response

    app.router.add_get("/v1.41/endless", endless)
    async with serve(app) as host, DockerClient(host) as client:
        lines = frames(client, "/endless").lines(max_line_length=1000)
        first = await asyncio.wait_for(lines.__anext__(), 5)
        assert isinstance(lines, AsyncGenerator)  # so that it can be closed early
        await lines.aclose()
    assert first.data == b"x" * 3000


async def test_closing_the_client_ends_streams_blocked_in_other_tasks() -> None:
    async with serve(stream_app()) as host:
        client = DockerClient(host)
        flowing = asyncio.Event()

        async def consume() -> None:
            async for _ in json_stream(client, "/forever"):
                flowing.set()

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(flowing.wait(), 10)
        await asyncio.wait_for(client.aclose(), 5)
        with pytest.raises(ClientClosedError, match="was closed"):
            await asyncio.wait_for(task, 5)


async def test_closing_the_client_ends_hijacked_streams(tmp_path: Path) -> None:
    path = str(tmp_path / "hijack.sock")

    async def upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
        writer.write(encode_frame(1, b"hello"))
        await reader.read()  # until the client goes away
        writer.close()

    server = await asyncio.start_unix_server(upgrade, path)
    async with server:
        client = DockerClient(f"unix://{path}", api_version="1.41")
        stream = await client._hijack(Request("POST", "/containers/x/attach"), tty=False)
        first = await stream.__anext__()
        assert first.data == b"hello"
        task = asyncio.ensure_future(stream.__anext__())
        await eventually(lambda: stream._conn._read_waiter is not None)  # blocked reading
        await client.aclose()
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(task, 5)


async def test_demux_and_read_hold_the_output_once_in_bytearrays() -> None:
    async with serve(stream_app()) as host, DockerClient(host) as client:
        stream = frames(client, "/frames")
        output = await stream.demux()
        assert type(output.stdout) is bytearray and type(output.stderr) is bytearray
        assert (bytes(output.stdout), bytes(output.stderr)) == (b"out1\nout2 tail\n", b"err1\n")
        assert stream._items == []  # no view of a received chunk outlives the call
        data = await frames(client, "/frames").read()
        assert type(data) is bytearray and data == b"out1\nerr1\nout2 tail\n"
        assert _acquired(client) == 0
