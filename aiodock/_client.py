"""``DockerClient``: configuration, lifecycle, namespaces and the API version.

The request core it inherits (``_http.core.RequestCore``) sends every call; this
module holds what a client and its ``with_options`` views share.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import ssl
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import attrs

from ._http.core import RequestCore, _decode_json_body, _read_capped
from ._http.failures import TRANSPORT_ERRORS, transport_error
from ._http.request import UNSET, Request
from ._http.timeouts import Deadlines, wait_for
from ._options import ClientOptions, Unpack
from ._version import __version__
from .errors import (
    APIVersionError,
    ClientClosedError,
    DockerError,
    DockerTimeoutError,
    InvalidArgument,
    UsageError,
)

if TYPE_CHECKING:
    from ._config import TLSConfig
    from ._engine import EngineInfo
    from ._http.transport import Endpoint
    from ._streams.streaming import AsyncStream, HijackedStream
    from .resources.configs import Configs
    from .resources.containers import Containers
    from .resources.distribution import Distribution
    from .resources.exec import Exec
    from .resources.images import Images
    from .resources.networks import Networks
    from .resources.nodes import Nodes
    from .resources.plugins import Plugins
    from .resources.secrets import Secrets
    from .resources.services import Services
    from .resources.swarm import SwarmNamespace
    from .resources.system import System
    from .resources.tasks import Tasks
    from .resources.volumes import Volumes

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "ClientStats", "DockerClient"]

#: The default cap on an ordinary (non-stream) answer, 256 MiB: a container
#: summary is 1-4 KiB, so this holds a list of 65,000 large ones (or a
#: ``system df`` of as many objects) while bounding what a broken daemon can
#: make the process hold.
DEFAULT_MAX_RESPONSE_SIZE: Final = 256 << 20
_USER_AGENT = f"aiodock/{__version__}"
_PING: Final = Request("GET", "/_ping", versioned=False)

_log = logging.getLogger("aiodock.client")
_DEBUG: Final = logging.DEBUG


def _check_max_response_size(value: Any) -> int:
    if value.__class__ is not int or value < 1:
        raise InvalidArgument("max_response_size", value, "expected a positive number of bytes")
    return int(value)


class _Limiter:
    """Bounds concurrent ordinary calls; cheaper than ``asyncio.Semaphore`` when free.

    A caller takes a slot by decrementing ``free`` when it is positive, else awaits
    :meth:`wait`; either way it calls :meth:`release` when done. A released slot
    is handed straight to the longest waiter, so new callers cannot overtake it.
    """

    __slots__ = ("_waiters", "free")

    def __init__(self, slots: int) -> None:
        self.free = slots
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def wait(self) -> None:
        """Queue for a slot (call only when ``free`` is 0)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            # A cancelled waiter stays queued until release skips it; one whose
            # slot had already arrived passes the slot on.
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


@attrs.frozen
class ClientStats:
    """A snapshot of a client's state, from :meth:`DockerClient.stats`.

    Attributes:
        connections: open connections to the daemon in the pool (in use plus idle),
            hijacked attach/exec connections not counted.
        connections_in_use: pooled connections serving a call or a stream now.
        calls_in_flight: ordinary calls holding one of the ``max_connections`` slots.
        calls_queued: ordinary calls waiting for a slot.
        max_connections: the client's limit on concurrent ordinary calls.
        open_streams: streams with a response open (logs, events, pull...).
        open_hijacked: open hijacked connections (attach, exec start, session).
        closed: whether the client was closed.
    """

    connections: int
    connections_in_use: int
    calls_in_flight: int
    calls_queued: int
    max_connections: int
    open_streams: int
    open_hijacked: int
    closed: bool


