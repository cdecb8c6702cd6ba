"""Container archive routes: ``GET``/``HEAD``/``PUT /containers/{id}/archive``."""

from __future__ import annotations

from aiohttp import web

from .._files import stat_header
from .._wire import Answer, FakeRequest
from .args import fake_of

__all__ = ["archive_get", "archive_put"]


def _archive_path(req: FakeRequest) -> str:
    path = req.arg("path") or ""
    if not path:
        # Sic: the engine's message has no space there.
        raise Answer(400, "bad parameter: pathcannot be empty")
    return path


async def archive_get(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    path = _archive_path(req)
    tree = fake.files(c.id)
    headers = fake.common_headers()
    if req.method == "HEAD":
        headers["X-Docker-Container-Path-Stat"] = stat_header(tree.stat(path, c.id))
        return web.Response(status=200, headers=headers)
    body, stat = tree.archive(path, c.id)
    headers["X-Docker-Container-Path-Stat"] = stat_header(stat)
    headers["Content-Type"] = "application/x-tar"
    fake._container_event(c, "archive-path")
    return web.Response(status=200, body=body, headers=headers)


async def archive_put(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    path = _archive_path(req)
    fake.files(c.id).extract(
        path, req.body, c.id, no_overwrite_dir_non_dir=req.flag("noOverwriteDirNonDir")
    )
    fake._container_event(c, "extract-to-dir")
    return web.Response(status=200)
