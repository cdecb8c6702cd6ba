"""HTTP plumbing of the fake engine: requests, routes, fault rules and raw connections.

Nothing in here knows about containers or images; :mod:`._fake` and
:mod:`._routes` build the engine on top of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

import attrs
from aiohttp import web

__all__ = [
    "Answer",
    "FakeRequest",
    "RecordedRequest",
    "Rule",
    "json_response",
]

_VERSION_PREFIX = re.compile(r"^/v(\d+\.\d+)(?=/|$)")


def split_version(raw_path: str) -> tuple[str | None, str]:
    """``/v1.41/containers/json`` -> ``("1.41", "/containers/json")``."""
    match = _VERSION_PREFIX.match(raw_path)
    if match is None:
        return None, raw_path
    return match.group(1), raw_path[match.end() :] or "/"


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@attrs.frozen
class RecordedRequest:
    """One request the fake received, as the handler saw it.

    ``path`` has the version prefix removed and is percent-decoded
    (``/images/library/busybox:latest/json``); ``raw_path`` is what was on
    the wire after the prefix. ``version`` is ``"1.41"`` for ``/v1.41/...``
    and ``None`` for unversioned paths. ``query`` maps each key to all its
    values in order.
    """

    method: str
    path: str
    version: str | None
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    raw_path: str = ""

    def json(self) -> Any:
        """The body decoded as JSON (``None`` when there is no body)."""
        return json.loads(self.body) if self.body else None

    def param(self, key: str, default: str | None = None) -> str | None:
        """The last value of query parameter ``key``.

        Args:
            key: the parameter's name.
            default: the value when it is absent.
        """
        values = self.query.get(key)
        return values[-1] if values else default


class Answer(Exception):
    """Raised by handlers to answer with an engine-style JSON error (``{"message": ...}``).

    Args:
        status: the HTTP status.
        message: the error message.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeRequest:
    """What a route handler gets: the request, its path parameters and the fake.

    The fake makes it for each request; handlers read its attributes.

    Args:
        raw: the underlying :class:`aiohttp.web.BaseRequest`, for handlers that
            want to stream their answer themselves.
        recorded: the :class:`RecordedRequest` kept in ``fake.requests``.
        params: the ``{name}`` parts of the route pattern (percent-decoded).
        fake: the :class:`FakeDocker` serving the request.
        version: the API version of the request (from its ``/vX.Y`` prefix, or
            the fake's).
        budget: the fault rule (truncate, stall) that applies to the answer.
    """

    __slots__ = ("body", "budget", "fake", "params", "raw", "recorded", "version")

    def __init__(
        self,
        raw: web.BaseRequest,
        recorded: RecordedRequest,
        params: dict[str, str],
        fake: Any,
        version: str,
        budget: Budget,
    ) -> None:
        self.raw = raw
        self.recorded = recorded
        self.params = params
        self.fake = fake
        self.version = version
        self.body = recorded.body
        self.budget = budget

    @property
    def method(self) -> str:
        return self.recorded.method

    @property
    def path(self) -> str:
        return self.recorded.path

    @property
    def query(self) -> dict[str, list[str]]:
        return self.recorded.query

    @property
    def headers(self) -> Mapping[str, str]:
        return self.recorded.headers

    def arg(self, key: str, default: str | None = None) -> str | None:
        """The last value of query parameter ``key``.

        Args:
            key: the parameter's name.
            default: the value when it is absent.
        """
        return self.recorded.param(key, default)

    def flag(self, key: str, default: bool = False) -> bool:
        """A boolean query parameter, read the way the engine reads them.

        Args:
            key: the parameter's name.
            default: the value when it is absent.
        """
        value = self.recorded.param(key)
        if value is None:
            return default
        return value.strip().lower() not in ("", "0", "no", "false", "none")

    def json(self) -> Any:
        """The body as JSON; an unreadable body answers 400 like the engine."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise Answer(400, f"invalid JSON body: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (``{}`` when empty; anything else answers 400)."""
        value = self.json()
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise Answer(400, "the request body must be a JSON object")
        return value

    def at_least(self, version: str) -> bool:
        """Whether the request's API version is ``version`` or newer.

        Args:
            version: an API version such as ``"1.42"``.
        """
        return version_tuple(self.version) >= version_tuple(version)


