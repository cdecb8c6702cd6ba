"""``client.volumes`` against the real engine: every Volume operation.

Volumes carry ``aiodock-test=1`` plus a per-test run label and unique names;
prune is always restricted to the run label so other tests' volumes are safe.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import aiodock
from aiodock import (
    APIVersionError,
    Conflict,
    DockerClient,
    InvalidArgument,
    ServerError,
    VolumeNotFound,
)
from aiodock.models import ClusterVolumeSpec, Volume


def unique(prefix: str = "aiodock-vol") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def labels(test_label: dict[str, str]) -> dict[str, str]:
    return {**test_label, "aiodock-test-run": uuid.uuid4().hex}


async def remove_quietly(docker: DockerClient, name: str) -> None:
    with contextlib.suppress(VolumeNotFound):
        await docker.volumes.remove(name, force=True)


@pytest.mark.engines
async def test_create_inspect_remove(
    docker: DockerClient,
    labels: dict[str, str],
    engine_kind: str,
    engine_difference: Callable[[str], None],
) -> None:
    name = unique()
    opts = {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    if engine_kind == "podman":
        # Podman reads o=size= as a quota of its own and needs XFS project quota for it.
        with pytest.raises(ServerError, match=r"(?i)quota"):
            await docker.volumes.create(unique(), driver="local", driver_opts=opts, labels=labels)
        engine_difference("o=size=... refused (500) without XFS project quota")
        opts = {"type": "tmpfs", "device": "tmpfs"}
    volume = await docker.volumes.create(name, driver="local", driver_opts=opts, labels=labels)
    try:
        assert isinstance(volume, Volume)
        assert volume.name == name and volume.driver == "local"
        assert volume.labels == labels
        assert volume.options == opts
        assert volume.mountpoint.endswith(f"/{name}/_data")
        assert volume.scope == "local"
        inspected = await docker.volumes.inspect(name)
        assert inspected == volume
        assert inspected.created_at  # RFC 3339 text from the daemon
        # Creating the same name again returns the existing volume.
        again = await docker.volumes.create(name, labels=labels)
        assert again.mountpoint == volume.mountpoint
    finally:
        await docker.volumes.remove(name)
    with pytest.raises(VolumeNotFound) as missing:
        await docker.volumes.inspect(name)
    assert missing.value.status == 404
    with pytest.raises(VolumeNotFound):
        await docker.volumes.remove(name)


@pytest.mark.engines
async def test_create_without_name_gets_a_generated_one(
    docker: DockerClient, labels: dict[str, str]
) -> None:
    volume = await docker.volumes.create(labels=labels)
    try:
        assert len(volume.name) == 64 and volume.driver == "local"
        assert (await docker.volumes.inspect(volume.name)).labels == labels
    finally:
        await remove_quietly(docker, volume.name)


@pytest.mark.engines
async def test_list_with_filters(
    docker: DockerClient,
    labels: dict[str, str],
    engine_kind: str,
    engine_difference: Callable[[str], None],
) -> None:
    run = labels["aiodock-test-run"]
    a = await docker.volumes.create(unique(), labels={**labels, "role": "a"})
    b = await docker.volumes.create(unique(), labels={**labels, "role": "b"})
    try:
        mine = await docker.volumes.list(filters={"label": {"aiodock-test-run": run}})
        assert sorted(v.name for v in mine) == sorted([a.name, b.name])
        assert all(isinstance(v, Volume) for v in mine)
        only_b = await docker.volumes.list(
            filters={"label": {"aiodock-test-run": run, "role": "b"}}
        )
        if engine_kind == "podman":
            # Podman 4.3 ORs volume filters (labels and keys alike); Docker ANDs them.
            assert sorted(v.name for v in only_b) == sorted([a.name, b.name])
            by_name = await docker.volumes.list(filters={"name": a.name, "driver": "local"})
            assert a.name in {v.name for v in by_name} and len(by_name) >= 2
            engine_difference("volume filters match any of them (OR), not all (AND)")
            return
        assert [v.name for v in only_b] == [b.name]
        by_name = await docker.volumes.list(filters={"name": a.name, "driver": "local"})
        assert [v.name for v in by_name] == [a.name]
        dangling = await docker.volumes.list(
            filters={"label": {"aiodock-test-run": run}, "dangling": True}
        )
        assert len(dangling) == 2
        assert not await docker.volumes.list(
            filters={"label": {"aiodock-test-run": run}, "dangling": False}
        )
    finally:
        await remove_quietly(docker, a.name)
        await remove_quietly(docker, b.name)


async def test_remove_in_use_conflicts_and_prune_skips_it(
    docker: DockerClient, busybox: str, labels: dict[str, str]
) -> None:
    run = labels["aiodock-test-run"]
    used = await docker.volumes.create(unique(), labels=labels)
    unused = [await docker.volumes.create(unique(), labels=labels) for _ in range(2)]
    other = await docker.volumes.create(unique(), labels={**labels, "aiodock-test-run": "x"})
    container: dict[str, Any] = {}
    try:
        # Fill one unused volume so prune reports space.
        filler = await docker.request(
            "POST",
            "/containers/create",
            json={
                "Image": busybox,
                "Cmd": ["sh", "-c", "head -c 65536 /dev/zero > /v/blob"],
                "Labels": labels,
                "HostConfig": {"Binds": [f"{unused[0].name}:/v"]},
            },
        )
        await docker.request("POST", f"/containers/{filler['Id']}/start")
        await docker.request(
            "POST", f"/containers/{filler['Id']}/wait", params={"condition": "not-running"}
        )
        await docker.request("DELETE", f"/containers/{filler['Id']}")

        container = await docker.request(
            "POST",
            "/containers/create",
            json={
                "Image": busybox,
                "Cmd": ["true"],
                "Labels": labels,
                "HostConfig": {"Binds": [f"{used.name}:/data"]},
            },
        )
        with pytest.raises(Conflict, match="in use"):
            await docker.volumes.remove(used.name)
        dangling = await docker.volumes.list(
            filters={"label": {"aiodock-test-run": run}, "dangling": True}
        )
        assert sorted(v.name for v in dangling) == sorted(v.name for v in unused)

        pruned = await docker.volumes.prune(filters={"label": {"aiodock-test-run": run}})
        assert sorted(pruned.volumes_deleted) == sorted(v.name for v in unused)
        assert pruned.space_reclaimed >= 65536
        assert (await docker.volumes.inspect(used.name)).name == used.name
        assert (await docker.volumes.inspect(other.name)).name == other.name
        again = await docker.volumes.prune(filters={"label": {"aiodock-test-run": run}})
        assert again.volumes_deleted == [] and again.space_reclaimed == 0
    finally:
        if container:
            with contextlib.suppress(aiodock.NotFound):
                await docker.request(
                    "DELETE", f"/containers/{container['Id']}", params={"force": True}
                )
        for v in [used, *unused, other]:
            await remove_quietly(docker, v.name)


@pytest.mark.engines
async def test_update_is_gated_on_api_1_42(docker: DockerClient, labels: dict[str, str]) -> None:
    name = unique()
    await docker.volumes.create(name, labels=labels)
    try:
        if await docker._api_at_least("1.42"):
            # A newer engine gets the request; a local volume cannot be updated.
            with pytest.raises(aiodock.APIError):
                await docker.volumes.update(name, version=1, spec=ClusterVolumeSpec(group="g"))
            return
        with pytest.raises(APIVersionError) as info:
            await docker.volumes.update(name, version=1, spec=ClusterVolumeSpec(group="g"))
        assert info.value.required == "1.42"
        assert info.value.negotiated == await docker.api_version()
        with pytest.raises(APIVersionError):
            await docker.volumes.create(unique(), cluster_volume_spec=ClusterVolumeSpec())
        with pytest.raises(APIVersionError):
            await docker.volumes.prune(filters={"all": True, "label": {"x": "y"}})
    finally:
        await remove_quietly(docker, name)


@pytest.mark.engines
async def test_names_are_quoted_into_the_path(docker: DockerClient) -> None:
    for tricky in ("x/y", "a?b=c", "%2e%2e", "..."):
        with pytest.raises(VolumeNotFound):
            await docker.volumes.inspect(tricky)


async def test_invalid_arguments_fail_before_any_request() -> None:
    async with DockerClient("unix:///nonexistent/aiodock.sock") as docker:
        cases: list[tuple[str, Any]] = [
            ("name", docker.volumes.create("")),
            ("driver", docker.volumes.create("v", driver=" ")),
            ("labels", docker.volumes.create("v", labels={"a": 1})),  # type: ignore[dict-item]
            ("driver_opts", docker.volumes.create("v", driver_opts=["o"])),  # type: ignore[arg-type]
            (
                "cluster_volume_spec",
                docker.volumes.create("v", cluster_volume_spec={}),  # type: ignore[arg-type]
            ),
            ("name", docker.volumes.inspect("")),
            ("force", docker.volumes.remove("v", force="yes")),  # type: ignore[arg-type]
            ("version", docker.volumes.update("v", version=-1, spec=ClusterVolumeSpec())),
            ("spec", docker.volumes.update("v", version=1, spec={})),  # type: ignore[arg-type]
            ("filters", docker.volumes.list(filters={"dangling": None, "x": 1.5})),  # type: ignore[dict-item]
            ("filters", docker.volumes.prune(filters={"": "x"})),
        ]
        for parameter, call in cases:
            with pytest.raises(InvalidArgument) as info:
                await call
            assert info.value.parameter == parameter, (parameter, info.value)
