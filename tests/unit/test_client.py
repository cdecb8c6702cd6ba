"""Unit tests of the client core: lifecycle, URLs, version negotiation, errors."""

from __future__ import annotations

import asyncio
import gc
import sys
import warnings

import aiohttp
import pytest
from aiohttp import web

import aiodock
from aiodock import DockerClient, Repeated
from aiodock._http.request import Request, encode_query, quote_path
from aiodock._http.timeouts import wait_for
from aiodock._http.transport import parse_host
from aiodock.errors import (
    APIError,
    APIVersionError,
    BadRequest,
    ClientClosedError,
    Conflict,
    ContainerNotFound,
    DockerConnectionError,
    DockerTimeoutError,
    Forbidden,
    InvalidArgument,
    NotFound,
    ResponseValidationError,
    ServerError,
    Unauthorized,
)
from aiodock.models import SystemInfo
from tests._wait import eventually
from tests.unit._server import PINGS, ping_app, reply, serve

if sys.version_info >= (3, 11):
    from asyncio import timeout as asyncio_timeout
else:
    from async_timeout import timeout as asyncio_timeout

# --- pure helpers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc123", "abc123"),
        ("../../images/x", "..%2F..%2Fimages%2Fx"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("a?b#c", "a%3Fb%23c"),
        ("x\r\nHost: evil", "x%0D%0AHost%3A%20evil"),
        ("name with space", "name%20with%20space"),
        ("100%", "100%25"),
    ],
)
def test_quote_path_keeps_ids_in_their_segment(value: str, expected: str) -> None:
    assert quote_path(value) == expected


@pytest.mark.parametrize("bad", ["", "a\x00b"])
def test_quote_path_rejects_empty_and_nul(bad: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        quote_path(bad, "container")
    assert info.value.parameter == "container"
    assert "container=" in str(info.value)


def test_encode_query_forms() -> None:
    query = encode_query(
        {
            "all": True,
            "size": False,
            "limit": 5,
            "skip": None,
            "filters": {"label": ["a=b"]},
            "names": Repeated(["x", "y z"]),
        }
    )
    assert query == (
        "all=1&size=0&limit=5&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&names=x&names=y%20z"
    )


@pytest.mark.parametrize(
    ("host", "kind", "base"),
    [
        ("unix:///var/run/docker.sock", "unix", "http://docker"),
        ("/run/docker.sock", "unix", "http://docker"),
        ("tcp://127.0.0.1:2375", "tcp", "http://127.0.0.1:2375"),
        ("tcp://example.test", "tcp", "http://example.test:2375"),
        ("https://example.test", "tcp", "https://example.test:2376"),
        ("http://[::1]:2375", "tcp", "http://[::1]:2375"),
        ("ssh://me@box:2222", "ssh", "http://docker"),
    ],
)
def test_parse_host(host: str, kind: str, base: str) -> None:
    endpoint = parse_host(host)
    assert endpoint.kind == kind
    assert endpoint.base_url == base


def test_parse_host_tls_switches_tcp_to_https() -> None:
    assert parse_host("tcp://h:1", tls=True).base_url == "https://h:1"
    assert parse_host("tcp://h", tls=True).port == 2376


@pytest.mark.parametrize(
    "bad",
    ["", "ftp://x", "tcp://", "tcp://h:99999", "tcp://u:p@h:1", "tcp://h:1?x=1", "unix://", "x y"],
)
def test_parse_host_rejects(bad: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_host(bad)
    assert info.value.parameter == "host"


def test_constructor_rejects_bad_options() -> None:
    with pytest.raises(InvalidArgument, match="max_connections"):
        DockerClient("unix:///x", max_connections=0)
    for headers in ({"X-A": "1\r\nHost: evil"}, {"X\nB": "1"}, {"A:B": "1"}, {"": "1"}):
        with pytest.raises(InvalidArgument, match="headers"):
            DockerClient("unix:///x", headers=headers)
    with pytest.raises(InvalidArgument, match=r"1\.x"):
        DockerClient("unix:///x", api_version="1.x")


# --- lifecycle ---------------------------------------------------------------------


async def test_use_after_close_raises_and_close_is_idempotent() -> None:
    async with serve(ping_app()) as host:
        client = DockerClient(host)
        assert await client.system.ping() is True
        await client.aclose()
        await client.aclose()
        assert client.closed
        with pytest.raises(ClientClosedError, match="closed"):
            await client.system.ping()
        with pytest.raises(ClientClosedError):
            async with client:
                pass


async def test_dropping_an_open_client_warns() -> None:
    async with serve(ping_app()) as host:
        client = DockerClient(host)
        await client.system.ping()
        session = client._shared.session
        assert session is not None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del client
            gc.collect()
        assert any(
            issubclass(w.category, ResourceWarning) and "DockerClient" in str(w.message)
            for w in caught
        )
        await session.close()


async def test_unused_client_does_not_warn() -> None:
    # No session was opened, so there is nothing to leak (the test above is the contrast).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = DockerClient("unix:///nonexistent.sock")
        del client
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


async def test_with_options_shares_connections_and_does_not_close_them() -> None:
    async with serve(ping_app("1.43")) as host, DockerClient(host) as client:
        view = client.with_options(timeout=5, api_version="1.41")
        assert await view.api_version() == "1.41"
        assert await client.api_version() == "1.43"
        assert view._shared is client._shared
        await view.aclose()
        assert not client.closed
        assert await view.system.ping()
    assert view.closed


# --- version negotiation -------------------------------------------------------------


async def test_version_negotiated_once_for_concurrent_requests() -> None:
    app = ping_app("1.41")
    seen: list[str] = []

    async def info(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"ID": "x"})

    app.router.add_get("/{version}/info", info)
    async with serve(app) as host, DockerClient(host) as client:
        await asyncio.gather(*(client.request("GET", "/info") for _ in range(20)))
    assert app[PINGS][0] == 1
    assert seen == ["/v1.41/info"] * 20


async def test_newer_server_is_capped_at_client_max() -> None:
    async with serve(ping_app("9.99")) as host, DockerClient(host) as client:
        assert await client.api_version() == aiodock._config.MAX_API_VERSION


async def test_too_old_server_is_refused() -> None:
    async with serve(ping_app("1.12")) as host, DockerClient(host) as client:
        with pytest.raises(APIVersionError, match=r"1\.12"):
            await client.api_version()


async def test_pinned_version_skips_ping() -> None:
    app = ping_app("1.45")
    app.router.add_get("/v1.41/version", reply(lambda: web.json_response({"ApiVersion": "1.41"})))
    async with serve(app) as host, DockerClient(host, api_version="1.41") as client:
        version = await client.system.version()
    assert version.api_version == "1.41"
    assert app[PINGS][0] == 0


async def test_require_api_names_option_and_versions() -> None:
    async with serve(ping_app("1.41")) as host, DockerClient(host) as client:
        await client._require_api("logs(format='json')", "1.41")
        with pytest.raises(APIVersionError) as info:
            await client._require_api("logs(format='json')", "1.54")
    message = str(info.value)
    assert "logs(format='json')" in message and "1.54" in message and "1.41" in message


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (500, ServerError),
        (503, ServerError),
        (418, APIError),
    ],
)
async def test_status_maps_to_error_class(status: int, cls: type[APIError]) -> None:
    app = ping_app()

    async def fail(request: web.Request) -> web.Response:
        return web.json_response({"message": f"daemon says {status}"}, status=status)

    app.router.add_post("/v1.41/containers/{id}/start", fail)
    async with serve(app) as host, DockerClient(host) as client:
        with pytest.raises(cls) as info:
            await client.request("POST", "/containers/abc/start")
    err = info.value
    assert type(err) is cls
    assert err.status == status
    assert err.message == f"daemon says {status}"
    assert err.method == "POST" and err.path == "/containers/abc/start"
    assert f"POST /containers/abc/start failed with {status}: daemon says {status}" == str(err)


