"""Container routes: create, list, inspect, the life cycle (start, stop, kill, pause...),
rename, wait, remove, top and resize."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from aiohttp import web

from .._state.containers import FakeContainer, name_in_use
from .._state.filters import check_filter_keys, labels_match, parse_filters
from .._state.values import check_name, parse_signal
from .._wire import Answer, FakeRequest, empty_response, json_body, json_response
from .args import fake_of, int_arg

if TYPE_CHECKING:
    from .._fake import FakeDocker

__all__ = [
    "container_create",
    "container_inspect",
    "container_kill",
    "container_list",
    "container_pause",
    "container_remove",
    "container_rename",
    "container_resize",
    "container_restart",
    "container_start",
    "container_stop",
    "container_top",
    "container_unpause",
    "container_wait",
]


async def container_create(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    body = req.json_object()
    c = fake.create_container(body, req.arg("name"))
    return json_response({"Id": c.id, "Warnings": []}, 201)


_CONTAINER_FILTERS = ("ancestor", "exited", "id", "label", "name", "status", "network", "volume")


def _container_matches(fake: FakeDocker, c: FakeContainer, filters: dict[str, list[str]]) -> bool:
    if "label" in filters and not labels_match(c.labels, filters["label"]):
        return False
    if "id" in filters and not any(c.id.startswith(v) for v in filters["id"]):
        return False
    if "name" in filters and not any(v.lstrip("/") in c.name for v in filters["name"]):
        return False
    if "status" in filters and c.status not in filters["status"]:
        return False
    if "exited" in filters and (c.status != "exited" or str(c.exit_code) not in filters["exited"]):
        return False
    if "ancestor" in filters:
        wanted = set()
        for ref in filters["ancestor"]:
            image = fake._find_image(ref)
            if image is not None:
                wanted.add(image.id)
        if c.image_id not in wanted:
            return False
    return True


async def container_list(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, _CONTAINER_FILTERS)
    limit = int_arg(req, "limit", -1)
    show_all = req.flag("all") or limit > 0
    items = sorted(fake.containers.values(), key=lambda c: c.created_ns, reverse=True)
    if not show_all:
        items = [c for c in items if c.running]
    items = [c for c in items if _container_matches(fake, c, filters)]
    if limit > 0:
        items = items[:limit]
    return json_response([c.summary(fake.networks) for c in items])


async def container_inspect(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    return json_response(c.inspect(fake.networks))


async def container_start(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    if c.running:
        return empty_response(304)
    settled = fake._start_now(c)
    await settled.wait()
    return empty_response(204)


async def container_stop(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    int_arg(req, "t", 10)
    return empty_response(204 if fake.stop_container(c) else 304)


async def container_restart(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    fake.stop_container(c)
    settled = fake._start_now(c)
    await settled.wait()
    fake._container_event(c, "restart")
    return empty_response(204)


async def container_kill(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    signum = parse_signal(req.arg("signal"), 9)
    fake.kill_container(c, signum, req.params["id"])
    return empty_response(204)


async def container_pause(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    if c.status == "paused":
        raise Answer(409, f"Container {c.id} is already paused")
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    c.status = "paused"
    fake._container_event(c, "pause")
    fake._notify()
    return empty_response(204)


async def container_unpause(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    if c.status != "paused":
        raise Answer(409, f"Container {c.id} is not paused")
    c.status = "running"
    fake._container_event(c, "unpause")
    fake._notify()
    return empty_response(204)


async def container_rename(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    new_name = req.arg("name") or ""
    if not new_name:
        raise Answer(400, "Neither old nor new names may be empty")
    new_name = check_name(new_name)
    taken = next((o for o in fake.containers.values() if o.name == new_name), None)
    if taken is not None and taken is not c:
        raise name_in_use(new_name, taken.id)
    old = c.name
    c.name = new_name
    fake._container_event(c, "rename", {"oldName": "/" + old})
    return empty_response(204)


async def container_wait(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    condition = req.arg("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise Answer(400, f"invalid condition: {condition!r}")
    finished = c.finished_ns
    writer = await fake.open_stream(req, "application/json")

    def done() -> bool:
        if condition == "removed":
            return c.removed
        if condition == "next-exit":
            return c.finished_ns != finished and not c.running
        return not c.running

    while not done():
        if fake.closing:
            return writer.response
        await fake._wait_change()
    await writer.write(json_body({"Error": None, "StatusCode": c.exit_code}))
    return await writer.finish()


async def container_remove(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    fake.remove_container(c, force=req.flag("force"))
    return empty_response(204)


def _running(fake: FakeDocker, ref: str) -> FakeContainer:
    c = fake._container(ref)
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    return c


async def container_top(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = _running(fake, req.params["id"])
    start = datetime.fromtimestamp(c.started_ns / 1e9, timezone.utc).strftime("%H:%M")
    rows = [["root", str(c.pid), str(c.pid - 21), "0", start, "?", "00:00:00", " ".join(c.argv)]]
    for exec_id in c.exec_ids:
        ex = fake.execs.get(exec_id)
        if ex is not None and ex.running:
            cmd = " ".join(ex.cmd)
            rows.append(["root", str(ex.pid), str(c.pid - 21), "0", start, "?", "00:00:00", cmd])
    return json_response(
        {"Processes": rows, "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]}
    )


async def container_resize(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    c = fake._container(req.params["id"])
    int_arg(req, "h", 0)
    int_arg(req, "w", 0)
    if not c.running:
        raise Answer(409, f"Container {c.id} is not running")
    return web.Response(status=200, content_type="text/plain")
