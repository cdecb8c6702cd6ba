"""``DockerClient``: lifecycle, namespaces, API version and the request core.

Every resource method funnels through the ``_send`` family here, so error
mapping, version negotiation, timeouts and the ordinary-call limit live in
one place. The hot path avoids per-request work aiohttp would otherwise do
for us (URL re-quoting, cookie handling, header merging).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import re
import ssl
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote

import aiohttp
import attrs
from yarl import URL

from ._deadlines import Deadlines
from ._options import ClientOptions, Unpack
from ._timeout import wait_for
from ._version import __version__
from .errors import (
    APIError,
    APIVersionError,
    ClientClosedError,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    InvalidArgument,
    NotFound,
    ResponseTooLargeError,
    ResponseValidationError,
    UsageError,
    error_class_for,
)

if TYPE_CHECKING:
    from ._config import TLSConfig
    from ._engine import EngineInfo
    from ._frames import Decoder
    from ._streaming import AsyncStream, HijackedStream
    from ._transport import Endpoint
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
    from .resources.swarm import Swarm
    from .resources.system import System
    from .resources.tasks import Tasks
    from .resources.volumes import Volumes

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "ClientStats", "DockerClient", "encode_query", "quote_path"]

M = TypeVar("M")
S = TypeVar("S", bound="AsyncStream[Any]")

_UNSET: Any = object()
_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
_MAX_ERROR_BODY = 1 << 20
#: The default cap on an ordinary (non-stream) answer, 256 MiB: a container
#: summary is 1-4 KiB, so this holds a list of 65,000 large ones (or a
#: ``system df`` of as many objects) while bounding what a broken daemon can
#: make the process hold.
DEFAULT_MAX_RESPONSE_SIZE: Final = 256 << 20
_USER_AGENT = f"aiodock/{__version__}"

# One DEBUG record per call (method, path, status, duration): never a header
# value, a query string or a body, which may hold credentials.
_log = logging.getLogger("aiodock.client")
_stream_log = logging.getLogger("aiodock.stream")
_DEBUG: Final = logging.DEBUG

# ``import aiodock`` costs little more than ``import aiohttp``: the converter (and
# cattrs), configuration, transports and streams are imported when first used.
# The JSON and structuring functions below replace themselves with the real ones
# on their first call, so later calls pay nothing for it.


def _load_convert() -> None:
    global _json_dumps, _json_loads, _structure, _structure_list
    from . import _convert

    _json_dumps = _convert.json_dumps
    _json_loads = _convert.json_loads
    _structure = _convert.structure
    _structure_list = _convert.structure_list


def _first_json_dumps(obj: Any) -> bytes:
    _load_convert()
    return _json_dumps(obj)


def _first_json_loads(data: bytes | bytearray | memoryview | str) -> Any:
    _load_convert()
    return _json_loads(data)


def _first_structure(data: Any, cls: type[M]) -> M:
    _load_convert()
    return _structure(data, cls)  # type: ignore[no-any-return]


def _first_structure_list(data: Any, cls: type[M]) -> list[M]:
    _load_convert()
    return _structure_list(data, cls)


_json_dumps: Callable[[Any], bytes] = _first_json_dumps
_json_loads: Callable[[bytes | bytearray | memoryview | str], Any] = _first_json_loads
_structure: Callable[[Any, type[Any]], Any] = _first_structure
_structure_list: Callable[[Any, type[Any]], list[Any]] = _first_structure_list


def _check_max_response_size(value: Any) -> int:
    if value.__class__ is not int or value < 1:
        raise InvalidArgument("max_response_size", value, "expected a positive number of bytes")
    return int(value)


def _refuse_encoded(response: aiohttp.ClientResponse, method: str, path: str) -> None:
    """Fail on a compressed answer rather than inflate it (or hand over its raw bytes).

    The Engine never compresses; whatever did (a proxy) could send a small body
    that inflates without bound, and raw compressed bytes would pass for content.
    """
    encoding = response.headers.get("Content-Encoding")
    if encoding and encoding.strip().lower() != "identity":
        response.close()
        raise DockerConnectionError(
            f"{method} {path}: the answer is {encoding!r}-encoded; the Docker Engine never "
            "compresses its answers and aiodock does not decompress them (is a proxy between "
            "the client and the daemon compressing?)"
        )


async def _read_capped(
    response: aiohttp.ClientResponse, method: str, path: str, limit: int
) -> bytes:
    """The whole body of an ordinary answer, never more than ``limit`` bytes of it in memory."""
    size = response.content_length
    if size is not None:
        if size > limit and method != "HEAD":
            response.close()
            raise ResponseTooLargeError(method, path, limit, size)
        return await response.read()  # aiohttp reads no more than Content-Length
    content = response.content
    chunks: list[bytes] = []
    total = 0
    while chunk := await content.readany():
        total += len(chunk)
        if total > limit:
            response.close()
            raise ResponseTooLargeError(method, path, limit)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _transport_error(exc: BaseException, what: str) -> Exception:
    from ._streaming import transport_error

    return transport_error(exc, what)


def _unencodable(value: Any, where: str) -> tuple[str, Any] | None:
    """Where in a request body the first value JSON cannot carry is, and the value."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where, value
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _unencodable(key, where) if isinstance(key, str) else None
            found = found or _unencodable(item, f"{where}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _unencodable(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _encode_body(body: Any, method: str, path: str) -> bytes:
    """The JSON of a request body; a value JSON cannot carry is the caller's InvalidArgument."""
    try:
        return _json_dumps(body)
    except (
        TypeError,
        ValueError,
    ) as exc:  # orjson's error is a TypeError; UnicodeError a ValueError
        found = _unencodable(body, "body")
        if found is not None:
            raise InvalidArgument(
                found[0],
                found[1],
                f"the {method} {path} request body must be encodable text (a lone surrogate?)",
            ) from None
        raise InvalidArgument(
            "body", type(body).__name__, f"the {method} {path} request body is not JSON: {exc}"
        ) from None


_PLAIN_SEGMENT: Final = re.compile(r"[A-Za-z0-9_.\-]+").fullmatch


def quote_path(value: str, parameter: str = "id") -> str:
    """Quote one path segment (an id or name) so it cannot leave its place in the URL.

    ``/``, ``?``, ``#`` and ``%`` are escaped, and a segment of only dots is
    escaped too so that URL normalisation cannot turn it into ``..``.
    """
    if value.__class__ is str and _PLAIN_SEGMENT(value) and value.strip("."):
        return value  # ids and names: nothing to quote (urllib's quote costs ~1.5 us)
    if not isinstance(value, str) or not value:
        raise InvalidArgument(parameter, value, "expected a non-empty string")
    if "\x00" in value:
        raise InvalidArgument(parameter, value, "must not contain NUL")
    try:
        quoted = quote(value, safe="")
    except UnicodeEncodeError:
        raise InvalidArgument(
            parameter, value, "must be encodable text (a lone surrogate?)"
        ) from None
    if quoted.strip(".") == "":
        quoted = quoted.replace(".", "%2E")
    return quoted


def _query_value(value: Any) -> str:
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, (Mapping, list, tuple)):
        return _json_dumps(value).decode()
    return str(value)


