"""Swarm mode against the real engine: swarm, nodes, services, tasks, secrets and configs.

The first tests run before this module puts the engine into swarm mode (they
check the errors of a node that is not in a swarm); the ``swarm`` fixture then
makes the engine a one-node swarm on 127.0.0.1 for the rest of the module and
leaves it (forced) at the end. Services run the local test image referenced by
its id, so no node ever tries to pull it from a registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import attrs
import pytest

import aiodock
from aiodock import BadRequest, Conflict, NotInSwarm, ServerError
from aiodock.errors import APIError, ConvergenceError
from aiodock.models import NodeSpec, SwarmSpecEncryptionConfig, TaskSpecRestartPolicy
from aiodock.models.swarm import (
    ServiceMode,
    config_ref,
    decode_data,
    secret_ref,
    service_spec,
)
from tests.integration import _infra

LABELS = dict(_infra.TEST_LABEL)
GWBRIDGE = "docker_gwbridge"
# Every byte but the newline, as printf escapes, then a newline.
ALL_BYTES = bytes(b for b in range(256) if b != 10) + b"\n"
PRINTF_ALL_BYTES = "".join(f"\\{b:03o}" for b in ALL_BYTES[:-1]) + "\\n"


def _in_swarm() -> bool:
    status, _ = _infra.engine_request("GET", "/swarm")
    return status == 200


def _network_exists(name: str) -> bool:
    status, _ = _infra.engine_request("GET", f"/networks/{name}")
    return status == 200


@dataclass(frozen=True)
class SwarmNode:
    node_id: str
    listen_port: int
    image_id: str


async def _init(port: int) -> str:
    async with aiodock.DockerClient(_infra.DOCKER_HOST) as docker:
        return await docker.swarm.init(advertise_addr="127.0.0.1", listen_addr=f"127.0.0.1:{port}")


async def _leave() -> None:
    async with aiodock.DockerClient(_infra.DOCKER_HOST) as docker:
        await docker.swarm.leave(force=True)


def _remove_gwbridge() -> None:
    """The engine leaves docker_gwbridge behind after a swarm; remove the one we caused."""
    for _ in range(20):
        status, _body = _infra.engine_request("DELETE", f"/networks/{GWBRIDGE}")
        if status in (204, 404):
            return
        time.sleep(0.5)


@pytest.fixture(scope="module")
def swarm(busybox: str) -> Iterator[SwarmNode]:
    """This engine as a one-node swarm for the module; left (forced) afterwards."""
    if _in_swarm():
        pytest.fail(
            "the engine is already in a swarm that this test module did not create; "
            "leave it first (docker swarm leave --force)",
            pytrace=False,
        )
    status, body = _infra.engine_request("GET", f"/images/{busybox}/json")
    assert status == 200, body[:200]
    image_id = json.loads(body)["Id"]
    had_gwbridge = _network_exists(GWBRIDGE)
    port = _infra.free_port()
    node_id = asyncio.run(_init(port))
    try:
        yield SwarmNode(node_id=node_id, listen_port=port, image_id=image_id)
    finally:
        try:
            asyncio.run(_leave())
        finally:
            if _in_swarm():  # the client failed: leave without it
                _infra.engine_request("POST", "/swarm/leave", params={"force": "1"})
            if not had_gwbridge:
                _remove_gwbridge()


def _name(prefix: str) -> str:
    return f"aiodock-{prefix}-{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def _service(
    docker: aiodock.DockerClient, spec: aiodock.models.ServiceSpec
) -> AsyncIterator[str]:
    created = await docker.services.create(spec)
    try:
        yield created.id
    finally:
        with contextlib.suppress(aiodock.NotFound):
            await docker.services.remove(created.id)


# --- outside a swarm (these run before the fixture exists) -------------------------------


async def test_not_in_swarm_errors(docker: aiodock.DockerClient, busybox: str) -> None:
    if _in_swarm():
        pytest.fail("the engine is in a swarm already; this test needs it not to be")
    calls = [
        docker.swarm.inspect(),
        docker.swarm.unlock_key(),
        docker.nodes.list(),
        docker.services.list(),
        docker.tasks.list(),
        docker.secrets.list(),
        docker.configs.list(),
        docker.swarm.leave(),
    ]
    for call in calls:
        with pytest.raises(NotInSwarm) as info:
            await call
        assert info.value.status == 503
        assert "swarm.init" in str(info.value)


async def test_join_with_an_invalid_token_fails_clearly(
    docker: aiodock.DockerClient, busybox: str
) -> None:
    if _in_swarm():
        pytest.fail("the engine is in a swarm already; this test needs it not to be")
    port = _infra.free_port()
    try:
        with pytest.raises(APIError) as info:
            await docker.swarm.join(
                ["127.0.0.1:1"], "SWMTKN-1-not-a-real-token", listen_addr=f"127.0.0.1:{port}"
            )
        assert "invalid join token" in info.value.message
        assert "not-a-real-token" not in str(info.value)
    finally:
        if _in_swarm():
            _infra.engine_request("POST", "/swarm/leave", params={"force": "1"})
    assert not _in_swarm()


# --- the swarm itself -----------------------------------------------------------------------


async def test_swarm_inspect_update_and_autolock(
    docker: aiodock.DockerClient, swarm: SwarmNode
) -> None:
    info = await docker.swarm.inspect()
    assert info.spec is not None and info.spec.name == "default"
    assert info.join_tokens is not None
    assert info.join_tokens.worker.startswith("SWMTKN-1-")
    assert info.version is not None

    # Joining while already in a swarm: the engine's own 503, not "not in a swarm".
    with pytest.raises(ServerError) as joined:
        await docker.swarm.join(["127.0.0.1:1"], info.join_tokens.worker)
    assert not isinstance(joined.value, NotInSwarm)
    assert "already part of a swarm" in joined.value.message

    locked_spec = attrs.evolve(
        info.spec,
        labels={**info.spec.labels, "aiodock-test": "1"},
        encryption_config=SwarmSpecEncryptionConfig(auto_lock_managers=True),
    )
    await docker.swarm.update(locked_spec, version=info.version)
    with pytest.raises(Conflict, match=f"version {info.version.index} is stale"):
        await docker.swarm.update(locked_spec, version=info.version)
    try:
        after = await docker.swarm.inspect()
        assert after.spec is not None and after.spec.labels["aiodock-test"] == "1"
        assert after.spec.encryption_config is not None
        assert after.spec.encryption_config.auto_lock_managers
        key = await docker.swarm.unlock_key()
        assert key.startswith("SWMKEY-1-")

        # Rotating the unlock key gives a new one.
        await docker.swarm.update(after.spec, version=after.version, rotate_manager_unlock_key=True)
        rotated = await docker.swarm.unlock_key()
        assert rotated.startswith("SWMKEY-1-") and rotated != key

        # A running manager is not locked (locking needs a daemon restart).
        with pytest.raises(Conflict, match="not locked") as unlock:
            await docker.swarm.unlock(rotated)
        assert rotated not in str(unlock.value)
    finally:
        current = await docker.swarm.inspect()
        assert current.spec is not None
        await docker.swarm.update(
            attrs.evolve(
                current.spec,
                encryption_config=SwarmSpecEncryptionConfig(auto_lock_managers=False),
            ),
            version=current.version,
        )
    final = await docker.swarm.inspect()
    assert final.spec is not None and final.spec.encryption_config is not None
    assert not final.spec.encryption_config.auto_lock_managers
    assert await docker.swarm.unlock_key() == ""


async def test_nodes_list_inspect_update_remove(
    docker: aiodock.DockerClient, swarm: SwarmNode
) -> None:
    nodes = await docker.nodes.list()
    assert [n.id for n in nodes] == [swarm.node_id]
    assert [n.id for n in await docker.nodes.list(filters={"role": "manager"})] == [swarm.node_id]
    assert await docker.nodes.list(filters={"role": "worker"}) == []

    node = await docker.nodes.inspect(swarm.node_id)
    assert node.spec is not None and node.spec.role == "manager"
    assert node.manager_status is not None and node.manager_status.leader
    assert node.description is not None and node.description.hostname

    labels = {**node.spec.labels, "aiodock-test": "1", "zone": "a"}
    await docker.nodes.update(node.id, attrs.evolve(node.spec, labels=labels), version=node.version)
    updated = await docker.nodes.inspect(node.id)
    assert updated.spec is not None and updated.spec.labels["zone"] == "a"
    with pytest.raises(Conflict, match="is stale"):
        await docker.nodes.update(node.id, node.spec, version=node.version)
    await docker.nodes.update(
        node.id,
        attrs.evolve(updated.spec, labels=node.spec.labels),
        version=updated.version,
    )
    restored = await docker.nodes.inspect(node.id)
    assert restored.spec is not None and "zone" not in restored.spec.labels

    # The engine refuses to remove the manager it runs on, even with force.
    for force in (False, True):
        with pytest.raises(BadRequest, match="must be demoted") as refused:
            await docker.nodes.remove(node.id, force=force)
        assert refused.value.status == 400
    with pytest.raises(aiodock.NodeNotFound):
        await docker.nodes.inspect("no-such-node")
    with pytest.raises(aiodock.InvalidArgument):
        await docker.nodes.update(node.id, NodeSpec(availability="asleep"), version=node.version)


# --- services and tasks ------------------------------------------------------------------------


async def test_service_lifecycle(docker: aiodock.DockerClient, swarm: SwarmNode) -> None:
    spec = service_spec(
        swarm.image_id,
        name=_name("svc"),
        labels=LABELS,
        command=["sh", "-c", 'printf "$1"; echo err >&2; exec sleep 600', "sh", PRINTF_ALL_BYTES],
        replicas=1,
        log_driver="local",  # keeps bytes as written (json-file would replace invalid UTF-8)
        stop_grace_period=1,
    )
    async with _service(docker, spec) as service_id:
        first = await docker.services.wait_converged(service_id, timeout=60)
        assert (first.running, first.desired) == (1, 1)
        task = first.tasks[0]
        assert task.status is not None and task.status.state == "running"
        assert task.spec is not None and task.spec.container_spec is not None
        assert task.spec.container_spec.image == swarm.image_id  # by id: never pulled

        await docker.services.scale(service_id, 3)
        scaled = await docker.services.wait_converged(service_id, timeout=60)
        assert (scaled.running, scaled.desired) == (3, 3)
        running = await docker.tasks.list(
            filters={"service": service_id, "desired-state": "running"}
        )
        assert sorted(t.slot for t in running) == [1, 2, 3]
        assert (await docker.tasks.inspect(running[0].id)).service_id == service_id

        # Logs: byte exact, stdout and stderr apart, one line of each per task.
        async def logs_complete() -> aiodock.Output:
            for _ in range(40):
                out = await docker.services.logs(service_id).demux()
                if out.stdout.count(b"\n") == 3 and out.stderr.count(b"\n") == 3:
                    return out
                await asyncio.sleep(0.25)
            raise AssertionError(f"incomplete service logs: {out!r}")

        out = await logs_complete()
        assert out.stdout == ALL_BYTES * 3
        assert out.stderr == b"err\n" * 3
        task_out = await docker.tasks.logs(running[0].id).demux()
        assert task_out.stdout == ALL_BYTES
        assert task_out.stderr == b"err\n"
        only_err = await docker.services.logs(service_id, stdout=False).demux()
        assert only_err == aiodock.Output(stdout=bytearray(), stderr=bytearray(b"err\n" * 3))
        tailed = await docker.services.logs(service_id, tail=1).demux()  # one line per task
        assert tailed.stdout.count(b"\n") + tailed.stderr.count(b"\n") == 3

        # Updates carry the version read; an old one is refused, naming it.
        current = await docker.services.inspect(service_id)
        assert current.spec is not None and current.version is not None
        stale = current.version.index
        relabelled = attrs.evolve(current.spec, labels={**current.spec.labels, "step": "2"})
        await docker.services.update(service_id, relabelled, version=current.version)
        with pytest.raises(Conflict, match=f"version {stale} is stale"):
            await docker.services.update(service_id, relabelled, version=stale)
        assert (await docker.services.inspect(service_id)).spec.labels["step"] == "2"  # type: ignore[union-attr]

        await docker.services.scale(service_id, 0)
        empty = await docker.services.wait_converged(service_id, timeout=60)
        assert (empty.running, empty.desired) == (0, 0)
        listed = await docker.services.list(filters={"label": LABELS}, status=True)
        mine = [s for s in listed if s.id == service_id]
        assert mine and mine[0].service_status is not None
        assert mine[0].service_status.desired_tasks == 0
    with pytest.raises(aiodock.ServiceNotFound):
        await docker.services.inspect(service_id)


async def test_service_with_a_tty_logs_raw(docker: aiodock.DockerClient, swarm: SwarmNode) -> None:
    spec = service_spec(
        swarm.image_id,
        name=_name("tty"),
        labels=LABELS,
        tty=True,
        command=["sh", "-c", "echo out; echo err >&2; exec sleep 600"],
        replicas=1,
        stop_grace_period=1,
    )
    async with _service(docker, spec) as service_id:
        await docker.services.wait_converged(service_id, timeout=60)
        for _ in range(40):
            data = await docker.services.logs(service_id).read()
            if data.count(b"\n") >= 2:
                break
            await asyncio.sleep(0.25)
        # A TTY merges the streams and turns \n into \r\n.
        assert data == b"out\r\nerr\r\n"


async def test_failing_service_does_not_converge(
    docker: aiodock.DockerClient, swarm: SwarmNode
) -> None:
    spec = service_spec(
        swarm.image_id,
        name=_name("fail"),
        labels=LABELS,
        command=["sh", "-c", "echo boom >&2; exit 3"],
        replicas=1,
    )
    async with _service(docker, spec) as service_id:
        with pytest.raises(ConvergenceError) as info:
            # The task runs for a moment before it exits: stability is what tells.
            await docker.services.wait_converged(service_id, timeout=60, stable_for=3)
        assert "non-zero exit (3)" in str(info.value)
        assert info.value.tasks and info.value.tasks[0].status is not None
        assert info.value.tasks[0].status.state == "failed"


async def test_replicated_job_completes(docker: aiodock.DockerClient, swarm: SwarmNode) -> None:
    spec = service_spec(
        swarm.image_id,
        name=_name("job"),
        labels=LABELS,
        command=["sh", "-c", "echo done"],
        mode=ServiceMode.replicated_job(2, max_concurrent=2),
        restart_policy=TaskSpecRestartPolicy(condition="none"),
    )
    async with _service(docker, spec) as service_id:
        result = await docker.services.wait_converged(service_id, timeout=60)
        assert (result.completed, result.desired) == (2, 2)
        assert all(t.status is not None and t.status.state == "complete" for t in result.tasks)


async def test_global_service_and_global_job(
    docker: aiodock.DockerClient, swarm: SwarmNode
) -> None:
    spec = service_spec(
        swarm.image_id,
        name=_name("global"),
        labels=LABELS,
        command=["sleep", "600"],
        mode=ServiceMode.global_(),
        stop_grace_period=1,
    )
    async with _service(docker, spec) as service_id:
        result = await docker.services.wait_converged(service_id, timeout=60)
        assert (result.running, result.desired) == (1, 1)
        assert result.tasks[0].node_id == swarm.node_id
        with pytest.raises(aiodock.InvalidArgument, match="replicated"):
            await docker.services.scale(service_id, 2)
    job = service_spec(
        swarm.image_id,
        name=_name("gjob"),
        labels=LABELS,
        command=["true"],
        mode=ServiceMode.global_job(),
        restart_policy=TaskSpecRestartPolicy(condition="none"),
    )
    async with _service(docker, job) as service_id:
        result = await docker.services.wait_converged(service_id, timeout=60)
        assert (result.completed, result.desired) == (1, 1)


async def test_wait_converged_times_out(docker: aiodock.DockerClient, swarm: SwarmNode) -> None:
    # Unsatisfiable placement: the task stays pending.
    spec = service_spec(
        swarm.image_id,
        name=_name("pending"),
        labels=LABELS,
        command=["sleep", "600"],
        replicas=1,
        constraints=["node.labels.aiodock-nowhere==1"],
    )
    async with _service(docker, spec) as service_id:
        with pytest.raises(aiodock.DockerTimeoutError, match=r"0/1 running"):
            await docker.services.wait_converged(service_id, timeout=1.5, poll_interval=0.3)


# --- secrets and configs --------------------------------------------------------------------------


async def test_secret_and_config_reach_the_task(
    docker: aiodock.DockerClient, swarm: SwarmNode
) -> None:
    secret_bytes = b"s3cr\x00t\xff\n"
    config_bytes = b"key=value\n\xfe\n"
    secret_id = await docker.secrets.create(_name("secret"), secret_bytes, labels=LABELS)
    config_id = ""
    try:
        secret = await docker.secrets.inspect(secret_id)
        assert secret.spec is not None and secret.spec.data == ""  # never returned
        assert secret_bytes.hex() not in repr(secret)
        await docker.secrets.update(secret_id, labels={**LABELS, "round": "2"})
        assert (await docker.secrets.inspect(secret_id)).spec.labels["round"] == "2"  # type: ignore[union-attr]
        with pytest.raises(Conflict, match="is stale"):
            await docker.secrets.update(secret_id, labels=LABELS, version=secret.version)
        assert [s.id for s in await docker.secrets.list(filters={"id": secret_id})] == [secret_id]

        config_id = await docker.configs.create(_name("config"), config_bytes, labels=LABELS)
        config = await docker.configs.inspect(config_id)
        assert decode_data(config) == config_bytes
        await docker.configs.update(config_id, labels={**LABELS, "round": "2"})
        config = await docker.configs.inspect(config_id)
        assert config.spec is not None and config.spec.labels["round"] == "2"
        assert decode_data(config) == config_bytes

        secret = await docker.secrets.inspect(secret_id)
        spec = service_spec(
            swarm.image_id,
            name=_name("mounts"),
            labels=LABELS,
            command=["sh", "-c", "cat /run/secrets/x /cfg; exec sleep 600"],
            replicas=1,
            secrets=[secret_ref(secret, target="x")],
            configs=[config_ref(config, target="/cfg")],
            log_driver="local",
            stop_grace_period=1,
        )
        async with _service(docker, spec) as service_id:
            await docker.services.wait_converged(service_id, timeout=60)
            expected = secret_bytes + config_bytes
            for _ in range(40):
                out = await docker.services.logs(service_id, stderr=False).read()
                if out == expected:
                    break
                await asyncio.sleep(0.25)
            assert out == expected
            with pytest.raises(APIError, match="in use"):
                await docker.secrets.remove(secret_id)
    finally:
        with contextlib.suppress(aiodock.NotFound):
            await docker.secrets.remove(secret_id)
        if config_id:
            with contextlib.suppress(aiodock.NotFound):
                await docker.configs.remove(config_id)
    with pytest.raises(aiodock.NotFound):
        await docker.secrets.inspect(secret_id)
    with pytest.raises(aiodock.NotFound):
        await docker.configs.inspect(config_id)