async def test_not_found_subclass_and_plain_text_body() -> None:
    app = ping_app()
    app.router.add_get(
        "/v1.41/containers/{id}/json", reply(lambda: web.Response(status=404, text="gone\n"))
    )
    async with serve(app) as host, DockerClient(host) as client:
        with pytest.raises(ContainerNotFound) as info:
            await client._json(Request("GET", "/containers/x/json", not_found=ContainerNotFound))
    assert info.value.message == "gone"


async def test_unreachable_daemon_is_a_connection_error() -> None:
    async with DockerClient("unix:///nonexistent/docker.sock") as client:
        with pytest.raises(DockerConnectionError) as info:
            await client.system.ping()
    assert "/_ping" in str(info.value)
    cause = info.value.__cause__
    assert isinstance(cause, aiohttp.ClientConnectorError)  # chained, not swallowed
    assert isinstance(cause.os_error, FileNotFoundError)


async def test_slow_call_times_out_with_docker_timeout_error() -> None:
    app = ping_app()

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    app.router.add_get("/v1.41/info", slow)
    async with serve(app) as host, DockerClient(host, timeout=0.2) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(DockerTimeoutError, match=r"GET /info .*within 0.2s"):
            await client.system.info()
        assert asyncio.get_running_loop().time() - started < 1.0
        # The client still works, and a later, shorter limit is kept too.
        await client.system.ping()
        with pytest.raises(DockerTimeoutError):
            await client.with_options(timeout=0.05).system.info()


