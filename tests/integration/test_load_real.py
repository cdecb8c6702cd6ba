"""Load against the real engine: read-only, so it can share the engine with other tests.

- 2,000 pings at a concurrency of 200 on one client, and 1,000 typed inspects of a
  running container at 100: no errors, nothing left held.
- 200 follow streams (logs of a container that prints forever, and events) stay open
  and delivering while 200 ordinary calls go through with the client's defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from aiodock import DockerClient
from aiodock.errors import NotFound
from tests._wait import eventually
from tests.integration import _infra

pytestmark = pytest.mark.integration


def _acquired(client: DockerClient) -> int:
    session = client._shared.session
    assert session is not None and session.connector is not None
    return len(session.connector._acquired)


@pytest.fixture
async def talker(docker: DockerClient, busybox: str) -> AsyncIterator[str]:
    created = await docker.containers.create(
        image=busybox,
        cmd=["sh", "-c", "i=0; while :; do i=$((i+1)); echo line $i; sleep 0.05; done"],
        network="none",
        labels=_infra.TEST_LABEL,
        stop_signal="SIGKILL",
    )
    try:
        await docker.containers.start(created.id)
        yield created.id
    finally:
        with contextlib.suppress(NotFound):
            await docker.containers.remove(created.id, force=True)


async def _run(count: int, concurrency: int, call: Callable[[], Awaitable[object]]) -> int:
    remaining = iter(range(count))
    done = 0

    async def worker() -> None:
        nonlocal done
        for _ in remaining:
            await call()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def test_two_thousand_pings_at_concurrency_200_and_a_thousand_inspects(
    talker: str,
) -> None:
    async with DockerClient(_infra.DOCKER_HOST, max_connections=200) as client:
        began = time.monotonic()
        assert await _run(2_000, 200, client.system.ping) == 2_000
        pings = time.monotonic() - began

        async def inspect() -> None:
            info = await client.containers.inspect(talker)
            assert info.id == talker and info.state is not None and info.state.running

        began = time.monotonic()
        assert await _run(1_000, 100, inspect) == 1_000
        inspects = time.monotonic() - began
        assert _acquired(client) == 0
        assert client._shared.limiter.free == 200
    print(f"real engine: 2,000 pings in {pings:.2f}s, 1,000 inspects in {inspects:.2f}s")


async def test_two_hundred_open_streams_do_not_starve_ordinary_calls(talker: str) -> None:
    async with DockerClient(_infra.DOCKER_HOST) as client:  # defaults: 100 ordinary calls
        received = [0] * 200
        live = asyncio.Event()

        async def follow(i: int) -> None:
            stream = (
                client.containers.logs(talker, follow=True, tail=1, tty=False)
                if i % 2
                else client.system.events(filters={"container": [talker]})
            )
            async with stream:
                async for _ in stream:
                    received[i] += 1
                    if sum(1 for n in received[1::2] if n) == 100:
                        live.set()

        streams = [asyncio.ensure_future(follow(i)) for i in range(200)]
        try:
            # Every stream is open; every logs stream has delivered.
            await asyncio.wait_for(live.wait(), 60)
            await eventually(lambda: _acquired(client) >= 200)
            began = time.monotonic()
            infos = await asyncio.gather(*(client.containers.inspect(talker) for _ in range(200)))
            busy = time.monotonic() - began
            assert all(info.id == talker for info in infos)
            before = sum(received)
            await eventually(  # the talker keeps writing: so must the streams
                lambda: sum(received) > before, what="the follow streams keep delivering"
            )
            assert not any(s.done() for s in streams), [s for s in streams if s.done()][:1]
        finally:
            for s in streams:
                s.cancel()
            await asyncio.gather(*streams, return_exceptions=True)
        assert _acquired(client) == 0
    assert busy < 10.0, f"200 inspects took {busy:.2f}s beside 200 open streams"
    print(f"real engine: 200 inspects in {busy:.2f}s beside 200 open follow streams")
