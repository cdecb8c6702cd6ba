"""Deadlines: call limits enforced by one shared timer."""

from __future__ import annotations

import asyncio
import sys

import pytest

from aiodock._http.timeouts import Deadlines


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


async def test_a_caller_cancelling_as_the_limit_expires_gets_its_cancellation() -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    task = asyncio.create_task(_call(deadlines, 0))
    await asyncio.sleep(0)  # registered and waiting
    deadlines._check()  # the limit expires: the task is cancelled by the deadline...
    task.cancel()  # ...and by its caller, before it runs again
    if sys.version_info >= (3, 11):
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        # Python 3.10 has no Task.cancelling()/uncancel(): the two cancellations cannot
        # be told apart, and the call reports its timeout (a documented limitation).
        assert await task == "timed out"
    assert deadlines._calls == {}
