"""Podman's answers where their shape differs from Docker's, read as Docker's (FakeDocker
replays what Podman 4.3 sent on the integration machine)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from aiodock import Conflict, ServerError
from aiodock.testing import FakeDocker

HEX = "f34664fc432489059b5800ed8c79cd9ffb60ef3a9aff2a4a2fcddcd3522ad78b"


def _jsonlines(*items: dict[str, Any]) -> web.Response:
    body = b"".join(json.dumps(item).encode() + b"\n" for item in items)
    return web.Response(body=body, content_type="application/json")


async def test_taken_network_name_is_a_conflict_on_podman_too() -> None:
    async with FakeDocker() as fake, fake.client() as docker:
        message = "network name web already used: network already exists"
        fake.add_route("POST", "/networks/create", lambda req: (500, {"message": message}))
        with pytest.raises(Conflict, match="already used") as info:
            await docker.networks.create("web")
        assert info.value.status == 500  # what was sent, not made up
        fake.add_route("POST", "/networks/create", lambda req: (500, {"message": "disk full"}))
        with pytest.raises(ServerError) as other:
            await docker.networks.create("web")
        assert not isinstance(other.value, Conflict)


async def test_history_ids_get_their_algorithm() -> None:
    async with FakeDocker() as fake, fake.client() as docker:
        fake.add_route(
            "GET",
            "/images/{name:.+}/history",
            lambda req: [
                {"Id": HEX, "Created": 1, "CreatedBy": "x", "Tags": None, "Size": 1, "Comment": ""},
                {
                    "Id": "<missing>",
                    "Created": 1,
                    "CreatedBy": "y",
                    "Tags": None,
                    "Size": 0,
                    "Comment": "",
                },
            ],
        )
        history = await docker.images.history("img")
        assert [item.id for item in history] == [f"sha256:{HEX}", "<missing>"]


async def test_import_id_repeated_in_id_and_load_names_on_one_line() -> None:
    async with FakeDocker() as fake, fake.client() as docker:
        fake.add_route(
            "POST",
            "/images/create",
            lambda req: _jsonlines(
                {
                    "status": f"sha256:{HEX}",
                    "progress": "",
                    "progressDetail": {},
                    "id": f"sha256:{HEX}",
                }
            ),
        )
        stream = docker.images.import_image(b"not really a tar", repository="x:1")
        await stream.wait()
        assert stream.image_id == f"sha256:{HEX}"
        fake.add_route(
            "POST",
            "/images/load",
            lambda req: _jsonlines({"stream": "Loaded image: a/b:1,docker.io/c/d:2\n"}),
        )
        loaded = docker.images.load(b"tar")
        await loaded.wait()
        assert loaded.loaded == ["a/b:1", "docker.io/c/d:2"]


async def test_taken_container_name_is_a_conflict_on_podman_too() -> None:
    async with FakeDocker() as fake, fake.client() as docker:
        message = (
            'container create: creating container storage: the container name "web" is '
            "already in use by abc. You have to remove that container to be able to reuse "
            "that name: that name is already in use"
        )
        fake.add_route("POST", "/containers/create", lambda req: (500, {"message": message}))
        with pytest.raises(Conflict, match="already in use") as info:
            await docker.containers.create(image="busybox", name="web")
        assert info.value.status == 500


async def test_deleted_image_ids_get_their_algorithm() -> None:
    async with FakeDocker() as fake, fake.client() as docker:
        fake.add_route(
            "DELETE",
            "/images/{name:.+}",
            lambda req: [{"Deleted": HEX}, {"Untagged": "docker.io/a/b:latest"}],
        )
        removed = await docker.images.remove("a/b")
        assert [(r.deleted, r.untagged) for r in removed] == [
            (f"sha256:{HEX}", ""),
            ("", "docker.io/a/b:latest"),
        ]
