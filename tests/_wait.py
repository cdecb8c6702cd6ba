"""Waiting for a condition instead of for time.

A test that sleeps "long enough" for something to happen is slow when the machine
is idle and flaky when it is loaded. These helpers poll the condition itself and
give up at a deadline, which is generous because it is only reached on failure.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from aiodock import DockerClient

T = TypeVar("T")

#: Long enough for a loaded CI machine; only a failing test waits this long.
DEFAULT_TIMEOUT = 10.0


@overload
async def eventually(
    condition: Callable[[], Awaitable[T]],
    *,
    timeout: float = ...,
    interval: float = ...,
    what: str = ...,
) -> T: ...
@overload
async def eventually(
    condition: Callable[[], T], *, timeout: float = ..., interval: float = ..., what: str = ...
) -> T: ...
async def eventually(
    condition: Callable[[], Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.005,
    what: str = "",
) -> Any:
    """Return ``condition()``'s first truthy result; fail the test after ``timeout`` seconds.

    ``condition`` may be a plain function or a coroutine function.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() >= deadline:
            raise AssertionError(f"not true within {timeout}s: {what or condition}")
        await asyncio.sleep(interval)


def pooled_and_open(client: DockerClient) -> int:
    """Idle connections in ``client``'s pool that the peer has not closed (yet).

    A condition to wait for after the daemon closes keep-alive connections.
    """
    session = client._shared.session
    assert session is not None
    pools = getattr(session.connector, "_conns", {})  # aiohttp has no public view
    return sum(proto.is_connected() for pool in pools.values() for proto, *_ in pool)
