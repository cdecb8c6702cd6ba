"""The request core's cross-cutting behaviour: event loops, validation errors, failures
while negotiating or opening hijacked connections (answers split, cut and stalled at
awkward places), unencodable bodies, ``stats()``, logging and tracing."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from aiodock import ClientStats, DockerClient
from aiodock._http.failures import transport_error
from aiodock._http.request import NO_LIMIT, Request, Timeout
from aiodock.errors import (
    APIError,
    Conflict,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    InvalidArgument,
    NotFound,
    ResponseValidationError,
    UsageError,
)
from aiodock.testing import FakeDocker
from tests._wait import eventually

ROOT = Path(__file__).resolve().parents[2]


# --- a raw server: answers written byte by byte, as a test needs them ------------------

RawHandler = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[str]:
    """A unix socket whose every request head is handed to ``handler(head, writer)``.

    The handler writes whatever bytes it likes; the connection is closed after it
    returns (a handler that wants to stall just sleeps).
    """

    async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                await handler(head, writer)
                await writer.drain()
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    with tempfile.TemporaryDirectory(prefix="aiodock-") as tmp:
        path = str(Path(tmp) / "raw.sock")
        server = await asyncio.start_unix_server(serve_one, path)
        try:
            yield f"unix://{path}"
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)


PING_OK = b"HTTP/1.1 200 OK\r\nAPI-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK"


# --- event loops ------------------------------------------------------------------------

_TWO_RUNS = textwrap.dedent(
    """
    import asyncio, queue, threading
    from aiodock import DockerClient
    from aiodock.errors import UsageError
    from aiodock.testing import FakeDocker

    # The fake daemon runs in a thread of its own, outliving the script's loops.
    hosts, stop = queue.Queue(), threading.Event()

    async def daemon():
        async with FakeDocker() as fake:
            hosts.put(fake.host)
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(daemon(),))
    thread.start()
    docker = DockerClient(hosts.get(timeout=30), timeout=5)

    async def ping():
        return await docker.system.ping()

    try:
        first = asyncio.run(ping())  # the first asyncio.run()
        print("FIRST:", first)
        try:
            asyncio.run(ping())  # the second one
        except UsageError as exc:
            print("USAGE:", exc)
        else:
            print("NO ERROR")
        asyncio.run(docker.aclose())  # allowed: lets go of the old loop's connections
        print("CLOSED:", docker.closed)
    finally:
        stop.set()
        thread.join()
    """
)


@pytest.mark.parametrize("optimize", [False, True])
def test_a_client_used_from_a_second_event_loop_raises_usage_error(optimize: bool) -> None:
    # Also under ``python -O``: no assert stands on this path.
    argv = [sys.executable, *(["-O"] if optimize else []), "-c", _TWO_RUNS]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "USAGE:" in done.stdout, done.stdout + done.stderr
    message = done.stdout
    assert "another event loop" in message and "has since been closed" in message
    assert "asyncio.run()" in message and "two threads" in message
    assert "Create the client inside the coroutine" in message
    assert "CLOSED: True" in message
    assert "AssertionError" not in done.stderr


async def test_a_client_bound_to_a_running_loop_in_another_thread_says_so() -> None:
    async with FakeDocker() as fake, fake.client(timeout=5) as docker:
        await docker.system.ping()

        def in_thread() -> BaseException | None:
            async def call() -> None:
                await docker.system.ping()

            try:
                asyncio.run(call())
            except BaseException as exc:
                return exc
            return None

        error = await asyncio.to_thread(in_thread)
        assert isinstance(error, UsageError)
        assert "is still open" in str(error)
        # The client still works in its own loop.
        assert await docker.system.ping() is True


async def test_streams_and_hijacked_calls_check_the_loop_too() -> None:
    async with FakeDocker() as fake, fake.client(timeout=5) as docker:
        fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
        await docker.system.ping()
        docker._shared.loop = asyncio.new_event_loop()  # as if first used elsewhere
        try:
            with pytest.raises(UsageError, match="another event loop"):
                await docker.system.events()
            with pytest.raises(UsageError, match="another event loop"):
                await docker.exec.run("box", ["true"])
        finally:
            docker._shared.loop.close()
            docker._shared.loop = asyncio.get_running_loop()


def test_no_assert_guards_runtime_behaviour_anywhere_in_the_package() -> None:
    # ``assert`` vanishes under -O: no module of the package may rely on one.
    modules = sorted((ROOT / "aiodock").rglob("*.py"))
    assert len(modules) > 100
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in modules
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert found == []


# --- ResponseValidationError ------------------------------------------------------------


async def test_an_answer_that_does_not_fit_its_model_is_a_validation_error() -> None:
    async with FakeDocker() as fake, fake.client() as docker:
        fake.add_route("GET", "/containers/c1/json", lambda req: [1, 2])
        fake.add_route("GET", "/containers/json", lambda req: {"a": 1})
        fake.add_route(
            "GET", "/version", lambda req: web.Response(body=b"<html>", content_type="text/html")
        )
        with pytest.raises(ResponseValidationError) as caught:
            await docker.containers.inspect("c1")
        error = caught.value
        assert not isinstance(error, DockerConnectionError)
        assert isinstance(error, DockerError)
        assert (error.method, error.path, error.model) == (
            "GET",
            "/containers/c1/json",
            "ContainerInspectResponse",
        )
        assert error.__cause__ is error.error
        assert "does not fit ContainerInspectResponse" in str(error)
        with pytest.raises(ResponseValidationError, match="does not fit"):
            await docker.containers.list()
        with pytest.raises(ResponseValidationError, match="invalid JSON") as caught:
            await docker.system.version()
        assert caught.value.model == "JSON" and "<html>" in str(caught.value)


async def test_a_stream_item_that_does_not_fit_its_model_is_a_validation_error() -> None:
    async with FakeDocker() as fake, fake.client(timeout=5) as docker:
        fake.add_route(
            "GET",
            "/containers/box/stats",
            lambda req: web.Response(body=b"[1, 2]\n", content_type="application/json"),
        )
        stream = docker.containers.stats("box")
        with pytest.raises(ResponseValidationError) as caught:
            await stream.__anext__()
        assert caught.value.model == "Stats"
        assert caught.value.path == "/containers/box/stats"
        assert docker.stats().open_streams == 0  # released


# --- negotiation through the same error mapping (issue 15, 6a) --------------------------


async def test_a_cut_off_ping_during_negotiation_is_a_connection_error() -> None:
    async with FakeDocker() as fake, fake.client(timeout=5) as docker:
        fake.truncate_next("GET", "/_ping", after_bytes=1)  # "O" of "OK", then the drop
        with pytest.raises(DockerConnectionError) as caught:
            await docker.containers.list()
        message = str(caught.value)
        assert "API version negotiation for GET /containers/json" in message
        assert fake.host in message
        assert "incomplete" in message
        assert "400" not in message and "TransferEncodingError" not in message
        assert isinstance(caught.value.__cause__, aiohttp.ClientPayloadError)


async def test_a_stalled_ping_before_a_stream_is_a_timeout_error() -> None:
    async with FakeDocker() as fake, fake.client(timeout=0.3) as docker:
        fake.stall_next("GET", "/_ping", after_bytes=1)
        with pytest.raises(DockerTimeoutError) as caught:
            await docker.system.events()
        message = str(caught.value)
        assert "API version negotiation for GET /events" in message and fake.host in message
        # The next call negotiates afresh and works.
        assert await docker.api_version() == "1.41"


async def test_a_stalled_ping_head_during_negotiation_is_a_timeout_error() -> None:
    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nAPI-Ver")
        await asyncio.sleep(10)

    async with raw_server(handler) as host, DockerClient(host, timeout=0.3) as docker:
        # The user's call's own limit covers its negotiation: it names that call.
        # (On Python 3.10, which cannot tell the limits apart, the negotiation's own
        # limit reports it, naming the user's call too.)
        with pytest.raises(
            DockerTimeoutError,
            match=r"^(GET /_ping \(API version negotiation for )?"
            r"GET /containers/json\)? on .*0\.3s",
        ):
            await docker.containers.list()


# --- hijacked calls: error answers cut, split and malformed (issue 15, 6b) ---------------


def _exec_error_server(answer: bytes, *, pause_at: int | None = None) -> RawHandler:
    """Answer pings normally and the exec start with ``answer`` (then close)."""

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b" /_ping " in head:
            writer.write(PING_OK)
            return
        if pause_at is None:
            writer.write(answer)
        else:
            # Split at an awkward place, with a pause between the halves.
            writer.write(answer[:pause_at])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(answer[pause_at:])
        writer.close()

    return handler


_JSON_404 = b'{"message":"No such exec instance: e1"}'


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        # Content-Length announces more than arrives.
        (
            b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + _JSON_404[:20],
            '{"message":"No such  [the daemon\'s answer was cut off]',
        ),
        # Chunked, cut inside a chunk.
        (
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(_JSON_404)
            + _JSON_404[:10],
            '{"message" [the daemon\'s answer was cut off]',
        ),
        # Chunked, cut inside the size line / after a whole chunk.
        (
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(_JSON_404)
            + _JSON_404
            + b"\r\n1",
            _JSON_404.decode() + " [the daemon's answer was cut off]",
        ),
        # Chunked, cut before any chunk.
        (
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n",
            "[the daemon's answer was cut off]",
        ),
    ],
)
async def test_a_cut_off_error_answer_to_exec_start_still_raises_its_status(
    answer: bytes, expected: str
) -> None:
    async with (
        raw_server(_exec_error_server(answer)) as host,
        DockerClient(host, api_version="1.41", timeout=5) as docker,
    ):
        with pytest.raises(NotFound) as caught:
            await docker._hijack(Request("POST", "/exec/e1/start", body={}), tty=False)
        assert caught.value.status == 404
        assert caught.value.message == expected
        assert docker.stats().open_hijacked == 0


@pytest.mark.parametrize("pause_at", [1, 12, 30, 60])
async def test_an_error_answer_split_anywhere_reads_whole(pause_at: int) -> None:
    answer = (
        b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % len(_JSON_404)
        + _JSON_404
        + b"\r\n0\r\n\r\n"
    )
    async with (
        raw_server(_exec_error_server(answer, pause_at=pause_at)) as host,
        DockerClient(host, api_version="1.41", timeout=5) as docker,
    ):
        with pytest.raises(Conflict, match=r"No such exec instance: e1$"):
            await docker._hijack(Request("POST", "/exec/e1/start", body={}), tty=False)


async def test_a_malformed_or_endless_chunk_size_is_a_connection_error() -> None:
    for size_line in (b"zz\r\n", b"1" * 5000):
        answer = b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line
        async with (
            raw_server(_exec_error_server(answer)) as host,
            DockerClient(host, api_version="1.41", timeout=5) as docker,
        ):
            with pytest.raises(DockerConnectionError, match="chunk size") as caught:
                await docker._hijack(Request("POST", "/exec/e1/start", body={}), tty=False)
            assert host in str(caught.value) or "POST /exec/e1/start" in str(caught.value)


async def test_exec_run_against_a_daemon_that_closes_mid_head() -> None:
    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b" /_ping " in head:
            writer.write(PING_OK)
        elif b"/exec/e1/start" in head:
            writer.write(b"HTTP/1.1 101 UPGR")
            writer.close()
        else:
            body = b'{"Id":"e1"}'
            writer.write(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )

    async with raw_server(handler) as host, DockerClient(host, timeout=5) as docker:
        with pytest.raises(DockerConnectionError, match="closed before a response"):
            await docker.exec.run("box", ["true"])


async def test_a_stalled_hijack_answer_is_a_timeout_error() -> None:
    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 50\r\n\r\n{")
        await asyncio.sleep(10)

    async with (
        raw_server(handler) as host,
        DockerClient(host, api_version="1.41", timeout=0.3) as docker,
    ):
        with pytest.raises(DockerTimeoutError, match="POST /exec/e1/start"):
            await docker._hijack(Request("POST", "/exec/e1/start", body={}), tty=False)


# --- unencodable request bodies (issue 15, 6c) ------------------------------------------


async def test_a_lone_surrogate_in_a_body_is_invalid_argument_naming_the_field() -> None:
    async with FakeDocker() as fake, fake.client(timeout=5) as docker:
        with pytest.raises(InvalidArgument) as caught:
            await docker.containers.create(image="busybox", labels={"a": "\ud800"})
        assert caught.value.parameter == "body['Labels']['a']"
        assert caught.value.value == "\ud800"
        assert "POST /containers/create" in str(caught.value)
        with pytest.raises(InvalidArgument, match=r"body\['Cmd'\]\[1\]"):
            await docker.containers.create(image="busybox", cmd=["echo", "x\udcff"])
        with pytest.raises(InvalidArgument, match="body"):
            await docker.request("POST", "/x", json={"k": object()})
        fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
        with pytest.raises(InvalidArgument, match=r"body\['Cmd'\]"):
            await docker.exec.run("box", ["echo", "\ud800"])
        assert fake.requests_to("POST", "/containers/create") == []


# --- stats() ------------------------------------------------------------------------------


async def test_stats_counts_calls_streams_and_connections() -> None:
    async with FakeDocker() as fake:
        docker = fake.client(timeout=10, max_connections=2)
        fresh = docker.stats()
        assert isinstance(fresh, ClientStats)
        assert attrs.asdict(fresh) == {
            "connections": 0,
            "connections_in_use": 0,
            "calls_in_flight": 0,
            "calls_queued": 0,
            "max_connections": 2,
            "open_streams": 0,
            "open_hijacked": 0,
            "closed": False,
        }
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            fresh.closed = True  # type: ignore[misc]
        await docker.system.ping()
        fake.delay_next("GET", "/_ping", 0.5, times=3)
        calls = [asyncio.ensure_future(docker.system.ping()) for _ in range(3)]
        # Two held by the delayed fake, the third queued behind them.
        await eventually(lambda: docker.stats().connections_in_use == 2)
        busy = docker.stats()
        assert (busy.calls_in_flight, busy.calls_queued) == (2, 1)
        assert busy.connections_in_use == 2 and busy.connections >= 2
        await asyncio.gather(*calls)
        idle = docker.stats()
        assert (idle.calls_in_flight, idle.calls_queued, idle.connections_in_use) == (0, 0, 0)
        assert idle.connections >= 1
        events = await docker.system.events()
        view = docker.with_options(timeout=3)
        assert view.stats().open_streams == 1
        assert view.stats().connections_in_use == 1
        fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
        exec_id = await docker.exec.create("box", cmd=["cat"], stdin=True)
        process = await docker.exec.start(exec_id.id)
        assert docker.stats().open_hijacked == 1
        await process.aclose()
        await events.aclose()
        after = docker.stats()
        assert (after.open_streams, after.open_hijacked, after.connections_in_use) == (0, 0, 0)
        await docker.aclose()
        closed = docker.stats()
        assert closed.closed and closed.connections == 0


# --- logging ----------------------------------------------------------------------------


async def test_debug_logging_records_calls_streams_and_negotiation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "s3cr3t-token-value"
    async with FakeDocker() as fake:
        docker = fake.client(timeout=5, headers={"X-Secret": secret})
        fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
        with caplog.at_level(logging.DEBUG, logger="aiodock"):
            await docker.containers.list(filters={"label": [secret]})
            with pytest.raises(NotFound):
                await docker.containers.inspect("missing")
            async with docker.system.events() as events:
                fake.emit_event("container", "create", "abc")
                await events.__anext__()
            result = await docker.exec.run("box", ["echo", "hi"])
            assert result.exit_code == 0
        await docker.aclose()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert secret not in text and "X-Secret" not in text
    assert "filters" not in text  # no query string
    by_logger: dict[str, list[str]] = {}
    for record in caplog.records:
        by_logger.setdefault(record.name, []).append(record.getMessage())
    client = by_logger["aiodock.client"]
    assert any(m.startswith("API version 1.41 negotiated with the daemon at") for m in client)
    [listing] = [m for m in client if m.startswith("GET /containers/json -> ")]
    assert "-> 200 (" in listing and " ms, " in listing
    missing = "GET /containers/missing/json -> 404 ContainerNotFound"
    assert any(m.startswith(missing) for m in client)
    record = next(r for r in caplog.records if r.getMessage() == listing)
    assert record.levelno == logging.DEBUG
    assert (record.docker_method, record.docker_path, record.docker_status) == (  # type: ignore[attr-defined]
        "GET",
        "/containers/json",
        200,
    )
    stream = by_logger["aiodock.stream"]
    assert "GET /events -> 200: stream open" in stream
    assert any(m.startswith("GET /events: stream closed after ") for m in stream)
    assert any("hijacked connection open" in m for m in stream)
    closed = [m for m in stream if "hijacked connection closed after" in m]
    assert closed and int(closed[0].split("after ")[1].split()[0]) > 0


async def test_no_records_and_no_timing_when_debug_is_off(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiodock._http.core as core

    timings: list[int] = []

    def clock() -> float:
        timings.append(1)
        return 0.0

    monkeypatch.setattr(core, "perf_counter", clock)
    async with FakeDocker() as fake, fake.client(timeout=5) as docker:
        with caplog.at_level(logging.INFO, logger="aiodock"):
            await docker.containers.list()
            async with docker.system.events():
                pass
    assert [r for r in caplog.records if r.name.startswith("aiodock")] == []
    assert timings == []


# --- tracing ----------------------------------------------------------------------------


def recording_trace_config() -> tuple[aiohttp.TraceConfig, list[tuple[str, str, str, Any]]]:
    seen: list[tuple[str, str, str, Any]] = []
    config = aiohttp.TraceConfig()

    async def start(_: Any, ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        ctx.started = True
        seen.append(("start", params.method, params.url.path, None))

    async def end(_: Any, ctx: Any, params: aiohttp.TraceRequestEndParams) -> None:
        assert ctx.started
        seen.append(("end", params.method, params.url.path, params.response.status))

    async def failed(_: Any, ctx: Any, params: aiohttp.TraceRequestExceptionParams) -> None:
        assert ctx.started
        seen.append(("exception", params.method, params.url.path, params.exception))

    config.on_request_start.append(start)
    config.on_request_end.append(end)
    config.on_request_exception.append(failed)
    return config, seen


async def test_trace_configs_see_ordinary_calls_and_hijacked_exec() -> None:
    config, seen = recording_trace_config()
    async with FakeDocker() as fake:
        fake.add_container(name="box", cmd=["sleep", "infinity"], running=True)
        async with fake.client(timeout=5, trace_configs=[config]) as docker:
            await docker.system.ping()
            result = await docker.exec.run("box", ["echo", "hi"])
            assert result.stdout == b"hi\n"
            with pytest.raises(NotFound):
                await docker._hijack(Request("POST", "/exec/nope/start", body={}), tty=False)
    paths = [(kind, method, path.rsplit("/", 1)[-1], status) for kind, method, path, status in seen]
    assert ("start", "GET", "_ping", None) in paths and ("end", "GET", "_ping", 200) in paths
    assert ("start", "POST", "exec", None) in paths and ("end", "POST", "exec", 201) in paths
    starts = [p for p in seen if p[0] == "start" and p[2].endswith("/start")]
    ends = [p for p in seen if p[0] == "end" and p[2].endswith("/start")]
    assert (len(starts) == 2 and [p[3] for p in ends] == [101, 404]) or [p[3] for p in ends] == [
        200,
        404,
    ]
    assert all(p[2].startswith("/v1.41/exec/") for p in starts)


async def test_trace_configs_see_a_hijacked_call_that_cannot_connect() -> None:
    config, seen = recording_trace_config()
    async with FakeDocker() as fake:
        docker = DockerClient(fake.host, api_version="1.41", trace_configs=[config])
    try:
        with pytest.raises(DockerConnectionError) as caught:
            await docker._hijack(Request("POST", "/exec/e1/start", body={}), tty=False)
        assert [s[0] for s in seen] == ["start", "exception"]
        assert seen[1][3] is caught.value
    finally:
        await docker.aclose()


def test_trace_configs_must_be_trace_configs() -> None:
    with pytest.raises(InvalidArgument, match="trace_configs"):
        DockerClient("unix:///x.sock", trace_configs=[object()])  # type: ignore[list-item]


# --- messages (issue 16, 7) -------------------------------------------------------------


def test_aiohttp_payload_errors_are_told_in_plain_words() -> None:
    cut = aiohttp.ClientPayloadError(
        "Response payload is not completed: <TransferEncodingError: 400, message='Not "
        "enough data to satisfy transfer length header.'>"
    )
    error = transport_error(cut, "GET /containers/c1/logs on unix:///run/docker.sock")
    assert isinstance(error, DockerConnectionError)
    text = str(error)
    assert text.startswith("GET /containers/c1/logs on unix:///run/docker.sock: ")
    assert "400" not in text and "TransferEncodingError" not in text
    assert "before the daemon finished its answer" in text
    gone = transport_error(aiohttp.ServerDisconnectedError(), "GET /x on h")
    assert "closed the connection without answering" in str(gone)
    refused = aiohttp.ClientConnectorError(
        SimpleNamespace(ssl="default", host="h", port=1),  # type: ignore[arg-type]
        ConnectionRefusedError(111, "Connection refused"),
    )
    assert str(transport_error(refused, "GET /x on h")) == (
        "GET /x on h: cannot connect to the daemon (Connection refused)"
    )
    parse = aiohttp.ClientResponseError(
        None,  # type: ignore[arg-type]
        (),
        status=400,
        message="Invalid HTTP status line",
    )
    assert "400" not in str(transport_error(parse, "GET /x on h"))


async def test_a_follow_stream_cut_by_a_dying_daemon_names_the_daemon_in_plain_words() -> None:
    event = b'{"Type":"container","Action":"start","Actor":{"ID":"a"},"time":1}\n'

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(event)
            + event
            + b"\r\n40\r\n{"  # the daemon dies inside the next chunk
        )
        writer.close()

    async with (
        raw_server(handler) as host,
        DockerClient(host, api_version="1.41", timeout=5) as docker,
    ):
        stream = await docker.system.events()
        with pytest.raises(DockerConnectionError) as caught:
            async for _ in stream:
                pass
        text = str(caught.value)
        assert text.startswith(f"GET /events on {host}: ")
        assert "before the daemon finished its answer" in text
        assert "400" not in text and "TransferEncodingError" not in text


async def test_logs_while_the_daemon_is_down_name_the_logs_call_and_the_lookup() -> None:
    async with FakeDocker() as fake:
        host = fake.host
    async with DockerClient(host, api_version="1.41", timeout=2) as docker:
        with pytest.raises(DockerConnectionError) as caught:
            await docker.containers.logs("c1")
    text = str(caught.value)
    assert text.startswith(f"GET /containers/c1/logs on {host}: ")
    assert "whether the container has a TTY" in text and "GET /containers/c1/json" in text
    assert "cannot connect to the daemon" in text


async def test_api_errors_keep_their_shape() -> None:
    async with FakeDocker() as fake, fake.client(timeout=5) as docker:
        with pytest.raises(APIError) as caught:
            await docker.containers.inspect("nope")
        assert str(caught.value).startswith("GET /containers/nope/json failed with 404: ")


def test_a_request_description_never_shows_its_query_headers_or_body() -> None:
    # Requests appear in tracebacks and debuggers; X-Registry-Auth and bodies hold secrets.
    request = Request(
        "POST",
        "/auth",
        params={"token": "q-secret"},
        body={"password": "b-secret"},
        headers={"X-Registry-Auth": "h-secret"},
    )
    assert repr(request) == "<Request POST /auth>"
    assert request.header_pairs() == (("X-Registry-Auth", "h-secret"),)
    assert Request("GET", "/x", headers=[("A", "1"), ("A", "2")]).header_pairs() == [
        ("A", "1"),
        ("A", "2"),
    ]


def test_timeouts_compare_by_value_and_no_limit_has_none() -> None:
    assert Timeout(5) == Timeout(5.0) and hash(Timeout(5)) == hash(Timeout(5.0))
    assert Timeout(5) != Timeout(5, inactivity=1)
    assert (NO_LIMIT.total, NO_LIMIT.inactivity) == (None, None)
    assert repr(Timeout(inactivity=2)) == "Timeout(total=None, inactivity=2)"