class _Shared:
    """What a client and its ``with_options`` views share: the connector and the negotiated API."""

    def __init__(
        self,
        endpoint: Endpoint,
        ssl_context: ssl.SSLContext | None,
        ssh_options: Sequence[str],
        headers: Mapping[str, str],
        max_connections: int,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        self.endpoint = endpoint
        self.ssl_context = ssl_context
        self.ssh_options = tuple(ssh_options)
        self.headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity", **headers}
        self.base_url = endpoint.base_url
        self.session: aiohttp.ClientSession | None = None
        self.trace_configs = list(trace_configs)
        # The event loop the session was opened in: aiohttp's connections belong to it.
        self.loop: asyncio.AbstractEventLoop | None = None
        self.max_connections = max_connections
        self.closed = False
        self.negotiated: str | None = None
        self.negotiation: asyncio.Lock | None = None
        self.limiter = _Limiter(max_connections)
        self.deadlines: Deadlines | None = None
        self.server_hostname: str | None = None
        # Open streams, so that closing the client can wake and end them.
        self.streams: weakref.WeakSet[AsyncStream[Any] | HijackedStream] = weakref.WeakSet()

    def start_deadlines(self) -> Deadlines:
        self.deadlines = Deadlines(asyncio.get_running_loop())
        return self.deadlines

    def open_session(self) -> aiohttp.ClientSession:
        from ._http.transport import make_connector

        loop = asyncio.get_running_loop()
        if self.loop is not None and self.loop is not loop:
            raise _wrong_loop(self, loop)
        self.loop = loop
        connector = make_connector(
            self.endpoint, ssl_context=self.ssl_context, ssh_options=self.ssh_options
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers=self.headers,
            # Never inflate: a small compressed body can grow without bound
            # (the Engine does not compress; see _refuse_encoded).
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None),
            trace_configs=self.trace_configs or None,
        )
        return self.session

    def check_loop(self) -> None:
        """Refuse a call from another event loop than the session's (before any I/O)."""
        loop = asyncio.get_running_loop()
        if self.loop is not loop and self.loop is not None:
            raise _wrong_loop(self, loop)


def _wrong_loop(shared: _Shared, loop: asyncio.AbstractEventLoop) -> UsageError:
    first = shared.loop
    state = "has since been closed" if first is not None and first.is_closed() else "is still open"
    return UsageError(
        f"this DockerClient ({shared.endpoint.url}) was first used in another event loop, "
        f"which {state}; its connections belong to that loop and cannot serve this one. "
        "This happens when one client is used across two asyncio.run() calls, or from two "
        "threads each running a loop. Create the client inside the coroutine that uses it "
        "(async with DockerClient() as docker: ...) once per asyncio.run(), or keep one loop "
        "running for the client's whole life."
    )


