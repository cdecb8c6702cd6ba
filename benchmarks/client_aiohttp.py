"""The reference: bare aiohttp making the same requests, no client library around it.

JSON is decoded with ``ClientResponse.json()`` (aiohttp's default, the stdlib
``json``); multiplexed output is demultiplexed by the minimal inline loop of
:class:`benchmarks._common.InlineDemux`, hashing payloads straight from the
received chunks.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from ._common import SOCKET, Digest, InlineDemux

NAME = "aiohttp"
BASE = "http://docker/v1.41"


class Client:
    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency

    async def __aenter__(self) -> Client:
        self.session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(SOCKET))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def ping(self) -> None:
        async with self.session.get("http://docker/_ping") as resp:
            resp.raise_for_status()
            await resp.read()

    async def inspect(self, cid: str) -> Any:
        async with self.session.get(f"{BASE}/containers/{cid}/json") as resp:
            resp.raise_for_status()
            return await resp.json()

    async def list(self, label: str) -> list[Any]:
        params = {"all": "1", "filters": json.dumps({"label": [label]})}
        async with self.session.get(f"{BASE}/containers/json", params=params) as resp:
            resp.raise_for_status()
            result: list[Any] = await resp.json()
            return result

    async def logs(self, cid: str) -> dict[str, Any]:
        digest = Digest()
        demux = InlineDemux(digest)
        params = {"stdout": "1", "stderr": "1"}
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.get(
            f"{BASE}/containers/{cid}/logs", params=params, timeout=timeout
        ) as resp:
            resp.raise_for_status()
            async for chunk in resp.content.iter_any():
                demux.feed(chunk)
        demux.check_eof()
        return {**digest.result(), "requests": 1}

    async def logs_raw(self, cid: str) -> dict[str, Any]:
        """The raw multiplexed body, hashed whole: no demultiplexing at all."""
        sha = hashlib.sha256()
        total = 0
        params = {"stdout": "1", "stderr": "1"}
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.get(
            f"{BASE}/containers/{cid}/logs", params=params, timeout=timeout
        ) as resp:
            resp.raise_for_status()
            async for chunk in resp.content.iter_any():
                sha.update(chunk)
                total += len(chunk)
        return {"raw_bytes": total, "raw_sha256": sha.hexdigest()}

    async def exec_raw(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        """Exec output as the raw multiplexed body, hashed whole; exit code as usual."""
        body = {"AttachStdout": True, "AttachStderr": True, "Cmd": cmd}
        async with self.session.post(f"{BASE}/containers/{cid}/exec", json=body) as resp:
            resp.raise_for_status()
            exec_id = (await resp.json())["Id"]
        sha = hashlib.sha256()
        total = 0
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.post(
            f"{BASE}/exec/{exec_id}/start", json={"Detach": False, "Tty": False}, timeout=timeout
        ) as resp:
            resp.raise_for_status()
            async for chunk in resp.content.iter_any():
                sha.update(chunk)
                total += len(chunk)
        while True:
            async with self.session.get(f"{BASE}/exec/{exec_id}/json") as resp:
                resp.raise_for_status()
                info = await resp.json()
            if not info["Running"]:
                break
        return {"raw_bytes": total, "raw_sha256": sha.hexdigest(), "exit_code": info["ExitCode"]}

    async def events(
        self, prefix: str, count: int, ready: Callable[[], None], deadline: float
    ) -> list[int]:
        params = {"filters": json.dumps({"type": ["volume"]})}
        latencies: list[int] = []
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.get(f"{BASE}/events", params=params, timeout=timeout) as resp:
            resp.raise_for_status()
            ready()
            while len(latencies) < count and time.monotonic() < deadline:
                line = await resp.content.readline()
                if not line:
                    break
                event = json.loads(line)
                now = time.time_ns()
                if event["Actor"]["ID"].startswith(prefix):
                    latencies.append(now - event["timeNano"])
        return latencies

    async def exec(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        body = {"AttachStdout": True, "AttachStderr": True, "Cmd": cmd}
        async with self.session.post(f"{BASE}/containers/{cid}/exec", json=body) as resp:
            resp.raise_for_status()
            exec_id = (await resp.json())["Id"]
        digest = Digest()
        demux = InlineDemux(digest)
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.post(
            f"{BASE}/exec/{exec_id}/start", json={"Detach": False, "Tty": False}, timeout=timeout
        ) as resp:
            resp.raise_for_status()
            async for chunk in resp.content.iter_any():
                demux.feed(chunk)
        demux.check_eof()
        while True:
            async with self.session.get(f"{BASE}/exec/{exec_id}/json") as resp:
                resp.raise_for_status()
                info = await resp.json()
            if not info["Running"]:
                break
        return {**digest.result(), "exit_code": info["ExitCode"]}
