"""Registries the fake engine pushes to, and ``POST /images/{name}/push``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from ._state.images import FakeImage
from ._state.values import normalize_ref, progress_bar, repo_of
from ._wire import Answer, FakeRequest, json_body

if TYPE_CHECKING:
    from ._fake import FakeDocker

__all__ = ["FakeRegistry", "image_push"]

DEFAULT_REGISTRY = "docker.io"


@attrs.define(eq=False)
class FakeRegistry:
    """What the fake engine knows of one registry: credentials and what was pushed.

    Args:
        host: ``host[:port]`` as it appears in references (``docker.io`` for Docker Hub).
        username: the user a push must log in as (``None``: no login needed).
        password: that user's password.
        repositories: repository path (``team/app``) to ``{tag: manifest digest}``.
        blobs: layer digests the registry holds (a second push says "Layer already exists").
    """

    host: str
    username: str | None = None
    # Hidden from the repr like every credential in aiodock.
    password: str | None = attrs.field(
        default=None, repr=lambda value: "'***'" if value else repr(value)
    )
    repositories: dict[str, dict[str, str]] = attrs.Factory(dict)
    blobs: set[str] = attrs.Factory(set)

    def check_login(self, auth: dict[str, Any]) -> str | None:
        """The engine's in-stream error for these credentials, or ``None`` when allowed.

        Args:
            auth: the decoded ``X-Registry-Auth`` of the push.
        """
        if self.username is None:
            return None
        user = auth.get("username") or ""
        if not user and not auth.get("identitytoken"):
            return "no basic auth credentials"
        if user != self.username or auth.get("password") != self.password:
            return "unauthorized: authentication required"
        return None


def split_registry(repo: str) -> tuple[str, str]:
    """``127.0.0.1:5000/team/app`` -> ``("127.0.0.1:5000", "team/app")``; Hub names default."""
    first, sep, rest = repo.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return DEFAULT_REGISTRY, repo if "/" in repo else f"library/{repo}"


def _decode_auth(header: str | None) -> dict[str, Any]:
    if header is None:
        raise Answer(400, "Bad parameters and missing X-Registry-Auth: EOF")
    text = header.strip()
    if not text:
        return {}
    padded = text + "=" * (-len(text) % 4)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")))
    except (binascii.Error, ValueError):
        raise Answer(400, "Bad parameters and missing X-Registry-Auth: invalid character") from None
    return decoded if isinstance(decoded, dict) else {}


def _unreachable(host: str) -> str:
    name, _, port = host.partition(":")
    if name.startswith("127.") or name == "localhost":
        where = f"{name}:{port or 80}"
        return f'Get "http://{host}/v2/": dial tcp {where}: connect: connection refused'
    return f'Get "https://{host}/v2/": dial tcp: lookup {name}: no such host'


def _layers(image: FakeImage) -> list[str]:
    return [str(layer) for layer in image.inspect()["RootFS"]["Layers"]]


async def image_push(req: FakeRequest) -> web.StreamResponse:
    fake: FakeDocker = req.fake
    name = req.params["name"]
    auth = _decode_auth(req.headers.get("X-Registry-Auth"))
    tag = req.arg("tag") or ""
    repo = repo_of(normalize_ref(name))
    host, path = split_registry(repo)
    registry = fake.registries.get(host)
    if tag:
        wanted = [normalize_ref(f"{repo}:{tag}")]
    else:
        wanted = sorted(t for i in fake.images.values() for t in i.tags if repo_of(t) == repo)
    images = [(ref, fake._find_image(ref)) for ref in wanted]
    writer = await fake.open_stream(req, "application/json")

    async def fail(message: str) -> web.StreamResponse:
        await writer.write(json_body({"errorDetail": {"message": message}, "error": message}))
        return await writer.finish()

    found = [(ref, image) for ref, image in images if image is not None]
    missing = not found or len(found) != len(images)
    if registry is None:
        if missing:
            return await fail(f"An image does not exist locally with the tag: {repo}")
        # Nothing answers there: the engine's first request (the /v2/ ping) fails.
        await writer.write(json_body({"status": f"The push refers to repository [{repo}]"}))
        return await fail(_unreachable(host))
    await writer.write(json_body({"status": f"The push refers to repository [{repo}]"}))
    if missing:
        return await fail(f"An image does not exist locally with the tag: {repo}")
    for ref, image in found:
        layers = _layers(image)
        for layer in layers:
            await writer.write(
                json_body({"status": "Preparing", "progressDetail": {}, "id": layer[7:19]})
            )
        denied = registry.check_login(auth)
        if denied is not None:
            return await fail(denied)
        for layer in layers:
            short = layer[7:19]
            if layer in registry.blobs:
                await writer.write(
                    json_body({"status": "Layer already exists", "progressDetail": {}, "id": short})
                )
                continue
            total = max(image.size // max(len(layers), 1), 1)
            for current in (min(512, total), total):
                await writer.write(
                    json_body(
                        {
                            "status": "Pushing",
                            "progressDetail": {"current": current, "total": total},
                            "progress": progress_bar(current, total),
                            "id": short,
                        }
                    )
                )
            await writer.write(json_body({"status": "Pushed", "progressDetail": {}, "id": short}))
            registry.blobs.add(layer)
        shown_tag = ref.rsplit(":", 1)[1]
        manifest = json.dumps({"layers": layers, "config": image.id}).encode()
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        registry.repositories.setdefault(path, {})[shown_tag] = digest
        pinned = f"{repo}@{digest}"
        if pinned not in image.digests:
            image.digests.append(pinned)
        await writer.write(
            json_body({"status": f"{shown_tag}: digest: {digest} size: {len(manifest)}"})
        )
        await writer.write(
            json_body({"aux": {"Tag": shown_tag, "Digest": digest, "Size": len(manifest)}})
        )
        fake.emit_event("image", "push", ref, {"name": ref})
    return await writer.finish()