class DockerClient(RequestCore):
    """An asyncio client for one Docker Engine.

    Use it as ``async with DockerClient() as docker:`` (or call
    :meth:`aclose`). Resource namespaces are attributes: ``docker.containers``,
    ``docker.images``, ``docker.system`` and so on.

    A client belongs to the event loop it is first used in (its connections
    do); using it from another loop raises :class:`~aiodock.errors.UsageError`.

    Args:
        host: daemon address (``unix://``, ``tcp://``, ``http(s)://``,
            ``ssh://user@host``); default ``unix:///var/run/docker.sock``.
        tls: ``TLSConfig`` for TLS over TCP, or ``True`` for TLS with the
            system trust store.
        api_version: pin the Engine API version (``"1.41"``); by default it
            is negotiated with the daemon on the first request.
        timeout: seconds for ordinary calls (``None``: no limit).
        stream_timeout: inactivity limit in seconds for streams (``None``:
            streams may be silent forever, as ``follow`` logs and events are).
        connect_timeout: seconds to open a connection (``None``: no limit).
        ssh_options: extra ``ssh`` arguments for ``ssh://`` hosts.
        headers: extra HTTP headers sent with every request.
        max_connections: concurrent ordinary calls; streams do not count
            against it, so open streams never starve ordinary calls.
        max_response_size: the largest answer in bytes an ordinary (non-stream)
            call accepts, default :data:`DEFAULT_MAX_RESPONSE_SIZE` (256 MiB, far
            above any real Engine answer: that is 65,000 large container
            summaries). A larger answer raises
            :class:`~aiodock.errors.ResponseTooLargeError` before more than the
            cap is read. Streams (logs, events, pull, archives...) are not
            limited. ``with_options(max_response_size=...)`` changes it for a
            view. Compressed answers are refused, never inflated (the Engine
            does not compress; a proxy that does could turn a small body into
            gigabytes).
        trace_configs: :class:`aiohttp.TraceConfig` objects given to the
            client's session, so request signals (``on_request_start``,
            ``on_request_end``, ``on_request_exception`` and the connection
            signals) reach OpenTelemetry's aiohttp instrumentation or your own
            metrics. Hijacked attach/exec/session connections, which do not go
            through the session, send the three request signals too (their
            ``response`` is a small stand-in with ``status``, ``reason``,
            ``headers``, ``method`` and ``url``).
    """

    _shared: _Shared

    def __init__(
        self,
        host: str | None = None,
        *,
        tls: TLSConfig | bool | None = None,
        api_version: str | None = None,
        timeout: float | None = 60.0,
        stream_timeout: float | None = None,
        connect_timeout: float | None = 30.0,
        ssh_options: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        max_connections: int = 100,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
    ) -> None:
        from ._config import TLSConfig
        from ._http.transport import DEFAULT_HOST, parse_host

        if max_connections < 1:
            raise InvalidArgument("max_connections", max_connections, "must be at least 1")
        from ._names import unusable

        for name, value in (headers or {}).items():
            # A tab may stand in a value; no other control byte may (nor in a name).
            if not name or ":" in name or unusable(name) or unusable(value.replace("\t", " ")):
                raise InvalidArgument(
                    "headers", name, "header names and values must be one line of text"
                )
        for trace_config in trace_configs or ():
            if not isinstance(trace_config, aiohttp.TraceConfig):
                raise InvalidArgument(
                    "trace_configs", trace_config, "expected aiohttp.TraceConfig objects"
                )
        endpoint = parse_host(host or DEFAULT_HOST, tls=bool(tls))
        ssl_context: ssl.SSLContext | None = None
        if isinstance(tls, TLSConfig):
            ssl_context = tls.ssl_context()
        elif tls is True or endpoint.tls:
            ssl_context = ssl.create_default_context()
        self._shared = _Shared(
            endpoint, ssl_context, ssh_options, headers or {}, max_connections, trace_configs or ()
        )
        if isinstance(tls, TLSConfig) and tls.server_hostname:
            self._shared.server_hostname = tls.server_hostname
        self._owner = True
        self._configure(api_version, timeout, stream_timeout, connect_timeout, max_response_size)

    def _configure(
        self,
        api_version: str | None,
        timeout: float | None,
        stream_timeout: float | None,
        connect_timeout: float | None,
        max_response_size: int,
    ) -> None:
        self._max_response_size = _check_max_response_size(max_response_size)
        if api_version is not None:
            from ._config import parse_api_version

            parse_api_version(api_version)
        self._pinned = api_version
        self._prefix = f"/v{api_version}" if api_version else None
        self._timeout_value = timeout
        self._stream_timeout_value = stream_timeout
        self._connect_timeout = connect_timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._untimed = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout)
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=stream_timeout
        )

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        **options: Unpack[ClientOptions],
    ) -> DockerClient:
        """A client configured like the docker CLI: ``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``,
        ``DOCKER_CERT_PATH``, ``DOCKER_API_VERSION``, ``DOCKER_CONTEXT``/``currentContext``
        and ``config.json`` ``HttpHeaders``. Keyword ``options`` (:class:`~aiodock.ClientOptions`,
        the keywords of :class:`DockerClient`) override what they say.

        When none of them names an engine, the first of the default sockets that
        accepts a connection is used (``aiodock._config.DEFAULT_SOCKETS``: Docker,
        rootless Docker, rootless Podman, rootful Podman); none raises
        :class:`~aiodock.errors.NoEngineFound` listing each place and why it failed.

        Args:
            environ: the environment to read instead of ``os.environ``.
            **options: keywords of :class:`DockerClient` that override the
                environment and the configuration (``timeout=30``, ``tls=...``).
        """
        from ._config import resolve

        config = resolve(environ, discover=True)
        kwargs: dict[str, Any] = {
            "tls": config.tls,
            "api_version": config.api_version,
            "headers": config.http_headers,
        }
        kwargs.update(options)
        return cls(config.host, **kwargs)

    def with_options(
        self,
        *,
        timeout: float | None = UNSET,
        stream_timeout: float | None = UNSET,
        api_version: str | None = UNSET,
        max_response_size: int = UNSET,
    ) -> DockerClient:
        """A view of this client with other options, sharing its connections.

        ``max_response_size`` changes the cap on ordinary answers for the view
        only, e.g. ``docker.with_options(max_response_size=2 << 30).system.df()``.
        Closing the original client closes the view's connections too; the
        view's own :meth:`aclose` does nothing. An option left out keeps this
        client's value.

        Args:
            timeout: seconds an ordinary call may take (``None``: no limit).
            stream_timeout: seconds a stream may stay silent (``None``: no limit).
            api_version: the Engine API version to speak (``None``: negotiate).
            max_response_size: the largest ordinary answer, in bytes.
        """
        view = object.__new__(DockerClient)
        view._shared = self._shared
        view._owner = False
        view._configure(
            self._pinned if api_version is UNSET else api_version,
            self._timeout_value if timeout is UNSET else timeout,
            self._stream_timeout_value if stream_timeout is UNSET else stream_timeout,
            self._connect_timeout,
            self._max_response_size if max_response_size is UNSET else max_response_size,
        )
        return view

    # -- lifecycle -------------------------------------------------------------

    async def __aenter__(self) -> DockerClient:
        self._check_open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections. Idempotent; a view's ``aclose`` leaves them open.

        There is no synchronous ``close()``: closing waits for the connections
        (and ``ssh`` helper processes) to end, which needs the event loop they
        belong to. Called from another event loop than the client's, this
        marks the client closed and lets go of its connections without waiting
        (they belong to the other loop).
        """
        if not self._owner:
            return
        shared = self._shared
        if shared.closed:
            return
        shared.closed = True
        session, shared.session = shared.session, None
        if shared.loop is not None and shared.loop is not asyncio.get_running_loop():
            # Nothing of the other loop can be awaited (or, if it runs in another
            # thread, safely touched) from here.
            if session is not None:
                session.detach()
            shared.streams.clear()
            shared.deadlines = None
            return
        error = ClientClosedError(f"the DockerClient for {shared.endpoint.url} was closed")
        for stream in list(shared.streams):
            await stream._abort(error)
        if session is not None:
            await session.close()
        if shared.deadlines is not None:
            shared.deadlines.close()

    @property
    def closed(self) -> bool:
        return self._shared.closed

    def stats(self) -> ClientStats:
        """A snapshot of the client's connections, calls and streams (cheap; no I/O).

        Shared with every ``with_options`` view of the client. Useful in leak
        tests (``assert docker.stats().connections_in_use == 0`` once a
        request handler is done) and in health endpoints.

        Returns:
            A frozen :class:`ClientStats`.
        """
        shared = self._shared
        limiter = shared.limiter
        queued = sum(1 for waiter in limiter._waiters if not waiter.done())
        session = shared.session
        connector = session.connector if session is not None else None
        in_use = idle = 0
        if connector is not None and not connector.closed:
            # aiohttp has no public count of its pool; read it defensively.
            in_use = len(getattr(connector, "_acquired", ()))
            pools = getattr(connector, "_conns", {})
            idle = sum(len(pool) for pool in pools.values())
        streams = hijacked = 0
        from ._streams.streaming import HijackedStream

        for stream in list(shared.streams):
            if isinstance(stream, HijackedStream):
                hijacked += not stream._closed
            else:
                streams += stream._response is not None
        return ClientStats(
            connections=in_use + idle,
            connections_in_use=in_use,
            calls_in_flight=shared.max_connections - limiter.free,
            calls_queued=queued,
            max_connections=shared.max_connections,
            open_streams=streams,
            open_hijacked=hijacked,
            closed=shared.closed,
        )

    @property
    def max_response_size(self) -> int:
        """The largest answer in bytes an ordinary call accepts (streams are not limited)."""
        return self._max_response_size

    @property
    def host(self) -> str:
        """The daemon address this client talks to."""
        return self._shared.endpoint.url

    def __repr__(self) -> str:
        state = "closed" if self._shared.closed else "open"
        return f"<DockerClient {self._shared.endpoint.url} {state}>"

    def __del__(self) -> None:
        shared = getattr(self, "_shared", None)
        if not getattr(self, "_owner", False) or shared is None:
            return
        if shared.session is not None and not shared.closed:
            warnings.warn(
                f"DockerClient for {shared.endpoint.url} was not closed; "
                "use 'async with DockerClient()' or await client.aclose()",
                ResourceWarning,
                source=self,
                stacklevel=1,
            )

    def _check_open(self) -> None:
        if self._shared.closed:
            raise ClientClosedError(
                f"this DockerClient ({self._shared.endpoint.url}) is closed; create a new one"
            )

    # -- namespaces ---------------------------------------------------------------

    @functools.cached_property
    def containers(self) -> Containers:
        from .resources.containers import Containers

        return Containers(self)

    @functools.cached_property
    def exec(self) -> Exec:
        from .resources.exec import Exec

        return Exec(self)

    @functools.cached_property
    def images(self) -> Images:
        from .resources.images import Images

        return Images(self)

    @functools.cached_property
    def distribution(self) -> Distribution:
        from .resources.distribution import Distribution

        return Distribution(self)

    @functools.cached_property
    def networks(self) -> Networks:
        from .resources.networks import Networks

        return Networks(self)

    @functools.cached_property
    def volumes(self) -> Volumes:
        from .resources.volumes import Volumes

        return Volumes(self)

    @functools.cached_property
    def system(self) -> System:
        from .resources.system import System

        return System(self)

    @functools.cached_property
    def swarm(self) -> SwarmNamespace:
        from .resources.swarm import SwarmNamespace

        return SwarmNamespace(self)

    @functools.cached_property
    def services(self) -> Services:
        from .resources.services import Services

        return Services(self)

    @functools.cached_property
    def tasks(self) -> Tasks:
        from .resources.tasks import Tasks

        return Tasks(self)

    @functools.cached_property
    def nodes(self) -> Nodes:
        from .resources.nodes import Nodes

        return Nodes(self)

    @functools.cached_property
    def secrets(self) -> Secrets:
        from .resources.secrets import Secrets

        return Secrets(self)

    @functools.cached_property
    def configs(self) -> Configs:
        from .resources.configs import Configs

        return Configs(self)

    @functools.cached_property
    def plugins(self) -> Plugins:
        from .resources.plugins import Plugins

        return Plugins(self)

    async def engine_info(self) -> EngineInfo:
        """Which engine answers (``name`` Docker or Podman) and its version, from /version."""
        from ._engine import engine_from_version

        raw = await self.request("GET", "/version")
        return engine_from_version(raw if isinstance(raw, dict) else {})

    # -- API version ---------------------------------------------------------------

    async def api_version(self) -> str:
        """The Engine API version requests use (negotiated on first use unless pinned)."""
        if self._pinned is not None:
            return self._pinned
        shared = self._shared
        return shared.negotiated or await self._negotiate()

    async def _negotiate(self, call: str = "") -> str:
        shared = self._shared
        if shared.negotiation is None:
            shared.negotiation = asyncio.Lock()
        async with shared.negotiation:
            if shared.negotiated is not None:
                return shared.negotiated
            # The same limit and error mapping as any ordinary call (the ping runs
            # outside the call limiter: the call that needs it may hold a slot).
            what = f"GET /_ping (API version negotiation{f' for {call}' if call else ''})"
            limit = self._timeout_value
            try:
                server = await wait_for(self._ping_version(what), limit)
            except DockerError:
                raise
            except asyncio.TimeoutError as exc:
                raise DockerTimeoutError(
                    f"{what} on {shared.endpoint.url}: timed out (no answer within {limit}s)"
                ) from exc
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc, f"{what} on {shared.endpoint.url}") from exc
            from ._config import negotiate_api_version

            version = negotiate_api_version(server, shared.endpoint.url)
            if _log.isEnabledFor(_DEBUG):
                _log.debug(
                    "API version %s negotiated with the daemon at %s (it offers %s)",
                    version,
                    shared.endpoint.url,
                    server or "no API-Version header",
                )
            shared.negotiated = version
            return version

    async def _ping_version(self, what: str) -> str:
        """The daemon's ``API-Version`` header, from a ``GET /_ping`` read to its end."""
        response = await self._send(_PING, self._untimed)
        try:
            server = response.headers.get("API-Version", "")
            await _read_capped(response, "GET", "/_ping", self._max_response_size)
        except DockerError:
            raise
        except TRANSPORT_ERRORS as exc:
            response.close()
            raise transport_error(
                exc, f"{what} on {self._shared.endpoint.url}: reading the answer"
            ) from exc
        finally:
            response.release()
        return server

    async def _require_api(self, option: str, version: str) -> None:
        """Fail before the request when ``option`` needs a newer API than negotiated."""
        from ._config import parse_api_version

        current = await self.api_version()
        if parse_api_version(current) < parse_api_version(version):
            raise APIVersionError(option, version, current)

    async def _api_at_least(self, version: str) -> bool:
        from ._config import parse_api_version

        return parse_api_version(await self.api_version()) >= parse_api_version(version)

    # -- escape hatch ------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = UNSET,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        versioned: bool = True,
    ) -> Any:
        """Call any Engine endpoint, through the same errors, versioning and limits.

        Returns decoded JSON when the daemon sends JSON, otherwise the body bytes
        (``None`` when there is no body).

        Args:
            method: the HTTP method (``"GET"``, ``"POST"``...).
            path: the part after the version prefix (``"/containers/json"``).
            params: the query; ``None`` values are dropped, bools sent as 1/0, maps
                and lists as JSON, :class:`Repeated` as repeated keys.
            json: a body sent as JSON.
            data: a body sent as bytes.
            headers: extra request headers.
            versioned: put the ``/v1.xx`` prefix before ``path`` (``False`` for the
                few unversioned endpoints such as ``/_ping``).
        """
        if not path.startswith("/"):
            raise InvalidArgument("path", path, "must start with '/'")
        response, body = await self._read(
            Request(
                method.upper(),
                path,
                params=params,
                body=json,
                data=data,
                headers=headers,
                versioned=versioned,
            )
        )
        if not body:
            return None
        if response.content_type in ("application/json", "application/jsonl"):
            return _decode_json_body(body, method.upper(), path)
        return body
