"""A container attached over a WebSocket (``containers.attach_websocket``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp

from ...errors import DockerConnectionError, UsageError


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
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
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
