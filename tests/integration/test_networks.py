"""``client.networks`` against the real engine: every Network operation.

Everything is labelled ``aiodock-test=1`` plus a per-test run label, has a
unique name, and is removed in ``finally``. Networks are local bridges on
private 10.250.x.0/24 subnets; containers are created (and for one test,
started) only to be connected.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import aiodock
from aiodock import (
    Conflict,
    DockerClient,
    InvalidArgument,
    NetworkNotFound,
    NotFound,
)
from aiodock.models import IPAM, EndpointSettings, IPAMConfig


def unique(prefix: str = "aiodock-net") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def labels(test_label: dict[str, str]) -> dict[str, str]:
    return {**test_label, "aiodock-test-run": uuid.uuid4().hex}


async def create_with_subnet(
    docker: DockerClient, name: str, labels: dict[str, str], **kwargs: Any
) -> tuple[str, str]:
    """Create a bridge on a free 10.250.x.0/24 (other tests share the engine)."""
    last: Exception | None = None
    for _ in range(20):
        third = random.randint(1, 254)
        subnet = f"10.250.{third}.0/24"
        ipam = IPAM(
            config=[
                IPAMConfig(
                    subnet=subnet,
                    ip_range=f"10.250.{third}.128/25",
                    gateway=f"10.250.{third}.1",
                    auxiliary_addresses={"reserved": f"10.250.{third}.2"},
                )
            ],
            options={},
        )
        try:
            created = await docker.networks.create(name, ipam=ipam, labels=labels, **kwargs)
        except aiodock.APIError as exc:  # pool overlaps with another test's network
            if "overlap" not in exc.message.lower():
                raise
            last = exc
            continue
        return created.id, subnet
    raise AssertionError(f"no free 10.250.x.0/24 subnet: {last}")


async def remove_quietly(docker: DockerClient, network_id: str) -> None:
    with contextlib.suppress(NotFound):
        await docker.networks.remove(network_id)


async def create_container(
    docker: DockerClient, image: str, labels: dict[str, str], cmd: list[str]
) -> str:
    created = await docker.request(
        "POST",
        "/containers/create",
        params={"name": unique("aiodock-netc")},
        json={"Image": image, "Cmd": cmd, "Labels": labels, "StopSignal": "SIGKILL"},
    )
    return str(created["Id"])


@pytest.fixture
async def container_factory(
    docker: DockerClient, busybox: str, labels: dict[str, str]
) -> AsyncIterator[Any]:
    made: list[str] = []

    async def make(cmd: list[str] | None = None, start: bool = False) -> str:
        cid = await create_container(docker, busybox, labels, cmd or ["true"])
        made.append(cid)
        if start:
            await docker.request("POST", f"/containers/{cid}/start")
        return cid

    try:
        yield make
    finally:
        for cid in made:
            with contextlib.suppress(NotFound):
                await docker.request("DELETE", f"/containers/{cid}", params={"force": True})


@pytest.mark.engines
async def test_create_with_ipam_inspect_and_remove(
    docker: DockerClient,
    labels: dict[str, str],
    engine_kind: str,
    engine_difference: Callable[[str], None],
) -> None:
    name = unique()
    network_id, subnet = await create_with_subnet(
        docker,
        name,
        labels,
        driver="bridge",
        internal=True,
        options={"com.docker.network.bridge.enable_icc": "true"},
    )
    try:
        assert len(network_id) == 64
        info = await docker.networks.inspect(network_id)
        assert info.name == name and info.id == network_id
        assert info.driver == "bridge" and info.scope == "local"
        assert info.internal is True and info.attachable is False
        assert info.labels == labels
        if engine_kind == "podman":
            # Podman keeps only the bridge options it implements.
            assert "com.docker.network.bridge.enable_icc" not in info.options
            engine_difference("Docker-only bridge options (enable_icc) are dropped")
        else:
            assert info.options["com.docker.network.bridge.enable_icc"] == "true"
        assert info.ipam is not None
        (config,) = info.ipam.config
        prefix = subnet.rsplit(".", 1)[0]
        assert config.subnet == subnet
        assert config.gateway == f"{prefix}.1"
        if engine_kind == "podman":
            # Podman's IPAM has no ip_range or auxiliary addresses.
            assert not config.ip_range and not config.auxiliary_addresses
            engine_difference("IPAM IPRange and AuxiliaryAddresses are dropped")
        else:
            assert config.ip_range == f"{prefix}.128/25"
            assert config.auxiliary_addresses == {"reserved": f"{prefix}.2"}
        by_name = await docker.networks.inspect(name, verbose=True, scope="local")
        assert by_name.id == network_id
    finally:
        await docker.networks.remove(network_id)
    with pytest.raises(NetworkNotFound) as info_missing:
        await docker.networks.inspect(network_id)
    assert info_missing.value.status == 404
    with pytest.raises(NetworkNotFound):
        await docker.networks.remove(network_id)


@pytest.mark.engines
async def test_create_defaults_and_duplicate_name(
    docker: DockerClient, labels: dict[str, str]
) -> None:
    name = unique()
    created = await docker.networks.create(name, labels=labels)
    try:
        assert created.id
        info = await docker.networks.inspect(name)
        assert info.driver == "bridge" and info.internal is False
        # API 1.41 allows duplicate names unless asked: create() asks.
        with pytest.raises(Conflict, match=name):
            await docker.networks.create(name, labels=labels)
        assert len(await docker.networks.list(filters={"name": name})) == 1
    finally:
        await remove_quietly(docker, created.id)


@pytest.mark.engines
async def test_list_with_filters(
    docker: DockerClient,
    labels: dict[str, str],
    engine_kind: str,
    engine_difference: Callable[[str], None],
) -> None:
    names = [unique(), unique()]
    ids = [
        (await docker.networks.create(names[0], labels={**labels, "role": "a"})).id,
        (
            await docker.networks.create(names[1], labels={**labels, "role": "b"}, attachable=True)
        ).id,
    ]
    try:
        run = labels["aiodock-test-run"]
        mine = await docker.networks.list(filters={"label": {"aiodock-test-run": run}})
        assert sorted(n.id for n in mine) == sorted(ids)
        assert all(isinstance(n, aiodock.models.NetworkSummary) for n in mine)
        role_b = await docker.networks.list(
            filters={"label": {"aiodock-test-run": run, "role": "b"}}
        )
        assert [n.name for n in role_b] == [names[1]]
        if engine_kind == "podman":
            assert role_b[0].attachable is False  # Podman has no swarm: nothing to attach
            engine_difference("Attachable is not kept (no swarm)")
        else:
            assert role_b[0].attachable is True
        present = await docker.networks.list(
            filters={"label": {"aiodock-test-run": run, "role": True}}
        )
        assert len(present) == 2
        if engine_kind == "podman":
            # Podman 4.3 knows no "type" filter (custom/builtin) and says so with a 500.
            with pytest.raises(aiodock.ServerError, match='invalid filter "type"'):
                await docker.networks.list(filters={"type": "custom"})
            engine_difference('the "type" filter is refused (500)')
            by_id = await docker.networks.list(filters={"id": ids[0]})
            assert [n.id for n in by_id] == [ids[0]]
            return
        by_id = await docker.networks.list(filters={"id": ids[0], "type": "custom"})
        assert [n.id for n in by_id] == [ids[0]]
        builtin = await docker.networks.list(filters={"type": "builtin"})
        assert {"bridge", "host", "none"} <= {n.name for n in builtin}
        assert not await docker.networks.list(
            filters={"label": {"aiodock-test-run": run}, "driver": "overlay"}
        )
    finally:
        for network_id in ids:
            await remove_quietly(docker, network_id)


async def test_connect_with_endpoint_config_and_disconnect(
    docker: DockerClient, labels: dict[str, str], container_factory: Any
) -> None:
    name = unique()
    network_id, subnet = await create_with_subnet(docker, name, labels)
    prefix = subnet.rsplit(".", 1)[0]
    try:
        created_only = await container_factory()
        await docker.networks.connect(
            network_id,
            created_only,
            endpoint_config=EndpointSettings(driver_opts={"x": "y"}, aliases=["ignored"]),
            aliases=["web", "api"],
            ipv4_address=f"{prefix}.200",
        )
        inspected = await docker.request("GET", f"/containers/{created_only}/json")
        endpoint = inspected["NetworkSettings"]["Networks"][name]
        assert endpoint["IPAMConfig"]["IPv4Address"] == f"{prefix}.200"
        assert set(endpoint["Aliases"]) >= {"web", "api"}
        assert "ignored" not in endpoint["Aliases"]
        assert endpoint["DriverOpts"] == {"x": "y"}

        running = await container_factory(["sleep", "60"], start=True)
        await docker.networks.connect(name, running, aliases=["live"])
        with pytest.raises(aiodock.APIError, match="already exists"):
            await docker.networks.connect(network_id, running)
        info = await docker.networks.inspect(network_id)
        assert running in info.containers
        assert info.containers[running].ipv4_address.startswith(prefix + ".")
        assert created_only not in info.containers  # not running: no endpoint yet

        await docker.networks.disconnect(network_id, running)
        info = await docker.networks.inspect(network_id)
        assert running not in info.containers
        await docker.networks.disconnect(network_id, created_only, force=True)
        inspected = await docker.request("GET", f"/containers/{created_only}/json")
        assert name not in inspected["NetworkSettings"]["Networks"]

        with pytest.raises(NotFound):
            await docker.networks.connect(network_id, "aiodock-no-such-container-" + unique())
        with pytest.raises(NotFound):
            await docker.networks.disconnect("aiodock-no-such-network-" + unique(), running)
    finally:
        await remove_quietly(docker, network_id)


async def test_remove_in_use_network_conflicts(
    docker: DockerClient, labels: dict[str, str], container_factory: Any
) -> None:
    name = unique()
    created = await docker.networks.create(name, labels=labels)
    try:
        running = await container_factory(["sleep", "60"], start=True)
        await docker.networks.connect(created.id, running)
        with pytest.raises((Conflict, aiodock.Forbidden)):
            await docker.networks.remove(created.id)
        await docker.networks.disconnect(created.id, running, force=True)
    finally:
        await remove_quietly(docker, created.id)


async def test_prune_removes_only_matching_unused_networks(
    docker: DockerClient, labels: dict[str, str], container_factory: Any
) -> None:
    run = labels["aiodock-test-run"]
    unused = [unique(), unique()]
    in_use = unique()
    ids = [(await docker.networks.create(n, labels=labels)).id for n in [*unused, in_use]]
    other = (await docker.networks.create(unique(), labels={**labels, "aiodock-test-run": "x"})).id
    try:
        running = await container_factory(["sleep", "60"], start=True)
        await docker.networks.connect(in_use, running)
        pruned = await docker.networks.prune(filters={"label": {"aiodock-test-run": run}})
        assert sorted(pruned.networks_deleted) == sorted(unused)
        left = await docker.networks.list(filters={"label": {"aiodock-test-run": run}})
        assert [n.name for n in left] == [in_use]
        assert (await docker.networks.inspect(other)).id == other
        again = await docker.networks.prune(filters={"label": {"aiodock-test-run": run}})
        assert again.networks_deleted == []
        await docker.networks.disconnect(in_use, running, force=True)
    finally:
        for network_id in [*ids, other]:
            await remove_quietly(docker, network_id)


@pytest.mark.engines
async def test_names_are_quoted_into_the_path(docker: DockerClient) -> None:
    for tricky in ("x/y", "a?b=c", "a#b", "%2e%2e", "...", "containers/json"):
        with pytest.raises(NetworkNotFound, match="not found"):
            await docker.networks.inspect(tricky)


@pytest.mark.engines
@pytest.mark.parametrize("tricky", ["..", "../containers/json", "a/../b"])
async def test_dot_dot_names_raise_a_docker_error(
    docker: DockerClient, tricky: str, engine_kind: str, engine_difference: Callable[[str], None]
) -> None:
    if engine_kind == "podman":
        # Podman's router does not clean the path: the name is looked up as it is.
        with pytest.raises(NetworkNotFound):
            await docker.networks.inspect(tricky)
        engine_difference("'..' in a name is looked up (404), not redirected")
        return
    # The daemon redirects cleaned paths; the client refuses to follow and says why.
    with pytest.raises(aiodock.APIError, match="redirected"):
        await docker.networks.inspect(tricky)


async def test_invalid_arguments_fail_before_any_request() -> None:
    # An unreachable daemon: any request would raise DockerConnectionError instead.
    async with DockerClient("unix:///nonexistent/aiodock.sock") as docker:
        bad_ipam = IPAM(config=[IPAMConfig(subnet="10.250.300.0/24")])
        cases: list[tuple[str, Any]] = [
            ("name", docker.networks.create("")),
            ("ipam.config[0].subnet", docker.networks.create("n", ipam=bad_ipam)),
            (
                "ipam.config[0].gateway",
                docker.networks.create(
                    "n", ipam=IPAM(config=[IPAMConfig(subnet="10.0.0.0/8", gateway="x")])
                ),
            ),
            ("ipam", docker.networks.create("n", ipam={"Config": []})),  # type: ignore[arg-type]
            ("labels", docker.networks.create("n", labels={"a": 1})),  # type: ignore[dict-item]
            ("scope", docker.networks.create("n", scope="planet")),
            ("internal", docker.networks.create("n", internal="yes")),  # type: ignore[arg-type]
            ("scope", docker.networks.inspect("n", scope="x")),
            ("network_id", docker.networks.inspect("")),
            ("ipv4_address", docker.networks.connect("n", "c", ipv4_address="::1")),
            ("ipv6_address", docker.networks.connect("n", "c", ipv6_address="10.0.0.1")),
            ("aliases", docker.networks.connect("n", "c", aliases="web")),
            ("container", docker.networks.disconnect("n", "")),
            ("filters", docker.networks.list(filters={"label": {"a": False}})),
            ("filters", docker.networks.prune(filters={"until": 1.5})),  # type: ignore[dict-item]
        ]
        for parameter, call in cases:
            with pytest.raises(InvalidArgument) as info:
                await call
            assert info.value.parameter == parameter, (parameter, info.value)


@pytest.mark.engines
async def test_enable_ipv4_needs_api_1_47(docker: DockerClient, labels: dict[str, str]) -> None:
    if await docker._api_at_least("1.47"):  # a newer engine takes it
        created = await docker.networks.create(unique(), enable_ipv4=True, labels=labels)
        await docker.networks.remove(created.id)
        return
    with pytest.raises(aiodock.APIVersionError, match=r"enable_ipv4 needs Engine API 1\.47"):
        await docker.networks.create(unique(), enable_ipv4=True)


@pytest.mark.parametrize(
    ("api", "check_duplicate", "ipv4_allowed"),
    [("1.41", True, False), ("1.44", False, False), ("1.47", False, True)],
)
async def test_request_bodies_follow_the_negotiated_api(
    api: str, check_duplicate: bool, ipv4_allowed: bool
) -> None:
    # The real engine is 1.41; what newer APIs get is checked on the recording fake.
    import json

    from aiodock.testing import FakeDocker

    async with FakeDocker(api_version=api) as fake, fake.client() as docker:
        await docker.networks.create(
            "n1",
            ipam=IPAM(config=[IPAMConfig(subnet="10.250.9.0/24", gateway="10.250.9.1")]),
            internal=False,
            labels={"a": "b"},
        )
        (request,) = [r for r in fake.requests if r.path == "/networks/create"]
        body = json.loads(request.body)
        assert body["Name"] == "n1" and body["Internal"] is False  # explicit False is sent
        assert body["IPAM"] == {"Config": [{"Subnet": "10.250.9.0/24", "Gateway": "10.250.9.1"}]}
        assert ("CheckDuplicate" in body) is check_duplicate
        assert "EnableIPv4" not in body and "Attachable" not in body
        if ipv4_allowed:
            await docker.networks.create("n2", enable_ipv4=False)
            last = [r for r in fake.requests if r.path == "/networks/create"][-1]
            assert json.loads(last.body)["EnableIPv4"] is False
        else:
            with pytest.raises(aiodock.APIVersionError):
                await docker.networks.create("n2", enable_ipv4=False)