async def test_call_limits_share_one_timer_and_leave_other_cancellations_alone() -> None:
    app = ping_app()
    release = asyncio.Event()
    arrived: list[str] = []

    async def slow(request: web.Request) -> web.Response:
        arrived.append(request.path)
        await release.wait()
        return web.json_response({})

    app.router.add_get("/v1.41/info", slow)
    async with serve(app) as host, DockerClient(host, timeout=30) as client:
        for _ in range(5):
            await client.system.ping()
        deadlines = client._shared.deadlines
        assert deadlines is not None
        timer = deadlines._timer
        for _ in range(20):
            await client.system.ping()
        assert deadlines._timer is timer, "calls with the same limit must not re-arm the timer"
        assert deadlines._calls == {}

        # The caller's own cancellation is a CancelledError, not a timeout.
        call = asyncio.create_task(client.system.info())
        await eventually(lambda: arrived)  # the request is at the server
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # An enclosing asyncio timeout wins over the client's longer limit.
        with pytest.raises(asyncio.TimeoutError):
            async with asyncio_timeout(0.05):
                await client.system.info()
        assert deadlines._calls == {}
        release.set()
        assert await client.system.info() == SystemInfo()  # the server's "{}"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_redirects_are_not_followed(method: str) -> None:
    app = ping_app()
    followed: list[str] = []

    async def target(request: web.Request) -> web.Response:
        followed.append(request.path)
        return web.json_response({})

    app.router.add_route(
        method, "/v1.41/x", reply(lambda: web.Response(status=301, headers={"Location": "/y"}))
    )
    app.router.add_route("*", "/y", target)
    async with serve(app) as host, DockerClient(host) as client:
        with pytest.raises(APIError) as info:
            await client.request(method, "/x")
    assert info.value.status == 301
    assert "redirected to /y" in str(info.value)
    assert followed == []


async def test_escape_hatch_returns_json_or_bytes() -> None:
    app = ping_app()
    app.router.add_get("/v1.41/j", reply(lambda: web.json_response({"a": 1})))
    app.router.add_get("/v1.41/b", reply(lambda: web.Response(body=b"\x00\xff")))
    app.router.add_get("/plain", reply(lambda: web.Response(text="hi")))
    app.router.add_get(
        "/v1.41/progress",
        reply(lambda: web.json_response(body=b'{"status":"a"}\n{"status":"b"}\n')),
    )
    app.router.add_get("/v1.41/broken", reply(lambda: web.json_response(body=b'{"a": ')))
    async with serve(app) as host, DockerClient(host) as client:
        assert await client.request("GET", "/j") == {"a": 1}
        assert await client.request("GET", "/b") == b"\x00\xff"
        assert await client.request("GET", "/plain", versioned=False) == b"hi"
        assert await client.request("GET", "/progress") == [{"status": "a"}, {"status": "b"}]
        with pytest.raises(ResponseValidationError, match="invalid JSON"):
            await client.request("GET", "/broken")
        with pytest.raises(InvalidArgument):
            await client.request("GET", "no-slash")


async def test_ordinary_calls_are_limited_but_streams_are_not() -> None:
    app = ping_app()
    gate = asyncio.Event()
    active = 0
    peak = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await gate.wait()
        active -= 1
        return web.json_response({})

    app.router.add_get("/v1.41/slow", slow)
    async with serve(app) as host, DockerClient(host, max_connections=3) as client:
        calls = [asyncio.ensure_future(client.request("GET", "/slow")) for _ in range(10)]
        # Three reach the server and the other seven wait in the client's queue.
        await eventually(lambda: active == 3 and client.stats().calls_queued == 7)
        assert peak == 3
        gate.set()
        await asyncio.gather(*calls)


async def test_limiter_hands_slots_to_waiters_in_order_and_survives_cancellation() -> None:
    from aiodock._client import _Limiter

    limiter = _Limiter(1)
    order: list[str] = []
    release_first = asyncio.Event()

    async def hold(name: str, until: asyncio.Event | None = None) -> None:
        if limiter.free > 0:
            limiter.free -= 1
        else:
            await limiter.wait()
        try:
            order.append(name)
            if until is not None:
                await until.wait()
        finally:
            limiter.release()

    first = asyncio.create_task(hold("first", release_first))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(hold(name)) for name in ("a", "cancelled", "b")]
    await asyncio.sleep(0)
    assert limiter.free == 0
    waiters[1].cancel()  # cancelled while queued: must not take or lose a slot
    release_first.set()
    await asyncio.gather(first, waiters[0], waiters[2])
    with pytest.raises(asyncio.CancelledError):
        await waiters[1]
    assert order == ["first", "a", "b"]
    assert limiter.free == 1

    # Cancelled just after the slot was handed over: the slot moves on, not lost.
    held = asyncio.Event()
    owner = asyncio.create_task(hold("owner", held))
    await asyncio.sleep(0)
    late = asyncio.create_task(hold("late"))
    after = asyncio.create_task(hold("after"))
    await asyncio.sleep(0)
    held.set()
    await asyncio.sleep(0)  # owner leaves and hands its slot to "late"...
    late.cancel()  # ...which is cancelled before it runs
    await wait_for(asyncio.gather(owner, after), 5)  # a lost slot would hang here
    with pytest.raises(asyncio.CancelledError):
        await late
    assert "late" not in order and order[-1] == "after"
    assert limiter.free == 1
