"""A container attached over a WebSocket (``containers.attach_websocket``).

The one call that is neither plain HTTP nor a hijacked connection: aiohttp's
WebSocket client does the upgrade, from the same request description as any call.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp

from ..errors import DockerConnectionError, UsageError, error_class_for
from .failures import TRANSPORT_ERRORS
from .request import Request

if TYPE_CHECKING:
    from yarl import URL


class AttachWebSocket:
    """A container attached over a WebSocket (``/containers/{id}/attach/ws``).

    Iterate it for output as ``bytes`` messages (never multiplexed: stdout
    and stderr arrive mixed); :meth:`send` writes to stdin. Use it as an
    ``async with`` block or call :meth:`aclose`. Made by
    ``containers.attach_websocket``; these arguments are for aiodock's own use.

    Args:
        ws: the open WebSocket.
        what: how errors name the call.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse[bool], what: str) -> None:
        self._ws = ws
        self._what = what

    async def __aenter__(self) -> AttachWebSocket:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        while True:
            try:
                msg = await self._ws.receive()
            except TRANSPORT_ERRORS as exc:
                await self.aclose()
                raise DockerConnectionError(f"{self._what}: {exc or type(exc).__name__}") from exc
            if msg.type == aiohttp.WSMsgType.BINARY:
                return bytes(msg.data)
            if msg.type == aiohttp.WSMsgType.TEXT:
                return str(msg.data).encode()
            if msg.type == aiohttp.WSMsgType.ERROR:
                await self.aclose()
                raise DockerConnectionError(f"{self._what}: {msg.data}")
            if msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                await self.aclose()
                raise StopAsyncIteration

    async def send(self, data: bytes) -> None:
        """Write bytes to the container's stdin.

        Args:
            data: the bytes to send, as one binary WebSocket message.
        """
        if self._ws.closed:
            raise UsageError(f"{self._what}: the WebSocket is closed")
        try:
            await self._ws.send_bytes(bytes(data))
        except (aiohttp.ClientError, OSError, ConnectionError) as exc:
            raise DockerConnectionError(f"{self._what}: writing stdin: {exc}") from exc

    async def read(self) -> bytes:
        """Read until the connection closes; return all output."""
        return b"".join([chunk async for chunk in self])

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def aclose(self) -> None:
        """Close the WebSocket; safe to call more than once."""
        if not self._ws.closed:
            with contextlib.suppress(Exception):
                await self._ws.close()


async def connect_websocket(
    session: aiohttp.ClientSession,
    url: URL,
    request: Request,
    server_hostname: str | None,
    *,
    where: str,
) -> AttachWebSocket:
    """Open the WebSocket ``request`` describes; failures map like any call's."""
    what = f"GET {request.path} (websocket) on {where}"
    timeout_cls = getattr(aiohttp, "ClientWSTimeout", None)  # aiohttp 3.11+
    timeouts: dict[str, Any] = (
        {"timeout": timeout_cls(ws_receive=None, ws_close=10.0)}
        if timeout_cls is not None
        else {"receive_timeout": None}
    )
    try:
        ws = await session.ws_connect(
            url,
            **timeouts,
            autoping=True,
            max_msg_size=0,
            server_hostname=server_hostname,
        )
    except aiohttp.WSServerHandshakeError as exc:
        # The handshake error keeps the status but not the daemon's body: name
        # the path (it holds the id) so that a 404 says what was not found.
        message = f"{exc.message or 'websocket handshake failed'} ({request.path})"
        raise error_class_for(exc.status, request.not_found)(
            exc.status, message, "GET", request.path
        ) from exc
    except TRANSPORT_ERRORS as exc:
        raise DockerConnectionError(f"{what}: {exc or type(exc).__name__}") from exc
    return AttachWebSocket(ws, what)
