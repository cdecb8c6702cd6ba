"""``FakeDocker``: an in-process Docker Engine for tests, served by aiohttp.web.

The fake keeps containers (with their file trees), images, networks, volumes,
execs, events, builds and registries in memory and answers with the shapes
Engine 20.10 (API 1.41) sends, or those of a newer engine where the request's
API version changes them (``FakeDocker(api_version=...)``). It also
records every request and can inject faults (errors, delays, cut or stalled
bodies, dropped keep-alive connections) so clients can be tested against the
failures a real daemon produces.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

import attrs
from aiohttp import web

from .._frames import encode_frame
from ._build import BuildPlan, BuildRecord
from ._files import FakeFile, FileTree
from ._programs import Forever, run_argv
from ._registry import DEFAULT_REGISTRY, FakeRegistry
from ._state.containers import Endpoint, FakeContainer, LogEntry, Script, name_in_use
from ._state.execs import FakeExec
from ._state.images import DEFAULT_PATH_ENV, FakeImage, image_id_for
from ._state.networks import FakeNetwork
from ._state.values import check_name, new_id, normalize_ref, now_ns, repo_of, signal_name
from ._state.volumes import FakeVolume
from ._wire import (
    Abandoned,
    Answer,
    BodyWriter,
    Budget,
    Cut,
    FakeRequest,
    Handler,
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

if TYPE_CHECKING:
    from .._client import DockerClient

__all__ = ["ExecSession", "FakeDocker", "PullPlan"]

F = TypeVar("F", bound=Callable[..., Any])

MIN_API_VERSION = "1.12"
_EVENT_HISTORY = 1024
_UNIX_PATH_MAX = 100


@attrs.define
class PullPlan:
    """How ``POST /images/create`` behaves for one reference (see :meth:`FakeDocker.set_pull`)."""

    error: str | None = None
    status: int | None = None
    layers: int = 2


class ExecSession:
    """What an exec handler (:meth:`FakeDocker.on_exec`) works with.

    The fake makes it for each exec a handler runs; ``fake``, ``exec`` and
    ``container`` are its attributes.

    Args:
        fake: the :class:`FakeDocker` running the exec.
        exec_: the exec's record (its ``cmd``, ``tty``, ``env``...).
        container: the container the exec runs in.
        write: a coroutine function ``(stream, data)`` that sends output.
        read: a coroutine function returning the next chunk of stdin.
    """

    def __init__(
        self,
        fake: FakeDocker,
        exec_: FakeExec,
        container: FakeContainer,
        write: Callable[[int, bytes], Awaitable[None]],
        read: Callable[[], Awaitable[bytes]],
    ) -> None:
        self.fake = fake
        self.exec = exec_
        self.container = container
        self._write = write
        self._read = read

    @property
    def cmd(self) -> list[str]:
        return list(self.exec.cmd)

    @property
    def tty(self) -> bool:
        return self.exec.tty

    async def read(self) -> bytes:
        """The next chunk of stdin.

        Returns ``b""`` at end of input, or at once when stdin is not attached.
        """
        return await self._read()

    async def read_all(self) -> bytes:
        """All of stdin, up to end of input (half-close) from the client."""
        parts: list[bytes] = []
        while chunk := await self._read():
            parts.append(chunk)
        return b"".join(parts)

    async def write(self, data: bytes, stream: int = 1) -> None:
        """Send output to the client.

        Args:
            data: the bytes to send.
            stream: 1 for stdout, 2 for stderr (a TTY exec has one raw stream).
        """
        await self._write(stream, data)


ExecHandler = Callable[[ExecSession], Awaitable[int | None]]


@attrs.define(eq=False)
class _ExecRule:
    handler: ExecHandler
    container: str | None
    cmd: tuple[str, ...] | None


class FakeDocker:
    """An in-process Docker Engine on a unix socket (or loopback TCP with ``tcp=True``).

    Use ``async with FakeDocker() as fake:``; ``fake.host`` is its address and
    ``fake.client()`` a :class:`~aiodock.DockerClient` bound to it. Every
    route answers both with and without a ``/vX.Y`` prefix; a prefix newer
    than ``api_version`` is refused with 400 like the engine does.

    Args:
        api_version: the API version the fake announces (``/_ping``
            ``API-Version``) and the newest it accepts. Answers follow the
            request's version where the engine's do: from 1.42 hijacked
            attach/exec and logs bodies say ``multiplexed-stream`` or
            ``raw-stream`` in ``Content-Type`` and ``shared-size`` is
            honoured; from 1.44 images lose ``VirtualSize`` (1.45:
            ``Container``/``ContainerConfig``; 1.52: ``DockerVersion``,
            ``Parent``); from 1.52 events lose the legacy ``status``/``id``/
            ``from`` and come as ``application/jsonl``. ``MinAPIVersion`` is
            1.12, 1.24 from 1.44 and 1.44 from 1.52, and older requests get 400.
        tcp: listen on ``127.0.0.1:<free port>`` instead of a unix socket.
        images: references present from the start.
        engine_version: the engine version ``/version`` and the ``Server`` header report.
        os_type: the operating system the fake reports (``Ostype`` header, ``/version``).
        experimental: what the ``Docker-Experimental`` header and ``/version`` say.
        keepalive_timeout: seconds an idle keep-alive connection stays open.
    """

    def __init__(
        self,
        *,
        api_version: str = "1.41",
        tcp: bool = False,
        images: Iterable[str] = ("busybox:latest",),
        engine_version: str = "20.10.24",
        os_type: str = "linux",
        experimental: bool = False,
        keepalive_timeout: float = 75.0,
    ) -> None:
        version_tuple(api_version)
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
        self._change: asyncio.Future[None] | None = None
        self._closed = False

        #: Every request received, in order of arrival.
        self.requests: list[RecordedRequest] = []
        #: Stored objects, keyed by id (volumes by name).
        self.containers: dict[str, FakeContainer] = {}
        self.images: dict[str, FakeImage] = {}
        self.networks: dict[str, FakeNetwork] = {}
        self.volumes: dict[str, FakeVolume] = {}
        self.execs: dict[str, FakeExec] = {}
        self._files: dict[str, FileTree] = {}
        #: Registries a push can reach, by host; Docker Hub (no login needed) to start with.
        self.registries: dict[str, FakeRegistry] = {
            DEFAULT_REGISTRY: FakeRegistry(DEFAULT_REGISTRY)
        }
        #: Every ``POST /build`` received, classic or BuildKit (see :class:`BuildRecord`).
        self.builds: list[BuildRecord] = []
        self._build_plans: list[BuildPlan] = []
        #: Build cache records (``GET /system/df`` ``BuildCache`` shapes), added by builds.
        self.build_cache: list[dict[str, Any]] = []
        #: Events emitted so far (the most recent ones).
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=_EVENT_HISTORY)

        #: Seconds between two samples of a ``GET /containers/{id}/stats`` stream.
        self.stats_interval = 1.0

        self._rules: list[Rule] = []
        self._routes: list[Route] = []
        self._builtin: list[Route] = []
        self._clients: list[DockerClient] = []
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._pending_scripts: dict[str, Script] = {}
        self._exec_rules: list[_ExecRule] = []
        self._pull_plans: dict[str, PullPlan] = {}
        #: Sent as ``/_ping``'s ``Builder-Version`` when set (``"2"``: BuildKit by default).
        self.builder_version: str | None = None
        self._build_sessions: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._procs: dict[str, asyncio.Task[None]] = {}
        self._stdin: dict[str, asyncio.Queue[bytes]] = {}
        self._takeovers: set[Takeover] = set()
        self._active: dict[asyncio.BaseTransport, int] = {}
        self._pids = itertools.count(4242)
        self._last_event_ns = 0

        for network in ("bridge", "host", "none"):
            driver = {"none": "null"}.get(network, network)
            net = FakeNetwork(id=new_id(), name=network, driver=driver, builtin=True)
            if network == "bridge":
                net.ipam["Config"] = [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
                net.options = {"com.docker.network.bridge.default_bridge": "true"}
            self.networks[net.id] = net
        for ref in images:
            self.add_image(ref)

        from ._routes import builtin_routes

        for method, pattern, handler in builtin_routes():
            self._builtin.append(Route(method, pattern, compile_pattern(pattern), handler))

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> FakeDocker:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> FakeDocker:
        """Start serving; returns ``self``."""
        if self._runner is not None:
            return self
        if self._closed:
            raise RuntimeError("this FakeDocker was closed; create a new one")
        self._closing = asyncio.Event()
        self._server = web.Server(
            self._dispatch,
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
        return self

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
        from .._client import DockerClient

        client = DockerClient(self.host, **options)
        self._clients.append(client)
        return client

    # -- fault injection ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_glob: str,
        status: int = 500,
        message: str = "boom",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and ``{"message": ...}``.

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            status: the HTTP status to answer with.
            message: the error message in the body.
            times: how many matching requests fail.
        """
        self._add_rule(Rule("fail", method, path_glob, times, status=status, message=message))

    def delay_next(self, method: str, path_glob: str, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before handling the next ``times`` matching requests.

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            seconds: the delay.
            times: how many matching requests are delayed.
        """
        self._add_rule(Rule("delay", method, path_glob, times, seconds=seconds))

    def truncate_next(
        self,
        method: str,
        path_glob: str,
        after_bytes: int = 0,
        *,
        times: int = 1,
        eof: bool = False,
    ) -> None:
        """Send only the first ``after_bytes`` body bytes of the next matching answer.

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            after_bytes: how many body bytes go out before the cut.
            times: how many matching answers are cut.
            eof: end the body cleanly after those bytes, so the client sees a
                well-formed response whose content stops mid-frame; by default the
                connection is dropped (the body is incomplete on the wire).
        """
        self._add_rule(Rule("truncate", method, path_glob, times, after_bytes=after_bytes, eof=eof))

    def stall_next(
        self, method: str, path_glob: str, after_bytes: int = 0, *, times: int = 1
    ) -> None:
        """Send the headers and ``after_bytes`` body bytes of the next matching answer, then stall.

        Nothing more is sent until the client gives up (or the fake closes).

        Args:
            method: the HTTP method to match, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix
                (``/containers/*/json``).
            after_bytes: how many body bytes go out before the silence.
            times: how many matching answers stall.
        """
        self._add_rule(Rule("stall", method, path_glob, times, after_bytes=after_bytes))

    def clear_faults(self) -> None:
        """Forget every pending ``*_next`` rule."""
        self._rules.clear()

    def close_keepalive(self) -> int:
        """Close every idle keep-alive connection now; returns how many were closed."""
        if self._server is None:
            return 0
        closed = 0
        for handler in self._server.connections:
            transport = handler.transport
            if transport is None or transport.is_closing() or transport in self._active:
                continue
            transport.close()
            closed += 1
        return closed

    def _add_rule(self, rule: Rule) -> None:
        if rule.times < 1:
            raise ValueError("times must be at least 1")
        rule.method = rule.method.upper()
        self._rules.append(rule)

    def _take_rule(self, kinds: Sequence[str], method: str, path: str) -> Rule | None:
        for rule in self._rules:
            if rule.kind in kinds and rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    # -- custom routes ------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve ``method pattern`` with ``handler`` before any built-in route.

        Args:
            method: the HTTP method.
            pattern: a path in aiohttp's syntax (``/containers/{id}/top``,
                ``/images/{name:.+}/json``), matched without the version prefix.
            handler: a coroutine function taking a :class:`FakeRequest`; it may return
                an :class:`aiohttp.web.StreamResponse`, a JSON-able value (200),
                ``None`` (204), ``bytes`` (200, octet-stream), ``(status, json_value)``,
                or ``NotImplemented`` to fall through to the built-in behaviour.
        """
        route = Route(method.upper(), pattern, compile_pattern(pattern), handler)
        self._routes.insert(0, route)

    def route(self, method: str, pattern: str) -> Callable[[F], F]:
        """Decorator form of :meth:`add_route`.

        Args:
            method: the HTTP method.
            pattern: a path in aiohttp's syntax, matched without the version prefix.
        """

        def register(handler: F) -> F:
            self.add_route(method, pattern, handler)
            return handler

        return register

    # -- scripting the engine's behaviour -----------------------------------------------

    def set_output(
        self,
        container: str,
        frames: Iterable[tuple[int, bytes]],
        exit_code: int | None = 0,
        *,
        run_for: float | None = None,
    ) -> None:
        """Script what ``container`` does when started.

        Scripted bytes are logged as given, also for a TTY container (where the
        built-in programs' ``\\n`` comes out as ``\\r\\n``, as through a terminal).

        Args:
            container: the container's id or name, or a name not created yet.
            frames: ``(stream, data)`` pairs (1 stdout, 2 stderr) written at start.
            exit_code: the code it then exits with; ``None`` keeps it running until it
                is stopped, killed or :meth:`exit_container` is called.
            run_for: seconds it runs before exiting with ``exit_code``.
        """
        script = Script([(int(s), bytes(d)) for s, d in frames], exit_code, run_for)
        found = self._find_container(container)
        if found is not None:
            found.script = script
        else:
            self._pending_scripts[container.lstrip("/")] = script

    def write_output(self, container: str, data: bytes, stream: int = 1) -> None:
        """Append output to a container's log now (followers see it at once).

        Args:
            container: the container's id or name.
            data: the bytes to append.
            stream: 1 for stdout, 2 for stderr.
        """
        self._append_output(self._container(container), stream, data)

    def exit_container(self, container: str, exit_code: int = 0) -> None:
        """Make a running container exit.

        Args:
            container: the container's id or name.
            exit_code: its exit code.
        """
        c = self._container(container)
        if not c.running:
            raise Answer(409, f"Container {c.id} is not running")
        self._cancel_proc(c)
        self._exited(c, exit_code)

    def on_exec(
        self,
        handler: ExecHandler,
        *,
        container: str | None = None,
        cmd: Sequence[str] | None = None,
    ) -> None:
        """Run ``handler`` for execs whose argv starts with ``cmd`` (in ``container``).

        Later registrations win. Without a matching handler the fake runs its small
        built-in interpreter (echo, printf, cat, true, false, exit, sleep, ``sh -c``
        of those); anything else exits 0 silently. In a TTY exec the built-in
        programs' ``\\n`` becomes ``\\r\\n`` like through a terminal; what a handler
        writes is sent as given.

        Args:
            handler: a coroutine function taking an :class:`ExecSession` and
                returning the exit code.
            container: only execs in this container (id or name); any when ``None``.
            cmd: only execs whose argv starts with these items; any when ``None``.
        """
        self._exec_rules.insert(
            0, _ExecRule(handler, container, tuple(cmd) if cmd is not None else None)
        )

    def set_exec_output(
        self,
        frames: Iterable[tuple[int, bytes]],
        exit_code: int = 0,
        *,
        container: str | None = None,
        cmd: Sequence[str] | None = None,
    ) -> None:
        """Shortcut for :meth:`on_exec`: matching execs write ``frames`` and exit.

        Args:
            frames: ``(stream, data)`` pairs (1 stdout, 2 stderr).
            exit_code: the exit code of the execs.
            container: only execs in this container; any when ``None``.
            cmd: only execs whose argv starts with these items; any when ``None``.
        """
        items = [(int(s), bytes(d)) for s, d in frames]

        async def scripted(session: ExecSession) -> int:
            for stream, data in items:
                await session.write(data, stream)
            return exit_code

        self.on_exec(scripted, container=container, cmd=cmd)

    def set_stats(
        self,
        container: str,
        *,
        cpu_percent: float | None = None,
        memory_usage: int | None = None,
        pids: int | None = None,
    ) -> None:
        """Set what the stats of ``container`` report while it runs.

        A stats stream sends a sample every :attr:`stats_interval` seconds (1.0, like
        the engine); its first sample has no previous CPU figures, and once the
        container has stopped the samples are empty, as the engine's are.

        Args:
            container: the container's id or name.
            cpu_percent: CPU use in percent of one CPU (the fake has 2).
            memory_usage: memory in use, in bytes.
            pids: the number of processes.
        """
        c = self._container(container)
        if cpu_percent is not None:
            c.cpu_percent = float(cpu_percent)
        if memory_usage is not None:
            c.memory_usage = int(memory_usage)
        if pids is not None:
            c.pids = int(pids)
        self._notify()

    def set_pull(
        self,
        ref: str,
        *,
        error: str | None = None,
        status: int | None = None,
        layers: int = 2,
    ) -> None:
        """Script ``POST /images/create`` for ``ref``.

        Args:
            ref: the image reference the script applies to.
            error: fail in-band with this message after the layer progress messages
                (``{"errorDetail": ..., "error": ...}``); with ``status``, the message
                of that HTTP error.
            status: answer this HTTP error before any progress.
            layers: how many layers the progress messages describe.
        """
        self._pull_plans[normalize_ref(ref)] = PullPlan(error=error, status=status, layers=layers)

    def add_registry(
        self, host: str, *, username: str | None = None, password: str | None = None
    ) -> FakeRegistry:
        """Make ``host`` a registry that pushes reach (any other host is unreachable).

        With ``username`` a push must send those credentials (``X-Registry-Auth``);
        without any the stream ends in ``no basic auth credentials``, with wrong
        ones in ``unauthorized: authentication required``, as from a registry
        with htpasswd auth. What was pushed is in ``registry.repositories``.

        Args:
            host: ``host[:port]`` as written in image references.
            username: the login a push needs, or ``None`` for an open registry.
            password: that login's password.
        """
        registry = FakeRegistry(host, username=username, password=password)
        self.registries[host] = registry
        return registry

    def set_build(
        self,
        *,
        output: Iterable[str] = (),
        error: str | None = None,
        code: int | None = None,
        status: int | None = None,
        image_id: str | None = None,
        failing_step: int | None = None,
        log: bytes = b"",
    ) -> None:
        """Script the next ``POST /build`` (each call queues one build's outcome).

        Without a script a classic build runs the Dockerfile like the engine's
        classic builder: a ``Step n/m`` line per instruction, ``RUN`` through
        the fake's small built-in interpreter (echo, printf, true, false, exit,
        ``sh -c`` of those; other programs succeed silently), ``COPY``/``ADD``
        sources checked against the context, and the image added with the
        labels, env, cmd and entrypoint the Dockerfile sets. A BuildKit build
        (``version=2``) fetches the Dockerfile, context and secrets through the
        client's session and traces one step per instruction. Every build is
        recorded in :attr:`builds`.

        Args:
            output: extra output after the steps (classic: ``stream`` lines;
                BuildKit: the last step's log).
            error: fail with this message at ``failing_step``, else after the steps.
            code: ``errorDetail.code`` to send with ``error``.
            status: answer this HTTP status (with ``error`` as message) instead.
            image_id: the id of the image built (``sha256:`` + 64 hex digits).
            failing_step: index (0-based) of the Dockerfile instruction that
                fails with ``error``; ``None``: the build fails after its steps.
            log: the output of the failing step (of the last step when none fails).

        Raises:
            ValueError: ``image_id`` is not ``sha256:`` and 64 hex digits, or
                ``failing_step`` is negative or given without ``error``.
        """
        if image_id is not None and not (image_id.startswith("sha256:") and len(image_id) == 71):
            raise ValueError(f"image_id must be 'sha256:' and 64 hex digits, not {image_id!r}")
        if failing_step is not None and (failing_step < 0 or error is None):
            raise ValueError(
                f"failing_step must be at least 0 and come with an error, not {failing_step!r}"
            )
        self._build_plans.append(
            BuildPlan(
                list(output),
                error=error,
                code=code,
                status=status,
                image_id=image_id,
                failing_step=failing_step,
                log=bytes(log),
            )
        )

    def add_built_image(
        self,
        image_id: str,
        *,
        labels: dict[str, str] | None,
        env: Sequence[str],
        cmd: Sequence[str] | None,
        entrypoint: Sequence[str] | None,
        working_dir: str,
    ) -> FakeImage:
        """Store an image a build produced (untagged until the build tags it).

        Args:
            image_id: the new image's id.
            labels: its labels.
            env: its environment, ``K=v`` entries.
            cmd: its default command.
            entrypoint: its entrypoint.
            working_dir: its working directory.
        """
        image = FakeImage(
            id=image_id,
            tags=[],
            created=now_ns() // 1_000_000_000,
            labels=labels,
            cmd=list(cmd) if cmd is not None else None,
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            env=list(env),
            working_dir=working_dir,
        )
        self.images[image.id] = image
        return image

    # -- state helpers usable from tests ----------------------------------------------

    def add_image(
        self,
        ref: str,
        *,
        labels: dict[str, str] | None = None,
        cmd: Sequence[str] | None = ("sh",),
        entrypoint: Sequence[str] | None = None,
        env: Sequence[str] = (DEFAULT_PATH_ENV,),
        size: int = 1985472,
    ) -> FakeImage:
        """Put an image in the store (or add ``ref`` as a tag of the image it names).

        Args:
            ref: the image reference (``"myapp:dev"``) or ``repo@digest``.
            labels: the image's labels.
            cmd: the image's default command.
            entrypoint: the image's entrypoint.
            env: the image's environment, ``["K=v"]``.
            size: the size it reports, in bytes.
        """
        ref = normalize_ref(ref)
        existing = self._find_image(ref)
        if existing is not None:
            return existing
        image = FakeImage(
            id=image_id_for(ref),
            tags=[] if "@" in ref else [ref],
            created=now_ns() // 1_000_000_000,
            labels=labels,
            cmd=list(cmd) if cmd is not None else None,
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            env=list(env),
            size=size,
        )
        if "@" in ref:
            image.digests.append(ref)
        self.images[image.id] = image
        return image

    def add_container(
        self,
        image: str = "busybox:latest",
        *,
        name: str | None = None,
        cmd: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
        tty: bool = False,
        running: bool = False,
        **config: Any,
    ) -> FakeContainer:
        """Create a container directly (events are emitted as for the API).

        Args:
            image: the image reference; it must be in the fake's store.
            name: the container's name; the daemon-style random one when ``None``.
            cmd: the command it runs (see :meth:`on_exec` for what the fake can run).
            labels: the container's labels.
            tty: give it a TTY (raw, unframed output).
            running: start it too.
            **config: PascalCase ``Config`` fields (``Env=[...]``, ``HostConfig={...}``).
        """
        body: dict[str, Any] = {"Image": image, "Tty": tty, **config}
        if cmd is not None:
            body["Cmd"] = list(cmd)
        if labels is not None:
            body["Labels"] = labels
        c = self.create_container(body, name)
        if running:
            self._start_now(c)
        return c

    def container(self, ref: str) -> FakeContainer:
        """The container with this id, id prefix or name (``KeyError`` if none).

        Args:
            ref: an id, an id prefix or a name.
        """
        found = self._find_container(ref)
        if found is None:
            raise KeyError(ref)
        return found

    def files(self, container: str) -> FileTree:
        """The in-memory file tree of ``container`` (id, id prefix or name).

        ``PUT /containers/{id}/archive`` unpacks into it and ``GET``/``HEAD``
        read it; a new container starts with a small busybox-like skeleton
        (``/etc``, ``/tmp``, ...). Tests may read ``tree.nodes`` or use
        :meth:`write_file` and :meth:`read_file`.

        Args:
            container: the container's id, id prefix or name.

        Raises:
            KeyError: no such container.
        """
        c = self.container(container)
        tree = self._files.get(c.id)
        if tree is None:
            tree = self._files[c.id] = FileTree(str(c.config.get("Hostname") or ""))
        return tree

    def write_file(self, container: str, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Create or replace a regular file in ``container`` (parents are created).

        Args:
            container: the container's id, id prefix or name.
            path: absolute path inside the container.
            data: the file's content.
            mode: permission bits.
        """
        self.files(container).write(path, FakeFile("file", mode, data=bytes(data)))

    def read_file(self, container: str, path: str) -> bytes:
        """The content of a regular file in ``container`` (KeyError when there is none).

        Args:
            container: the container's id, id prefix or name.
            path: absolute path inside the container.
        """
        node = self.files(container).get(path)
        if node is None or node.kind != "file":
            raise KeyError(path)
        return node.data

    def image(self, ref: str) -> FakeImage:
        """The image with this reference or id (``KeyError`` if none).

        Args:
            ref: a reference or an id.
        """
        found = self._find_image(ref)
        if found is None:
            raise KeyError(ref)
        return found

    def requests_to(self, method: str = "*", path_glob: str = "*") -> list[RecordedRequest]:
        """The recorded requests matching ``method`` and ``path_glob``.

        Args:
            method: the HTTP method, or ``"*"``.
            path_glob: an ``fnmatch`` pattern on the path without the version prefix.
        """
        probe = Rule("match", method.upper(), path_glob, 1)
        return [r for r in self.requests if probe.matches(r.method, r.path)]

    # -- events -----------------------------------------------------------------------

    def emit_event(
        self,
        type: str,
        action: str,
        actor_id: str,
        attributes: dict[str, str] | None = None,
        *,
        scope: str = "local",
    ) -> dict[str, Any]:
        """Record an event and push it to every connected ``GET /events`` stream.

        Args:
            type: the object kind (``"container"``, ``"image"``, ``"network"``...).
            action: what happened (``"start"``, ``"die"``...).
            actor_id: the object's id.
            attributes: the actor's attributes (for containers: ``name``, ``image``,
                labels).
            scope: ``"local"`` or ``"swarm"``.
        """
        stamp = max(now_ns(), self._last_event_ns + 1)
        self._last_event_ns = stamp
        attrs_ = dict(attributes or {})
        event: dict[str, Any] = {}
        if type in ("container", "image"):
            event["status"] = action
            if actor_id:
                event["id"] = actor_id
            if type == "container" and "image" in attrs_:
                event["from"] = attrs_["image"]
        event.update(
            {
                "Type": type,
                "Action": action,
                "Actor": {"ID": actor_id, "Attributes": attrs_},
                "scope": scope,
                "time": stamp // 1_000_000_000,
                "timeNano": stamp,
            }
        )
        self.events.append(event)
        for queue in self._listeners:
            queue.put_nowait(event)
        return event

    def _container_event(
        self, c: FakeContainer, action: str, extra: dict[str, str] | None = None
    ) -> None:
        attributes = {**c.labels, "image": c.image, "name": c.name, **(extra or {})}
        self.emit_event("container", action, c.id, attributes)

    # -- internals: waiting ---------------------------------------------------------------

    def _notify(self) -> None:
        fut, self._change = self._change, None
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def _wait_change(self, timeout: float | None = None) -> None:
        """Wait until the state changes (or ``timeout`` passes, or the fake closes)."""
        if self._closed:
            return
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._change), timeout)

    async def _wait_closed(self) -> None:
        assert self._closing is not None
        await self._closing.wait()

    @property
    def closing(self) -> bool:
        return self._closed

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- internals: lookups ---------------------------------------------------------------

    def _find_container(self, ref: str) -> FakeContainer | None:
        if ref in self.containers:
            return self.containers[ref]
        name = ref.lstrip("/")
        for c in self.containers.values():
            if c.name == name:
                return c
        matches = [c for c in self.containers.values() if c.id.startswith(ref)] if ref else []
        if len(matches) > 1:
            raise Answer(400, f"multiple IDs found with provided prefix: {ref}")
        return matches[0] if matches else None

    def _container(self, ref: str) -> FakeContainer:
        found = self._find_container(ref)
        if found is None:
            raise Answer(404, f"No such container: {ref}")
        return found

    def _find_image(self, ref: str) -> FakeImage | None:
        if ref.startswith("sha256:"):
            hex_id = ref[len("sha256:") :]
        else:
            hex_id = ref
            normalized = normalize_ref(ref)
            for image in self.images.values():
                if normalized in image.tags or normalized in image.digests:
                    return image
        if hex_id and all(ch in "0123456789abcdef" for ch in hex_id):
            matches = [i for i in self.images.values() if i.id[len("sha256:") :].startswith(hex_id)]
            if len(matches) == 1:
                return matches[0]
        return None

    def _find_network(self, ref: str) -> FakeNetwork | None:
        if ref in self.networks:
            return self.networks[ref]
        by_name = [n for n in self.networks.values() if n.name == ref]
        if len(by_name) > 1:
            raise Answer(
                400, f"network {ref} is ambiguous ({len(by_name)} matches found based on name)"
            )
        if by_name:
            return by_name[0]
        by_prefix = [n for n in self.networks.values() if n.id.startswith(ref)]
        return by_prefix[0] if len(by_prefix) == 1 else None

    def _network(self, ref: str) -> FakeNetwork:
        found = self._find_network(ref)
        if found is None:
            raise Answer(404, f"network {ref} not found")
        return found

    def _bridge_id(self) -> str:
        net = self._find_network("bridge")
        return net.id if net is not None else ""

    # -- internals: container life ---------------------------------------------------------

    def create_container(self, body: dict[str, Any], name: str | None) -> FakeContainer:
        """Create a container from a ``POST /containers/create`` body (used by the route).

        Args:
            body: the request body, Engine JSON (``Image``, ``Cmd``, ``HostConfig``...).
            name: the container's name; a random one when ``None``.
        """
        image_ref = body.get("Image")
        if not image_ref:
            raise Answer(400, "Config cannot be empty in order to create a container")
        if name:
            name = check_name(name)
            taken = next((c for c in self.containers.values() if c.name == name), None)
            if taken is not None:
                raise name_in_use(name, taken.id)
        image = self._find_image(str(image_ref))
        if image is None:
            raise Answer(404, f"No such image: {image_ref}")
        entrypoint = body.get("Entrypoint")
        if isinstance(entrypoint, str):
            entrypoint = [entrypoint]
        cmd = body.get("Cmd")
        if isinstance(cmd, str):
            cmd = [cmd]
        if entrypoint is None:
            entrypoint = image.entrypoint
            if cmd is None:
                cmd = image.cmd
        argv = [*(entrypoint or []), *(cmd or [])]
        if not argv:
            raise Answer(400, "No command specified")
        cid = new_id()
        config: dict[str, Any] = {
            "Hostname": body.get("Hostname") or cid[:12],
            "Domainname": body.get("Domainname", ""),
            "User": body.get("User", ""),
            "AttachStdin": bool(body.get("AttachStdin", False)),
            "AttachStdout": bool(body.get("AttachStdout", False)),
            "AttachStderr": bool(body.get("AttachStderr", False)),
            "Tty": bool(body.get("Tty", False)),
            "OpenStdin": bool(body.get("OpenStdin", False)),
            "StdinOnce": bool(body.get("StdinOnce", False)),
            "Env": [*image.env, *(body.get("Env") or [])],
            "Cmd": cmd,
            "Image": str(image_ref),
            "Volumes": body.get("Volumes"),
            "WorkingDir": body.get("WorkingDir", image.working_dir),
            "Entrypoint": entrypoint,
            "OnBuild": None,
            "Labels": {**(image.labels or {}), **(body.get("Labels") or {})},
        }
        for key in ("ExposedPorts", "StopSignal", "StopTimeout", "Healthcheck"):
            if key in body:
                config[key] = body[key]
        host_config = dict(body.get("HostConfig") or {})
        endpoints = self._initial_endpoints(host_config, body.get("NetworkingConfig"))
        c = FakeContainer(
            id=cid,
            name=name or f"fake_{cid[:8]}",
            created_ns=now_ns(),
            image=str(image_ref),
            image_id=image.id,
            config=config,
            host_config=host_config,
            path=argv[0],
            args=argv[1:],
            endpoints=endpoints,
        )
        c.script = self._pending_scripts.pop(c.name, None)
        self.containers[cid] = c
        self._container_event(c, "create")
        self._notify()
        return c

    def _initial_endpoints(
        self, host_config: dict[str, Any], networking: Any
    ) -> dict[str, Endpoint]:
        mode = str(host_config.get("NetworkMode") or "default")
        if mode.startswith("container:"):
            return {}
        name = "bridge" if mode == "default" else mode
        net = self._find_network(name)
        if net is None:
            raise Answer(404, f"network {name} not found")
        configs = (networking or {}).get("EndpointsConfig") or {}
        config = configs.get(name) or configs.get(net.name) or configs.get(net.id)
        return {net.id: Endpoint.from_config(config)}

    def _network_event(self, c: FakeContainer, net_id: str, action: str) -> None:
        net = self.networks.get(net_id)
        if net is not None:
            attributes = {"container": c.id, "name": net.name, "type": net.driver}
            self.emit_event("network", action, net.id, attributes)

    def _start_now(self, c: FakeContainer) -> asyncio.Event:
        """Mark ``c`` running and launch its program; the event is set once the
        program's first burst of output is written (or it ended)."""
        c.status = "running"
        c.started_ns = now_ns()
        c.pid = next(self._pids)
        c.exit_code = 0
        c.generation += 1
        self._stdin[c.id] = asyncio.Queue()
        for net_id, ep in c.endpoints.items():
            ep.joined = True
            self._network_event(c, net_id, "connect")
        self._container_event(c, "start")
        settled = asyncio.Event()
        self._procs[c.id] = asyncio.ensure_future(self._container_main(c, c.generation, settled))
        self._notify()
        return settled

    async def _container_main(
        self, c: FakeContainer, generation: int, settled: asyncio.Event
    ) -> None:
        async def write(stream: int, data: bytes) -> None:
            self._append_output(c, stream, _through_tty(data) if c.tty else data)

        async def read() -> bytes:
            settled.set()
            queue = self._stdin.get(c.id)
            return await queue.get() if queue is not None else b""

        async def sleep(seconds: float) -> None:
            settled.set()
            await asyncio.sleep(seconds)

        code: int | None
        try:
            script = c.script
            if script is not None:
                for stream, data in script.frames:
                    self._append_output(c, stream, data)
                if script.exit_code is None:
                    raise Forever
                if script.run_for:
                    await sleep(script.run_for)
                code = script.exit_code
            else:
                code = await run_argv(
                    c.argv,
                    write=write,
                    read=read,
                    sleep=sleep,
                    unknown_runs_forever=True,
                    stdin_open=bool(c.config.get("OpenStdin")),
                )
        except Forever:
            code = None
        finally:
            settled.set()
        if code is not None and c.generation == generation and c.running:
            self._procs.pop(c.id, None)
            self._exited(c, code)

    def _cancel_proc(self, c: FakeContainer) -> None:
        task = self._procs.pop(c.id, None)
        if task is not None and not task.done():
            task.cancel()
        queue = self._stdin.pop(c.id, None)
        if queue is not None:
            queue.put_nowait(b"")

    def _exited(self, c: FakeContainer, code: int) -> None:
        c.status = "exited"
        c.exit_code = code
        c.finished_ns = now_ns()
        c.pid = 0
        self._stdin.pop(c.id, None)
        for exec_id in c.exec_ids:
            ex = self.execs.get(exec_id)
            if ex is not None and ex.running:
                ex.running = False
                ex.exit_code = 137
        self._container_event(c, "die", {"exitCode": str(code)})
        for net_id in c.endpoints:
            self._network_event(c, net_id, "disconnect")
        self._notify()
        if c.host_config.get("AutoRemove"):
            self.remove_container(c, force=True)

    def _append_output(self, c: FakeContainer, stream: int, data: bytes) -> None:
        if stream not in (1, 2):
            raise ValueError(f"container output goes to stream 1 or 2, not {stream}")
        c.log.append(LogEntry(1 if c.tty else stream, bytes(data), now_ns()))
        self._notify()

    def kill_container(self, c: FakeContainer, signum: int, ref: str | None = None) -> None:
        """Kill a running container (used by the routes).

        Args:
            c: the container.
            signum: the signal number.
            ref: how the caller named the container, for the error message.
        """
        if not c.running:
            raise Answer(
                409, f"Cannot kill container: {ref or c.id}: Container {c.id} is not running"
            )
        self._container_event(c, "kill", {"signal": str(signum)})
        self._cancel_proc(c)
        self._exited(c, 128 + signum)

    def stop_container(self, c: FakeContainer) -> bool:
        """Stop a container; ``False`` when it was not running (the route answers 304).

        Args:
            c: the container.
        """
        if not c.running:
            return False
        self._container_event(c, "kill", {"signal": "15"})
        self._cancel_proc(c)
        self._exited(c, 143)
        self._container_event(c, "stop")
        return True

    def remove_container(self, c: FakeContainer, *, force: bool) -> None:
        """Remove a container (used by the route); a running one needs ``force``.

        Args:
            c: the container.
            force: kill it first if it is running.
        """
        if c.removed:
            return
        if c.running:
            if not force:
                raise Answer(
                    409,
                    f"You cannot remove a running container {c.id}. Stop the container "
                    "before attempting removal or force remove",
                )
            self.kill_container(c, 9)
            if c.removed:
                return
        c.removed = True
        self.containers.pop(c.id, None)
        self._files.pop(c.id, None)
        for exec_id in c.exec_ids:
            self.execs.pop(exec_id, None)
        self._container_event(c, "destroy")
        self._notify()

    # -- internals: exec ----------------------------------------------------------------------

    def _exec_handler(self, ex: FakeExec, c: FakeContainer) -> ExecHandler | None:
        for rule in self._exec_rules:
            if rule.container is not None:
                found = self._find_container(rule.container)
                if found is None or found.id != c.id:
                    continue
            if rule.cmd is not None and tuple(ex.cmd[: len(rule.cmd)]) != rule.cmd:
                continue
            return rule.handler
        return None

    async def run_exec(
        self,
        ex: FakeExec,
        c: FakeContainer,
        write: Callable[[int, bytes], Awaitable[None]],
        read: Callable[[], Awaitable[bytes]],
    ) -> int:
        """Run an exec's program to its end and record its exit code.

        Args:
            ex: the exec.
            c: the container it runs in.
            write: a coroutine function ``(stream, data)`` that sends output.
            read: a coroutine function returning the next chunk of stdin.
        """
        ex.started = True
        ex.running = True
        ex.pid = next(self._pids)
        self._container_event(c, "exec_start: " + " ".join(ex.cmd), {"execID": ex.id})

        async def out(stream: int, data: bytes) -> None:
            if ex.tty:
                stream = 1
            if (stream == 1 and not ex.attach_stdout) or (stream == 2 and not ex.attach_stderr):
                return
            await write(stream, data)

        code: int | None = None
        try:
            handler = self._exec_handler(ex, c)
            if handler is not None:
                code = await handler(ExecSession(self, ex, c, out, read)) or 0
            else:

                async def program_out(stream: int, data: bytes) -> None:
                    await out(stream, _through_tty(data) if ex.tty else data)

                try:
                    code = await run_argv(
                        ex.cmd,
                        write=program_out,
                        read=read,
                        sleep=asyncio.sleep,
                        unknown_runs_forever=False,
                        stdin_open=ex.attach_stdin,
                    )
                except Forever:
                    while c.running and not self._closed:
                        await self._wait_change()
                    code = 137
        finally:
            ex.running = False
            ex.exit_code = code if code is not None else 137
            self._container_event(c, "exec_die", {"execID": ex.id, "exitCode": str(ex.exit_code)})
            self._notify()
        return ex.exit_code

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
        assert self._closing is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # -- events plumbing ------------------------------------------------------------------

    def _listen(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.add(queue)
        return queue

    def _unlisten(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.discard(queue)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def pull_plan(self, ref: str) -> PullPlan:
        """How a pull of ``ref`` behaves (see :meth:`set_pull`; the default plan otherwise).

        Args:
            ref: the image reference.
        """
        return self._pull_plans.get(normalize_ref(ref), PullPlan())

    def image_repo(self, ref: str) -> str:
        """The repository part of an image reference, normalized (``busybox:1`` -> ``busybox``).

        Args:
            ref: the image reference.
        """
        return repo_of(normalize_ref(ref))

    def frame(self, c: FakeContainer | FakeExec, stream: int, data: bytes) -> bytes:
        """Encode output the way the engine sends it for ``c`` (raw for a TTY).

        Args:
            c: the container or exec the output belongs to.
            stream: 1 for stdout, 2 for stderr.
            data: the output bytes.
        """
        return data if c.tty else encode_frame(stream, data)

    def signal_name(self, signum: int) -> str:
        """The engine's name of a signal number (``9`` -> ``"SIGKILL"``).

        Args:
            signum: the signal number.
        """
        return signal_name(signum)


# --- helpers ------------------------------------------------------------------------------


def _through_tty(data: bytes) -> bytes:
    """What a program's output looks like after a terminal: every ``\n`` becomes ``\r\n``."""
    return data.replace(b"\n", b"\r\n")


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