Handler = Callable[[FakeRequest], Awaitable[Any] | Any]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::((?:[^{}]|\{[^{}]*\})+))?\}")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an aiohttp-style pattern (``/containers/{id}/json``, ``{name:.+}``).

    It is matched against the raw (still percent-encoded) path, so ``{id}``
    never spans an encoded ``%2F``; captured values are decoded afterwards.
    """
    if not pattern.startswith("/"):
        raise ValueError(f"route pattern must start with '/': {pattern!r}")
    parts: list[str] = []
    pos = 0
    for match in _PARAM.finditer(pattern):
        parts.append(re.escape(pattern[pos : match.start()]))
        name, regex = match.group(1), match.group(2)
        parts.append(f"(?P<{name}>{regex or '[^{}/]+'})")
        pos = match.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts) + r"\Z")


@attrs.define(eq=False)
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        if self.method != "*" and self.method != method:
            return None
        found = self.regex.match(raw_path)
        if found is None:
            return None
        return {key: unquote(value) for key, value in found.groupdict().items()}


@attrs.define(eq=False)
class Rule:
    """A pending fault: ``kind`` is fail, delay, truncate or stall."""

    kind: str
    method: str
    glob: str
    times: int
    status: int = 500
    message: str = ""
    seconds: float = 0.0
    after_bytes: int = 0
    eof: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        if self.method != "*" and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.glob)


def json_body(value: Any) -> bytes:
    return (json.dumps(value, separators=(",", ":")) + "\n").encode()


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json_body(value), content_type="application/json")


def error_response(status: int, message: str) -> web.Response:
    return json_response({"message": message}, status)


def empty_response(status: int = 204) -> web.Response:
    return web.Response(status=status)


# --- cutting bodies short (truncate / stall) -------------------------------------


class Cut(Exception):
    """The body was cut on purpose; the connection is gone or abandoned."""


class Abandoned(web.StreamResponse):
    """A response whose connection the handler already finished or dropped itself."""

    async def prepare(self, request: web.BaseRequest) -> None:
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


class Budget:
    """Counts body bytes and carries out a truncate/stall rule when they run out.

    ``stop`` is awaited for stalls: it returns when the fake shuts down.
    """

    def __init__(self, rule: Rule | None, stop: Callable[[], Awaitable[None]]) -> None:
        self.rule = rule
        self.sent = 0
        self._stop = stop

    def split(self, data: bytes) -> tuple[bytes, bool]:
        """The part of ``data`` that may be sent, and whether the cut happens after it."""
        rule = self.rule
        if rule is None:
            return data, False
        room = rule.after_bytes - self.sent
        if len(data) < room:
            self.sent += len(data)
            return data, False
        self.sent = rule.after_bytes
        return data[: max(room, 0)], True

    async def send(self, data: bytes, write: Callable[[bytes], Awaitable[None]]) -> bool:
        """Write the part of ``data`` that may go out; whether the cut is due after it."""
        if not data:
            return False
        part, cut = self.split(data)
        if part:
            await write(part)
        return cut

    async def finish_cut(self, transport: asyncio.BaseTransport | None) -> None:
        """Carry out the cut after the allowed bytes went out: drop, or hang then drop."""
        rule = self.rule
        if rule is None:
            return  # no rule, nothing to cut
        if rule.kind == "stall":
            await self._stop()
        if transport is not None:
            transport.close()
        raise Cut


class NoTypeStreamResponse(web.StreamResponse):
    """A streaming response that may go out without any ``Content-Type``.

    Engine 20.10 sends container logs with no content type at all; aiohttp
    would add ``application/octet-stream`` on its own.
    """

    def __init__(self, *, status: int = 200, omit_content_type: bool = False) -> None:
        super().__init__(status=status)
        self._omit_content_type = omit_content_type

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        if self._omit_content_type:
            self.headers.popall("Content-Type", None)


class BodyWriter:
    """Writes a chunked streaming body through a :class:`Budget`."""

    def __init__(self, request: web.BaseRequest, response: web.StreamResponse, budget: Budget):
        self.request = request
        self.response = response
        self.budget = budget

    async def write(self, data: bytes) -> None:
        if await self.budget.send(data, self.response.write):
            rule = self.budget.rule
            if rule is not None and rule.kind == "truncate" and rule.eof:
                await self.response.write_eof()
                raise Cut
            await self.budget.finish_cut(self.request.transport)

    async def finish(self) -> web.StreamResponse:
        await self.response.write_eof()
        return self.response


async def send_cut(
    request: web.BaseRequest, response: web.Response, budget: Budget
) -> web.StreamResponse:
    """Send a complete (non-streaming) response through a truncate/stall rule."""
    rule = budget.rule
    if rule is None:
        return response  # nothing to cut: aiohttp sends it whole
    body = bytes(response.body) if isinstance(response.body, (bytes, bytearray)) else b""
    part, _ = budget.split(body)
    if rule.kind == "truncate" and rule.eof:
        short = web.Response(status=response.status, body=part, headers=response.headers)
        short.headers.popall("Content-Length", None)
        return short
    stream = web.StreamResponse(status=response.status, reason=response.reason)
    stream.headers.update(response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    if part:
        await stream.write(part)
    with contextlib.suppress(Cut):
        await budget.finish_cut(request.transport)
    return Abandoned()


# --- taking over a connection (hijack) --------------------------------------------------


class Takeover(asyncio.Protocol):
    """Replaces aiohttp's protocol on a connection after an upgrade.

    Incoming bytes land in ``inbox`` (``b""`` marks end of input); a
    half-close from the client keeps our write side open, as the engine's
    hijacked connections do. ``connection_lost`` is passed on so aiohttp
    still forgets the connection.
    """

    def __init__(self, original: asyncio.BaseProtocol, transport: asyncio.Transport) -> None:
        self._original = original
        self.transport = transport
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.lost = False
        self._writable = asyncio.Event()
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        if data:
            self.inbox.put_nowait(data)

    def eof_received(self) -> bool:
        self.inbox.put_nowait(b"")
        return True

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._writable.set()
        self.inbox.put_nowait(b"")
        self._original.connection_lost(exc)

    async def write(self, data: bytes) -> None:
        if self.lost or self.transport.is_closing():
            raise ConnectionResetError("the client closed the connection")
        self.transport.write(data)
        await self._writable.wait()

    def close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def take_over(request: web.BaseRequest) -> Takeover:
    """Detach the request's connection from aiohttp (only call before answering)."""
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("the client closed the connection")
    if not isinstance(transport, asyncio.Transport):
        raise ConnectionResetError("the connection is not a byte stream")
    protocol = Takeover(transport.get_protocol(), transport)
    transport.set_protocol(protocol)
    return protocol


class RawWriter:
    """Writes a taken-over connection's body through a :class:`Budget`."""

    def __init__(self, conn: Takeover, budget: Budget) -> None:
        self.conn = conn
        self.budget = budget

    async def write(self, data: bytes) -> None:
        if await self.budget.send(data, self.conn.write):
            await self.budget.finish_cut(self.conn.transport)


def raw_head(status_line: str, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status_line}"]
    lines.extend(f"{key}: {value}" for key, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def query_dict(request: web.BaseRequest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query.items():
        out.setdefault(key, []).append(value)
    return out
