"""Daemon answers are bounded: never inflated, ordinary ones capped, error bodies read whole.

A hostile or broken daemon (or something between it and us) must not be able
to make the process hold more than the configured cap for an ordinary call,
nor inflate a small compressed body into a huge one.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import pytest
from aiohttp import web

import aiodock
from aiodock import DockerClient
from aiodock._client import DEFAULT_MAX_RESPONSE_SIZE
from aiodock._http.request import Request
from aiodock.errors import (
    DockerConnectionError,
    DockerError,
    InvalidArgument,
    ResponseTooLargeError,
    ServerError,
)
from tests.unit._server import ping_app, reply, serve

# Under load a prompt failure takes well under a second; a client that read (or
# waited for) the whole body would hit this limit instead.
PROMPT = 10.0


def _gzip_json(value: object) -> web.Response:
    body = gzip.compress(json.dumps(value).encode())
    return web.Response(
        body=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )


async def test_a_gzip_encoded_answer_is_refused_not_inflated() -> None:
    seen: list[str] = []
    app = ping_app()

    async def containers(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Accept-Encoding", ""))
        # About 20 KiB compressed, 20 MiB once inflated.
        return _gzip_json([{"Id": "x" * 1024}] * 20_000)

    app.router.add_get("/v1.41/containers/json", containers)
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.containers.list()
    message = str(info.value)
    assert "GET /containers/json" in message
    assert "gzip" in message
    assert "never compresses" in message
    # And we tell whatever is in between not to compress in the first place.
    assert seen == ["identity"]


async def test_a_gzip_encoded_stream_is_refused_too() -> None:
    app = ping_app()
    app.router.add_get("/v1.41/events", reply(lambda: _gzip_json({"Type": "container"})))
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(DockerConnectionError, match="gzip"):
            async with docker.system.events() as stream:
                async for _ in stream:
                    pass


async def test_a_gzip_encoded_error_body_is_refused() -> None:
    app = ping_app()

    def answer() -> web.Response:
        body = gzip.compress(b'{"message": "no such container"}')
        return web.Response(status=404, body=body, headers={"Content-Encoding": "gzip"})

    app.router.add_get("/v1.41/containers/c1/json", reply(answer))
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(DockerConnectionError, match="gzip"):
            await docker.containers.inspect("c1")


# --- the size cap of ordinary calls ---------------------------------------------------------


def _cap_error(info: pytest.ExceptionInfo[ResponseTooLargeError], cap: int, call: str) -> None:
    err = info.value
    assert isinstance(err, DockerError)
    assert err.limit == cap
    message = str(err)
    assert call in message
    assert f"{cap} bytes" in message
    assert "max_response_size" in message


async def test_an_answer_announced_over_the_cap_fails() -> None:
    app = ping_app()
    app.router.add_get(
        "/v1.41/containers/json", reply(lambda: web.json_response(body=b"[" + b" " * 4000 + b"]"))
    )
    async with serve(app) as host, DockerClient(host, max_response_size=1000) as docker:
        with pytest.raises(ResponseTooLargeError) as info:
            await docker.containers.list()
    _cap_error(info, 1000, "GET /containers/json")
    assert info.value.size == 4002


async def _chunked(
    request: web.Request, chunks: list[bytes], then_hang: bool
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk)
        await asyncio.sleep(0.01)  # separate reads on the client side
    if then_hang:
        await asyncio.Event().wait()  # the rest never comes
    await response.write_eof()
    return response


async def test_a_chunked_answer_over_the_cap_fails_while_it_is_read() -> None:
    app = ping_app()

    async def handler(request: web.Request) -> web.StreamResponse:
        # 3000 bytes, then nothing: a client that reads to the end waits forever.
        return await _chunked(request, [b"[" + b" " * 999, b" " * 1000, b" " * 1000], True)

    app.router.add_get("/v1.41/images/json", handler)
    async with serve(app) as host, DockerClient(host, max_response_size=2500) as docker:
        with pytest.raises(ResponseTooLargeError) as info:
            await asyncio.wait_for(docker.images.list(), PROMPT)
    _cap_error(info, 2500, "GET /images/json")
    assert info.value.size is None


async def test_answers_up_to_the_cap_are_read() -> None:
    body = b"[" + b" " * 998 + b"]"
    app = ping_app()
    app.router.add_get("/v1.41/containers/json", reply(lambda: web.json_response(body=body)))

    async def chunked(request: web.Request) -> web.StreamResponse:
        return await _chunked(request, [body[:500], body[500:]], False)

    app.router.add_get("/v1.41/images/json", chunked)
    async with serve(app) as host, DockerClient(host, max_response_size=1000) as docker:
        assert await docker.containers.list() == []
        assert await docker.images.list() == []
        assert await docker.request("GET", "/containers/json") == []


async def test_the_default_cap_refuses_a_body_announced_just_over_it_before_reading() -> None:
    app = ping_app()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = DEFAULT_MAX_RESPONSE_SIZE + 1
        await response.prepare(request)
        await response.write(b"[")
        await asyncio.Event().wait()  # only the announcement: the body never comes
        return response

    app.router.add_get("/v1.41/containers/json", handler)
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(ResponseTooLargeError) as info:
            await asyncio.wait_for(docker.containers.list(), PROMPT)
    _cap_error(info, DEFAULT_MAX_RESPONSE_SIZE, "GET /containers/json")
    assert info.value.size == DEFAULT_MAX_RESPONSE_SIZE + 1


def test_the_default_cap_is_far_above_real_answers() -> None:
    # 50,000 container summaries of 4 KiB each (labels, mounts, networks) must fit.
    assert DEFAULT_MAX_RESPONSE_SIZE >= 50_000 * 4096
    assert DockerClient("unix:///x").max_response_size == DEFAULT_MAX_RESPONSE_SIZE


async def test_the_cap_is_per_view_and_the_ping_is_capped_too() -> None:
    app = ping_app()
    big = b"[" + b" " * 3000 + b"]"
    app.router.add_get("/v1.41/containers/json", reply(lambda: web.json_response(body=big)))
    async with serve(app) as host, DockerClient(host, max_response_size=1000) as docker:
        roomy = docker.with_options(max_response_size=10_000)
        assert roomy.max_response_size == 10_000
        assert await roomy.containers.list() == []
        with pytest.raises(ResponseTooLargeError):
            await docker.containers.list()
        assert docker.with_options(timeout=5).max_response_size == 1000

    huge_ping = web.Application()
    huge_ping.router.add_get(
        "/_ping", reply(lambda: web.Response(body=b"K" * 5000, headers={"API-Version": "1.41"}))
    )
    async with serve(huge_ping) as host, DockerClient(host, max_response_size=1000) as docker:
        with pytest.raises(ResponseTooLargeError, match="GET /_ping"):
            await docker.containers.list()


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1", True])
def test_a_bad_cap_is_refused(bad: object) -> None:
    with pytest.raises(InvalidArgument, match="max_response_size"):
        DockerClient("unix:///x", max_response_size=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="max_response_size"):
        DockerClient("unix:///x").with_options(max_response_size=bad)  # type: ignore[arg-type]


async def test_streams_are_not_capped() -> None:
    events = b"".join(
        json.dumps({"Type": "container", "Action": "start", "id": str(i)}).encode() + b"\n"
        for i in range(200)
    )
    app = ping_app()

    async def handler(request: web.Request) -> web.StreamResponse:
        return await _chunked(
            request, [events[i : i + 900] for i in range(0, len(events), 900)], False
        )

    app.router.add_get("/v1.41/events", handler)
    async with serve(app) as host, DockerClient(host, max_response_size=1000) as docker:
        assert len(events) > 10_000
        async with docker.system.events() as stream:
            got = [event async for event in stream]
    assert len(got) == 200


def test_the_error_is_exported() -> None:
    assert aiodock.errors.ResponseTooLargeError is ResponseTooLargeError
    assert "ResponseTooLargeError" in aiodock.errors.__all__
    assert issubclass(ResponseTooLargeError, DockerConnectionError)


# --- error bodies --------------------------------------------------------------------------


async def test_an_error_body_written_in_pieces_is_read_whole() -> None:
    text = "cannot start: " + "the daemon explains at length. " * 40
    body = json.dumps({"message": text}).encode()
    pieces = [body[i : i + 100] for i in range(0, len(body), 100)]
    app = ping_app()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=500, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for piece in pieces:
            await response.write(piece)
            await asyncio.sleep(0.02)
        await response.write_eof()
        return response

    app.router.add_post("/v1.41/containers/c1/start", handler)
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(ServerError) as info:
            await docker.containers.start("c1")
    assert len(pieces) > 5
    assert info.value.message == text


async def test_an_error_body_is_read_up_to_one_mib() -> None:
    app = ping_app()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=500, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(40):
            await response.write(b"E" * 65536)  # 2.5 MiB in all
        await asyncio.Event().wait()
        return response

    app.router.add_get("/v1.41/containers/c1/json", handler)
    async with serve(app) as host, DockerClient(host) as docker:
        with pytest.raises(ServerError) as info:
            await asyncio.wait_for(docker.containers.inspect("c1"), PROMPT)
    assert info.value.message == "E" * (1 << 20)


async def test_a_hijack_error_body_is_bounded_too(tmp_path: Path) -> None:
    path = str(tmp_path / "hijack.sock")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        # A chunk announced as 2 GiB, of which 1.5 MiB come and then nothing.
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"7fffffff\r\n" + b"E" * (3 << 19))
        await writer.drain()
        await reader.read()  # until the client goes away
        writer.close()

    server = await asyncio.start_unix_server(answer, path)
    async with server, DockerClient(f"unix://{path}", api_version="1.41") as docker:
        with pytest.raises(ServerError) as info:
            await asyncio.wait_for(
                docker._hijack(Request("POST", "/containers/x/attach"), tty=False), PROMPT
            )
    assert info.value.message == "E" * (1 << 20)


async def test_a_garbled_hijack_error_chunk_is_a_connection_error(tmp_path: Path) -> None:
    path = str(tmp_path / "hijack.sock")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n"
        )
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_unix_server(answer, path)
    async with server, DockerClient(f"unix://{path}", api_version="1.41") as docker:
        with pytest.raises(DockerConnectionError, match="chunk"):
            await asyncio.wait_for(
                docker._hijack(Request("POST", "/containers/x/attach"), tty=False), PROMPT
            )
