"""A tiny aiohttp.web server on a unix socket for the core's unit tests."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a fresh unix socket; yield its ``unix://`` address."""
    with tempfile.TemporaryDirectory(prefix="aiodock-") as tmp:
        path = str(Path(tmp) / "docker.sock")
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        site = web.UnixSite(runner, path)
        await site.start()
        try:
            yield f"unix://{path}"
        finally:
            await runner.cleanup()


PINGS = web.AppKey("pings", list[int])


def reply(make: Callable[[], web.StreamResponse]) -> Any:
    """A handler answering ``make()`` to every request (tests' one-liners)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return make()

    return handler


def ping_app(api_version: str = "1.41") -> web.Application:
    """An app whose ``/_ping`` announces ``api_version``; counts pings in ``app[PINGS][0]``."""
    app = web.Application()
    pings = app[PINGS] = [0]

    async def ping(request: web.Request) -> web.Response:
        pings[0] += 1
        return web.Response(text="OK", headers={"API-Version": api_version})

    app.router.add_route("GET", "/_ping", ping)
    app.router.add_route("HEAD", "/_ping", ping)
    return app
