"""aiodock through its public API (typed models, frames with the stream they came from)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiodock

from ._common import DOCKER_URL, Counter, Digest

NAME = "aiodock"


class Client:
    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency

    async def __aenter__(self) -> Client:
        self.docker = aiodock.DockerClient(DOCKER_URL)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.docker.aclose()

    async def ping(self) -> None:
        await self.docker.system.ping()

    async def inspect(self, cid: str) -> Any:
        return await self.docker.containers.inspect(cid)

    async def list(self, label: str) -> list[Any]:
        return await self.docker.containers.list(all=True, filters={"label": [label]})

    async def logs(self, cid: str) -> dict[str, Any]:
        digest = Digest()
        add = digest.add
        async with self.docker.containers.logs(cid, stdout=True, stderr=True) as stream:
            async for stream_type, data in stream:
                add(stream_type, data)
        return {**digest.result(), "requests": 1}

    async def logs_collect(self, cid: str) -> tuple[Any, Any]:
        output = await self.docker.containers.logs(cid, stdout=True, stderr=True).demux()
        return output.stdout, output.stderr

    async def events(
        self, prefix: str, count: int, ready: Callable[[], None], deadline: float
    ) -> list[int]:
        latencies: list[int] = []
        async with self.docker.system.events(filters={"type": ["volume"]}) as stream:
            ready()
            async for event in stream:
                now = time.time_ns()
                if event.actor.id.startswith(prefix):
                    latencies.append(now - event.time_nano)
                    if len(latencies) >= count:
                        break
                if time.monotonic() > deadline:
                    break
        return latencies

    async def exec(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        digest = Digest()
        process = await self.docker.exec.spawn(cid, cmd)
        async with process:
            async for stream_type, data in process:
                digest.add(stream_type, data)
        code = await process.wait()
        return {**digest.result(), "exit_code": code}

    async def stream_stats(self, cid: str, counter: Counter) -> None:
        """Follow ``containers.stats`` (typed samples) until cancelled."""
        first = True
        async with self.docker.containers.stats(cid) as stream:
            async for _sample in stream:
                counter.items += 1
                if first:
                    counter.opened += 1
                    first = False

    async def stream_logs(self, cid: str, counter: Counter) -> None:
        """Follow new log output as frames, counted, until cancelled."""
        async with self.docker.containers.logs(cid, follow=True, tail=0) as stream:
            counter.opened += 1
            async for frame in stream:
                counter.items += 1
                counter.bytes += len(frame[1])
