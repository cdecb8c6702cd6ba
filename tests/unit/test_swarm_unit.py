"""Swarm, services, tasks, nodes, secrets, configs and plugins against FakeDocker.

Each test scripts the engine's answers with custom routes and checks what the
client sent (path, query, headers, body) and what it made of the answer.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web

import aiodock
from aiodock import Conflict, NotInSwarm, ServerError, StreamType
from aiodock._streams.frames import encode_frame
from aiodock.errors import (
    APIVersionError,
    ConvergenceError,
    DockerTimeoutError,
    InvalidArgument,
    NotFound,
    PluginNotFound,
    ServiceNotFound,
    StreamError,
)
from aiodock.models import (
    Config,
    ConfigSpec,
    NodeSpec,
    ObjectVersion,
    PluginConfig,
    PluginConfigInterface,
    PluginPrivilege,
    Secret,
    SecretSpec,
    ServiceSpec,
    SwarmSpec,
    SwarmSpecEncryptionConfig,
    TaskSpec,
    TaskSpecContainerSpec,
)
from aiodock.models.swarm import (
    SecretCreate,
    ServiceMode,
    config_ref,
    decode_data,
    duration_ns,
    encode_data,
    mode_name,
    secret_ref,
    service_spec,
)
from aiodock.resources._swarm_base import version_index
from aiodock.resources.services import assess, spec_body
from aiodock.testing import FakeDocker, FakeRequest

NOT_MANAGER = (
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
    "to connect this node to swarm and try again."
)
OUT_OF_SEQUENCE = "rpc error: code = Unknown desc = update out of sequence"
IMAGE = "sha256:" + "ab" * 32


@pytest.fixture
async def fake() -> AsyncIterator[FakeDocker]:
    async with FakeDocker() as server:
        yield server


@pytest.fixture
def docker(fake: FakeDocker) -> aiodock.DockerClient:
    return fake.client()


def answer(status: int, message: str) -> Callable[[FakeRequest], Any]:
    def handler(req: FakeRequest) -> Any:
        return web.json_response({"message": message}, status=status)

    return handler


def service_json(
    *,
    sid: str = "svc1",
    tty: bool = False,
    mode: dict[str, Any] | None = None,
    updated: str = "2024-01-01T00:00:10.000000000Z",
    update_status: dict[str, Any] | None = None,
    job_iteration: int | None = None,
    version: int = 7,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "Name": "web",
        "TaskTemplate": {"ContainerSpec": {"Image": IMAGE, "TTY": tty}},
        "Mode": mode if mode is not None else {"Replicated": {"Replicas": 2}},
    }
    data: dict[str, Any] = {
        "ID": sid,
        "Version": {"Index": version},
        "CreatedAt": "2024-01-01T00:00:00.000000000Z",
        "UpdatedAt": updated,
        "Spec": spec,
    }
    if update_status is not None:
        data["UpdateStatus"] = update_status
    if job_iteration is not None:
        data["JobStatus"] = {"JobIteration": {"Index": job_iteration}}
    return data


def task_json(
    tid: str,
    state: str,
    *,
    desired: str = "running",
    created: str = "2024-01-01T00:00:20Z",
    err: str = "",
    slot: int = 1,
    job_iteration: int | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ID": tid,
        "ServiceID": "svc1",
        "Slot": slot,
        "CreatedAt": created,
        "DesiredState": desired,
        "Status": {"State": state, "Err": err, "Message": state},
        "Spec": {"ContainerSpec": {"Image": IMAGE}},
    }
    if job_iteration is not None:
        data["JobIteration"] = {"Index": job_iteration}
    return data


# --- models and helpers -------------------------------------------------------------------


def test_duration_ns_accepts_seconds_and_timedelta() -> None:
    import datetime as dt

    assert duration_ns(2) == 2_000_000_000
    assert duration_ns(0.25) == 250_000_000
    assert duration_ns(dt.timedelta(minutes=1, microseconds=3)) == 60_000_003_000
    for bad in (-1, float("nan"), True, "1s"):
        with pytest.raises(InvalidArgument):
            duration_ns(bad)  # type: ignore[arg-type]


def test_service_modes_and_mode_name() -> None:
    assert mode_name(ServiceMode.replicated(3)) == "replicated"
    assert mode_name(ServiceMode.global_()) == "global"
    assert mode_name(ServiceMode.replicated_job(5, max_concurrent=2)) == "replicated-job"
    assert mode_name(ServiceMode.global_job()) == "global-job"
    assert mode_name(None) == "replicated"
    both = attrs.evolve(ServiceMode.replicated(1), global_={})
    with pytest.raises(InvalidArgument, match="exactly one mode"):
        mode_name(both)
    with pytest.raises(InvalidArgument):
        ServiceMode.replicated(-1)
    with pytest.raises(InvalidArgument):
        ServiceMode.replicated_job(0)


def test_spec_body_sends_zero_replicas_and_global_object() -> None:
    zero = service_spec(IMAGE, replicas=0)
    assert spec_body(zero)["Mode"] == {"Replicated": {"Replicas": 0}}
    assert spec_body(service_spec(IMAGE, replicas=3))["Mode"] == {"Replicated": {"Replicas": 3}}
    assert spec_body(service_spec(IMAGE, mode=ServiceMode.global_()))["Mode"] == {"Global": {}}
    job = spec_body(service_spec(IMAGE, mode=ServiceMode.replicated_job(4)))
    assert job["Mode"] == {"ReplicatedJob": {"TotalCompletions": 4}}
    # No mode at all: left out, the engine runs one replica.
    assert "Mode" not in spec_body(service_spec(IMAGE))


def test_spec_body_rejects_incomplete_specs() -> None:
    with pytest.raises(InvalidArgument, match="task template"):
        spec_body(ServiceSpec(name="x"))
    with pytest.raises(InvalidArgument, match="image"):
        spec_body(ServiceSpec(task_template=TaskSpec(container_spec=TaskSpecContainerSpec())))
    with pytest.raises(InvalidArgument):
        spec_body({"Name": "x"})  # type: ignore[arg-type]


def test_service_spec_builds_the_nested_models() -> None:
    secret = Secret(id="sec1", spec=SecretSpec(name="token"))
    spec = service_spec(
        IMAGE,
        name="web",
        command=["sh", "-c"],
        args=["echo hi"],
        env={"A": "1"},
        labels={"aiodock-test": "1"},
        replicas=2,
        ports=[80, "8080:81", "53/udp", (9000, 90)],
        secrets=[secret_ref(secret)],
        configs=[config_ref("cfg1", "conf", target="/etc/app.conf", mode=0o440)],
        constraints=["node.role==manager"],
        log_driver="local",
        stop_grace_period=3,
    )
    body = spec_body(spec)
    container = body["TaskTemplate"]["ContainerSpec"]
    assert container["Command"] == ["sh", "-c"]
    assert container["Args"] == ["echo hi"]
    assert container["Env"] == ["A=1"]
    assert container["StopGracePeriod"] == 3_000_000_000
    assert container["Secrets"] == [
        {
            "File": {"Name": "token", "UID": "0", "GID": "0", "Mode": 0o444},
            "SecretID": "sec1",
            "SecretName": "token",
        }
    ]
    assert container["Configs"] == [
        {
            "File": {"Name": "/etc/app.conf", "UID": "0", "GID": "0", "Mode": 0o440},
            "ConfigID": "cfg1",
            "ConfigName": "conf",
        }
    ]
    assert body["TaskTemplate"]["Placement"] == {"Constraints": ["node.role==manager"]}
    assert body["TaskTemplate"]["LogDriver"] == {"Name": "local"}
    assert body["EndpointSpec"]["Ports"] == [
        {"Protocol": "tcp", "TargetPort": 80},
        {"Protocol": "tcp", "TargetPort": 81, "PublishedPort": 8080},
        {"Protocol": "udp", "TargetPort": 53},
        {"Protocol": "tcp", "TargetPort": 90, "PublishedPort": 9000},
    ]
    assert body["Labels"] == {"aiodock-test": "1"}
    with pytest.raises(InvalidArgument):
        service_spec(IMAGE, replicas=1, mode=ServiceMode.global_())
    with pytest.raises(InvalidArgument):
        service_spec(IMAGE, ports=["x:y"])
    with pytest.raises(InvalidArgument):
        service_spec("")


def test_secret_and_config_refs_need_id_and_name() -> None:
    with pytest.raises(InvalidArgument, match="name"):
        secret_ref("sec1")
    with pytest.raises(InvalidArgument):
        config_ref("", "x")
    with pytest.raises(InvalidArgument):
        secret_ref("sec1", "x", mode=0o10000)
    ref = config_ref(Config(id="c1", spec=ConfigSpec(name="app")))
    assert ref.file is not None and ref.file.name == "/app"


def test_secret_create_never_shows_its_data() -> None:
    secret = b"hunter2-very-secret"
    request = SecretCreate(name="pw", data=secret)
    for text in (repr(request), str(request)):
        assert "hunter2" not in text
        assert base64.b64encode(secret).decode() not in text
        assert "19 bytes hidden" in text
    assert request.to_wire() == {
        "Name": "pw",
        "Labels": {},
        "Data": base64.b64encode(secret).decode(),
    }


def test_encode_and_decode_data() -> None:
    assert encode_data("é") == base64.b64encode("é".encode()).decode()
    assert decode_data(Config(spec=ConfigSpec(data=encode_data(b"\x00\xff")))) == b"\x00\xff"
    assert decode_data(Secret()) == b""
    with pytest.raises(InvalidArgument) as info:
        encode_data(12345)  # type: ignore[arg-type]
    assert "12345" not in str(info.value)
    with pytest.raises(InvalidArgument):
        decode_data("***")


def test_version_index() -> None:
    assert version_index(ObjectVersion(index=12)) == 12
    assert version_index(3) == 3
    for bad in (None, -1, True, "3"):
        with pytest.raises(InvalidArgument):
            version_index(bad)  # type: ignore[arg-type]


# --- error mapping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "pattern", "call"),
    [
        ("GET", "/swarm", lambda d: d.swarm.inspect()),
        ("GET", "/swarm/unlockkey", lambda d: d.swarm.unlock_key()),
        ("POST", "/swarm/leave", lambda d: d.swarm.leave(force=True)),
        ("GET", "/nodes", lambda d: d.nodes.list()),
        ("GET", "/services", lambda d: d.services.list()),
        ("GET", "/services/{id}", lambda d: d.services.inspect("x")),
        ("GET", "/tasks", lambda d: d.tasks.list()),
        ("GET", "/secrets", lambda d: d.secrets.list()),
        ("GET", "/configs", lambda d: d.configs.list()),
        ("POST", "/configs/create", lambda d: d.configs.create("c", b"x")),
    ],
)
async def test_not_a_manager_is_not_in_swarm(
    fake: FakeDocker, docker: aiodock.DockerClient, method: str, pattern: str, call: Any
) -> None:
    fake.add_route(method, pattern, answer(503, NOT_MANAGER))
    with pytest.raises(NotInSwarm) as info:
        await call(docker)
    assert info.value.status == 503
    assert "swarm.init" in str(info.value)
    assert NOT_MANAGER in info.value.message


async def test_leave_outside_a_swarm_and_locked_swarm(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("POST", "/swarm/leave", answer(503, "This node is not part of a swarm"))
    with pytest.raises(NotInSwarm):
        await docker.swarm.leave()
    locked = (
        "Swarm is encrypted and needs to be unlocked before it can be used. "
        'Please use "docker swarm unlock" to unlock it.'
    )
    fake.add_route("GET", "/nodes", answer(503, locked))
    with pytest.raises(NotInSwarm, match=r"swarm\.unlock\(key\)"):
        await docker.nodes.list()


async def test_other_503_stays_server_error(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    message = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm'
    fake.add_route("POST", "/swarm/init", answer(503, message))
    with pytest.raises(ServerError) as info:
        await docker.swarm.init(advertise_addr="127.0.0.1")
    assert not isinstance(info.value, NotInSwarm)
    assert "already part of a swarm" in str(info.value)


async def test_stale_versions_raise_conflict_naming_the_version(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    for pattern in ("/services/{id}/update", "/nodes/{id}/update", "/swarm/update"):
        fake.add_route("POST", pattern, answer(500, OUT_OF_SEQUENCE))
    spec = service_spec(IMAGE)
    with pytest.raises(Conflict, match="version 41 is stale") as info:
        await docker.services.update("svc", spec, version=41)
    assert info.value.status == 500
    assert "update out of sequence" in info.value.message
    with pytest.raises(Conflict, match="version 5 is stale"):
        await docker.nodes.update("n1", NodeSpec(role="worker"), version=ObjectVersion(index=5))
    with pytest.raises(Conflict, match="version 9 is stale"):
        await docker.swarm.update(SwarmSpec(name="default"), version=9)


async def test_not_found_classes(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    fake.add_route("GET", "/services/{id}", answer(404, "service nope not found"))
    fake.add_route("GET", "/tasks/{id}", answer(404, "task nope not found"))
    fake.add_route("GET", "/plugins/{name:.+}/json", answer(404, "plugin nope not found"))
    with pytest.raises(ServiceNotFound):
        await docker.services.inspect("nope")
    with pytest.raises(NotFound):
        await docker.tasks.inspect("nope")
    with pytest.raises(PluginNotFound):
        await docker.plugins.inspect("nope")


# --- swarm ----------------------------------------------------------------------------------


async def test_swarm_calls_send_what_the_engine_expects(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("POST", "/swarm/init", lambda req: "node-123")
    fake.add_route("POST", "/swarm/join", lambda req: (200, None))
    fake.add_route("POST", "/swarm/leave", lambda req: (200, None))
    fake.add_route("POST", "/swarm/update", lambda req: (200, None))
    fake.add_route("POST", "/swarm/unlock", lambda req: (200, None))
    fake.add_route("GET", "/swarm/unlockkey", lambda req: {"UnlockKey": "SWMKEY-1-abc"})

    spec = SwarmSpec(encryption_config=SwarmSpecEncryptionConfig(auto_lock_managers=True))
    node = await docker.swarm.init(
        advertise_addr="127.0.0.1",
        listen_addr="127.0.0.1:4567",
        default_addr_pool=["10.20.0.0/16"],
        subnet_size=24,
        spec=spec,
    )
    assert node == "node-123"
    body = fake.requests_to("POST", "/swarm/init")[0].json()
    assert body == {
        "ListenAddr": "127.0.0.1:4567",
        "AdvertiseAddr": "127.0.0.1",
        "ForceNewCluster": False,
        "DefaultAddrPool": ["10.20.0.0/16"],
        "SubnetSize": 24,
        "Spec": {"EncryptionConfig": {"AutoLockManagers": True}},
    }

    await docker.swarm.join("10.0.0.1:2377", "SWMTKN-1-xyz", listen_addr="127.0.0.1:4568")
    assert fake.requests_to("POST", "/swarm/join")[0].json() == {
        "ListenAddr": "127.0.0.1:4568",
        "AdvertiseAddr": "",
        "RemoteAddrs": ["10.0.0.1:2377"],
        "JoinToken": "SWMTKN-1-xyz",
    }

    await docker.swarm.leave(force=True)
    assert fake.requests_to("POST", "/swarm/leave")[0].param("force") == "1"

    await docker.swarm.update(spec, version=ObjectVersion(index=12), rotate_worker_token=True)
    update = fake.requests_to("POST", "/swarm/update")[0]
    assert update.param("version") == "12"
    assert update.param("rotateWorkerToken") == "1"
    assert update.param("rotateManagerUnlockKey") == "0"

    assert await docker.swarm.unlock_key() == "SWMKEY-1-abc"
    await docker.swarm.unlock("SWMKEY-1-abc")
    assert fake.requests_to("POST", "/swarm/unlock")[0].json() == {"UnlockKey": "SWMKEY-1-abc"}


async def test_swarm_secrets_stay_out_of_errors(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    with pytest.raises(InvalidArgument) as info:
        await docker.swarm.join([], "SWMTKN-1-secret")
    assert "SWMTKN" not in str(info.value)
    with pytest.raises(InvalidArgument) as info:
        await docker.swarm.join("h:1", "   ")
    with pytest.raises(InvalidArgument):
        await docker.swarm.unlock(b"SWMKEY-1-secret")  # type: ignore[arg-type]
    assert fake.requests_to("POST", "/swarm/*") == []


async def test_unlock_when_not_locked_is_conflict(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("POST", "/swarm/unlock", answer(409, "swarm is not locked"))
    with pytest.raises(Conflict, match="not locked") as info:
        await docker.swarm.unlock("SWMKEY-1-topsecret")
    assert "topsecret" not in str(info.value)


# --- nodes ---------------------------------------------------------------------------------


async def test_node_update_and_remove(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    fake.add_route("POST", "/nodes/{id}/update", lambda req: (200, None))
    fake.add_route("DELETE", "/nodes/{id}", lambda req: (200, None))
    fake.add_route(
        "GET", "/nodes", lambda req: [{"ID": "n1", "Spec": {"Role": "manager", "Labels": None}}]
    )
    nodes = await docker.nodes.list(filters={"role": "manager"})
    assert nodes[0].id == "n1" and nodes[0].spec is not None and nodes[0].spec.labels == {}
    assert json.loads(fake.requests_to("GET", "/nodes")[0].param("filters") or "") == {
        "role": ["manager"]
    }

    spec = NodeSpec(role="manager", availability="active", labels={"zone": "a"})
    await docker.nodes.update("n1", spec, version=3)
    sent = fake.requests_to("POST", "/nodes/n1/update")[0]
    assert sent.param("version") == "3"
    assert sent.json() == {"Labels": {"zone": "a"}, "Role": "manager", "Availability": "active"}
    with pytest.raises(InvalidArgument):
        await docker.nodes.update("n1", NodeSpec(role="boss"), version=3)
    with pytest.raises(InvalidArgument):
        await docker.nodes.update("n1", NodeSpec(), version=None)

    await docker.nodes.remove("n1", force=True)
    assert fake.requests_to("DELETE", "/nodes/n1")[0].param("force") == "1"


# --- services ------------------------------------------------------------------------------


async def test_service_create_update_and_auth(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("POST", "/services/create", lambda req: (201, {"ID": "svc1", "Warnings": None}))
    fake.add_route("POST", "/services/{id}/update", lambda req: {"Warnings": ["w"]})
    spec = service_spec(IMAGE, name="web", replicas=0)
    created = await docker.services.create(spec)
    assert created.id == "svc1"
    sent = fake.requests_to("POST", "/services/create")[0]
    assert "X-Registry-Auth" not in sent.headers
    assert sent.json()["Mode"] == {"Replicated": {"Replicas": 0}}

    await docker.services.create(spec, auth={"username": "u", "password": "p"})
    header = fake.requests_to("POST", "/services/create")[1].headers["X-Registry-Auth"]
    assert json.loads(base64.urlsafe_b64decode(header)) == {"username": "u", "password": "p"}

    result = await docker.services.update(
        "svc1", spec, version=4, rollback=True, registry_auth_from="previous-spec"
    )
    assert result.warnings == ["w"]
    update = fake.requests_to("POST", "/services/svc1/update")[0]
    assert update.param("version") == "4"
    assert update.param("rollback") == "previous"
    assert update.param("registryAuthFrom") == "previous-spec"
    with pytest.raises(InvalidArgument):
        await docker.services.update("svc1", spec, version=4, registry_auth_from="x")  # type: ignore[arg-type]


async def test_service_scale_reads_then_updates(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("GET", "/services/{id}", lambda req: service_json(version=11))
    fake.add_route("POST", "/services/{id}/update", lambda req: {"Warnings": None})
    await docker.services.scale("web", 0)
    sent = fake.requests_to("POST", "/services/svc1/update")[0]
    assert sent.param("version") == "11"
    assert sent.json()["Mode"] == {"Replicated": {"Replicas": 0}}
    assert sent.json()["TaskTemplate"]["ContainerSpec"]["Image"] == IMAGE


async def test_scaling_a_global_service_is_refused(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("GET", "/services/{id}", lambda req: service_json(mode={"Global": {}}))
    with pytest.raises(InvalidArgument, match="global"):
        await docker.services.scale("web", 2)
    assert fake.requests_to("POST", "/services/*") == []


async def test_service_list_status_param(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    fake.add_route("GET", "/services", lambda req: [service_json()])
    services = await docker.services.list(status=True, filters={"label": {"a": "b"}})
    assert services[0].spec is not None and services[0].spec.name == "web"
    sent = fake.requests_to("GET", "/services")[0]
    assert sent.param("status") == "1"
    assert json.loads(sent.param("filters") or "") == {"label": ["a=b"]}
    old = fake.client(api_version="1.40")
    with pytest.raises(APIVersionError):
        await old.services.list(status=True)


# --- logs ------------------------------------------------------------------------------------

BINARY = bytes(range(256))


def _log_route(fake: FakeDocker, pattern: str, body: bytes) -> None:
    fake.add_route("GET", pattern, lambda req: web.Response(body=body))


async def test_service_logs_multiplexed_byte_exact(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("GET", "/services/{id}", lambda req: service_json(tty=False))
    wire = encode_frame(1, BINARY) + encode_frame(2, b"err\n") + encode_frame(1, b"")
    _log_route(fake, "/services/{id}/logs", wire)
    out = await docker.services.logs("web", tail=10, timestamps=True, since=5).demux()
    assert out.stdout == BINARY
    assert out.stderr == b"err\n"
    assert len(fake.requests_to("GET", "/services/web")) == 1
    sent = fake.requests_to("GET", "/services/web/logs")[0]
    assert sent.param("tail") == "10"
    assert sent.param("timestamps") == "1"
    assert sent.param("since") == "5"
    assert sent.param("stdout") == "1" and sent.param("stderr") == "1"


async def test_service_logs_raw_for_tty(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    fake.add_route("GET", "/services/{id}", lambda req: service_json(tty=True))
    # Bytes that would be a frame header if they were read as multiplexed.
    raw = b"\x01\x00\x00\x00\x00\x00\x00\x05hello\r\n" + BINARY
    _log_route(fake, "/services/{id}/logs", raw)
    frames = await docker.services.logs("web").collect()
    assert b"".join(f.data for f in frames) == raw
    assert {f.stream for f in frames} == {StreamType.STDOUT}


async def test_service_logs_with_tty_given_skip_the_inspect(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    _log_route(fake, "/services/{id}/logs", b"plain")
    assert await docker.services.logs("web", tty=True).read() == b"plain"
    assert fake.requests_to("GET", "/services/web") == []
    with pytest.raises(InvalidArgument):
        docker.services.logs("web", stdout=False, stderr=False)
    with pytest.raises(InvalidArgument):
        docker.services.logs("web", tail=-1)


async def test_service_logs_daemon_error_frame_raises(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    wire = encode_frame(1, b"ok\n") + encode_frame(3, b"Error grabbing logs: boom\n")
    _log_route(fake, "/services/{id}/logs", wire)
    seen = []
    with pytest.raises(StreamError, match="boom"):
        async for frame in docker.services.logs("web", tty=False):
            seen.append(frame.data)
    assert seen == [b"ok\n"]


async def test_service_logs_not_in_swarm(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    fake.add_route("GET", "/services/{id}", answer(503, NOT_MANAGER))
    with pytest.raises(NotInSwarm):
        await docker.services.logs("web").read()


async def test_task_logs_use_the_task_tty(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    fake.add_route(
        "GET",
        "/tasks/{id}",
        lambda req: {"ID": "t1", "Spec": {"ContainerSpec": {"Image": IMAGE, "TTY": True}}},
    )
    _log_route(fake, "/tasks/{id}/logs", b"\x02\x00\x00\x00\x00\x00\x00\x01x")
    assert await docker.tasks.logs("t1").read() == b"\x02\x00\x00\x00\x00\x00\x00\x01x"
    old = fake.client(api_version="1.28")
    with pytest.raises(APIVersionError):
        await old.tasks.logs("t1").read()


# --- convergence --------------------------------------------------------------------------------


def _script(fake: FakeDocker, services: list[dict[str, Any]], tasks: list[list[Any]]) -> None:
    """Serve the i-th scripted answer on the i-th poll (the last one repeats)."""
    polls = {"services": 0, "tasks": 0}

    def pick(kind: str, items: list[Any]) -> Any:
        i = min(polls[kind], len(items) - 1)
        polls[kind] += 1
        return items[i]

    fake.add_route("GET", "/services/{id}", lambda req: services[0])
    fake.add_route("GET", "/services", lambda req: [pick("services", services)])
    fake.add_route("GET", "/tasks", lambda req: pick("tasks", tasks))


async def test_wait_converged_waits_for_all_replicas(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    _script(
        fake,
        [service_json()],
        [
            [task_json("t1", "preparing")],
            [task_json("t1", "running"), task_json("t2", "starting", slot=2)],
            [task_json("t1", "running"), task_json("t2", "running", slot=2)],
        ],
    )
    result = await docker.services.wait_converged(
        "web", timeout=10, poll_interval=0.01, stable_for=0
    )
    assert (result.running, result.desired) == (2, 2)
    assert sorted(t.id for t in result.tasks) == ["t1", "t2"]
    assert len(fake.requests_to("GET", "/tasks")) == 3
    sent = fake.requests_to("GET", "/tasks")[0]
    assert json.loads(sent.param("filters") or "") == {"service": ["svc1"]}


async def test_wait_converged_needs_a_stable_state(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    # Running on the first poll, crashed on the next: not converged.
    _script(
        fake,
        [service_json(mode={"Replicated": {"Replicas": 1}})],
        [
            [task_json("t1", "running")],
            [task_json("t1", "failed", desired="shutdown", err="task: non-zero exit (3)")],
        ],
    )
    with pytest.raises(ConvergenceError, match=r"non-zero exit \(3\)"):
        await docker.services.wait_converged("web", poll_interval=0.01, stable_for=0.2)


async def test_wait_converged_stable_window_restarts_when_tasks_change(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    _script(
        fake,
        [service_json(mode={"Replicated": {"Replicas": 1}})],
        [
            [task_json("t1", "running")],
            [task_json("t2", "running")],
        ],
    )
    result = await docker.services.wait_converged("web", poll_interval=0.01, stable_for=0.1)
    assert [t.id for t in result.tasks] == ["t2"]
    assert len(fake.requests_to("GET", "/tasks")) > 3
    with pytest.raises(InvalidArgument):
        await docker.services.wait_converged("web", stable_for=-1)


async def test_wait_converged_fails_with_task_errors(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    _script(
        fake,
        [service_json()],
        [
            [
                task_json("old", "failed", created="2023-12-31T00:00:00Z", err="old news"),
                task_json("t1", "running"),
                task_json("t2", "rejected", err="No such image: nope", slot=2),
            ]
        ],
    )
    with pytest.raises(ConvergenceError) as info:
        await docker.services.wait_converged("web", timeout=10, poll_interval=0.01)
    assert "No such image: nope" in str(info.value)
    assert "old news" not in str(info.value)
    assert [t.id for t in info.value.tasks] == ["t2"]


async def test_wait_converged_tolerates_failures_when_asked(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    _script(
        fake,
        [service_json()],
        [
            [
                task_json("t0", "failed", desired="shutdown", err="exit 1"),
                task_json("t1", "running"),
                task_json("t2", "running", slot=2),
            ]
        ],
    )
    result = await docker.services.wait_converged("web", poll_interval=0.01, max_failures=1)
    assert result.running == 2


async def test_wait_converged_times_out_with_counts(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    _script(fake, [service_json()], [[task_json("t1", "running")]])
    with pytest.raises(DockerTimeoutError, match=r"1/2 running"):
        await docker.services.wait_converged("web", timeout=0.1, poll_interval=0.02)


async def test_wait_converged_reports_a_paused_update(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    paused = service_json(
        update_status={"State": "paused", "Message": "update paused due to failure"}
    )
    _script(fake, [paused], [[task_json("t1", "running"), task_json("t2", "running")]])
    with pytest.raises(ConvergenceError, match="update paused due to failure"):
        await docker.services.wait_converged("web", timeout=5, poll_interval=0.01)


def _service_model(**kwargs: Any) -> aiodock.models.Service:
    from aiodock._convert import structure

    return structure(service_json(**kwargs), aiodock.models.Service)


def _tasks(*items: dict[str, Any]) -> list[aiodock.models.Task]:
    from aiodock._convert import structure_list

    return structure_list(list(items), aiodock.models.Task)


def test_assess_waits_for_scaled_down_tasks_to_stop() -> None:
    service = _service_model(mode={"Replicated": {"Replicas": 1}})
    moving = _tasks(task_json("t1", "running"), task_json("t2", "running", desired="shutdown"))
    assert not assess(service, moving).done
    settled = _tasks(task_json("t1", "running"), task_json("t2", "shutdown", desired="shutdown"))
    assert assess(service, settled).done
    updating = _service_model(update_status={"State": "updating"})
    both = _tasks(task_json("t1", "running"), task_json("t2", "running"))
    assert not assess(updating, both).done
    assert assess(_service_model(), both).done


def test_assess_jobs_count_the_current_iteration() -> None:
    job = _service_model(mode={"ReplicatedJob": {"TotalCompletions": 2}}, job_iteration=5)
    tasks = _tasks(
        task_json("a", "complete", desired="complete", job_iteration=4),
        task_json("b", "complete", desired="complete", job_iteration=5),
        task_json("c", "running", desired="complete", job_iteration=5),
    )
    state = assess(job, tasks)
    assert (state.done, state.completed, state.desired) == (False, 1, 2)
    tasks[2] = _tasks(task_json("c", "complete", desired="complete", job_iteration=5))[0]
    assert assess(job, tasks).done
    failed = _tasks(task_json("d", "failed", desired="complete", job_iteration=5, err="exit 3"))
    assert [t.id for t in assess(job, failed).failures] == ["d"]
    glob = _service_model(mode={"GlobalJob": {}}, job_iteration=1)
    done = _tasks(task_json("g", "complete", desired="complete", job_iteration=1))
    assert assess(glob, done, desired_hint=1).done
    assert not assess(glob, done, desired_hint=2).done


def test_assess_global_uses_the_desired_count() -> None:
    glob = _service_model(mode={"Global": {}})
    tasks = _tasks(task_json("a", "running"))
    assert assess(glob, tasks, desired_hint=1).done
    assert not assess(glob, tasks, desired_hint=2).done


# --- secrets and configs --------------------------------------------------------------------


async def test_secret_create_sends_base64_and_returns_id(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("POST", "/secrets/create", lambda req: (201, {"ID": "sec1"}))
    data = b"\x00\xffp@ss"
    assert await docker.secrets.create("pw", data, labels={"aiodock-test": "1"}) == "sec1"
    body = fake.requests_to("POST", "/secrets/create")[0].json()
    assert body == {
        "Name": "pw",
        "Labels": {"aiodock-test": "1"},
        "Data": base64.b64encode(data).decode(),
    }
    await docker.secrets.create("text", "héllo")
    body = fake.requests_to("POST", "/secrets/create")[1].json()
    assert base64.b64decode(body["Data"]) == "héllo".encode()


async def test_secret_errors_do_not_leak_data(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("POST", "/secrets/create", answer(409, "rpc error: secret pw already exists"))
    with pytest.raises(Conflict) as info:
        await docker.secrets.create("pw", b"topsecret-value")
    assert "topsecret" not in str(info.value)
    assert "topsecret" not in repr(info.value)
    with pytest.raises(InvalidArgument) as bad:
        await docker.secrets.create("pw", 12345)  # type: ignore[arg-type]
    assert "12345" not in str(bad.value)
    with pytest.raises(InvalidArgument):
        await docker.secrets.create("pw", b"")


async def test_secret_update_sends_current_spec_with_new_labels(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route(
        "GET",
        "/secrets/{id}",
        lambda req: {
            "ID": "sec1",
            "Version": {"Index": 30},
            "Spec": {"Name": "pw", "Labels": {"a": "1"}},
        },
    )
    fake.add_route("POST", "/secrets/{id}/update", lambda req: (200, None))
    await docker.secrets.update("pw", labels={"b": "2"})
    sent = fake.requests_to("POST", "/secrets/sec1/update")[0]
    assert sent.param("version") == "30"
    assert sent.json() == {"Name": "pw", "Labels": {"b": "2"}}
    await docker.secrets.update("pw", labels={}, version=29)
    assert fake.requests_to("POST", "/secrets/sec1/update")[1].param("version") == "29"


async def test_configs_round_trip(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    stored: dict[str, Any] = {}

    def create(req: FakeRequest) -> Any:
        stored.update(req.json_object())
        return 201, {"ID": "cfg1"}

    fake.add_route("POST", "/configs/create", create)
    fake.add_route(
        "GET",
        "/configs/{id}",
        lambda req: {"ID": "cfg1", "Version": {"Index": 3}, "Spec": stored},
    )
    fake.add_route("POST", "/configs/{id}/update", lambda req: (200, None))
    fake.add_route("DELETE", "/configs/{id}", lambda req: None)
    assert await docker.configs.create("app", b"k=v\n\x00", templating="golang") == "cfg1"
    assert stored["Templating"] == {"Name": "golang", "Options": {}}
    config = await docker.configs.inspect("cfg1")
    assert decode_data(config) == b"k=v\n\x00"
    await docker.configs.update("cfg1", labels={"x": "y"}, version=config.version)
    sent = fake.requests_to("POST", "/configs/cfg1/update")[0]
    assert sent.param("version") == "3"
    assert sent.json()["Labels"] == {"x": "y"} and sent.json()["Name"] == "app"
    await docker.configs.remove("cfg1")
    assert len(fake.requests_to("DELETE", "/configs/cfg1")) == 1


# --- plugins --------------------------------------------------------------------------------------


def _plugin_dir(tmp_path: Path) -> Path:
    root = tmp_path / "plugin"
    (root / "rootfs" / "bin").mkdir(parents=True)
    (root / "rootfs" / "bin" / "tool").write_bytes(b"\x7fELF-ish")
    (root / "config.json").write_text('{"from": "disk"}')
    return root


async def test_plugin_create_sends_a_tar_of_rootfs_and_config(
    fake: FakeDocker, docker: aiodock.DockerClient, tmp_path: Path
) -> None:
    fake.add_route("POST", "/plugins/create", lambda req: None)
    root = _plugin_dir(tmp_path)
    config = PluginConfig(
        description="test",
        entrypoint=["/bin/tool"],
        interface=PluginConfigInterface(types=["docker.volumedriver/1.0"], socket="p.sock"),
    )
    await docker.plugins.create("me/plug:1", root, config=config)
    sent = fake.requests_to("POST", "/plugins/create")[0]
    assert sent.param("name") == "me/plug:1"
    assert sent.headers["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(sent.body)) as tar:
        names = tar.getnames()
        member = tar.extractfile("config.json")
        assert member is not None
        sent_config = json.loads(member.read())
        tool = tar.extractfile("rootfs/bin/tool")
        assert tool is not None and tool.read() == b"\x7fELF-ish"
    assert names.count("config.json") == 1
    assert sent_config == {
        "Description": "test",
        "Interface": {"Types": ["docker.volumedriver/1.0"], "Socket": "p.sock"},
        "Entrypoint": ["/bin/tool"],
    }

    # Without config=, the directory's own config.json goes in.
    await docker.plugins.create("me/plug:2", root)
    with tarfile.open(fileobj=io.BytesIO(fake.requests_to("POST", "/plugins/create")[1].body)) as t:
        member = t.extractfile("config.json")
        assert member is not None and json.loads(member.read()) == {"from": "disk"}


async def test_plugin_create_validates_before_sending(
    fake: FakeDocker, docker: aiodock.DockerClient, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgument, match="rootfs"):
        await docker.plugins.create("p", tmp_path)
    root = _plugin_dir(tmp_path)
    (root / "config.json").unlink()
    with pytest.raises(InvalidArgument, match=r"config\.json"):
        await docker.plugins.create("p", root)
    with pytest.raises(InvalidArgument):
        await docker.plugins.create("p", root, archive=b"x")
    with pytest.raises(InvalidArgument):
        await docker.plugins.create("p")
    assert fake.requests_to("POST", "/plugins/create") == []


async def test_plugin_create_from_archive_bytes(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("POST", "/plugins/create", lambda req: None)
    await docker.plugins.create("p", archive=b"tar-bytes")
    assert fake.requests_to("POST", "/plugins/create")[0].body == b"tar-bytes"


async def test_plugin_lifecycle_calls(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    state = {"enabled": False}

    def enable(req: FakeRequest) -> Any:
        state["enabled"] = True
        return 200, None

    def disable(req: FakeRequest) -> Any:
        state["enabled"] = False
        return 200, None

    fake.add_route("POST", "/plugins/{name:.+}/enable", enable)
    fake.add_route("POST", "/plugins/{name:.+}/disable", disable)
    fake.add_route("POST", "/plugins/{name:.+}/set", lambda req: None)
    fake.add_route("DELETE", "/plugins/{name:.+}", lambda req: (200, None))
    fake.add_route(
        "GET",
        "/plugins/{name:.+}/json",
        lambda req: {"Id": "pid", "Name": req.params["name"], "Enabled": state["enabled"]},
    )
    fake.add_route("GET", "/plugins", lambda req: [{"Id": "pid", "Name": "me/p:latest"}])

    name = "127.0.0.1:5000/me/p:latest"
    await docker.plugins.set(name, {"DEBUG": "1", "data.source": "/tmp"})
    assert fake.requests_to("POST", "/plugins/*/set")[0].json() == ["DEBUG=1", "data.source=/tmp"]
    await docker.plugins.set(name, ["args=-v"])
    with pytest.raises(InvalidArgument):
        await docker.plugins.set(name, ["no-equals"])

    await docker.plugins.enable(name, timeout=15)
    assert (await docker.plugins.inspect(name)).enabled
    sent = fake.requests_to("POST", "/plugins/*/enable")[0]
    assert sent.param("timeout") == "15"
    assert sent.path == f"/plugins/{name}/enable"
    await docker.plugins.disable(name, force=True)
    assert fake.requests_to("POST", "/plugins/*/disable")[0].param("force") == "1"
    assert not (await docker.plugins.inspect(name)).enabled
    assert [p.name for p in await docker.plugins.list(filters={"enabled": True})] == ["me/p:latest"]
    await docker.plugins.remove(name, force=True)
    assert fake.requests_to("DELETE", "/plugins/*")[0].param("force") == "1"
    with pytest.raises(InvalidArgument):
        await docker.plugins.enable(name, timeout=-1)


PRIVILEGES = [
    {"Name": "network", "Description": "", "Value": ["host"]},
    {"Name": "capabilities", "Description": "", "Value": ["CAP_SYS_ADMIN"]},
]


async def test_plugin_pull_sends_privileges_and_auth(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    fake.add_route("GET", "/plugins/privileges", lambda req: PRIVILEGES)
    progress = (
        b'{"status":"Downloading","progressDetail":{"current":1,"total":2}}\n{"status":"Done"}\n'
    )
    fake.add_route("POST", "/plugins/pull", lambda req: progress)
    remote = "127.0.0.1:5000/me/p:latest"
    auth = {"username": "u", "password": "pw", "serveraddress": "127.0.0.1:5000"}

    privileges = await docker.plugins.privileges(remote, auth=auth)
    assert [p.name for p in privileges] == ["network", "capabilities"]
    messages = await docker.plugins.pull(
        remote, name="local/p:1", privileges=privileges, auth=auth
    ).collect()
    assert [m.status for m in messages] == ["Downloading", "Done"]
    assert messages[0].total == 2
    sent = fake.requests_to("POST", "/plugins/pull")[0]
    assert sent.param("remote") == remote and sent.param("name") == "local/p:1"
    assert sent.json() == PRIVILEGES
    header = json.loads(base64.urlsafe_b64decode(sent.headers["X-Registry-Auth"]))
    assert header == auth

    await docker.plugins.pull(remote, grant_all_privileges=True, auth=auth).wait()
    assert fake.requests_to("POST", "/plugins/pull")[1].json() == PRIVILEGES
    assert len(fake.requests_to("GET", "/plugins/privileges")) == 2

    with pytest.raises(InvalidArgument):
        docker.plugins.pull(remote, privileges=privileges, grant_all_privileges=True)
    with pytest.raises(InvalidArgument):
        docker.plugins.pull(remote, privileges=[{"Name": "x"}])  # type: ignore[list-item]
    with pytest.raises(InvalidArgument):
        docker.plugins.pull("UPPER/Case:bad tag")


async def test_plugin_push_upgrade_and_in_band_errors(
    fake: FakeDocker, docker: aiodock.DockerClient
) -> None:
    ok = b'{"status":"Pushed"}\n{"aux":{"Tag":"latest","Digest":"sha256:abc","Size":3}}\n'
    fake.add_route("POST", "/plugins/{name:.+}/push", lambda req: ok)
    failing = b'{"status":"x"}\n{"errorDetail":{"message":"plugin must be disabled"}}\n'
    fake.add_route("POST", "/plugins/{name:.+}/upgrade", lambda req: failing)
    name = "127.0.0.1:5000/me/p:latest"
    stream = docker.plugins.push(name, auth={"username": "u", "password": "p"})
    await stream.wait()
    assert stream.digest == "sha256:abc"
    assert "X-Registry-Auth" in fake.requests_to("POST", "/plugins/*/push")[0].headers

    seen = []
    with pytest.raises(StreamError, match="plugin must be disabled"):
        async for message in docker.plugins.upgrade(name, name + "2", privileges=[]):
            seen.append(message.status)
    assert seen == ["x"]
    sent = fake.requests_to("POST", "/plugins/*/upgrade")[0]
    assert sent.param("remote") == name + "2"
    assert sent.json() == []


async def test_plugin_upgrade_needs_api_126(fake: FakeDocker) -> None:
    old = fake.client(api_version="1.25")
    with pytest.raises(APIVersionError):
        await old.plugins.upgrade("me/p", "me/p:2", privileges=[]).wait()
    assert fake.requests_to("POST", "/plugins/*/upgrade") == []


async def test_plugin_names_are_quoted(fake: FakeDocker, docker: aiodock.DockerClient) -> None:
    fake.add_route("GET", "/plugins/{name:.+}/json", lambda req: {"Name": req.params["name"]})
    plugin = await docker.plugins.inspect("a/b:c?d#e")
    assert plugin.name == "a/b:c?d#e"
    with pytest.raises(InvalidArgument):
        await docker.plugins.inspect("")


async def test_privileges_model_round_trip() -> None:
    item = PluginPrivilege(name="mount", value=["/data"])
    from aiodock.resources.plugins import _privileges_body

    assert _privileges_body([item]) == [{"Name": "mount", "Description": "", "Value": ["/data"]}]
