"""Bounding an await in time without ever losing a cancellation.

``asyncio.wait_for`` before Python 3.12 can swallow a cancellation that
arrives just as the awaited operation finishes, leaving the caller running
when it was told to stop. ``asyncio.timeout`` (3.11+) and ``async_timeout``
(3.10, already an aiohttp dependency there) cannot.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from typing import TypeVar

if sys.version_info >= (3, 11):
    from asyncio import timeout as _timeout
else:  # pragma: no cover - exercised on Python 3.10 only
    from async_timeout import timeout as _timeout

__all__ = ["wait_for"]

T = TypeVar("T")


async def wait_for(awaitable: Awaitable[T], timeout: float | None) -> T:
    """Await ``awaitable``; raise ``TimeoutError`` after ``timeout`` seconds (``None``: never)."""
    if timeout is None:
        return await awaitable
    async with _timeout(timeout):
        return await awaitable
