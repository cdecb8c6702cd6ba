"""aiohttp request signals for hijacked (upgraded) connections.

Attach, exec start and session connections are opened on a raw socket, not
through the aiohttp session, so aiohttp sends no trace signals for them.
``HijackTrace`` sends the same three request signals the session sends for
an ordinary call (``on_request_start``, then ``on_request_end`` once the
response head arrived, or ``on_request_exception``), with aiohttp's own
parameter classes, so a ``TraceConfig`` (OpenTelemetry's aiohttp
instrumentation, a user's metrics) sees every call the client makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

__all__ = ["HijackTrace", "HijackedResponse"]


class HijackedResponse:
    """What ``on_request_end`` gets as ``params.response`` for a hijacked connection.

    A stand-in for :class:`aiohttp.ClientResponse` with the attributes tracers
    read: ``status``, ``reason``, ``headers``, ``method``, ``url`` and
    ``real_url``. The body is not readable through it (the stream is).
    """

    __slots__ = ("headers", "method", "reason", "status", "url")

    def __init__(
        self, method: str, url: URL, status: int, headers: Mapping[str, str], reason: str = ""
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.reason = reason
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(headers))

    @property
    def real_url(self) -> URL:
        return self.url

    def __repr__(self) -> str:
        return f"<HijackedResponse({self.url}) [{self.status}]>"


class HijackTrace:
    """The request signals of one hijacked call, for every trace config of a session."""

    __slots__ = ("_contexts", "_headers", "_method", "_session", "_url")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        configs: Sequence[aiohttp.TraceConfig],
        method: str,
        url: URL,
        header_lines: Sequence[str],
    ) -> None:
        self._session = session
        self._method = method
        self._url = url
        headers: CIMultiDict[str] = CIMultiDict()
        for line in header_lines:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
        self._headers = headers
        # One context per config per request, as the session makes them.
        self._contexts: list[tuple[aiohttp.TraceConfig, Any]] = [
            (config, config.trace_config_ctx()) for config in configs
        ]

    async def start(self) -> None:
        params = aiohttp.TraceRequestStartParams(self._method, self._url, self._headers)
        for config, context in self._contexts:
            await config.on_request_start.send(self._session, context, params)

    async def end(self, status: int, headers: Mapping[str, str]) -> None:
        response: Any = HijackedResponse(self._method, self._url, status, headers)
        params = aiohttp.TraceRequestEndParams(self._method, self._url, self._headers, response)
        for config, context in self._contexts:
            await config.on_request_end.send(self._session, context, params)

    async def exception(self, exc: BaseException) -> None:
        params = aiohttp.TraceRequestExceptionParams(
            self._method,
            self._url,
            self._headers,
            exc,
        )
        for config, context in self._contexts:
            await config.on_request_exception.send(self._session, context, params)
