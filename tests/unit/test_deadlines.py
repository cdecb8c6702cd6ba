"""Deadlines: call limits enforced by one shared timer."""

from __future__ import annotations

import asyncio
import sys

import pytest

from aiodock._deadlines import Deadlines


async def _call(deadlines: Deadlines, limit: float, hold: float = 5.0) -> str:
    token = deadlines.start(limit)
    try:
        await asyncio.sleep(hold)
        return "done"
    except asyncio.CancelledError:
        if deadlines.expired(token):
            return "timed out"
        raise
    finally:
        deadlines.finish(token)


async def test_each_call_gets_its_own_limit_and_the_timer_follows_the_earliest() -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    slow = asyncio.create_task(_call(deadlines, 0.3))
    fast = asyncio.create_task(_call(deadlines, 0.05))
    quick = asyncio.create_task(_call(deadlines, 5, hold=0.01))
    assert await fast == "timed out"
    assert not slow.done()
    assert await quick == "done"
    assert await slow == "timed out"
    assert deadlines._calls == {} and deadlines._expired == set()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="needs Task.uncancel (3.11)")
async def test_a_caller_cancelling_as_the_limit_expires_gets_its_cancellation() -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    task = asyncio.create_task(_call(deadlines, 0))
    await asyncio.sleep(0)  # registered and waiting
    deadlines._check()  # the limit expires: the task is cancelled by the deadline...
    task.cancel()  # ...and by its caller, before it runs again
    with pytest.raises(asyncio.CancelledError):
        await task
    assert deadlines._calls == {}
