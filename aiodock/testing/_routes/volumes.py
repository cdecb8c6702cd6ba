"""Volume routes: list, create, inspect and remove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .._state.filters import check_filter_keys, labels_match, parse_filters
from .._state.values import new_id
from .._state.volumes import FakeVolume
from .._wire import Answer, FakeRequest, empty_response, json_response
from .args import fake_of

if TYPE_CHECKING:
    from .._fake import FakeDocker

__all__ = ["volume_create", "volume_inspect", "volume_list", "volume_remove", "volume_users"]


def volume_users(fake: FakeDocker, name: str) -> list[str]:
    users = []
    for c in fake.containers.values():
        binds = c.host_config.get("Binds") or []
        mounts = c.host_config.get("Mounts") or []
        if any(str(b).split(":", 1)[0] == name for b in binds) or any(
            isinstance(m, dict) and m.get("Source") == name for m in mounts
        ):
            users.append(c.id)
    return users


async def volume_list(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, ("dangling", "driver", "label", "name"))
    out = []
    for vol in fake.volumes.values():
        if "name" in filters and not any(v in vol.name for v in filters["name"]):
            continue
        if "driver" in filters and vol.driver not in filters["driver"]:
            continue
        if "label" in filters and not labels_match(vol.labels, filters["label"]):
            continue
        if "dangling" in filters:
            dangling = not volume_users(fake, vol.name)
            if str(dangling).lower() not in [v.lower() for v in filters["dangling"]] and not (
                dangling and "1" in filters["dangling"]
            ):
                continue
        out.append(vol.inspect())
    return json_response({"Volumes": out, "Warnings": None})


async def volume_create(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    body = req.json_object()
    name = str(body.get("Name") or new_id())
    vol = fake.volumes.get(name)
    if vol is None:
        vol = FakeVolume(
            name=name,
            driver=str(body.get("Driver") or "local"),
            labels=body.get("Labels"),
            options=body.get("DriverOpts"),
        )
        fake.volumes[name] = vol
        fake.emit_event("volume", "create", name, {"driver": vol.driver})
    return json_response(vol.inspect(), 201)


def _volume(fake: FakeDocker, name: str) -> FakeVolume:
    vol = fake.volumes.get(name)
    if vol is None:
        raise Answer(404, f"get {name}: no such volume")
    return vol


async def volume_inspect(req: FakeRequest) -> web.StreamResponse:
    return json_response(_volume(fake_of(req), req.params["name"]).inspect())


async def volume_remove(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    name = req.params["name"]
    vol = fake.volumes.get(name)
    if vol is None:
        if req.flag("force"):
            return empty_response(204)
        raise Answer(404, f"get {name}: no such volume")
    users = volume_users(fake, name)
    if users:
        raise Answer(409, f"remove {name}: volume is in use - [{', '.join(users)}]")
    del fake.volumes[name]
    fake.emit_event("volume", "destroy", name, {"driver": vol.driver})
    return empty_response(204)
