"""The request core: every call to the Engine goes through here.

:class:`RequestCore` is the half of :class:`~aiodock.DockerClient` that turns a
:class:`~aiodock._http.request.Request` into traffic: the URL with its version
prefix, the body, the time limits, the ordinary-call limit, the error mapping,
logging and tracing. Ordinary calls, streams, hijacked connections (attach,
exec, the BuildKit session) and the attach WebSocket all start from the same
description, so they share one error mapping. The hot path avoids per-request
work aiohttp would otherwise do (URL re-quoting, cookie handling, header merging).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final, TypeVar

import aiohttp
from yarl import URL

from ..errors import (
    APIError,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    InvalidArgument,
    RegistryAuthError,
    ResponseTooLargeError,
    ResponseValidationError,
    error_class_for,
)
from .failures import TRANSPORT_ERRORS, transport_error
from .request import UNSET, Request, Timeout, encode_query
from .timeouts import wait_for

if TYPE_CHECKING:
    from .._client import _Shared
    from .._streams.frames import Decoder
    from .._streams.streaming import AsyncStream, HijackedStream
    from .websocket import AttachWebSocket

__all__ = ["RequestCore"]

M = TypeVar("M")
S = TypeVar("S", bound="AsyncStream[Any]")

_MAX_ERROR_BODY = 1 << 20
_QUICK: Final = Timeout(5)

# One DEBUG record per call (method, path, status, duration): never a header
# value, a query string or a body, which may hold credentials.
_log = logging.getLogger("aiodock.client")
_stream_log = logging.getLogger("aiodock.stream")
_DEBUG: Final = logging.DEBUG

# ``import aiodock`` costs little more than ``import aiohttp``: the converter (and
# cattrs) is imported when first used. The JSON and structuring functions below
# replace themselves with the real ones on their first call, so later calls pay
# nothing for it.


def _load_convert() -> None:
    global _json_dumps, _json_loads, _structure, _structure_list
    from .. import _convert

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


class RequestCore:
    """Sends :class:`~aiodock._http.request.Request` descriptions; mixed into ``DockerClient``.

    A mixin rather than an object the client holds: the hot path stays one
    attribute lookup shorter. The client's ``_configure`` sets the fields below.
    """

    _shared: _Shared
    _prefix: str | None
    _timeout_value: float | None
    _connect_timeout: float | None
    _max_response_size: int
    _timeout: aiohttp.ClientTimeout
    _untimed: aiohttp.ClientTimeout
    _stream_timeout: aiohttp.ClientTimeout

    def _check_open(self) -> None:
        raise NotImplementedError  # DockerClient's

    async def _negotiate(self, call: str = "") -> str:
        raise NotImplementedError  # DockerClient's

    async def _require_api(self, option: str, version: str) -> None:
        raise NotImplementedError  # DockerClient's

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
        self, request: Request, timeout: aiohttp.ClientTimeout | None = None
    ) -> aiohttp.ClientResponse:
        """Send a request; return the response with status < 400 (caller releases it).

        ``timeout`` is aiohttp's, made by the caller from ``request.timeout``.
        """
        shared = self._shared
        if shared.closed:
            self._check_open()
        if shared.loop is not asyncio.get_running_loop():
            shared.check_loop()
        session = shared.session or shared.open_session()
        method = request.method
        path = request.path
        url = await self._url(path, request.params, request.versioned, method=method)
        data = request.data
        headers: Any = request.headers
        if request.body is not UNSET:
            data = _encode_body(request.body, method, path)
            headers = [("Content-Type", "application/json"), *request.header_pairs()]
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
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, f"{method} {path} on {shared.endpoint.url}") from exc
        if "Content-Encoding" in response.headers:
            _refuse_encoded(response, method, path)
        if response.status >= 300 and response.status != 304:
            await self._raise_for_status(response, request)
        return response

    async def _raise_for_status(self, response: aiohttp.ClientResponse, request: Request) -> None:
        # read(n) gives what one network read brought: loop to take the whole
        # body, up to the limit.
        parts: list[bytes] = []
        left = _MAX_ERROR_BODY
        try:
            while left > 0 and (part := await response.content.read(left)):
                parts.append(part)
                left -= len(part)
        except TRANSPORT_ERRORS:
            pass
        finally:
            if left <= 0:
                response.close()  # the rest is not wanted: do not pool the connection
            response.release()
        raw = b"".join(parts)
        method, path = request.method, request.path
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
        raise self._error(response.status, raw, request)

    @staticmethod
    def _error(status: int, raw: bytes, request: Request) -> APIError:
        """The error of an answer with ``status``, the daemon's message whole."""
        message = ""
        try:
            decoded = _json_loads(raw) if raw else None
            if isinstance(decoded, dict):
                message = str(decoded.get("message", ""))
        except ValueError:
            pass
        if not message:
            message = raw.decode("utf-8", "replace").strip() or "no message from the daemon"
        method, path = request.method, request.path
        if request.registry:
            from .._registry.auth import registry_refused

            if registry_refused(status, message):
                return RegistryAuthError(message, method=method, path=path, http_status=status)
        return error_class_for(status, request.not_found)(status, message, method, path)

    async def _read(self, request: Request) -> tuple[aiohttp.ClientResponse, bytes]:
        """An ordinary call: send under the connection limit, read the whole body.

        The response is released; its status and headers stay readable.
        """
        shared = self._shared
        if shared.loop is not asyncio.get_running_loop():
            shared.check_loop()  # before the limiter and the deadlines, which are the loop's
        log = _log.isEnabledFor(_DEBUG)
        started = perf_counter() if log else 0.0
        method = request.method
        path = request.path
        # The time limit is enforced by the client's Deadlines, not by an aiohttp
        # timer per request (see timeouts.py); aiohttp keeps the connect limit.
        timeout = request.timeout
        limit = self._timeout_value if timeout is None else timeout.total
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
            response = await self._send(request, self._untimed)
            try:
                body = await _read_capped(response, method, path, self._max_response_size)
            except DockerError:
                raise  # ResponseTooLargeError is an OSError too: keep it as it is
            except TRANSPORT_ERRORS as exc:
                response.close()
                raise transport_error(
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

    async def _json(self, request: Request) -> Any:
        """An ordinary call returning the decoded JSON body (``None`` when empty)."""
        _, body = await self._read(request)
        return _decode_body(request.method, request.path, body)

    # _model and _models read and decode themselves rather than await _json: one
    # coroutine less on the hottest path.
    async def _model(self, request: Request, cls: type[M]) -> M:
        """An ordinary call whose JSON body is structured into ``cls``."""
        _, body = await self._read(request)
        data = _decode_body(request.method, request.path, body)
        try:
            return _structure(data, cls)  # type: ignore[no-any-return]
        except Exception as exc:
            raise _shape_error(request.method, request.path, cls, exc) from exc

    async def _models(self, request: Request, cls: type[M]) -> list[M]:
        """An ordinary call whose JSON array body is structured into ``list[cls]``."""
        _, body = await self._read(request)
        data = _decode_body(request.method, request.path, body)
        try:
            return _structure_list(data or [], cls)
        except Exception as exc:
            raise _shape_error(request.method, request.path, cls, exc) from exc

    async def _status(self, request: Request) -> int:
        """An ordinary call whose body does not matter; returns the status (204, 304...)."""
        response, _ = await self._read(request)
        return response.status

    def _stream(
        self,
        request: Request,
        decoder: Decoder[Any],
        convert: Callable[[Any], Any] | None = None,
        *,
        stream_class: type[S] | None = None,
        **options: Any,
    ) -> S:
        """A streaming call: nothing is sent until the stream is awaited or iterated.

        ``stream_class`` defaults to :class:`~aiodock.AsyncStream`, and ``options``
        go to its constructor; ``request.timeout`` gives its inactivity limit
        (``None``: the client's ``stream_timeout``).
        """
        if stream_class is None:
            from .._streams.streaming import AsyncStream

            stream_class = AsyncStream  # type: ignore[assignment]
        timeout = self._stream_limits(request)

        requires = request.requires

        def open() -> Any:
            if requires is None:
                return self._send(request, timeout)
            return self._send_after_check(requires, request, timeout)

        stream = stream_class(  # type: ignore[misc]
            open,
            decoder,
            convert,
            what=f"{request.method} {request.path}",
            where=self._shared.endpoint.url,
            **options,
        )
        self._shared.streams.add(stream)
        return stream

    def _stream_limits(self, request: Request) -> aiohttp.ClientTimeout:
        """aiohttp's stream limits: no total; the request's inactivity limit or the client's."""
        if request.timeout is None:
            return self._stream_timeout
        return aiohttp.ClientTimeout(
            total=None, sock_connect=self._connect_timeout, sock_read=request.timeout.inactivity
        )

    async def _send_after_check(
        self, requires: tuple[str, str], request: Request, timeout: aiohttp.ClientTimeout
    ) -> aiohttp.ClientResponse:
        await self._require_api(*requires)
        return await self._send(request, timeout)

    async def _open_stream_response(self, request: Request) -> aiohttp.ClientResponse:
        """The response of a streaming call that its stream opens itself (BuildKit's build)."""
        timeout = self._stream_limits(request)
        return await self._send(request, timeout)

    async def _hijack(self, request: Request, *, tty: bool, upgrade: str = "tcp") -> HijackedStream:
        """Open an upgraded (hijacked) connection for attach / exec start / session.

        ``request.headers`` may repeat a name (the session endpoint wants that);
        no name or value may carry CR, LF or NUL. ``request.timeout.inactivity``
        bounds each read (``None``: none).
        """
        shared = self._shared
        self._check_open()
        shared.check_loop()
        method = request.method
        path = request.path
        body = request.body
        read_timeout = request.timeout.inactivity if request.timeout is not None else None
        url = await self._url(path, request.params, request.versioned, method=method)
        target = url.raw_path_qs
        what = f"{method} {path} on {shared.endpoint.url}"
        from .._streams.streaming import HijackedStream, read_response_head
        from .transport import open_raw

        payload = b"" if body is UNSET else _encode_body(body, method, path)
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {shared.endpoint.http_host}",
            "Connection: Upgrade",
            f"Upgrade: {upgrade}",
            f"Content-Length: {len(payload)}",
        ]
        if payload:
            lines.append("Content-Type: application/json")
        for name, value in (*shared.headers.items(), *request.header_pairs()):
            if any(c in name + value for c in "\r\n\x00") or ":" in name:
                raise InvalidArgument("headers", name, "header names/values must be one line")
            lines.append(f"{name}: {value}")
        request_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
        # This connection bypasses the aiohttp session: send the session's request
        # signals ourselves, so tracing sees attach/exec like any other call.
        trace = None
        if shared.trace_configs:
            from .tracing import HijackTrace

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
            conn.write(request_bytes)
            await conn.drain()
            read_head = read_response_head(conn, what)
            if self._timeout_value is not None:
                status, head, error_body = await wait_for(read_head, self._timeout_value)
            else:
                status, head, error_body = await read_head
        except BaseException as exc:
            error: BaseException = exc
            if isinstance(exc, TRANSPORT_ERRORS):
                error = transport_error(exc, what)
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
            raise self._error(status, error_body, request)
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

    async def _websocket(self, request: Request) -> AttachWebSocket:
        """Open a WebSocket (``GET`` with an upgrade) through the client's session."""
        from .websocket import connect_websocket

        self._check_open()
        shared = self._shared
        url = await self._url(request.path, request.params, request.versioned, method="GET")
        session = shared.session or shared.open_session()
        return await connect_websocket(
            session, url, request, shared.server_hostname, where=shared.endpoint.url
        )

    async def _ping_quickly(self) -> int:
        """``GET /_ping`` with a short limit: is the daemon still there?"""
        return await self._status(Request("GET", "/_ping", versioned=False, timeout=_QUICK))


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
    from .._streams.frames import JSONStreamDecoder

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
