"""Setup and teardown on the engine, with bare aiohttp (no client under test involved)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import aiohttp

SOCKET = "/var/run/docker.sock"
BASE = "http://docker"
IMAGE = "aiodock-test/busybox:latest"
TEST_LABEL = "aiodock-test"
RUN_LABEL = "aiodock-bench"


class EngineError(RuntimeError):
    pass


class Engine:
    """A tiny engine client for the harness (parent process only)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Engine:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(SOCKET, limit=16),
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        ok: Iterable[int] = (200, 201, 204, 304),
    ) -> Any:
        assert self._session is not None
        kwargs: dict[str, Any] = {"params": params}
        if body is not None:
            kwargs["json"] = body
        async with self._session.request(method, BASE + path, **kwargs) as resp:
            raw = await resp.read()
            if resp.status not in ok:
                raise EngineError(f"{method} {path}: {resp.status} {raw[:300]!r}")
            if raw and resp.content_type == "application/json":
                return json.loads(raw)
            return raw

    async def ping(self) -> dict[str, str]:
        assert self._session is not None
        async with self._session.get(BASE + "/_ping") as resp:
            await resp.read()
            return dict(resp.headers)

    async def version(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/version")
        return result

    async def image_exists(self, name: str = IMAGE) -> bool:
        try:
            await self.call("GET", f"/images/{name}/json")
        except EngineError:
            return False
        return True

    async def create(
        self,
        run_id: str,
        cmd: list[str],
        *,
        role: str,
        binds: list[str] | None = None,
        log_config: dict[str, Any] | None = None,
    ) -> str:
        host_config: dict[str, Any] = {"NetworkMode": "none"}
        if binds:
            host_config["Binds"] = binds
        if log_config:
            host_config["LogConfig"] = log_config
        body = {
            "Image": IMAGE,
            "Cmd": cmd,
            "Labels": {TEST_LABEL: "1", RUN_LABEL: run_id, f"{RUN_LABEL}.role": role},
            "HostConfig": host_config,
        }
        result = await self.call("POST", "/containers/create", body=body)
        return str(result["Id"])

    async def create_many(
        self, run_id: str, count: int, role: str, concurrency: int = 8
    ) -> list[str]:
        sem = asyncio.Semaphore(concurrency)

        async def one() -> str:
            async with sem:
                return await self.create(run_id, ["true"], role=role)

        return list(await asyncio.gather(*(one() for _ in range(count))))

    async def start(self, cid: str) -> None:
        await self.call("POST", f"/containers/{cid}/start")

    async def wait(self, cid: str) -> int:
        result = await self.call("POST", f"/containers/{cid}/wait")
        return int(result["StatusCode"])

    async def remove_run(self, run_id: str) -> int:
        """Force-remove every container of this run (checked by label); return how many."""
        filters = json.dumps({"label": [f"{RUN_LABEL}={run_id}"]})
        found = await self.call("GET", "/containers/json", params={"all": "1", "filters": filters})
        sem = asyncio.Semaphore(8)

        async def rm(c: dict[str, Any]) -> None:
            labels = c.get("Labels") or {}
            if labels.get(RUN_LABEL) != run_id or labels.get(TEST_LABEL) != "1":
                return
            async with sem:
                await self.call(
                    "DELETE",
                    f"/containers/{c['Id']}",
                    params={"force": "1", "v": "1"},
                    ok=(204, 404, 409),
                )

        await asyncio.gather(*(rm(c) for c in found))
        return len(found)

    async def create_volume(self, name: str) -> None:
        await self.call("POST", "/volumes/create", body={"Name": name, "Labels": {TEST_LABEL: "1"}})

    async def remove_volume(self, name: str) -> None:
        await self.call("DELETE", f"/volumes/{name}", ok=(204, 404))

    async def remove_volumes(self, prefix: str) -> None:
        result = await self.call(
            "GET", "/volumes", params={"filters": json.dumps({"label": [f"{TEST_LABEL}=1"]})}
        )
        for vol in result.get("Volumes") or []:
            if vol["Name"].startswith(prefix):
                await self.remove_volume(vol["Name"])