def encode_query(params: Mapping[str, Any]) -> str:
    """Encode query parameters; ``None`` values are left out, bools are ``1``/``0``.

    Maps, lists and tuples are sent as JSON, which is what the Engine expects
    for ``filters``, ``buildargs``, ``labels`` and friends; wrap a sequence in
    :class:`Repeated` to repeat the key instead (``names=a&names=b``).
    """
    parts: list[str] = []
    for key, value in params.items():
        if value is None:
            continue
        try:
            if isinstance(value, Repeated):
                for item in value.items:
                    parts.append(f"{key}={quote(str(item), safe='')}")
                continue
            parts.append(f"{key}={quote(_query_value(value), safe='')}")
        except UnicodeEncodeError:
            raise InvalidArgument(
                key, value, "must be encodable text (a lone surrogate?)"
            ) from None
    return "&".join(parts)


class Repeated:
    """A query value sent as the key repeated once per item (``names=a&names=b``).

    Args:
        items: the values, one ``key=value`` each.
    """

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = tuple(items)


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
        from ._transport import make_connector

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


class DockerClient:
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
        from ._transport import DEFAULT_HOST, parse_host

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
        timeout: float | None = _UNSET,
        stream_timeout: float | None = _UNSET,
        api_version: str | None = _UNSET,
        max_response_size: int = _UNSET,
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
            self._pinned if api_version is _UNSET else api_version,
            self._timeout_value if timeout is _UNSET else timeout,
            self._stream_timeout_value if stream_timeout is _UNSET else stream_timeout,
            self._connect_timeout,
            self._max_response_size if max_response_size is _UNSET else max_response_size,
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
        from ._streaming import HijackedStream

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
    def swarm(self) -> Swarm:
        from .resources.swarm import Swarm

        return Swarm(self)

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
            except _TRANSPORT_ERRORS as exc:
                raise _transport_error(exc, f"{what} on {shared.endpoint.url}") from exc
            version = self._pick_version(server)
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
        response = await self._send("GET", "/_ping", versioned=False, timeout=self._untimed)
        try:
            server = response.headers.get("API-Version", "")
            await _read_capped(response, "GET", "/_ping", self._max_response_size)
        except DockerError:
            raise
        except _TRANSPORT_ERRORS as exc:
            response.close()
            raise _transport_error(
                exc, f"{what} on {self._shared.endpoint.url}: reading the answer"
            ) from exc
        finally:
            response.release()
        return server

    def _pick_version(self, server: str) -> str:
        from ._config import MAX_API_VERSION, MIN_API_VERSION, parse_api_version

        if not server:
            return MIN_API_VERSION
        try:
            server_v = parse_api_version(server)
        except InvalidArgument:
            raise DockerConnectionError(
                f"daemon at {self._shared.endpoint.url} sent an invalid API-Version {server!r}"
            ) from None
        if server_v < parse_api_version(MIN_API_VERSION):
            raise APIVersionError("aiodock", MIN_API_VERSION, server)
        return server if server_v < parse_api_version(MAX_API_VERSION) else MAX_API_VERSION

    async def _require_api(self, option: str, version: str) -> None:
        """Fail before the request when ``option`` needs a newer API than negotiated."""
        from ._config import parse_api_version

        current = await self.api_version()
        if parse_api_version(current) < parse_api_version(version):
            raise APIVersionError(option, version, current)

    async def _api_at_least(self, version: str) -> bool:
        from ._config import parse_api_version

        return parse_api_version(await self.api_version()) >= parse_api_version(version)

    # -- request core ----------------------------------------------------------------

    async def _url(
        self, path: str, params: Mapping[str, Any] | None, versioned: bool, *, method: str = ""
    ) -> URL:
        shared = self._shared
        url = shared.base_url
        if versioned:
            url += self._prefix or "/v" + (
                shared.negotiated or await self._negotiate(f"{method} {path}".strip())
            )
        url += path
        if params:
            query = encode_query(params)
            if query:
                url += "?" + query
        return URL(url, encoded=True)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = _UNSET,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
        not_found: type[NotFound] = NotFound,
        versioned: bool = True,
    ) -> aiohttp.ClientResponse:
        """Send a request; return the response with status < 400 (caller releases it)."""
        shared = self._shared
        if shared.closed:
            self._check_open()
        if shared.loop is not asyncio.get_running_loop():
            shared.check_loop()
        session = shared.session or shared.open_session()
        url = await self._url(path, params, versioned, method=method)
        if body is not _UNSET:
            data = _encode_body(body, method, path)
            headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            response = await session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeout or self._timeout,
                allow_redirects=False,
                server_hostname=shared.server_hostname,
            )
        except _TRANSPORT_ERRORS as exc:
            raise _transport_error(exc, f"{method} {path} on {shared.endpoint.url}") from exc
        if "Content-Encoding" in response.headers:
            _refuse_encoded(response, method, path)
        if response.status >= 300 and response.status != 304:
            await self._raise_for_status(response, method, path, not_found)
        return response

    async def _raise_for_status(
        self,
        response: aiohttp.ClientResponse,
        method: str,
        path: str,
        not_found: type[NotFound],
    ) -> None:
        # read(n) gives what one network read brought: loop to take the whole
        # body, up to the limit.
        parts: list[bytes] = []
        left = _MAX_ERROR_BODY
        try:
            while left > 0 and (part := await response.content.read(left)):
                parts.append(part)
                left -= len(part)
        except _TRANSPORT_ERRORS:
            pass
        finally:
            if left <= 0:
                response.close()  # the rest is not wanted: do not pool the connection
            response.release()
        raw = b"".join(parts)
        if response.status < 400:
            # Redirects are never followed: the daemon only sends them when URL
            # cleaning changed the path, i.e. an id or name held dot segments.
            location = response.headers.get("Location", "?")
            raise APIError(
                response.status,
                f"the daemon redirected to {location}, which aiodock does not follow; "
                "is the id or name valid?",
                method,
                path,
            )
        raise self._error(response.status, raw, method, path, not_found)

    @staticmethod
    def _error(
        status: int, raw: bytes, method: str, path: str, not_found: type[NotFound]
    ) -> APIError:
        message = ""
        try:
            decoded = _json_loads(raw) if raw else None
            if isinstance(decoded, dict):
                message = str(decoded.get("message", ""))
        except ValueError:
            pass
        if not message:
            message = raw.decode("utf-8", "replace").strip() or "no message from the daemon"
        return error_class_for(status, not_found)(status, message, method, path)

    async def _read(
        self,
        method: str,
        path: str,
        *,
        timeout: aiohttp.ClientTimeout | None = None,
        **kwargs: Any,
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        """An ordinary call: send under the connection limit, read the whole body.

        The response is released; its status and headers stay readable.
        """
        shared = self._shared
        if shared.loop is not asyncio.get_running_loop():
            shared.check_loop()  # before the limiter and the deadlines, which are the loop's
        log = _log.isEnabledFor(_DEBUG)
        started = perf_counter() if log else 0.0
        # The time limit is enforced by the client's Deadlines, not by an aiohttp
        # timer per request (see _deadlines.py); aiohttp keeps the other limits.
        if timeout is None:
            limit, timeout = self._timeout_value, self._untimed
        else:
            limit, timeout = timeout.total, attrs.evolve(timeout, total=None)
        limiter = shared.limiter
        if limiter.free > 0:  # the common case, without an async context manager
            limiter.free -= 1
        else:
            await limiter.wait()
        deadlines = token = None
        try:
            if limit is not None:
                deadlines = shared.deadlines or shared.start_deadlines()
                token = deadlines.start(limit)
            response = await self._send(method, path, timeout=timeout, **kwargs)
            try:
                body = await _read_capped(response, method, path, self._max_response_size)
            except DockerError:
                raise  # ResponseTooLargeError is an OSError too: keep it as it is
            except _TRANSPORT_ERRORS as exc:
                response.close()
                raise _transport_error(
                    exc, f"{method} {path} on {shared.endpoint.url}: reading the answer"
                ) from exc
            finally:
                response.release()
            if log:
                _log_call(method, path, response.status, started, len(body))
            return response, body
        except asyncio.CancelledError as exc:
            if deadlines is not None and token is not None and deadlines.expired(token):
                what = f"{method} {path} on {shared.endpoint.url}"
                error = DockerTimeoutError(f"{what}: timed out (no answer within {limit}s)")
                if log:
                    _log_failure(method, path, started, error)
                raise error from None
            if log:
                _log_failure(method, path, started, exc)
            raise
        except BaseException as exc:
            if log:
                _log_failure(method, path, started, exc)
            raise
        finally:
            if deadlines is not None and token is not None:
                deadlines.finish(token)
            limiter.release()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """An ordinary call returning the decoded JSON body (``None`` when empty)."""
        _, body = await self._read(method, path, **kwargs)
        return _decode_body(method, path, body)

    # _model and _models read and decode themselves rather than await _json: one
    # coroutine less on the hottest path.
    async def _model(self, method: str, path: str, cls: type[M], **kwargs: Any) -> M:
        """An ordinary call whose JSON body is structured into ``cls``."""
        _, body = await self._read(method, path, **kwargs)
        data = _decode_body(method, path, body)
        try:
            return _structure(data, cls)  # type: ignore[no-any-return]
        except Exception as exc:
            raise _shape_error(method, path, cls, exc) from exc

    async def _models(self, method: str, path: str, cls: type[M], **kwargs: Any) -> list[M]:
        """An ordinary call whose JSON array body is structured into ``list[cls]``."""
        _, body = await self._read(method, path, **kwargs)
        data = _decode_body(method, path, body)
        try:
            return _structure_list(data or [], cls)
        except Exception as exc:
            raise _shape_error(method, path, cls, exc) from exc

    async def _status(self, method: str, path: str, **kwargs: Any) -> int:
        """An ordinary call whose body does not matter; returns the status (204, 304...)."""
        response, _ = await self._read(method, path, **kwargs)
        return response.status

    def _stream(
        self,
        method: str,
        path: str,
        decoder: Decoder[Any],
        convert: Callable[[Any], Any] | None = None,
        *,
        stream_class: type[S] | None = None,
        inactivity_timeout: float | None = _UNSET,
        **kwargs: Any,
    ) -> S:
        """A streaming call: nothing is sent until the stream is awaited or iterated.

        ``stream_class`` defaults to :class:`~aiodock.AsyncStream`.
        """
        if stream_class is None:
            from ._streaming import AsyncStream

            stream_class = AsyncStream  # type: ignore[assignment]
        timeout = self._stream_timeout
        if inactivity_timeout is not _UNSET:
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=self._connect_timeout, sock_read=inactivity_timeout
            )

        def open() -> Any:
            return self._send(method, path, timeout=timeout, **kwargs)

        stream = stream_class(open, decoder, convert, what=f"{method} {path}")  # type: ignore[misc]
        stream._where = self._shared.endpoint.url
        self._shared.streams.add(stream)
        return stream

    async def _hijack(
        self,
        method: str,
        path: str,
        *,
        tty: bool,
        params: Mapping[str, Any] | None = None,
        body: Any = _UNSET,
        not_found: type[NotFound] = NotFound,
        read_timeout: float | None = None,
        upgrade: str = "tcp",
        headers: Sequence[tuple[str, str]] = (),
    ) -> HijackedStream:
        """Open an upgraded (hijacked) connection for attach / exec start / session.

        ``headers`` may repeat a name (the session endpoint wants that); no name
        or value may carry CR, LF or NUL.
        """
        shared = self._shared
        self._check_open()
        shared.check_loop()
        url = await self._url(path, params, versioned=True, method=method)
        target = url.raw_path_qs
        what = f"{method} {path} on {shared.endpoint.url}"
        from ._streaming import HijackedStream, read_response_head
        from ._transport import open_raw

        payload = b"" if body is _UNSET else _encode_body(body, method, path)
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {shared.endpoint.http_host}",
            "Connection: Upgrade",
            f"Upgrade: {upgrade}",
            f"Content-Length: {len(payload)}",
        ]
        if payload:
            lines.append("Content-Type: application/json")
        for name, value in (*shared.headers.items(), *headers):
            if any(c in name + value for c in "\r\n\x00") or ":" in name:
                raise InvalidArgument("headers", name, "header names/values must be one line")
            lines.append(f"{name}: {value}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
        # This connection bypasses the aiohttp session: send the session's request
        # signals ourselves, so tracing sees attach/exec like any other call.
        trace = None
        if shared.trace_configs:
            from ._tracing import HijackTrace

            session = shared.session or shared.open_session()  # freezes the configs
            trace = HijackTrace(session, shared.trace_configs, method, url, lines[1:])
            await trace.start()
        log = _stream_log.isEnabledFor(_DEBUG)
        started = perf_counter() if log else 0.0
        stream: HijackedStream | None = None
        try:
            conn, process = await open_raw(
                shared.endpoint,
                ssl_context=shared.ssl_context,
                server_hostname=shared.server_hostname,
                ssh_options=shared.ssh_options,
                connect_timeout=self._connect_timeout,
            )
            stream = HijackedStream(
                conn,
                tty=tty,
                what=what,
                process=process,
                read_timeout=read_timeout,
                check_daemon=self._ping_quickly,
            )
            shared.streams.add(stream)
            conn.write(request)
            await conn.drain()
            read_head = read_response_head(conn, what)
            if self._timeout_value is not None:
                status, head, error_body = await wait_for(read_head, self._timeout_value)
            else:
                status, head, error_body = await read_head
        except BaseException as exc:
            error: BaseException = exc
            if isinstance(exc, _TRANSPORT_ERRORS):
                error = _transport_error(exc, what)
            if stream is not None:
                await stream.aclose()
            if trace is not None:
                await trace.exception(error)
            if log:
                _stream_log.debug("%s %s: hijacked connection failed: %r", method, path, error)
            if error is exc:
                raise
            raise error from exc
        if trace is not None:
            await trace.end(status, head)
        if status >= 400:
            await stream.aclose()
            if log:
                _stream_log.debug("%s %s -> %d (hijacked connection refused)", method, path, status)
            raise self._error(status, error_body, method, path, not_found)
        if log:
            stream._opened_at = perf_counter()
            _stream_log.debug(
                "%s %s -> %d: hijacked connection open (%.1f ms)",
                method,
                path,
                status,
                (stream._opened_at - started) * 1000,
            )
        return stream

    async def _ping_quickly(self) -> int:
        """``GET /_ping`` with a short limit: is the daemon still there?"""
        quick = aiohttp.ClientTimeout(total=5, sock_connect=min(5, self._connect_timeout or 5))
        return await self._status("GET", "/_ping", versioned=False, timeout=quick)

    # -- escape hatch ------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = _UNSET,
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
            method.upper(),
            path,
            params=params,
            body=json,
            data=data,
            headers=headers,
            versioned=versioned,
        )
        if not body:
            return None
        if response.content_type in ("application/json", "application/jsonl"):
            return _decode_json_body(body, method.upper(), path)
        return body


