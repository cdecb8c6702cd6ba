"""aiodocker (latest) through its public API where it has one.

It has no ping method, so ping uses its request helper ``_query``. Logs come
back as text (decoded as UTF-8, invalid bytes dropped) and one request
carries one stream, so stdout and stderr take two requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiodocker

from ._common import DOCKER_URL, STDERR, STDOUT, Digest

NAME = "aiodocker"


class Client:
    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency

    async def __aenter__(self) -> Client:
        self.docker = aiodocker.Docker(url=DOCKER_URL)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.docker.close()

    async def ping(self) -> None:
        async with self.docker._query("_ping", versioned_api=False) as resp:
            await resp.read()

    async def inspect(self, cid: str) -> Any:
        return await self.docker.containers.get(cid)

    async def list(self, label: str) -> list[Any]:
        return await self.docker.containers.list(all=True, filters={"label": [label]})

    async def logs(self, cid: str) -> dict[str, Any]:
        digest = Digest()
        container = self.docker.containers.container(cid)
        for stream, flags in ((STDOUT, {"stdout": True}), (STDERR, {"stderr": True})):
            async for text in container.log(follow=True, **flags):
                digest.add(stream, text.encode("utf-8"))
        return {**digest.result(), "requests": 2}

    async def events(
        self, prefix: str, count: int, ready: Callable[[], None], deadline: float
    ) -> list[int]:
        latencies: list[int] = []
        events = self.docker.events
        subscriber = events.subscribe(filters={"type": ["volume"]})
        # aiodocker has no "connected" signal; its stream object appears once
        # the response has arrived.
        while events.json_stream is None:  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.005)
        ready()
        while len(latencies) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                event = await asyncio.wait_for(subscriber.get(), remaining)
            except asyncio.TimeoutError:
                break
            now = time.time_ns()
            if event is None:
                break
            if event["Actor"]["ID"].startswith(prefix):
                latencies.append(now - event["timeNano"])
        await events.stop()
        return latencies

    async def exec(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        digest = Digest()
        container = self.docker.containers.container(cid)
        execute = await container.exec(cmd, stdout=True, stderr=True)
        async with execute.start(detach=False) as stream:
            while True:
                message = await stream.read_out()
                if message is None:
                    break
                digest.add(message.stream, message.data)
        while True:
            info = await execute.inspect()
            if not info["Running"]:
                break
        return {**digest.result(), "exit_code": info["ExitCode"]}
