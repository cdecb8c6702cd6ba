"""The reference: bare aiohttp making the same requests, no client library around it.

JSON bodies are read whole and decoded with orjson (what a user after speed
writes; aiodock decodes with orjson too); ``client_aiohttp_json`` is the same
client decoding with ``ClientResponse.json()`` (aiohttp's default, the stdlib
``json``), kept as a secondary row. Multiplexed output is demultiplexed by the
minimal inline loop of
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
import orjson

from ._common import SOCKET, Collect, Counter, Digest, InlineDemux

NAME = "aiohttp"
BASE = "http://docker/v1.41"


class Client:
    @staticmethod
    async def decode(resp: aiohttp.ClientResponse) -> Any:
        return orjson.loads(await resp.read())

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency

    async def __aenter__(self) -> Client:
        # No connection limit (aiohttp's default is 100): the streams scenarios hold
        # up to 200 streams open at once, as aiodock does (streams are not limited).
        self.session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(SOCKET, limit=0))
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
            return await self.decode(resp)

    async def list(self, label: str) -> list[Any]:
        params = {"all": "1", "filters": json.dumps({"label": [label]})}
        async with self.session.get(f"{BASE}/containers/json", params=params) as resp:
            resp.raise_for_status()
            result: list[Any] = await self.decode(resp)
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

    async def logs_collect(self, cid: str) -> tuple[bytearray, bytearray]:
        """The whole output held once: payloads appended to one bytearray per stream."""
        out, err = bytearray(), bytearray()
        collector = Collect(out, err)
        params = {"stdout": "1", "stderr": "1"}
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.get(
            f"{BASE}/containers/{cid}/logs", params=params, timeout=timeout
        ) as resp:
            resp.raise_for_status()
            async for chunk in resp.content.iter_any():
                collector.feed(chunk)
        return out, err

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
            exec_id = (await self.decode(resp))["Id"]
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
                info = await self.decode(resp)
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
                event = orjson.loads(line)
                now = time.time_ns()
                if event["Actor"]["ID"].startswith(prefix):
                    latencies.append(now - event["timeNano"])
        return latencies

    async def exec(self, cid: str, cmd: list[str]) -> dict[str, Any]:
        body = {"AttachStdout": True, "AttachStderr": True, "Cmd": cmd}
        async with self.session.post(f"{BASE}/containers/{cid}/exec", json=body) as resp:
            resp.raise_for_status()
            exec_id = (await self.decode(resp))["Id"]
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
                info = await self.decode(resp)
            if not info["Running"]:
                break
        return {**digest.result(), "exit_code": info["ExitCode"]}

    async def stream_stats(self, cid: str, counter: Counter) -> None:
        """Follow ``/stats`` and decode every sample (until cancelled)."""
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.get(
            f"{BASE}/containers/{cid}/stats", params={"stream": "1"}, timeout=timeout
        ) as resp:
            resp.raise_for_status()
            first = True
            while True:
                line = await resp.content.readline()
                if not line:
                    return
                sample = orjson.loads(line)
                counter.items += 1
                counter.bytes += len(line)
                if first and sample:
                    counter.opened += 1
                    first = False

    async def stream_logs(self, cid: str, counter: Counter) -> None:
        """Follow new log output, demultiplexed and counted (until cancelled)."""
        demux = InlineDemux(counter)  # type: ignore[arg-type]
        params = {"stdout": "1", "stderr": "1", "follow": "1", "tail": "0"}
        timeout = aiohttp.ClientTimeout(total=None)
        async with self.session.get(
            f"{BASE}/containers/{cid}/logs", params=params, timeout=timeout
        ) as resp:
            resp.raise_for_status()
            counter.opened += 1
            async for chunk in resp.content.iter_any():
                demux.feed(chunk)
                counter.items += 1
