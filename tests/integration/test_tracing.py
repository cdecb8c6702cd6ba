"""Tracing and stats against the real engine: a TraceConfig given to the client sees the
ordinary calls and the hijacked exec start, with the daemon's own statuses."""

from __future__ import annotations

import contextlib
from typing import Any

import aiohttp

from aiodock import DockerClient
from aiodock.errors import NotFound


async def test_a_trace_config_sees_ordinary_calls_and_an_exec(
    busybox: str, test_label: dict[str, str]
) -> None:
    seen: list[tuple[str, str, str, Any]] = []
    config = aiohttp.TraceConfig()

    async def start(_: Any, ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        seen.append(("start", params.method, params.url.path, None))

    async def end(_: Any, ctx: Any, params: aiohttp.TraceRequestEndParams) -> None:
        seen.append(("end", params.method, params.url.path, params.response.status))

    async def failed(_: Any, ctx: Any, params: aiohttp.TraceRequestExceptionParams) -> None:
        seen.append(("exception", params.method, params.url.path, params.exception))

    config.on_request_start.append(start)
    config.on_request_end.append(end)
    config.on_request_exception.append(failed)
    async with DockerClient(trace_configs=[config]) as docker:
        container = await docker.containers.create(
            image=busybox, cmd=["sleep", "60"], labels=test_label, stop_timeout=0
        )
        try:
            await docker.containers.start(container.id)
            result = await docker.exec.run(container.id, ["sh", "-c", "echo hi; exit 3"])
            assert (result.exit_code, bytes(result.stdout)) == (3, b"hi\n")
            stats = docker.stats()
            assert stats.open_hijacked == 0 and stats.connections_in_use == 0
        finally:
            with contextlib.suppress(NotFound):
                await docker.containers.remove(container.id, force=True)
    ends = {
        (method, path.rsplit("/", 1)[-1]): status
        for kind, method, path, status in seen
        if kind == "end"
    }
    assert ends[("GET", "_ping")] == 200 and ends[("POST", "create")] == 201
    exec_starts = [s for s in seen if "/exec/" in s[2] and s[2].endswith("/start")]
    assert [s[0] for s in exec_starts] == ["start", "end"]
    assert exec_starts[1][3] in (101, 200)  # the hijacked connection's own status
    assert not [s for s in seen if s[0] == "exception"]
