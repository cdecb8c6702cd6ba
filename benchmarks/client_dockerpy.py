"""docker-py (latest ``docker``) run in threads, as an asyncio program has to use it.

Every call goes through ``loop.run_in_executor`` on a pool as wide as the
concurrency, and the client's connection pool is made as wide too. Logs
cannot be demultiplexed in one request, so stdout and stderr take two;
``containers.list`` inspects every container it lists (its default).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker

from ._common import DOCKER_URL, STDERR, STDOUT, Digest

NAME = "docker-py"
T = TypeVar("T")


class Client:
    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = max(1, concurrency)
        self._containers: dict[str, Any] = {}

    async def __aenter__(self) -> Client:
        self.pool = ThreadPoolExecutor(self.concurrency)
        self.docker = await self._call(
            docker.DockerClient, base_url=DOCKER_URL, version="auto", max_pool_size=self.concurrency
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._call(self.docker.close)
        self.pool.shutdown()

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self.pool, functools.partial(fn, *args, **kwargs))

    async def ping(self) -> None:
        await self._call(self.docker.ping)

    async def inspect(self, cid: str) -> Any:
        return await self._call(self.docker.containers.get, cid)

    async def list(self, label: str) -> list[Any]:
        return await self._call(self.docker.containers.list, all=True, filters={"label": label})

    def _logs(self, cid: str) -> dict[str, Any]:
        digest = Digest()
        api = self.docker.api
        for stream, flags in (
            (STDOUT, {"stdout": True, "stderr": False}),
            (STDERR, {"stdout": False, "stderr": True}),
        ):
            for chunk in api.logs(cid, stream=True, follow=False, **flags):
                digest.add(stream, chunk)
        return {**digest.result(), "requests": 2}

    async def logs(self, cid: str) -> dict[str, Any]:
        return await self._call(self._logs, cid)

    def _events(
        self, prefix: str, count: int, ready: Callable[[], None], deadline: float
    ) -> list[int]:
        latencies: list[int] = []
        stream = self.docker.events(decode=True, filters={"type": "volume"})
        try:
            ready()
            for event in stream:
                now = time.time_ns()
                if event["Actor"]["ID"].startswith(prefix):
                    latencies.append(now - event["timeNano"])
                    if len(latencies) >= count:
                        break
                if time.monotonic() > deadline:
                    break
        finally:
            stream.close()
        return latencies

    async def events(
        self, prefix: str, count: int, ready: Callable[[], None], deadline: float
    ) -> list[int]:
        return await self._call(self._events, prefix, count, ready, deadline)

    def _exec(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        container = self._containers.get(cid)
        if container is None:
            container = self._containers[cid] = self.docker.containers.get(cid)
        code, (out, err) = container.exec_run(cmd, demux=True)
        digest = Digest()
        digest.add(STDOUT, out or b"")
        digest.add(STDERR, err or b"")
        return {**digest.result(), "exit_code": code}

    async def exec(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        return await self._call(self._exec, cid, cmd)
