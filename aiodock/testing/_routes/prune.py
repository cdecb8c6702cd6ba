"""The prune routes (containers, images, networks, volumes, build cache) and their filters."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._state.filters import check_filter_keys, labels_match, parse_filters
from .._state.values import now_ns
from .._wire import Answer, FakeRequest, json_response
from .args import fake_of, int_arg
from .volumes import volume_users

if TYPE_CHECKING:
    from .._fake import FakeDocker

__all__ = ["build_prune", "container_prune", "image_prune", "network_prune", "volume_prune"]


def _until_ns(value: str) -> int:
    """A prune ``until`` filter: unix seconds, a Go duration before now, or an RFC 3339 time."""
    text = value.strip()
    try:
        return int(float(text) * 1e9)
    except ValueError:
        pass
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            try:
                return now_ns() - int(float(text[: -len(unit)]) * units[unit] * 1e9)
            except ValueError:
                break
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Answer(400, f"failed to parse value as time or duration: {value!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(stamp.timestamp() * 1e9)


def _prune_filters(req: FakeRequest, allowed: tuple[str, ...], prefix: str = "") -> Any:
    filters = parse_filters(req.arg("filters"))
    try:
        check_filter_keys(filters, allowed)
    except Answer as exc:
        raise Answer(exc.status, prefix + exc.message) from None
    until = min((_until_ns(v) for v in filters.get("until", [])), default=None)

    def keep(labels: dict[str, str] | None, created_ns: int) -> bool:
        """Whether an object passes the ``label``, ``label!`` and ``until`` filters."""
        if "label" in filters and not labels_match(labels, filters["label"]):
            return False
        if "label!" in filters and any(labels_match(labels, [item]) for item in filters["label!"]):
            return False
        return until is None or created_ns <= until

    return filters, keep


def _prune_event(fake: FakeDocker, kind: str, reclaimed: int) -> None:
    fake.emit_event(kind, "prune", "", {"reclaimed": str(reclaimed)})


async def container_prune(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    _, keep = _prune_filters(req, ("label", "label!", "until"))
    deleted = []
    for c in sorted(fake.containers.values(), key=lambda c: c.created_ns):
        if not c.running and keep(c.labels, c.created_ns):
            fake.remove_container(c, force=False)
            deleted.append(c.id)
    _prune_event(fake, "container", 0)
    return json_response({"ContainersDeleted": deleted or None, "SpaceReclaimed": 0})


async def image_prune(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    filters, keep = _prune_filters(req, ("dangling", "label", "label!", "until"))
    dangling_only = True
    for value in filters.get("dangling", []):
        dangling_only = value.strip().lower() in ("1", "true")
    used = {c.image_id for c in fake.containers.values()}
    deleted: list[dict[str, str]] = []
    reclaimed = 0
    for image in sorted(fake.images.values(), key=lambda i: i.created):
        if image.id in used or (dangling_only and image.tags):
            continue
        if not keep(image.labels, image.created * 1_000_000_000):
            continue
        for tag in image.tags:
            deleted.append({"Untagged": tag})
            fake.emit_event("image", "untag", image.id, {"name": tag})
        for digest in image.digests:
            deleted.append({"Untagged": digest})
        deleted.append({"Deleted": image.id})
        del fake.images[image.id]
        fake.emit_event("image", "delete", image.id, {"name": image.id})
        reclaimed += image.size
    _prune_event(fake, "image", reclaimed)
    return json_response({"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed})


async def network_prune(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    _, keep = _prune_filters(req, ("label", "label!", "until"))
    deleted = []
    for net in sorted(fake.networks.values(), key=lambda n: n.created_ns):
        if net.builtin or not keep(net.labels, net.created_ns):
            continue
        if any(c.running and net.id in c.endpoints for c in fake.containers.values()):
            continue
        for c in fake.containers.values():
            c.endpoints.pop(net.id, None)
        del fake.networks[net.id]
        fake.emit_event("network", "destroy", net.id, {"name": net.name, "type": net.driver})
        deleted.append(net.name)
    _prune_event(fake, "network", 0)
    return json_response({"NetworksDeleted": deleted or None})


async def volume_prune(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    _, keep = _prune_filters(req, ("label", "label!", "until"))
    deleted = []
    for vol in sorted(fake.volumes.values(), key=lambda v: v.created_ns):
        if volume_users(fake, vol.name) or not keep(vol.labels, vol.created_ns):
            continue
        # Engine 20.10 sends no destroy event for pruned volumes, only the prune one.
        del fake.volumes[vol.name]
        deleted.append(vol.name)
    _prune_event(fake, "volume", 0)
    return json_response({"VolumesDeleted": deleted, "SpaceReclaimed": 0})


_BUILD_CACHE_FILTERS = (
    "description",
    "id",
    "inuse",
    "parent",
    "private",
    "shared",
    "type",
    "until",
    "unused-for",
)


async def build_prune(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    filters, _ = _prune_filters(req, _BUILD_CACHE_FILTERS, "failed to prune build cache: ")
    int_arg(req, "keep-storage", 0)
    deleted: list[str] = []
    reclaimed = 0
    kept: list[dict[str, Any]] = []
    for record in fake.build_cache:
        if record.get("InUse") or (record.get("Shared") and not req.flag("all")):
            kept.append(record)
            continue
        if "id" in filters and not any(record["ID"].startswith(v) for v in filters["id"]):
            kept.append(record)
            continue
        if "type" in filters and record.get("Type") not in filters["type"]:
            kept.append(record)
            continue
        if "description" in filters and not any(
            v in str(record.get("Description", "")) for v in filters["description"]
        ):
            kept.append(record)
            continue
        deleted.append(record["ID"])
        reclaimed += int(record.get("Size") or 0)
    fake.build_cache[:] = kept
    return json_response({"CachesDeleted": deleted or None, "SpaceReclaimed": reclaimed})
