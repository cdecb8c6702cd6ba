"""A FastAPI app that owns one ``DockerClient`` for its whole life.

    uvicorn examples.fastapi_app:app --host 127.0.0.1 --port 8000 --timeout-graceful-shutdown 5

The client is created when the app starts (lifespan) and closed when it shuts
down; every request shares its connections. Endpoints:

- ``GET  /containers?all=true&label=key=value`` - list containers
- ``GET  /containers/{id}`` - inspect one (404 if there is no such container)
- ``POST /containers/{id}/start`` and ``/stop`` - ``{"changed": false}`` when it
  already was in that state
- ``GET  /containers/{id}/logs?follow=true&tail=100`` - the logs as server-sent
  events (``event: stdout`` / ``stderr``, one line per event, ``event: end`` when
  the container stops). Open it with ``new EventSource(url)`` in a browser or
  ``curl -N``. When the browser goes away, the log stream's connection to the
  daemon is released: a keep-alive comment is sent after every silent
  ``heartbeat`` seconds, so a dead client is noticed even if no log line comes.

``create_app(host)`` builds an app for another daemon address (tests use it).
uvicorn waits for open responses before it shuts down, and a followed log
never ends by itself: ``--timeout-graceful-shutdown`` bounds that wait, after
which the streams are cancelled (and released) and the lifespan closes the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from aiodock import DockerClient, Frame
from aiodock.errors import APIError, Conflict, DockerConnectionError, NotFound

T = TypeVar("T")


def create_app(host: str | None = None, *, heartbeat: float = 15.0) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        docker = DockerClient(host) if host else DockerClient.from_env()
        app.state.docker = docker
        try:
            yield
        finally:
            await docker.aclose()  # ends open log streams too

    app = FastAPI(title="aiodock example", lifespan=lifespan)

    def docker(request: Request) -> DockerClient:
        return request.app.state.docker  # type: ignore[no-any-return]

    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 502
        return JSONResponse({"detail": exc.message}, status_code=status)

    @app.exception_handler(DockerConnectionError)
    async def unreachable(request: Request, exc: DockerConnectionError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.get("/containers")
    async def list_containers(
        request: Request, all: bool = False, label: str | None = None
    ) -> list[dict[str, Any]]:
        filters = {"label": [label]} if label else None
        found = await docker(request).containers.list(all=all, filters=filters)
        return [
            {
                "id": c.id,
                "name": c.names[0].lstrip("/") if c.names else "",
                "image": c.image,
                "state": c.state,
                "status": c.status,
            }
            for c in found
        ]

    @app.get("/containers/{container_id}")
    async def inspect_container(request: Request, container_id: str) -> dict[str, Any]:
        c = await docker(request).containers.inspect(container_id)
        state = c.state
        return {
            "id": c.id,
            "name": c.name.lstrip("/"),
            "image": c.config.image if c.config else c.image,
            "labels": c.config.labels if c.config else {},
            "running": bool(state and state.running),
            "status": state.status if state else "",
            "exit_code": state.exit_code if state else None,
        }

    @app.post("/containers/{container_id}/start")
    async def start_container(request: Request, container_id: str) -> dict[str, Any]:
        return {"id": container_id, "changed": await docker(request).containers.start(container_id)}

    @app.post("/containers/{container_id}/stop")
    async def stop_container(
        request: Request, container_id: str, timeout: int = 10
    ) -> dict[str, Any]:
        changed = await docker(request).containers.stop(container_id, timeout=timeout)
        return {"id": container_id, "changed": changed}

    @app.get("/containers/{container_id}/logs")
    async def container_logs(
        request: Request, container_id: str, follow: bool = True, tail: int | None = None
    ) -> StreamingResponse:
        # Awaiting sends the request: a missing container is a 404 before any byte is sent.
        stream = await docker(request).containers.logs(container_id, follow=follow, tail=tail)
        return StreamingResponse(
            server_sent_events(stream.lines(), heartbeat),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=BackgroundTask(stream.aclose),  # even if the body was never started
        )

    return app


async def server_sent_events(lines: AsyncIterator[Frame], heartbeat: float) -> AsyncIterator[str]:
    """One SSE event per log line; a comment after each silent ``heartbeat`` seconds.

    However this generator ends (the log ends, or the client disconnects and
    the server cancels it, or a write to the gone client fails), the pending
    read is cancelled, which closes the log stream and its connection.
    """
    async for frame in with_heartbeat(lines, heartbeat):
        if frame is None:
            yield ": keep-alive\n\n"
            continue
        text = frame.data.decode("utf-8", "replace").rstrip("\r\n").replace("\r", "")
        yield f"event: {frame.stream.name.lower()}\ndata: {text}\n\n"
    yield "event: end\ndata: \n\n"


async def with_heartbeat(items: AsyncIterator[T], seconds: float) -> AsyncIterator[T | None]:
    """Yield the items, and ``None`` whenever none came for ``seconds``.

    The next item is read while the current one is handed out, and that read
    is never cancelled by a heartbeat, only when the consumer stops early.
    """
    pending = asyncio.ensure_future(anext(items))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=seconds)
            if not done:
                yield None
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(items))
            yield item
    finally:
        pending.cancel()  # a read still in progress: cancelling it closes the stream


app = create_app()
