"""The base of every resource namespace."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from .._http.timeouts import wait_for
from ..errors import DockerError, DockerTimeoutError

if TYPE_CHECKING:
    from .._client import DockerClient

_T = TypeVar("_T")


async def within(timeout: float | None, awaitable: Awaitable[_T], late: str) -> _T:
    """Await ``awaitable`` for at most ``timeout`` seconds (``None``: no limit).

    Running out of time raises :class:`~aiodock.errors.DockerTimeoutError`
    saying ``"{late} within {timeout} seconds"``; a timeout error raised by
    the awaitable itself (already a :class:`~aiodock.errors.DockerError`)
    passes through unchanged.
    """
    try:
        return await wait_for(awaitable, timeout)
    except asyncio.TimeoutError as exc:
        if isinstance(exc, DockerError):
            raise
        raise DockerTimeoutError(f"{late} within {timeout} seconds") from None


class Resource:
    """A namespace of Engine operations bound to one client (or view)."""

    __slots__ = ("_client",)

    def __init__(self, client: DockerClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
