"""Each argument rule of ``aiodock._rules``, run through every namespace method and
spec builder that takes it.

The same input must put the same thing on the wire (seen through FakeDocker's
request recording) and the same bad input must raise ``InvalidArgument`` naming
the parameter, before any request, at every site. A namespace that grows its own
copy of a rule and lets it drift fails here.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web

import aiodock
from aiodock import models
from aiodock.errors import InvalidArgument
from aiodock.models.swarm import duration_ns, service_spec
from aiodock.testing import FakeDocker, FakeRequest


def _context() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"FROM busybox\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


CONTEXT = _context()

Site = Callable[[aiodock.DockerClient, FakeDocker, Any], Awaitable[Any]]

SERVICE = {
    "ID": "svc1",
    "Version": {"Index": 3},
    "Spec": {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}},
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDocker]:
    async with FakeDocker() as server:
        server.add_container(name="box", cmd=["sleep", "infinity"], running=True)

        def empty_logs(req: FakeRequest) -> web.Response:
            return web.Response(body=b"", content_type="application/vnd.docker.multiplexed-stream")

        def created(req: FakeRequest) -> web.Response:
            return web.json_response({"ID": "new1"}, status=201)

        server.add_route("GET", "/services/{id}/logs", empty_logs)
        server.add_route("GET", "/tasks/{id}/logs", empty_logs)
        server.add_route("POST", "/services/create", created)
        server.add_route("POST", "/secrets/create", created)
        server.add_route("POST", "/configs/create", created)
        server.add_route("POST", "/containers/{id}/update", lambda req: web.json_response({}))
        server.add_route("GET", "/services", lambda req: web.json_response([]))
        server.add_route("GET", "/tasks", lambda req: web.json_response([]))
        server.add_route("GET", "/secrets", lambda req: web.json_response([]))
        server.add_route("GET", "/configs", lambda req: web.json_response([]))
        server.add_route("GET", "/nodes", lambda req: web.json_response([]))
        yield server


@pytest.fixture
def docker(fake: FakeDocker) -> aiodock.DockerClient:
    return fake.client()


def last(fake: FakeDocker, method: str, glob: str) -> Any:
    requests = fake.requests_to(method, glob)
    assert requests, f"no {method} {glob} was sent"
    return requests[-1]


async def open_stream(stream: Any) -> None:
    async with stream:
        pass


async def run_everywhere(
    docker: aiodock.DockerClient, fake: FakeDocker, sites: dict[str, Site], value: Any
) -> dict[str, Any]:
    return {name: await site(docker, fake, value) for name, site in sites.items()}


async def refused_everywhere(
    docker: aiodock.DockerClient,
    fake: FakeDocker,
    sites: dict[str, Site],
    value: Any,
    parameter: str,
) -> None:
    for name, site in sites.items():
        before = len(fake.requests)
        with pytest.raises(InvalidArgument) as info:
            await site(docker, fake, value)
        assert info.value.parameter == parameter, name
        sent = [r.path for r in fake.requests[before:] if r.path != "/_ping"]
        assert sent == [], f"{name} sent {sent} before refusing {value!r}"


# --- since / until ----------------------------------------------------------------------------


async def _container_logs_since(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await open_stream(d.containers.logs("box", since=v))
    return last(f, "GET", "/containers/*/logs").param("since")


async def _service_logs_since(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await open_stream(d.services.logs("svc1", since=v, tty=False))
    return last(f, "GET", "/services/*/logs").param("since")


async def _task_logs_since(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await open_stream(d.tasks.logs("task1", since=v, tty=False))
    return last(f, "GET", "/tasks/*/logs").param("since")


async def _events_since(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await open_stream(d.system.events(since=v))
    return last(f, "GET", "/events").param("since")


SINCE_SITES: dict[str, Site] = {
    "containers.logs": _container_logs_since,
    "services.logs": _service_logs_since,
    "tasks.logs": _task_logs_since,
    "system.events": _events_since,
}

MOMENT = datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (MOMENT, "1700000000.123456000"),
        (MOMENT.astimezone(timezone(timedelta(hours=-3))), "1700000000.123456000"),
        (0, "0"),
        (0.5, "0.500000000"),
        ("1700000000.5", "1700000000.5"),
        (" 1700000000 ", "1700000000"),
    ],
)
async def test_since_is_one_rule(
    docker: aiodock.DockerClient, fake: FakeDocker, value: Any, wire: str
) -> None:
    got = await run_everywhere(docker, fake, SINCE_SITES, value)
    assert got == dict.fromkeys(SINCE_SITES, wire)


async def test_since_timedelta_counts_back_from_now_everywhere(
    docker: aiodock.DockerClient, fake: FakeDocker
) -> None:
    before = time.time()
    got = await run_everywhere(docker, fake, SINCE_SITES, timedelta(minutes=10))
    after = time.time()
    for name, wire in got.items():
        assert before - 600 - 0.001 <= float(wire) <= after - 600 + 0.001, name


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), "", " ", True, b"1", "a\x00b"])
async def test_bad_since_is_refused_everywhere(
    docker: aiodock.DockerClient, fake: FakeDocker, bad: Any
) -> None:
    await refused_everywhere(docker, fake, SINCE_SITES, bad, "since")


async def test_until_before_since_is_refused_everywhere(
    docker: aiodock.DockerClient, fake: FakeDocker
) -> None:
    async def logs(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
        await open_stream(d.containers.logs("box", since=v[0], until=v[1]))

    async def events(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
        await open_stream(d.system.events(since=v[0], until=v[1]))

    sites: dict[str, Site] = {"containers.logs": logs, "system.events": events}
    await refused_everywhere(docker, fake, sites, (MOMENT, MOMENT - timedelta(seconds=1)), "until")
    await refused_everywhere(docker, fake, sites, (timedelta(0), timedelta(hours=1)), "until")
    # both sites send the same until for the same value
    await open_stream(docker.containers.logs("box", since=1, until=MOMENT))
    await open_stream(docker.system.events(since=1, until=MOMENT))
    assert last(fake, "GET", "/containers/*/logs").param("until") == "1700000000.123456000"
    assert last(fake, "GET", "/events").param("until") == "1700000000.123456000"


# --- tail ------------------------------------------------------------------------------------


async def _container_tail(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await open_stream(d.containers.logs("box", tail=v))
    return last(f, "GET", "/containers/*/logs").param("tail")


async def _service_tail(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await open_stream(d.services.logs("svc1", tail=v, tty=False))
    return last(f, "GET", "/services/*/logs").param("tail")


async def _task_tail(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await open_stream(d.tasks.logs("task1", tail=v, tty=False))
    return last(f, "GET", "/tasks/*/logs").param("tail")


TAIL_SITES: dict[str, Site] = {
    "containers.logs": _container_tail,
    "services.logs": _service_tail,
    "tasks.logs": _task_tail,
}


async def test_tail_is_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    for value, wire in ((0, "0"), (25, "25"), ("all", "all")):
        assert await run_everywhere(docker, fake, TAIL_SITES, value) == dict.fromkeys(
            TAIL_SITES, wire
        )
    for bad in (-1, True, "10", 1.5):
        await refused_everywhere(docker, fake, TAIL_SITES, bad, "tail")


# --- env -------------------------------------------------------------------------------------


async def _container_env(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", env=v)
    return last(f, "POST", "/containers/create").json()["Env"]


async def _exec_env(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.exec.create("box", cmd=["true"], env=v)
    return last(f, "POST", "/containers/*/exec").json()["Env"]


async def _service_env(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.services.create(service_spec("busybox", env=v))
    return last(f, "POST", "/services/create").json()["TaskTemplate"]["ContainerSpec"]["Env"]


ENV_SITES: dict[str, Site] = {
    "containers.create": _container_env,
    "exec.create": _exec_env,
    "service_spec": _service_env,
}


@pytest.mark.parametrize(
    "value",
    [{"A": "1", "B": 2, "C": "x=y"}, ["A=1", "B=2", "C=x=y"], ("A=1", "B=2", "C=x=y")],
)
async def test_env_is_one_rule(docker: aiodock.DockerClient, fake: FakeDocker, value: Any) -> None:
    got = await run_everywhere(docker, fake, ENV_SITES, value)
    assert got == {key: ["A=1", "B=2", "C=x=y"] for key in ENV_SITES}


@pytest.mark.parametrize(
    "bad", ["A=1", {"": "x"}, {"A=B": "x"}, {"A": True}, {"A": b"x"}, ["=x"], [""], [1], 7]
)
async def test_bad_env_is_refused_everywhere(
    docker: aiodock.DockerClient, fake: FakeDocker, bad: Any
) -> None:
    await refused_everywhere(docker, fake, ENV_SITES, bad, "env")


async def test_env_none_unsets_where_the_api_can_and_is_refused_for_services(
    docker: aiodock.DockerClient, fake: FakeDocker
) -> None:
    # Containers and exec: the Engine removes a variable named without '='.
    assert await _container_env(docker, fake, {"A": "1", "K": None}) == ["A=1", "K"]
    assert await _exec_env(docker, fake, {"A": "1", "K": None}) == ["A=1", "K"]
    assert await _container_env(docker, fake, ["K"]) == ["K"]
    # A service's ContainerSpec.Env has no such meaning: never send "K=None" or "K".
    bad: Any
    for bad in ({"A": "1", "K": None}, ["K"]):
        with pytest.raises(InvalidArgument, match="'K'") as info:
            service_spec("busybox", env=bad)
        assert info.value.parameter == "env"
    assert fake.requests_to("POST", "/services/create") == []


# --- labels ----------------------------------------------------------------------------------


async def _container_labels(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", labels=v)
    return last(f, "POST", "/containers/create").json()["Labels"]


async def _network_labels(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.networks.create(f"net{len(f.requests)}", labels=v)
    return last(f, "POST", "/networks/create").json()["Labels"]


async def _volume_labels(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.volumes.create(f"vol{len(f.requests)}", labels=v)
    return last(f, "POST", "/volumes/create").json()["Labels"]


async def _secret_labels(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.secrets.create("s", b"data", labels=v)
    return last(f, "POST", "/secrets/create").json()["Labels"]


async def _config_labels(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.configs.create("c", b"data", labels=v)
    return last(f, "POST", "/configs/create").json()["Labels"]


async def _service_labels(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.services.create(service_spec("busybox", labels=v))
    return last(f, "POST", "/services/create").json()["Labels"]


LABEL_SITES: dict[str, Site] = {
    "containers.create": _container_labels,
    "networks.create": _network_labels,
    "volumes.create": _volume_labels,
    "secrets.create": _secret_labels,
    "configs.create": _config_labels,
    "service_spec": _service_labels,
}


@pytest.mark.parametrize("value", [{"a": "1", "b.c": ""}, ["a=1", "b.c="], ["a=1", "b.c"]])
async def test_labels_are_one_rule(
    docker: aiodock.DockerClient, fake: FakeDocker, value: Any
) -> None:
    got = await run_everywhere(docker, fake, LABEL_SITES, value)
    assert got == {key: {"a": "1", "b.c": ""} for key in LABEL_SITES}


@pytest.mark.parametrize("bad", ["a=1", {"a": 1}, {"": "x"}, {1: "x"}, ["=x"], [3], 5])
async def test_bad_labels_are_refused_everywhere(
    docker: aiodock.DockerClient, fake: FakeDocker, bad: Any
) -> None:
    await refused_everywhere(docker, fake, LABEL_SITES, bad, "labels")


async def test_container_labels_of_a_service_follow_the_rule(fake: FakeDocker) -> None:
    spec = service_spec("busybox", container_labels=["a=1"])
    assert spec.task_template is not None and spec.task_template.container_spec is not None
    assert spec.task_template.container_spec.labels == {"a": "1"}
    with pytest.raises(InvalidArgument) as info:
        service_spec("busybox", container_labels={"a": 1})  # type: ignore[dict-item]
    assert info.value.parameter == "container_labels"


# --- durations -------------------------------------------------------------------------------


async def _healthcheck_interval(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", healthcheck={"test": "true", "interval": v})
    return last(f, "POST", "/containers/create").json()["Healthcheck"]["Interval"]


async def _stop_grace(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.services.create(service_spec("busybox", stop_grace_period=v))
    return last(f, "POST", "/services/create").json()["TaskTemplate"]["ContainerSpec"][
        "StopGracePeriod"
    ]


async def _duration_ns(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    return duration_ns(v, "interval")


DURATION_SITES: dict[str, Site] = {
    "containers.create healthcheck": _healthcheck_interval,
    "service_spec stop_grace_period": _stop_grace,
    "models.swarm.duration_ns": _duration_ns,
}


async def test_durations_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    for value, ns in (
        (2, 2_000_000_000),
        (1.5, 1_500_000_000),
        (timedelta(seconds=3, microseconds=7), 3_000_007_000),
        (timedelta(days=2), 172_800_000_000_000),
    ):
        got = await run_everywhere(docker, fake, DURATION_SITES, value)
        assert got == dict.fromkeys(DURATION_SITES, ns), value
    for bad in (-1, timedelta(seconds=-1), True, float("inf"), float("nan"), "5s"):
        for name, site in DURATION_SITES.items():
            with pytest.raises(InvalidArgument):
                await site(docker, fake, bad)
            assert name  # each site refused


# --- sizes -----------------------------------------------------------------------------------


async def _create_memory(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", memory=v)
    return last(f, "POST", "/containers/create").json()["HostConfig"]["Memory"]


async def _update_memory(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.update("box", memory=v)
    return last(f, "POST", "/containers/*/update").json()["Memory"]


async def _build_memory(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.images.build(CONTEXT, tags="sized:1", memory=v)
    return int(last(f, "POST", "/build").param("memory") or -2)


SIZE_SITES: dict[str, Site] = {
    "containers.create": _create_memory,
    "containers.update": _update_memory,
    "images.build": _build_memory,
}


async def test_sizes_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    for value, size in ((64 << 20, 64 << 20), ("64m", 64 << 20), ("1.5g", 3 << 29)):
        got = await run_everywhere(docker, fake, SIZE_SITES, value)
        assert got == dict.fromkeys(SIZE_SITES, size), value
    for bad in (-5, True, "lots", 1.5):
        await refused_everywhere(docker, fake, SIZE_SITES, bad, "memory")


# --- ports -----------------------------------------------------------------------------------


async def _container_port(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", ports={v: None})
    (key,) = last(f, "POST", "/containers/create").json()["ExposedPorts"]
    return key


async def _expose_port(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", expose=[v])
    (key,) = last(f, "POST", "/containers/create").json()["ExposedPorts"]
    return key


async def _service_port(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.services.create(service_spec("busybox", ports=[v]))
    (port,) = last(f, "POST", "/services/create").json()["EndpointSpec"]["Ports"]
    return f"{port['TargetPort']}/{port['Protocol']}"


PORT_SITES: dict[str, Site] = {
    "containers.create ports": _container_port,
    "containers.create expose": _expose_port,
    "service_spec ports": _service_port,
}


async def test_ports_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    for value, key in ((80, "80/tcp"), ("53/udp", "53/udp"), ("9/sctp", "9/sctp")):
        got = await run_everywhere(docker, fake, PORT_SITES, value)
        assert got == dict.fromkeys(PORT_SITES, key), value
    for bad in (0, 65536, "70000/tcp", "80/foo", True, "x"):
        for name, site in PORT_SITES.items():
            with pytest.raises(InvalidArgument) as info:
                await site(docker, fake, bad)
            assert info.value.parameter in ("ports", "expose"), name


async def test_service_port_pairs_are_checked(docker: aiodock.DockerClient) -> None:
    assert service_spec("busybox", ports=["8080:80/udp"]).endpoint_spec == (
        models.EndpointSpec(
            ports=[models.EndpointPortConfig(published_port=8080, target_port=80, protocol="udp")]
        )
    )
    for bad in ((70000, 80), (8080, 0), "x:80", "8080:80/http"):
        with pytest.raises(InvalidArgument) as info:
            service_spec("busybox", ports=[bad])
        assert info.value.parameter == "ports"


# --- mounts ----------------------------------------------------------------------------------

MOUNT = models.Mount(target="/data", source="vol", type="volume", read_only=True)


async def _container_mounts(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", mounts=v)
    return last(f, "POST", "/containers/create").json()["HostConfig"]["Mounts"]


async def _service_mounts(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.services.create(service_spec("busybox", mounts=v))
    return last(f, "POST", "/services/create").json()["TaskTemplate"]["ContainerSpec"]["Mounts"]


MOUNT_SITES: dict[str, Site] = {
    "containers.create": _container_mounts,
    "service_spec": _service_mounts,
}


async def test_mounts_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    wire = [{"Target": "/data", "Source": "vol", "Type": "volume", "ReadOnly": True}]
    for value in ([MOUNT], (MOUNT,)):
        assert await run_everywhere(docker, fake, MOUNT_SITES, value) == dict.fromkeys(
            MOUNT_SITES, wire
        )
    for bad in ("vol:/data", ["vol:/data"], [{"Target": "/data"}], MOUNT):
        await refused_everywhere(docker, fake, MOUNT_SITES, bad, "mounts")


# --- platforms -------------------------------------------------------------------------------


async def _create_platform(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", platform=v)
    return last(f, "POST", "/containers/create").param("platform")


async def _pull_platform(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.images.pull("busybox:latest", platform=v)
    return last(f, "POST", "/images/create").param("platform")


PLATFORM_SITES: dict[str, Site] = {
    "containers.create": _create_platform,
    "images.pull": _pull_platform,
}


async def test_platforms_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    got = await run_everywhere(docker, fake, PLATFORM_SITES, "linux/amd64")
    assert got == dict.fromkeys(PLATFORM_SITES, "linux/amd64")
    for bad in ("linux//amd64", "", "a/b/c/d", 5):
        await refused_everywhere(docker, fake, PLATFORM_SITES, bad, "platform")


# --- extra hosts -----------------------------------------------------------------------------


async def _create_hosts(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.containers.create(image="busybox", extra_hosts=v)
    return last(f, "POST", "/containers/create").json()["HostConfig"]["ExtraHosts"]


async def _build_hosts(d: aiodock.DockerClient, f: FakeDocker, v: Any) -> Any:
    await d.images.build(CONTEXT, tags="hosts:1", extra_hosts=v)
    return last(f, "POST", "/build").query["extrahosts"]


HOST_SITES: dict[str, Site] = {"containers.create": _create_hosts, "images.build": _build_hosts}


async def test_extra_hosts_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    for value in ({"db": "10.0.0.2", "gw": "host-gateway"}, ["db:10.0.0.2", "gw:host-gateway"]):
        got = await run_everywhere(docker, fake, HOST_SITES, value)
        assert got == {key: ["db:10.0.0.2", "gw:host-gateway"] for key in HOST_SITES}
    for bad in (["nocolon"], [":1.2.3.4"], {"db": ""}, [5]):
        await refused_everywhere(docker, fake, HOST_SITES, bad, "extra_hosts")


# --- filters ---------------------------------------------------------------------------------

FILTER_LISTS = {
    "containers.list": ("containers", "/containers/json"),
    "images.list": ("images", "/images/json"),
    "networks.list": ("networks", "/networks"),
    "volumes.list": ("volumes", "/volumes"),
    "services.list": ("services", "/services"),
    "tasks.list": ("tasks", "/tasks"),
    "secrets.list": ("secrets", "/secrets"),
    "configs.list": ("configs", "/configs"),
    "nodes.list": ("nodes", "/nodes"),
}


async def test_filters_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    wires = set()
    for namespace, path in FILTER_LISTS.values():
        await getattr(docker, namespace).list(filters={"label": ["a=b"], "name": None})
        wires.add(last(fake, "GET", path).param("filters"))
    assert wires == {'{"label":["a=b"]}'}
    for name, (namespace, _) in FILTER_LISTS.items():
        with pytest.raises(InvalidArgument) as info:
            await getattr(docker, namespace).list(filters={"": "x"})
        assert info.value.parameter == "filters", name


# --- object names ------------------------------------------------------------------------------

NAME_SITES: dict[str, Site] = {
    "networks.create": lambda d, f, v: d.networks.create(v),
    "volumes.create": lambda d, f, v: d.volumes.create(v),
    "secrets.create": lambda d, f, v: d.secrets.create(v, b"data"),
    "configs.create": lambda d, f, v: d.configs.create(v, b"data"),
}


async def test_object_names_are_one_rule(docker: aiodock.DockerClient, fake: FakeDocker) -> None:
    await run_everywhere(docker, fake, NAME_SITES, "app-1")
    sent = [
        last(fake, "POST", path).json()["Name"]
        for path in ("/networks/create", "/volumes/create", "/secrets/create", "/configs/create")
    ]
    assert sent == ["app-1"] * 4
    for bad in ("", "  ", "a\x00b", 5):
        await refused_everywhere(docker, fake, NAME_SITES, bad, "name")