def _log_call(method: str, path: str, status: int, started: float, size: int) -> None:
    elapsed = (perf_counter() - started) * 1000
    _log.debug(
        "%s %s -> %d (%.1f ms, %d bytes)",
        method,
        path,
        status,
        elapsed,
        size,
        extra={"docker_method": method, "docker_path": path, "docker_status": status},
    )


def _log_failure(method: str, path: str, started: float, exc: BaseException) -> None:
    elapsed = (perf_counter() - started) * 1000
    status = getattr(exc, "status", None)
    outcome = f"{status} {type(exc).__name__}" if status else type(exc).__name__
    _log.debug(
        "%s %s -> %s (%.1f ms)",
        method,
        path,
        outcome,
        elapsed,
        extra={"docker_method": method, "docker_path": path, "docker_status": status},
    )


def _decode_json_body(body: bytes, method: str, path: str) -> Any:
    """One JSON document, or the list of documents of a JSON stream (progress, events)."""
    try:
        return _json_loads(body)
    except ValueError:
        pass
    from ._frames import JSONStreamDecoder

    decoder = JSONStreamDecoder()
    try:
        return decoder.feed(body) + decoder.eof()
    except DockerError as exc:
        raise ResponseValidationError(method, path, "JSON", exc, str(exc)[:200]) from exc


def _decode_body(method: str, path: str, body: bytes) -> Any:
    """The JSON in a response body (``None`` when empty)."""
    if not body:
        return None
    try:
        return _json_loads(body)
    except ValueError as exc:
        raise ResponseValidationError(method, path, "JSON", exc, f"got {body[:200]!r}") from exc


def _shape_error(method: str, path: str, cls: type[Any], exc: Exception) -> ResponseValidationError:
    """A daemon answer that does not fit the model: say so, never leak a TypeError."""
    return ResponseValidationError(method, path, cls.__name__, exc)
