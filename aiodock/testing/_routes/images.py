"""Image routes: list, inspect, tag, remove and pull (push is in ``_registry``, build in
``_build``)."""

from __future__ import annotations

import fnmatch
import hashlib
from typing import Any

from aiohttp import web

from .._build import tag_image
from .._state.filters import check_filter_keys, labels_match, parse_filters
from .._state.values import normalize_ref, progress_bar
from .._wire import Answer, FakeRequest, json_body, json_response
from .args import fake_of

__all__ = ["image_inspect", "image_list", "image_pull", "image_remove", "image_shape", "image_tag"]


async def image_list(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    filters = parse_filters(req.arg("filters"))
    check_filter_keys(filters, ("before", "dangling", "label", "reference", "since"))
    out = []
    for image in sorted(fake.images.values(), key=lambda i: i.created, reverse=True):
        if "label" in filters and not labels_match(image.labels, filters["label"]):
            continue
        if "dangling" in filters:
            dangling = not image.tags
            if str(dangling).lower() not in [v.lower() for v in filters["dangling"]]:
                continue
        if "reference" in filters:
            patterns = filters["reference"]
            candidates = [*image.tags, *(t.rsplit(":", 1)[0] for t in image.tags)]
            if not any(fnmatch.fnmatchcase(n, p) for n in candidates for p in patterns):
                continue
        doc = image_shape(req, image.summary())
        if req.at_least("1.42") and req.flag("shared-size"):
            # The fake's images share no layers, so nothing is shared.
            doc["SharedSize"] = 0
        out.append(doc)
    return json_response(out)


def image_shape(req: FakeRequest, doc: dict[str, Any]) -> dict[str, Any]:
    """Drop the image fields the request's API version no longer has."""
    if req.at_least("1.44"):
        doc.pop("VirtualSize", None)
    if req.at_least("1.45"):
        doc.pop("Container", None)
        doc.pop("ContainerConfig", None)
    if req.at_least("1.52"):
        doc.pop("DockerVersion", None)
        doc.pop("Parent", None)
    return doc


async def image_inspect(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    name = req.params["name"]
    image = fake._find_image(name)
    if image is None:
        raise Answer(404, f"no such image: {name}: No such image: {name}")
    return json_response(image_shape(req, image.inspect()))


async def image_tag(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    name = req.params["name"]
    image = fake._find_image(name)
    if image is None:
        raise Answer(404, f"No such image: {name}")
    repo = req.arg("repo") or ""
    if not repo:
        raise Answer(400, "repository name must have at least one component")
    tag = req.arg("tag") or "latest"
    tag_image(fake, image, normalize_ref(f"{repo}:{tag}"))
    return web.Response(status=201)


async def image_remove(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    name = req.params["name"]
    force = req.flag("force")
    image = fake._find_image(name)
    if image is None:
        raise Answer(404, f"No such image: {name}")
    normalized = normalize_ref(name)
    by_tag = normalized in image.tags
    if by_tag and len(image.tags) > 1:
        image.tags.remove(normalized)
        fake.emit_event("image", "untag", image.id, {"name": normalized})
        return json_response([{"Untagged": normalized}])
    users = [c for c in fake.containers.values() if c.image_id == image.id]
    if users and not force:
        user = users[0]
        if by_tag:
            message = (
                f'conflict: unable to remove repository reference "{name}" (must force) - '
                f"container {user.id[:12]} is using its referenced image {image.short_id}"
            )
        else:
            state = "running" if user.running else "stopped"
            message = (
                f"conflict: unable to delete {image.short_id} (must be forced) - image is "
                f"being used by {state} container {user.id[:12]}"
            )
        raise Answer(409, message)
    if not by_tag and len(image.tags) > 1 and not force:
        raise Answer(
            409,
            f"conflict: unable to delete {image.short_id} (must be forced) - image is "
            "referenced in multiple repositories",
        )
    result: list[dict[str, str]] = []
    for tag in image.tags:
        result.append({"Untagged": tag})
        fake.emit_event("image", "untag", image.id, {"name": tag})
    result.append({"Deleted": image.id})
    del fake.images[image.id]
    fake.emit_event("image", "delete", image.id, {"name": image.id})
    return json_response(result)


async def image_pull(req: FakeRequest) -> web.StreamResponse:
    fake = fake_of(req)
    from_image = req.arg("fromImage")
    if not from_image:
        if req.arg("fromSrc"):
            raise Answer(501, "importing images is not supported by FakeDocker")
        raise Answer(400, "fromImage is required")
    tag = req.arg("tag") or ""
    ref = from_image
    if tag:
        ref = f"{from_image}@{tag}" if tag.startswith("sha256:") else f"{from_image}:{tag}"
    ref = normalize_ref(ref)
    plan = fake.pull_plan(ref)
    repo = fake.image_repo(ref)
    if plan.status is not None:
        message = plan.error or (
            f"pull access denied for {repo}, repository does not exist or may require "
            "'docker login': denied: requested access to the resource is denied"
        )
        raise Answer(plan.status, message)
    shown_repo = repo if "/" in repo else f"library/{repo}"
    shown_tag = ref.split("@", 1)[0].rsplit(":", 1)[-1] if "@" not in ref else ref.split("@")[1]
    writer = await fake.open_stream(req, "application/json")
    await writer.write(json_body({"status": f"Pulling from {shown_repo}", "id": shown_tag}))
    existing = fake._find_image(ref)
    if existing is None or plan.error:
        for n in range(plan.layers):
            layer = hashlib.sha256(f"{ref}/{n}".encode()).hexdigest()[:12]
            total = 1024 * (n + 1)
            steps: list[dict[str, Any]] = [
                {"status": "Pulling fs layer", "progressDetail": {}, "id": layer},
                {
                    "status": "Downloading",
                    "progressDetail": {"current": total // 2, "total": total},
                    "progress": progress_bar(total // 2, total),
                    "id": layer,
                },
                {"status": "Verifying Checksum", "progressDetail": {}, "id": layer},
                {"status": "Download complete", "progressDetail": {}, "id": layer},
                {
                    "status": "Extracting",
                    "progressDetail": {"current": total, "total": total},
                    "progress": progress_bar(total, total),
                    "id": layer,
                },
                {"status": "Pull complete", "progressDetail": {}, "id": layer},
            ]
            if plan.error:
                steps = steps[:2]
            for step in steps:
                await writer.write(json_body(step))
    if plan.error:
        await writer.write(json_body({"errorDetail": {"message": plan.error}, "error": plan.error}))
        return await writer.finish()
    digest = "sha256:" + hashlib.sha256(f"digest:{ref}".encode()).hexdigest()
    await writer.write(json_body({"status": f"Digest: {digest}"}))
    if existing is None:
        image = fake.add_image(ref)
        image.digests.append(f"{repo}@{digest}")
        status = f"Status: Downloaded newer image for {ref}"
    else:
        status = f"Status: Image is up to date for {ref}"
    await writer.write(json_body({"status": status}))
    fake.emit_event("image", "pull", ref, {"name": repo})
    return await writer.finish()
