"""The HTTP side of ``FakeDocker``: serving, dispatching to routes, streamed and hijacked
answers."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from ..._streams.frames import encode_frame
from .._state.containers import FakeContainer
from .._state.execs import FakeExec
from .._wire import (
    Abandoned,
    Answer,
    BodyWriter,
    Budget,
    Cut,
    FakeRequest,
    NoTypeStreamResponse,
    RawWriter,
    RecordedRequest,
    Route,
    Rule,
    Takeover,
    compile_pattern,
    error_response,
    json_response,
    query_dict,
    raw_head,
    send_cut,
    split_version,
    take_over,
    version_tuple,
)
from .engine import FakeEngine

if TYPE_CHECKING:
    from aiohttp.abc import AbstractStreamWriter
    from aiohttp.http_parser import RawRequestMessage
    from aiohttp.streams import StreamReader
    from aiohttp.web_protocol import RequestHandler

    from ..._client import DockerClient

__all__ = ["MIN_API_VERSION", "FakeServer"]


MIN_API_VERSION = "1.12"
_UNIX_PATH_MAX = 100
# Each body is read whole (``fake.requests`` keeps it): large enough for any test's
# build context or image, small enough that an endless upload fails instead of
# exhausting memory.
_MAX_REQUEST_BODY = 1 << 30


class FakeServer(FakeEngine):
    """The HTTP side of :class:`FakeDocker`: the socket, the dispatch of requests to
    routes (after the fault rules), streamed and hijacked answers, and the lifecycle."""

    def __init__(
        self,
        *,
        api_version: str,
        tcp: bool,
        engine_version: str,
        os_type: str,
        experimental: bool,
        keepalive_timeout: float,
    ) -> None:
        version_tuple(api_version)
        super().__init__()
        self.api_version = api_version
        self.engine_version = engine_version
        self.os_type = os_type
        self.experimental = experimental
        self._tcp = tcp
        self._keepalive_timeout = keepalive_timeout
        self._host: str | None = None
        self._tmpdir: str | None = None
        self._runner: web.ServerRunner | None = None
        self._server: web.Server | None = None
        self._closing: asyncio.Event | None = None

        #: Every request received, in order of arrival, with its whole body (up to 1 GiB).
        self.requests: list[RecordedRequest] = []
        self._rules: list[Rule] = []
        self._routes: list[Route] = []
        self._builtin: list[Route] = []
        self._clients: list[DockerClient] = []
        self._takeovers: set[Takeover] = set()
        self._active: dict[asyncio.BaseTransport, int] = {}

        from .._routes import builtin_routes

        for method, pattern, handler in builtin_routes():
            self._builtin.append(Route(method, pattern, compile_pattern(pattern), handler))

    # -- lifecycle ------------------------------------------------------------------

    async def _serve(self) -> None:
        """Open the socket and serve (``FakeDocker.start``)."""
        if self._closed:
            raise RuntimeError("this FakeDocker was closed; create a new one")
        self._closing = asyncio.Event()
        self._server = web.Server(
            self._dispatch,
            request_factory=_request_factory(asyncio.get_running_loop()),
            handler_cancellation=True,
            keepalive_timeout=self._keepalive_timeout,
            access_log=None,
        )
        runner = web.ServerRunner(self._server, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        try:
            if self._tcp:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
                site: web.BaseSite = web.SockSite(runner, sock)
                self._host = f"tcp://127.0.0.1:{port}"
            else:
                self._tmpdir = _short_tempdir()
                path = os.path.join(self._tmpdir, "docker.sock")
                site = web.UnixSite(runner, path)
                self._host = f"unix://{path}"
            await site.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop serving, end every stream and close the clients made by :meth:`client`."""
        if self._closed:
            return
        self._closed = True
        if self._closing is not None:
            self._closing.set()
        self._notify()
        for conn in list(self._takeovers):
            conn.close()
        tasks = [*self._tasks, *self._procs.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        # Clients last: closing an aiohttp session under an in-flight read leaves
        # that read waiting forever, while a server-side close fails it. Give
        # the client side a moment to see the connections go first.
        if any(not client.closed for client in self._clients):
            await asyncio.sleep(0.01)
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    @property
    def host(self) -> str:
        """The address to give a client: ``unix:///...`` or ``tcp://127.0.0.1:PORT``."""
        if self._host is None:
            raise RuntimeError("the FakeDocker is not started; use 'async with FakeDocker()'")
        return self._host

    @property
    def socket_path(self) -> str | None:
        """The unix socket path (``None`` with ``tcp=True``)."""
        host = self.host
        return host[len("unix://") :] if host.startswith("unix://") else None

    def client(self, **options: Any) -> DockerClient:
        """A :class:`~aiodock.DockerClient` bound to this fake.

        It is closed with the fake unless the caller closes it first.

        Args:
            **options: other :class:`~aiodock.DockerClient` keywords (``timeout``,
                ``api_version``...).
        """
        from ..._client import DockerClient

        client = DockerClient(self.host, **options)
        self._clients.append(client)
        return client

    # -- fault rules (``FakeScripting`` sets them) -------------------------------------

    def _take_rule(self, kinds: Sequence[str], method: str, path: str) -> Rule | None:
        for rule in self._rules:
            if rule.kind in kinds and rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    # -- waiting ------------------------------------------------------------------------

    async def _wait_closed(self) -> None:
        if self._closing is not None:  # None: never started, so nothing to wait for
            await self._closing.wait()

    # -- internals: the HTTP side ------------------------------------------------------------

    @property
    def min_api_version(self) -> str:
        """The oldest API version the fake serves (``MinAPIVersion``), as its engine would.

        Engine 25 (API 1.44) raised it from 1.12 to 1.24, Engine 29 (API 1.52) to 1.44.
        """
        current = version_tuple(self.api_version)
        if current >= (1, 52):
            return "1.44"
        if current >= (1, 44):
            return "1.24"
        return MIN_API_VERSION

    def common_headers(self) -> dict[str, str]:
        """The headers the engine puts on every answer (``Api-Version``, ``Server``...)."""
        return {
            "Api-Version": self.api_version,
            "Docker-Experimental": "true" if self.experimental else "false",
            "Ostype": self.os_type,
            "Server": f"Docker/{self.engine_version} ({self.os_type})",
        }

    async def open_stream(
        self, req: FakeRequest, content_type: str | None, status: int = 200
    ) -> BodyWriter:
        """Start a chunked streaming answer (headers go out at once).

        Args:
            req: the request being answered.
            content_type: the ``Content-Type``; ``None`` sends none, as some engine
                streams do.
            status: the HTTP status.
        """
        resp = NoTypeStreamResponse(status=status, omit_content_type=content_type is None)
        if content_type is not None:
            resp.content_type = content_type
        resp.headers.update(self.common_headers())
        resp.enable_chunked_encoding()
        await resp.prepare(req.raw)
        return BodyWriter(req.raw, resp, req.budget)

    async def hijack(
        self, req: FakeRequest, *, tty: bool | None = None
    ) -> tuple[Takeover, RawWriter]:
        """Take the connection over and send the stream's head (101 when upgrading).

        Args:
            req: the attach or exec-start request.
            tty: whether the output is raw (TTY) or multiplexed; ``None`` for
                streams that carry neither (a build session).
        """
        upgrade = _wants_upgrade(req.raw)
        conn = take_over(req.raw)
        self._takeovers.add(conn)
        # Engine 20.10 labels every hijacked stream raw; 1.42+ names multiplexed output.
        multiplexed = tty is False and req.at_least("1.42")
        kind = "multiplexed-stream" if multiplexed else "raw-stream"
        headers = {"Content-Type": f"application/vnd.docker.{kind}"}
        if upgrade:
            headers.update({"Connection": "Upgrade", "Upgrade": "tcp"})
        headers.update(self.common_headers())
        await conn.write(raw_head("101 UPGRADED" if upgrade else "200 OK", headers))
        return conn, RawWriter(conn, req.budget)

    def release(self, conn: Takeover) -> None:
        """Close a connection taken over by :meth:`hijack`.

        Args:
            conn: the connection.
        """
        self._takeovers.discard(conn)
        conn.close()

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        version, rest = split_version(raw_path)
        method = request.method.upper()
        path = unquote(rest)
        transport = request.transport
        if transport is not None:
            self._active[transport] = self._active.get(transport, 0) + 1
        try:
            body = await request.read()
            recorded = RecordedRequest(
                method=method,
                path=path,
                version=version,
                query=query_dict(request),
                headers=request.headers,
                body=body,
                raw_path=rest,
            )
            self.requests.append(recorded)
            return await self._answer(request, recorded, version, method, path, rest)
        finally:
            if transport is not None:
                left = self._active.get(transport, 1) - 1
                if left <= 0:
                    self._active.pop(transport, None)
                else:
                    self._active[transport] = left

    async def _answer(
        self,
        request: web.BaseRequest,
        recorded: RecordedRequest,
        version: str | None,
        method: str,
        path: str,
        raw_path: str,
    ) -> web.StreamResponse:
        delay = self._take_rule(("delay",), method, path)
        if delay is not None:
            await self._sleep(delay.seconds)
        failure = self._take_rule(("fail",), method, path)
        if failure is not None:
            return self._decorate(error_response(failure.status, failure.message))
        if version is not None:
            refusal = self._check_version(version)
            if refusal is not None:
                return refusal
        cut = self._take_rule(("truncate", "stall"), method, path)
        budget = Budget(cut, self._wait_closed)
        try:
            response = await self._route(request, recorded, version, method, raw_path, budget)
        except Answer as answer:
            response = error_response(answer.status, answer.message)
        except Cut:
            return Abandoned()
        if not response.prepared:
            self._decorate(response)
            if cut is not None and budget.sent == 0 and isinstance(response, web.Response):
                return await send_cut(request, response, budget)
        return response

    async def _route(
        self,
        request: web.BaseRequest,
        recorded: RecordedRequest,
        version: str | None,
        method: str,
        raw_path: str,
        budget: Budget,
    ) -> web.StreamResponse:
        for route in itertools.chain(self._routes, self._builtin):
            params = route.match(method, raw_path)
            if params is None:
                continue
            req = FakeRequest(request, recorded, params, self, version or self.api_version, budget)
            result = route.handler(req)
            if inspect.isawaitable(result):
                result = await result
            if result is NotImplemented:
                continue
            return _to_response(result)
        raise Answer(404, "page not found")

    def _decorate(self, response: web.StreamResponse) -> web.StreamResponse:
        for key, value in self.common_headers().items():
            response.headers.setdefault(key, value)
        return response

    def _check_version(self, version: str) -> web.StreamResponse | None:
        wanted = version_tuple(version)
        if wanted > version_tuple(self.api_version):
            message = (
                f"client version {version} is too new. "
                f"Maximum supported API version is {self.api_version}"
            )
            return self._decorate(error_response(400, message))
        if wanted < version_tuple(self.min_api_version):
            message = (
                f"client version {version} is too old. Minimum supported API version is "
                f"{self.min_api_version}, please upgrade your client to a newer version"
            )
            return self._decorate(error_response(400, message))
        return None

    async def _sleep(self, seconds: float) -> None:
        closing = self._closing
        if closing is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(closing.wait(), seconds)

    def frame(self, c: FakeContainer | FakeExec, stream: int, data: bytes) -> bytes:
        """Encode output the way the engine sends it for ``c`` (raw for a TTY).

        Args:
            c: the container or exec the output belongs to.
            stream: 1 for stdout, 2 for stderr.
            data: the output bytes.
        """
        return data if c.tty else encode_frame(stream, data)


def _request_factory(loop: asyncio.AbstractEventLoop) -> Callable[..., web.BaseRequest]:
    """Requests whose bodies may be as large as the engine takes (a build context, an
    image to load), not aiohttp's default 1 MiB."""

    def make(
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        return web.BaseRequest(
            message, payload, protocol, writer, task, loop, client_max_size=_MAX_REQUEST_BODY
        )

    return make


def _wants_upgrade(request: web.BaseRequest) -> bool:
    connection = request.headers.get("Connection", "")
    tokens = {token.strip().lower() for token in connection.split(",")}
    return "upgrade" in tokens and bool(request.headers.get("Upgrade"))


def _to_response(result: Any) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    if result is None:
        return web.Response(status=204)
    if isinstance(result, (bytes, bytearray)):
        return web.Response(body=bytes(result), content_type="application/octet-stream")
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
        status, value = result
        if value is None:
            return web.Response(status=status)
        return json_response(value, status)
    return json_response(result)


def _short_tempdir() -> str:
    """A private directory whose socket path stays under the unix path limit."""
    path = tempfile.mkdtemp(prefix="aiodock-fake-")
    if len(os.path.join(path, "docker.sock")) > _UNIX_PATH_MAX:
        shutil.rmtree(path, ignore_errors=True)
        path = tempfile.mkdtemp(prefix="aiodock-fake-", dir="/tmp")
    Path(path).chmod(0o700)
    return path
